"""The query rewrites of a remote store (graph.backends.sparqltext): on tokens, never on raw text."""

import pyoxigraph as ox
import pytest

from graph.backends.sparqltext import QueryText

G = "https://w3id.org/swapgraph/graph/asserted"
STORED = {G: G + "/store/s/v1"}


def rewrite(query: str, **options) -> str:
    return QueryText.parse(query).rewritten(STORED, **options)


def test_graph_names_are_renamed_as_iris_prefixed_and_relative_names():
    query = (f"PREFIX g: <https://w3id.org/swapgraph/graph/> BASE <https://w3id.org/swapgraph/graph/> "
             f"SELECT * WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} GRAPH g:asserted {{ ?s ?p ?o }} GRAPH <asserted> {{ ?s ?p ?o }} }}")
    text = rewrite(query)
    assert text.count(f"<{STORED[G]}>") == 3 and "g:asserted" not in text


def test_names_inside_strings_and_comments_are_left_alone():
    query = f'SELECT * WHERE {{ ?s ?p "<{G}>" }} # <{G}>\n'
    assert rewrite(query) == query


def test_bindings_open_the_outer_where_group_not_a_construct_template_or_subquery():
    text = rewrite("CONSTRUCT { ?s ?p ?o } WHERE { { SELECT ?s WHERE { ?s ?p ?o } } ?s ?p ?o }",
                   bindings={"s": "<urn:x>"})
    assert text.startswith("CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?s) { (<urn:x>) }")
    ox.Store().query(text)  # still a query


def test_the_dataset_clause_is_dropped_when_the_protocol_gives_the_dataset():
    text = rewrite(f"SELECT * FROM <{G}> FROM NAMED <urn:n> WHERE {{ ?s ?p ?o }}", without_dataset_clause=True)
    assert "FROM" not in text and "urn:n" not in text
    assert QueryText.parse(f"ASK FROM <{G}> {{}}").has_dataset_clause


def test_typed_xsd_strings_written_plain_for_engines_that_tell_them_apart():
    text = rewrite('PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ASK { ?s ?p "a"^^xsd:string, '
                   '"b"^^<http://www.w3.org/2001/XMLSchema#string>, "1"^^xsd:integer }', plain_strings=True)
    assert '"a", "b",' in text and "xsd:string" not in text and "#string>" not in text
    assert '"1"^^xsd:integer' in text


def test_base_iri_is_stated_unless_the_query_has_its_own():
    assert rewrite("ASK { <s> ?p ?o }", base_iri="http://h/sparql").startswith("BASE <http://h/sparql>\n")
    assert rewrite("BASE <http://b/> ASK { <s> ?p ?o }", base_iri="http://h/sparql").startswith("BASE <http://b/>")


def test_a_query_without_a_group_to_bind_in_is_refused():
    with pytest.raises(ValueError):
        rewrite("DESCRIBE <urn:x>", bindings={"s": "<urn:y>"})

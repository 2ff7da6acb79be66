"""Prefixes at /sparql: the project's are declared for queries that use them bare; an unknown one is named."""

import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDFS

from api.service_description import DECLARED_PREFIXES
from api.sparql import with_declared_prefixes

SPARQL_JSON = {"Accept": "application/sparql-results+json"}
SH = Namespace("http://www.w3.org/ns/shacl#")


def test_a_query_using_project_prefixes_without_declaring_them_runs(client):
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x rdf:type sg:Exchange }"},
                          headers=SPARQL_JSON)
    assert response.status_code == 200, response.text
    assert [b["x"]["value"] for b in response.json()["results"]["bindings"]] == ["https://w3id.org/swapgraph/id/a"]


def test_an_unknown_prefix_is_named_with_the_known_ones_listed(client):
    query = "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?x foaf:name ?n ; ex:p ?o }"
    response = client.get("/sparql", params={"query": query}, headers=SPARQL_JSON)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unknown_prefix"
    assert body["message"].startswith("unknown prefix foaf: (line 3)")
    assert "ex:" in body["message"] and all(f"{p}:" in body["message"] for p in DECLARED_PREFIXES)
    assert len(body["message"]) < 1200  # a sentence, not a grammar dump


@pytest.mark.parametrize("query", [
    "PREFIX sg: <urn:mine#> SELECT * { ?x a sg:X }",  # the query's own declaration is kept, not overridden
    "SELECT * { ?x <urn:p> 'sg:Exchange', \"\"\"rdf:type\"\"\" } # sg:Exchange in a comment",
    "SELECT * { ?x <urn:p> _:b }",
])
def test_nothing_is_declared_when_nothing_is_missing(query):
    assert with_declared_prefixes(query) == query


def test_declarations_keep_the_line_numbers():
    out = with_declared_prefixes("SELECT *\nWHERE { ?x a sg:Exchange ; rdfs:label ?l }")
    assert out.count("\n") == 1 and out.endswith("SELECT *\nWHERE { ?x a sg:Exchange ; rdfs:label ?l }")
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in out and "PREFIX sg:" in out


def test_the_service_description_declares_the_prefixes(client):
    graph = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).text, format="turtle")
    declared = {str(graph.value(d, SH.prefix)): str(graph.value(d, SH.namespace)) for d in graph.objects(None, SH.declare)}
    assert declared == DECLARED_PREFIXES
    assert any(str(c).startswith("Prefixes declared for you") for c in graph.objects(None, RDFS.comment))


def test_the_readme_lists_every_declared_prefix():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("**Prefixes declared for you.**", 1)[1].split("\n\n", 1)[0]
    assert all(f"`{prefix}:`" in section for prefix in DECLARED_PREFIXES)

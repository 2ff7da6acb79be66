"""The build's summary step (graph/summary.py): its joins made in Python give what the SPARQL gives."""

import pyoxigraph as ox
import pytest

from graph import summary
from graph.build import BuildReport, SourcePaths, build
from graph.catalog import QUERIES_DIR, Catalog
from graph.store import StoreLayout, open_current
from vocab import ID, SG, Graphs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("summary-store")
    build(StoreLayout(data), SourcePaths())
    return open_current(StoreLayout(data))


def as_set(rows):
    return {frozenset(row.items()) for row in rows}


def test_distinct_triples_counts_a_triple_held_by_two_graphs_once():
    store = ox.Store()
    a, b, c = (ox.NamedNode(f"urn:{n}") for n in "abc")
    for graph in ("urn:g1", "urn:g2", "urn:g3"):
        store.add(ox.Quad(a, b, c, ox.NamedNode(graph)))
    store.add(ox.Quad(a, b, a, ox.NamedNode("urn:g2")))
    scan = summary.graph_properties(store)
    assert sum(n for kinds in scan.values() for n in kinds.values()) == 4
    assert summary.distinct_triples(store, scan) == 2


# The figures as plain SPARQL over the whole store (what summarize's single passes replace).
TOTALS = ("SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
          "(COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }")
DISTINCT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
ENTITIES = f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}'


def counts_asked(store):
    totals = summary._rows(store, TOTALS)[0]
    return {"graphs": {row["g"]: int(row["n"]) for row in summary._rows(store, summary.GRAPHS)},
            "properties": {row["p"]: int(row["n"]) for row in summary._rows(store, PROPERTIES)},
            "quads": int(totals["triples"]), "triples": int(summary._rows(store, DISTINCT)[0]["n"]),
            "subjects": int(totals["subjects"]), "objects": int(totals["objects"]),
            "property_count": int(totals["properties"]), "entities": int(summary._rows(store, ENTITIES)[0]["n"])}


def with_shared_and_candidate_triples(store):
    """A copy of the store with a typing triple in two graphs, a blank subject, and a candidates graph."""
    copy = ox.Store()
    copy.extend(store.quads_for_pattern(None, None, None, None))
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    some = next(iter(copy.quads_for_pattern(None, rdf_type, None, ox.NamedNode(str(Graphs.ASSERTED)))))
    copy.add(ox.Quad(some.subject, some.predicate, some.object, ox.NamedNode(str(Graphs.INFERRED))))
    blank = ox.BlankNode()
    copy.add(ox.Quad(blank, ox.NamedNode(str(SG.count)), ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                     ox.NamedNode(str(Graphs.CANDIDATES))))
    copy.add(ox.Quad(some.subject, ox.NamedNode(str(SG.count)), ox.Literal("x"), ox.NamedNode(str(Graphs.CANDIDATES))))
    return copy


@pytest.mark.parametrize("variant", ["built", "shared and candidates"])
def test_the_counts_are_those_of_sparql_over_the_whole_store(store, variant):
    data = store if variant == "built" else with_shared_and_candidate_triples(store)
    counts = summary.store_counts(data)
    assert {key: counts[key] for key in counts_asked(data)} == counts_asked(data)
    assert counts["classes"] == {row["c"]: int(row["n"]) for row in summary._rows(data, summary.CLASSES)}
    assert summary.object_kinds(summary.graph_properties(data)) == summary.datatypes(summary._rows(data, summary.DATATYPES))
    if variant != "built":
        assert counts["quads"] == counts["triples"] + 1  # the triple held by two graphs


def test_the_home_rows_are_the_home_queries_rows(store):
    made = summary.summarize(store, BuildReport())["home"]
    for name, query in summary.HOME_QUERIES.items():
        assert made[name] == summary._rows(store, query), name
    assert made["classes"] and made["graphs"]


def test_the_timeline_rows_are_the_timeline_queries_rows(store):
    every = summary.all_labels(store)
    rows = summary.timeline(store, {iri: sorted({label.value for label in labels}) for iri, labels in every.items()})
    for name, query in summary.TIMELINE_QUERIES.items():
        asked = summary._rows(store, query)
        assert as_set(rows[name]) == as_set(asked), name
    assert rows["releases"] and rows["roles"]


def test_the_allowed_lists_are_those_of_the_allowed_queries_run_as_they_are(store):
    catalog = Catalog.load(QUERIES_DIR)

    def run(query):
        solutions = store.query(query, **summary._served_dataset(store))
        names = [v.value for v in solutions.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in solutions]

    lists = summary.allowed_lists(store, catalog)
    asked = {param.allowed_query: [[str(v.term), v.label, list(v.aliases)] for v in catalog.graph_values(param, run)]
             for query in catalog for param in query.params if param.allowed_query is not None}
    assert lists == asked and any(lists.values())


def test_the_index_of_a_kind_is_every_iri_of_it_by_label(store):
    iris = summary.subjects(store)[1]
    every = summary.all_labels(store)
    classes = summary.class_instances(store)
    index = summary.entity_index(iris, summary.labels(every), summary.sg_types(store, classes))
    assert set(index) == {kind for kind in iris if kind is not None}
    for kind, rows in index.items():
        assert len(rows) == len(iris[kind])
        keys = [(label or local).casefold() for local, label, _ in rows]
        assert keys == sorted(keys)


def test_the_written_files_do_not_depend_on_the_order_the_store_holds_its_quads_in(store, tmp_path):
    """Two stores with the same quads put in in opposite orders (their queries' rows come in other
    orders): the same files, byte for byte, as a build must write for the same input."""
    quads = list(store.quads_for_pattern(None, None, None, None))
    written = []
    for name, order in (("forward", quads), ("reversed", quads[::-1])):
        copy = ox.Store()
        copy.extend(order)
        (tmp_path / name).mkdir()
        summary.write_summary(tmp_path / name, summary.summarize(copy, BuildReport()))
        written.append({path.name: path.read_bytes() for path in sorted((tmp_path / name).iterdir())})
    assert written[0].keys() == written[1].keys() and summary.SUMMARY_NAME in written[0]
    assert [name for name in written[0] if written[0][name] != written[1][name]] == []

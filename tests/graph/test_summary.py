"""The build's summary step (graph/summary.py): its joins made in Python give what the SPARQL gives."""

import pyoxigraph as ox
import pytest

from graph import summary
from graph.build import SourcePaths, build
from graph.catalog import QUERIES_DIR, Catalog
from graph.store import StoreLayout, open_current


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
    per_graph = {row["g"]: int(row["n"]) for row in summary._rows(store, summary.GRAPHS)}
    assert sum(per_graph.values()) == 4 and summary.distinct_triples(store, per_graph) == 2


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
    iris = summary._entity_iris(store)
    every = summary.all_labels(store)
    classes = summary.class_instances(store)
    index = summary.entity_index(iris, summary.labels(every), summary.sg_types(store, classes))
    assert set(index) == {kind for kind in iris if kind is not None}
    for kind, rows in index.items():
        assert len(rows) == len(iris[kind])
        keys = [(label or local).casefold() for local, label, _ in rows]
        assert keys == sorted(keys)

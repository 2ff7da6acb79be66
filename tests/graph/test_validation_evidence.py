"""The quotes behind a violation on a node no document quotes itself: read from the derivation records.

A small store laid out like a build (registry, asserted facts with their statements and evidence, the
real rules run by the real engine): person:p is a registry entry only, typed sg:Detainee by inference
(the range of sg:releasedPerson) from a quoted release. A violation planted on person:p must carry that
quote, found through the record of the inferred triple (sg:derivationRecord, as /explain reads it).
"""

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef

from graph.build import SourcePaths, canonical, load_graph, read_turtle, store_graph
from graph.explain import OxigraphSource
from graph.inference import run_inference
from graph.rules import load_rules
from graph.validation import DATA_GRAPHS, derived_evidence, validate, validate_store
from vocab import PREFIXES, SG, TURTLE_PREFIXES, Graphs
from vocab.terms import PROVENANCE, reification, to_ox

PATHS = SourcePaths()
QUOTE = "Freedonia released P. Example to Sylvania."
PERSON = URIRef(PREFIXES["person"] + "p")
EVIDENCE = ox.NamedNode(PREFIXES["id"] + "evidence/test-1")
REGISTRY = """
person:p a sg:Person ; rdfs:label "P. Example" ; sg:memberOf state:XA .
state:XA a sg:State ; rdfs:label "Freedonia" .
state:XB a sg:State ; rdfs:label "Sylvania" .
"""
ASSERTED = """
release:r a sg:Release ; sg:releasedPerson person:p ; sg:releasingState state:XA ; sg:receivingState state:XB .
"""


def _triples(turtle: str) -> list[tuple]:
    graph = Graph().parse(data=TURTLE_PREFIXES + turtle, format="turtle")
    return [tuple(to_ox(t) for t in triple) for triple in graph]


@pytest.fixture(scope="module")
def store():
    """person:p sg:memberOf state:XA (a registry line, no quote) breaks MemberOfShape on person:p."""
    store = ox.Store()
    load_graph(store, canonical(read_turtle(PATHS.ontology)), Graphs.ONTOLOGY, keep_blank_nodes=True)
    entities, asserted = ox.NamedNode(str(Graphs.ENTITIES)), ox.NamedNode(str(Graphs.ASSERTED))
    store.extend(ox.Quad(*t, entities) for t in _triples(REGISTRY))
    document = ox.NamedNode(PREFIXES["id"] + "document/test-1")
    store.extend([
        ox.Quad(EVIDENCE, to_ox(SG.document), document, PROVENANCE),
        ox.Quad(document, to_ox(SG.fileName), ox.Literal("test-1.txt"), PROVENANCE),
        ox.Quad(EVIDENCE, to_ox(SG.quote), ox.Literal(QUOTE), PROVENANCE),
        ox.Quad(EVIDENCE, to_ox(SG.startOffset), ox.Literal("0", datatype=ox.NamedNode(PREFIXES["xsd"] + "integer")), PROVENANCE),
        ox.Quad(EVIDENCE, to_ox(SG.endOffset), ox.Literal(str(len(QUOTE)), datatype=ox.NamedNode(PREFIXES["xsd"] + "integer")), PROVENANCE),
    ])
    for triple in _triples(ASSERTED):
        store.add(ox.Quad(*triple, asserted))
        statement, quads = reification(triple)
        store.extend(quads + [ox.Quad(statement, to_ox(SG.evidence), EVIDENCE, PROVENANCE)])
    run_inference(store, load_rules(PATHS.rules))
    return store


def test_the_node_is_quoted_only_through_an_inferred_triple(store):
    detainee = ox.Quad(to_ox(PERSON), to_ox(URIRef(PREFIXES["rdf"] + "type")), to_ox(SG.Detainee),
                       ox.NamedNode(str(Graphs.INFERRED)))
    assert detainee in store
    own = store.query(f"SELECT ?e WHERE {{ ?st <{PREFIXES['rdf']}subject> <{PERSON}> ; <{SG.evidence}> ?e }}",
                      use_default_graph_as_union=True)
    assert list(own) == []


def test_derived_evidence_reads_the_derivation_records(store):
    assert derived_evidence(OxigraphSource(store), PERSON) == [("test-1.txt", QUOTE)]


def test_a_violation_on_an_inferred_only_node_carries_the_quote_behind_it(store):
    report = validate_store(store)
    on_person = [v for v in report.violations if v.focus == PERSON]
    assert on_person, report.text()
    for violation in on_person:
        assert violation.evidence == [("test-1.txt", QUOTE)], report.text()
    assert f'test-1.txt: "{QUOTE}"' in report.text()


def test_pyshacl_path_finds_the_same_quote_with_the_store(store):
    report = validate(store_graph(store, DATA_GRAPHS), ontology=read_turtle(PATHS.ontology), store=store)
    on_person = [v for v in report.violations if v.focus == PERSON]
    assert on_person and all(v.evidence == [("test-1.txt", QUOTE)] for v in on_person), report.text()

"""owlrl is the reference: the engine's inferred domain facts must equal owlrl's closure on the same data."""

from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, URIRef, Variable

from graph.build import SourcePaths, load_graph
from graph.inference import domain_facts, run_inference
from graph.rules import Rule, load_rules
from vocab.terms import to_rdflib
from vocab import ID, PREFIXES, Graphs
from loaders.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[2]


def _term(token: str, row):
    if token.startswith("?"):
        return row.get(Variable(token[1:]))
    if token == "a":
        return RDF.type
    prefix, _, local = token.partition(":")
    return URIRef(PREFIXES[prefix] + local)


def apply_with_rdflib(graph: Graph, rule: Rule) -> int:
    """The project's SPARQL rules evaluated by rdflib's own engine, independent of the store."""
    added = 0
    for row in graph.query(rule.query):
        bindings = row.asdict()
        bindings = {Variable(k): v for k, v in bindings.items()}
        for pattern in rule.conclusions:
            triple = tuple(_term(t, bindings) for t in (pattern.subject, pattern.predicate, pattern.object))
            if None not in triple and triple not in graph:
                graph.add(triple)
                added += 1
    return added


def oracle_closure(base: Graph, rules: list[Rule]) -> Graph:
    graph = Graph()
    graph += base
    sparql_rules = [r for r in rules if not r.is_owl_rl]
    while True:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
        if not sum(apply_with_rdflib(graph, rule) for rule in sparql_rules):
            return graph


def engine_facts(ontology: Graph, corpus, rules: list[Rule]):
    """The domain facts of the corpus's graphs after the engine's inference, and its report."""
    store = ox.Store()
    for graph, name in ((ontology, Graphs.ONTOLOGY), (corpus.entities, Graphs.ENTITIES), (corpus.asserted, Graphs.ASSERTED)):
        load_graph(store, graph, name)
    report = run_inference(store, rules)
    return domain_facts(
        tuple(to_rdflib(t) for t in (q.subject, q.predicate, q.object))
        for name in (Graphs.ONTOLOGY, Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED)
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(name)))
    ), report


@pytest.fixture(scope="module")
def corpus_graphs():
    paths = SourcePaths()
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    ontology = Graph().parse(paths.ontology)
    return ontology, corpus, load_rules(paths.rules)


def test_engine_matches_owlrl_on_the_corpus(corpus_graphs):
    ontology, corpus, rules = corpus_graphs
    base = ontology + corpus.entities + corpus.asserted
    expected = domain_facts(oracle_closure(base, rules))

    ours, _ = engine_facts(ontology, corpus, rules)
    assert ours - expected == set()
    assert expected - ours == set()
    assert len(ours) > len(domain_facts(base))  # the comparison is not vacuous


def test_engine_matches_owlrl_on_a_generated_corpus(tmp_path):
    """The same comparison on bench/generate.py's synthetic corpus (every shape of the real data, many
    times over): what the benchmark compares at 10k, 100k and 1M, small enough for a test."""
    from bench.build import sources
    from bench.generate import generate

    generate(tmp_path / "generated", 3000)
    paths = sources(tmp_path / "generated")
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    ontology, rules = Graph().parse(paths.ontology), load_rules(paths.rules)
    base = ontology + corpus.entities + corpus.asserted
    expected = domain_facts(oracle_closure(base, rules))

    ours, report = engine_facts(ontology, corpus, rules)
    assert ours - expected == set()
    assert expected - ours == set()
    assert {rule for rule, n in report.per_rule.items() if n} >= {"sg-exchanged-for-sole-pair", "sg-sum-of-legs"}

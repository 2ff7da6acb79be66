"""The SPARQL rules' in-memory forms give their queries' solutions, on the real and a generated corpus."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from graph import sparql_rules
from graph.build import build_store
from graph.inference import SOURCE_GRAPHS, Engine
from graph.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = [r for r in load_rules(ROOT / "ontology/rules") if r.has_body]


def test_every_sparql_rule_has_an_in_memory_form_written_against_its_query():
    """A rule file's query changed since its form was written: the rule runs as SPARQL (slower) until
    graph/sparql_rules.py is brought up to date and its hash renewed."""
    assert [r.id for r in RULES if sparql_rules.compiled(r) is None] == []


def _same_solutions(store: ox.Store) -> dict:
    engine = Engine(store, [])  # the store's facts (inferred ones too) as the engine reads them
    counts = {}
    for rule in RULES:
        result = store.query(rule.query, default_graph=SOURCE_GRAPHS)
        names = [v.value for v in result.variables]
        expected = {tuple(None if x is None else str(x) for x in row) for row in result}
        variables, rows = sparql_rules.solutions(rule, engine.facts, engine.codes)
        assert list(variables) == names, rule.id
        assert {tuple(row) for row in rows} == expected, rule.id
        counts[rule.id] = len(expected)
    return counts


def test_the_same_solutions_as_the_queries_on_the_corpus():
    store = ox.Store()
    build_store(store)
    counts = _same_solutions(store)
    assert sum(counts.values()) > 0  # not vacuous: the real documents give some rules solutions


def test_the_same_solutions_as_the_queries_on_a_generated_corpus(tmp_path):
    from bench.build import sources
    from bench.generate import generate

    generate(tmp_path / "generated", 3000)
    store = ox.Store()
    build_store(store, sources(tmp_path / "generated"))
    counts = _same_solutions(store)
    assert counts["sg-exchanged-for-sole-pair"] > 0 and counts["sg-conflicting-count-claims"] > 0


def test_a_count_that_is_not_an_integer_is_left_to_sparql():
    from vocab import SG

    store = ox.Store()
    claim = ox.NamedNode("https://w3id.org/swapgraph/id/claim/x")
    store.add(ox.Quad(claim, ox.NamedNode(str(SG.count)),
                      ox.Literal("3.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
                      SOURCE_GRAPHS[2]))
    engine = Engine(store, [])
    view = sparql_rules.View(engine.facts, engine.codes)
    with pytest.raises(sparql_rules.Unsupported):
        view.number(next(iter(engine.facts.all))[2])

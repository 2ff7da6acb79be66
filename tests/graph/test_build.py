"""The build is atomic: a failed build leaves the previous store in place and serving."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.build import (DUMP_NAME, SUMMARY_NAME, BuildError, Budget, SourcePaths, build, build_store,
                         graph_sizes, write_provenance)
from graph.store import StoreLayout, open_current
from vocab import SG, Graphs
from vocab.terms import PROVENANCE, reification
from loaders.corpus import load_corpus
from loaders.errors import LoadError

PATHS = SourcePaths()


def asserted_count(store: ox.Store) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.ASSERTED))))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    layout = StoreLayout(tmp_path_factory.mktemp("data"))
    report = build(layout, PATHS)
    return layout, report


def broken_annotations(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "annotations"
    shutil.copytree(PATHS.annotations, folder)
    path = next(folder.glob("003_*.yaml"))
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_build_publishes_a_readable_store(built):
    layout, report = built
    store = open_current(layout)
    assert asserted_count(store) == report.graph_sizes["asserted"] > 0
    assert report.class_counts["Exchange"] > 0 and report.inference.inferred > 0


def test_a_load_error_leaves_the_previous_build_serving(built, tmp_path):
    layout, _ = built
    before = layout.current_build()
    builds_before = set(layout.builds.iterdir())
    bad = replace(PATHS, annotations=broken_annotations(tmp_path, "quote: ", "quote: NOT IN THE TEXT "))
    with pytest.raises(LoadError):
        build(layout, bad)
    assert layout.current_build() == before
    assert set(layout.builds.iterdir()) == builds_before  # the half-made build was removed
    assert asserted_count(open_current(layout)) > 0


def test_a_shacl_violation_fails_the_build_and_keeps_the_old_store(built, tmp_path):
    layout, _ = built
    before = layout.current_build()
    # A release to the very state that released them: the loader accepts it, the shapes do not.
    bad = replace(PATHS, annotations=broken_annotations(
        tmp_path, "sg:receivingState state:RU", "sg:receivingState state:UA"))
    with pytest.raises(BuildError, match="(?i)violation|shacl"):
        build(layout, bad)
    assert layout.current_build() == before
    assert asserted_count(open_current(layout)) > 0


def test_a_new_build_replaces_the_current_one(built):
    layout, _ = built
    before = layout.current_build()
    build(layout, PATHS)
    assert layout.current_build() != before
    assert asserted_count(open_current(layout)) > 0


def test_no_triple_is_in_two_named_graphs(built):
    layout, _ = built
    store = open_current(layout)
    seen: dict = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        triple = (quad.subject, quad.predicate, quad.object)
        assert seen.setdefault(triple, quad.graph_name) == quad.graph_name, triple


MINTING_RULE = """# id: sg-mint
# label: A broken rule: a new exchange after every exchange, forever
# source: test
# premise: ?x rdf:type sg:Exchange
# conclusion: ?next rdf:type sg:Exchange
SELECT ?x ?next WHERE { ?x a sg:Exchange . BIND (IRI(CONCAT(STR(?x), "-next")) AS ?next) }
"""


def rules_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(PATHS.rules, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("extra_allowed, message", [
    (300, "over the budget of"),  # the corpus's own inferred triples plus 300: only a runaway rule passes it
    (None, "no fixpoint after 100 rounds"),
])
def test_a_rule_minting_nodes_forever_stops_the_build(built, tmp_path, extra_allowed, message):
    layout, report = built
    budget = Budget() if extra_allowed is None else Budget(max_inferred=report.inference.inferred + extra_allowed)
    before = layout.current_build()
    minting = replace(PATHS, rules=rules_with(tmp_path, "sg-mint.rq", MINTING_RULE))
    with pytest.raises(BuildError, match=message) as caught:
        build(layout, minting, budget=budget)
    assert "sg-mint" in str(caught.value)
    assert layout.current_build() == before
    assert asserted_count(open_current(layout)) > 0


def test_a_build_over_its_time_budget_stops(built):
    layout, _ = built
    before = layout.current_build()
    with pytest.raises(BuildError, match="over its budget of 0.001 s"):
        build(layout, PATHS, budget=Budget(max_seconds=0.001))
    assert layout.current_build() == before


def test_the_build_writes_its_summary(built):
    layout, report = built
    summary = json.loads((layout.current_build() / SUMMARY_NAME).read_text(encoding="utf-8"))
    assert summary["graphs"] == graph_sizes(open_current(layout))
    assert summary["classes"] == report.class_counts and summary["documents"] == report.documents


def test_the_build_writes_its_dump(built):
    layout, _ = built
    dump = layout.current_build() / DUMP_NAME
    quads = sum(1 for line in dump.read_text(encoding="utf-8").splitlines() if line.strip())
    assert quads == sum(1 for _ in open_current(layout).quads_for_pattern(None, None, None, None))


def test_the_disk_store_holds_what_the_memory_store_holds(built):
    """The disk store is filled part by part beside the build; the memory store is what build_store makes."""
    layout, _ = built
    memory = ox.Store()
    build_store(memory, PATHS)
    assert len(memory) > 0 and set(open_current(layout)) == set(memory)
    dump = ox.parse(path=str(layout.current_build() / DUMP_NAME), format=ox.RdfFormat.N_QUADS)
    assert set(dump) == set(memory)


def test_the_provenance_part_is_the_corpus_provenance_with_each_asserted_triple_reified(tmp_path):
    corpus = load_corpus(PATHS.documents, PATHS.annotations, PATHS.registry)
    write_provenance(tmp_path / "provenance.nq", corpus)
    store = ox.Store()
    store.load(path=str(tmp_path / "provenance.nq"), format=ox.RdfFormat.N_QUADS)
    evidence = ox.NamedNode(str(SG.evidence))
    expected = {ox.Quad(*triple, PROVENANCE) for triple in corpus.provenance_table}
    for triple, spans in corpus.evidence.items():
        statement, quads = reification(triple)
        expected |= set(quads) | {ox.Quad(statement, evidence, span, PROVENANCE) for span in spans}
    assert len(corpus.provenance_table) and set(store) == expected


def test_a_disk_load_failing_fails_the_build_and_keeps_the_previous_one(built, monkeypatch):
    layout, _ = built
    before = layout.current_build()
    builds_before = set(layout.builds.iterdir())

    def failing(store, path, graph=None, stop=None, bulk=True):
        raise OSError("disk full")

    monkeypatch.setattr("graph.store.load_file", failing)  # the disk store's loader (StoreFiller) only
    with pytest.raises(OSError, match="disk full"):
        build(layout, PATHS)
    assert layout.current_build() == before
    assert set(layout.builds.iterdir()) == builds_before
    assert asserted_count(open_current(layout)) > 0


def test_a_summary_failing_while_the_disk_store_fills_keeps_the_previous_build(built, monkeypatch):
    """The disk load runs beside the build: the build waits for it, then removes the half-made folder."""
    layout, _ = built
    before = layout.current_build()
    builds_before = set(layout.builds.iterdir())

    def failing(store, report):
        raise RuntimeError("summary failed")

    monkeypatch.setattr("graph.build.summarize", failing)
    with pytest.raises(RuntimeError, match="summary failed"):
        build(layout, PATHS)
    assert layout.current_build() == before
    assert set(layout.builds.iterdir()) == builds_before
    assert asserted_count(open_current(layout)) > 0

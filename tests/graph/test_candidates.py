"""Candidates at build: loaded into the candidates named graph only, out of the default graph unless asked."""

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.build import SourcePaths, build_store
from swapgraph.cli import _dataset, main
from vocab import Graphs

ROOT = SourcePaths().documents.parent.parent
CANDIDATES = ox.NamedNode(str(Graphs.CANDIDATES))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name in ("corpus", "ontology"):
        shutil.copytree(ROOT / name, root / name)
    shutil.rmtree(root / "corpus/candidates", ignore_errors=True)
    document = sorted((root / "corpus/documents").glob("*.txt"))[0]
    assert main(["extract", document.stem, "--blank", "--sources", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def store(project) -> ox.Store:
    store = ox.Store()
    report = build_store(store, SourcePaths.under(project))
    assert report.candidates > 0
    return store


def reviewed_quads(store: ox.Store) -> set:
    # Provenance is left out: derivation IRIs differ from one build to the next, candidates or not.
    graphs = (Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED)  # (the ontology has blank nodes)
    return {q for graph in graphs for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))}


def test_candidates_change_nothing_in_the_reviewed_graphs(project, store, tmp_path):
    without = tmp_path / "p"
    shutil.copytree(project, without)
    shutil.rmtree(without / "corpus/candidates")
    alone = ox.Store()
    assert build_store(alone, SourcePaths.under(without)).candidates == 0
    assert reviewed_quads(store) == reviewed_quads(alone)
    assert not list(alone.quads_for_pattern(None, None, None, CANDIDATES))
    assert list(store.quads_for_pattern(None, None, None, CANDIDATES))


def test_the_default_graph_leaves_candidates_out_unless_asked(store):
    only = next(q for q in store.quads_for_pattern(None, None, None, CANDIDATES)
                if str(q.subject.value).startswith("https://w3id.org/swapgraph/id/candidate/"))
    ask = f"ASK {{ <{only.subject.value}> ?p ?o }}"
    assert not store.query(ask, **_dataset(store, candidates=False))
    assert store.query(ask, **_dataset(store, candidates=True))
    assert store.query(f"ASK {{ GRAPH <{Graphs.CANDIDATES}> {{ <{only.subject.value}> ?p ?o }} }}",
                       **_dataset(store, candidates=False))


def test_a_broken_candidate_file_is_named_by_file_and_line(project, tmp_path, capsys):
    broken = tmp_path / "p"
    shutil.copytree(project, broken)
    path = next((broken / "corpus/candidates").glob("*.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("status: candidate", "status: maybe", 1), encoding="utf-8")
    assert main(["validate", "--sources", str(broken)]) == 1
    assert f"{path.name}:" in capsys.readouterr().err


def test_counts_and_canned_questions_leave_candidates_out(store):
    from graph.build import class_counts

    reviewed = ox.Store()
    for graph in Graphs.ALL:
        reviewed.extend(store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph))))
    assert class_counts(store) == class_counts(reviewed)

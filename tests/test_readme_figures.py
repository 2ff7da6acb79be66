"""The README's measured figures ("What is in the graph") are what a build of the corpus prints."""

import re
from pathlib import Path

import pytest

from graph.build import SourcePaths, build
from graph.store import StoreLayout

README = Path(__file__).resolve().parents[1] / "README.md"
FIX = "run `swapgraph build` and copy its first lines into README.md's block under \"What is in the graph\""


def _block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What is in the graph (measured)", 1)[1]
    return section.split("```", 2)[1]


def _pairs(text: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r"([A-Za-z][\w ]*?) (\d+)(?=,|\s*$|\n)", text)}


def _line(block: str, label: str) -> str:
    """The text after `label:` up to the next `word:` line (a line may wrap onto indented ones)."""
    match = re.search(rf"^{label}: (.*?)(?=^\S+[\w ()]*:|\Z)", block, flags=re.M | re.S)
    assert match, f"README's figures lack the {label!r} line: {FIX}"
    return " ".join(match.group(1).split())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build(StoreLayout(tmp_path_factory.mktemp("readme-build")), SourcePaths())


def test_documents_and_facts(report):
    head = re.search(r"documents: (\d+)\s+facts \(quotes\): (\d+)", _block())
    assert head, FIX
    assert (int(head.group(1)), int(head.group(2))) == (report.documents, report.facts), FIX


def test_triples_per_graph(report):
    assert _pairs(_line(_block(), "triples per graph")) == report.graph_sizes, FIX


def test_instances_per_class(report):
    assert _pairs(_line(_block(), "instances")) == report.class_counts, FIX


def test_inferred_triples(report):
    inferred = re.search(r"inference: (\d+) triples in (\d+) rounds", _block())
    assert inferred, FIX
    assert (int(inferred.group(1)), int(inferred.group(2))) == (report.inference.inferred, report.inference.rounds), FIX

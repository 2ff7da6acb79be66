"""The built graph holds the facts the documents state and none of the traps (tests/data/facts.yaml)."""

from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from graph.build import build_store
from graph.vocab import PREFIXES

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data/facts.yaml").read_text(encoding="utf-8"))
SPARQL = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


@pytest.fixture(scope="module")
def store():
    store = ox.Store()
    build_store(store)
    return store


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fact(store, case):
    assert bool(store.query(SPARQL + f"ASK {{ {case['ask']} }}", use_default_graph_as_union=True)) is case["holds"]

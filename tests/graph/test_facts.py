"""The built graph holds the facts the documents state and none of the traps (tests/data/facts.yaml)."""

from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from graph.build import build_store
from vocab import SPARQL_PREFIXES

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data/facts.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def store():
    store = ox.Store()
    build_store(store)
    return store


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fact(store, case):
    assert bool(store.query(SPARQL_PREFIXES + f"ASK {{ {case['ask']} }}", use_default_graph_as_union=True)) is case["holds"]


def test_the_readme_evidence_query_returns_a_fact_with_its_quote(store):
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    query = re.search(r"```sparql\n(.*?)```", readme, re.S).group(1)
    rows = list(store.query(query, use_default_graph_as_union=True))
    assert rows
    for row in rows:
        assert row["state"].value.endswith("/state/RU")
        assert "released" in row["quote"].value and row["file"].value.endswith(".txt")

"""Every canned question's answers on the real graph, for each of its recorded parameter sets, against the
answers recorded in tests/fixtures/canned-answers.json (rows compared as multisets: ORDER BY ties may
come in any order; and the parts of a concatenated list in any order, since GROUP_CONCAT follows the
engine's plan and storage, not the data: see `comparable`). A rewrite of a question for speed must give the same rows; a change of the corpus
or of a question's meaning is recorded again, and the diff of the file shows what changed:

    .venv/bin/python -m tests.graph.test_catalog_answers --write

The parameter sets are each question's example, no parameter at all (when none is required) and each
parameter alone with a sample of its allowed values on the real graph (all of them, up to SAMPLE)."""

import json
import re
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pyoxigraph as ox
import pytest

from graph.build import build_store
from graph.catalog import QUERIES_DIR, Catalog

ANSWERS = Path(__file__).resolve().parent.parent / "fixtures" / "canned-answers.json"
SAMPLE = 8
SEPARATORS = re.compile(r"; |, | / |\"")  # the questions' GROUP_CONCAT separators, and quotes


def runner(store):
    def run(query):
        result = store.query(query, use_default_graph_as_union=True)
        return [{v.value: sol[v] for v in result.variables if sol[v] is not None} for sol in result]
    run.dataset_key = ("answers", id(store))
    return run


def rows(catalog: Catalog, store: ox.Store, name: str, params: dict) -> list[str]:
    """The answer as sorted rows, each row its bound columns as `?column=<N-Triples term>` in order."""
    query = catalog.get(name)
    bound = catalog.bind(query, params, runner(store))
    result = store.query(query.sparql, use_default_graph_as_union=True,
                         substitutions={ox.Variable(k): v for k, v in bound.items()})
    columns = [v.value for v in result.variables]
    return sorted(" ".join(f"?{c}={solution[c]}" for c in columns if solution[c] is not None)
                  for solution in result)


def comparable(answer: list[str]) -> Counter:
    """Rows as a multiset, each row's text cut at the list separators and its pieces sorted: the same
    values listed in another order compare equal, a value more, less or changed does not."""
    return Counter(tuple(sorted(SEPARATORS.split(row))) for row in answer)


def parameter_sets(catalog: Catalog, store: ox.Store, name: str) -> list[dict]:
    query = catalog.get(name)
    run = runner(store)
    required = [p for p in query.params if p.required]
    chosen = [] if required else [{}]
    if query.example:
        chosen.append(dict(parse_qsl(query.example)))
    for param in query.params:
        allowed = catalog.allowed(query, param, run) or []
        values = [a.value for a in allowed]
        if len(values) > SAMPLE:  # spread over the list: first, last and between
            values = [values[round(i * (len(values) - 1) / (SAMPLE - 1))] for i in range(SAMPLE)]
        others = {r.name: catalog.allowed(query, r, run)[0].value for r in required if r.name != param.name}
        chosen += [{**others, param.name: value} for value in values]
    unique = []
    for params in chosen:
        if params not in unique:
            unique.append(params)
    return unique


@pytest.fixture(scope="module")
def catalog():
    return Catalog.load(QUERIES_DIR)


@pytest.fixture(scope="module")
def real_store():
    store = ox.Store()
    build_store(store)
    return store


@pytest.fixture(scope="module")
def recorded():
    return json.loads(ANSWERS.read_text(encoding="utf-8"))


def test_every_question_has_recorded_answers(catalog, recorded):
    assert sorted(recorded) == sorted(catalog.queries), "record the answers again (see the module docstring)"
    assert all(recorded.values())


@pytest.mark.parametrize("name", sorted(p.stem for p in QUERIES_DIR.glob("*.rq")))
def test_answers_on_the_real_graph_are_the_recorded_ones(catalog, real_store, recorded, name):
    assert name in recorded, f"no recorded answers for {name}"
    for query_string, expected in recorded[name].items():
        got = rows(catalog, real_store, name, dict(parse_qsl(query_string)))
        assert comparable(got) == comparable(expected), f"{name}?{query_string}: " + "; ".join(
            [f"missing {row}" for row in sorted(set(expected) - set(got))][:2]
            + [f"unexpected {row}" for row in sorted(set(got) - set(expected))][:2])


def write() -> None:
    catalog = Catalog.load(QUERIES_DIR)
    store = ox.Store()
    build_store(store)
    answers = {name: {urlencode(params): rows(catalog, store, name, params)
                      for params in parameter_sets(catalog, store, name)}
               for name in sorted(catalog.queries)}
    ANSWERS.write_text(json.dumps(answers, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{ANSWERS}: {sum(len(v) for v in answers.values())} parameter sets of {len(answers)} questions")


if __name__ == "__main__":
    if "--write" not in sys.argv[1:]:
        sys.exit("usage: python -m tests.graph.test_catalog_answers --write")
    write()

"""The executor's interface, as the canned questions and /sparql use it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api import executor as executor_module
from api.errors import QueryRefused, QuerySyntaxError, QueryTimeout
from api.executor import Executor
from tests.api.conftest import FOAF_DOCUMENT, G

JSON = "application/sparql-results+json"


def bindings(result) -> list[dict]:
    return json.loads(result.body)["results"]["bindings"]


def test_select_with_substitutions(protocol_executor):
    result = protocol_executor.run(
        "SELECT ?s ?t WHERE { ?s a ?t }", result_format=JSON,
        substitutions={"s": f"<{G}data2.rdf>"}, timeout=5,
    )
    assert (result.kind, result.media_type, result.truncated) == ("solutions", JSON, False)
    assert [row["t"]["value"] for row in bindings(result)] == [FOAF_DOCUMENT]


def test_substitution_of_a_literal(protocol_executor):
    result = protocol_executor.run("SELECT ?x WHERE {}", result_format=JSON,
                                   substitutions={"x": '"Türkiye"@en'}, timeout=5)
    assert bindings(result) == [{"x": {"type": "literal", "value": "Türkiye", "xml:lang": "en"}}]


def test_a_substitution_must_be_an_ntriples_term(protocol_executor):
    with pytest.raises(ValueError):
        protocol_executor.run("SELECT ?x WHERE {}", result_format=JSON, substitutions={"x": "Turkey"}, timeout=5)


def test_ask_and_construct_kinds(protocol_executor):
    ask = protocol_executor.run("ASK { ?s ?p ?o }", result_format=JSON, timeout=5)
    assert ask.kind == "boolean" and json.loads(ask.body)["boolean"] is True
    graph = protocol_executor.run("CONSTRUCT WHERE { ?s a ?t }", result_format="text/turtle", timeout=5)
    assert graph.kind == "graph" and graph.body.count(b" a ") == 4


def test_max_rows_cuts_and_flags(protocol_executor):
    result = protocol_executor.run("SELECT ?s WHERE { ?s a ?t }", result_format=JSON, max_rows=1, timeout=5)
    assert result.truncated and len(bindings(result)) == 1
    assert json.loads(result.body)["truncated"] is True


def test_dataset_selection(protocol_executor):
    query = "SELECT ?s WHERE { ?s a ?t }"
    only = protocol_executor.run(query, result_format=JSON, default_graph=[f"{G}data1.rdf"], timeout=5)
    assert [row["s"]["value"] for row in bindings(only)] == [f"{G}data1.rdf"]
    empty = protocol_executor.run(query, result_format=JSON, union_default_graph=False, timeout=5)
    assert bindings(empty) == []


def test_errors(protocol_executor):
    with pytest.raises(QuerySyntaxError):
        protocol_executor.run("SELECT * WHERE {", result_format=JSON, timeout=5)
    with pytest.raises(QueryRefused):
        protocol_executor.run("DELETE WHERE { ?s ?p ?o }", result_format=JSON, timeout=5)
    with pytest.raises(ValueError):
        protocol_executor.run("SELECT * {}", result_format="text/turtle", timeout=5)


def test_timeout_kills_and_replaces_the_worker():
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(1000)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=30) as executor:
        with pytest.raises(QueryTimeout) as caught:
            executor.run("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", result_format=JSON,
                         timeout=0.5)
        assert caught.value.status == 503
        # the next query waits for the replacement worker, then runs
        assert executor.run("ASK { ?s ?p ?o }", result_format=JSON, timeout=5).kind == "boolean"
        assert executor.replaced == 1


def test_a_store_directory_is_opened_read_only(tmp_path):
    import pyoxigraph as ox

    store = ox.Store(str(tmp_path / "store"))
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:g")))
    store.flush()
    del store
    with Executor.from_path(tmp_path / "store", workers=1) as executor:
        result = executor.run("SELECT ?o { ?s ?p ?o }", result_format="text/csv", timeout=5)
        assert result.body == b"o\r\no\r\n"


def test_sync_callers_get_overloaded_when_every_worker_is_busy():
    import threading

    from api.errors import Overloaded

    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(1000)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=0.2) as executor:
        runaway = threading.Thread(target=lambda: pytest.raises(QueryTimeout, executor.run,
                                   "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                                   result_format=JSON, timeout=1.5))
        runaway.start()
        import time

        time.sleep(0.3)
        with pytest.raises(Overloaded):
            executor.run("ASK {}", result_format=JSON, timeout=5)
        runaway.join()


def test_large_answers_arrive_whole_through_the_async_path():
    import asyncio

    data = "".join(f'<urn:s{i}> <urn:p> "{"x" * 200}{i}" <urn:g> .\n' for i in range(5000)).encode()
    with Executor.from_nquads(data, workers=2) as executor:
        async def both():
            return await asyncio.gather(*(executor.arun("SELECT * { ?s ?p ?o }", result_format=JSON, timeout=10)
                                          for _ in range(4)))

        for result in asyncio.run(both()):
            assert len(result.body) > 1_000_000
            assert len(bindings(result)) == 5000


def test_a_query_past_the_memory_cap_fails_in_its_worker_and_the_pool_recovers():
    from api.errors import ApiError  # the worker either raises MemoryError or the engine aborts: both are 503

    data = "".join(f'<urn:s{i}> <urn:p> "{"x" * 200}{i}" <urn:g> .\n' for i in range(2000)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=30, memory_limit_mb=900) as executor:
        hungry = "SELECT (GROUP_CONCAT(CONCAT(?a, ?b); separator=',') AS ?all) { ?s ?p ?a . ?t ?q ?b }"
        with pytest.raises(ApiError) as caught:
            executor.run(hungry, result_format=JSON, timeout=60)
        assert (caught.value.status, caught.value.code) == (503, "query_memory_limit")
        assert executor.run("ASK { ?s ?p ?o }", result_format=JSON, timeout=10).kind == "boolean"


PROGRAM = """
import sys
import fastapi  # what the service's own main module (api.run, the CLI) brings in
from api.executor import Executor

if __name__ == "__main__":
    with Executor.from_nquads(b"", workers=1) as executor:
        worker = next(iter(executor._all))
        maps = open(f"/proc/{worker.process.pid}/maps").read()
        print("pydantic_core" in maps, executor.run("ASK {}", result_format=sys.argv[1], timeout=10).kind)
"""


def test_a_worker_does_not_run_the_main_module_of_the_program_that_started_it(tmp_path):
    """spawn re-runs the parent's main module in each child: a worker imported the whole web app (FastAPI,
    pydantic, rdflib), about 1 s of CPU and 35 MB at every start and replacement."""
    program = tmp_path / "service_main.py"
    program.write_text(PROGRAM, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(program), JSON], capture_output=True, text=True, timeout=120,
                         cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "boolean"]


def test_a_query_a_worker_answered_cheaply_is_answered_in_process_next_time(monkeypatch):
    monkeypatch.setattr(executor_module, "ANSWER_MAX_BYTES", -1)  # no answer kept: evaluated each time
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(100)).encode()
    with Executor.from_nquads(data, workers=1, inline_budget_ms=50) as executor:
        query = "SELECT ?o WHERE { <urn:s7> <urn:p> ?o }"
        first = executor.run(query, result_format=JSON, timeout=5)
        assert executor.inlined == 0
        again = executor.run(query, result_format=JSON, timeout=5)
        assert executor.inlined == 1
        assert again == first and bindings(again) == [{"o": {"type": "uri", "value": "urn:o7"}}]
        # another format, dataset or binding is another query: a worker answers it first
        executor.run(query, result_format="text/csv", timeout=5)
        executor.run(query, result_format=JSON, default_graph=["urn:g"], timeout=5)
        assert executor.inlined == 1


def test_the_async_path_answers_cheap_queries_in_process_too(monkeypatch):
    import asyncio

    monkeypatch.setattr(executor_module, "ANSWER_MAX_BYTES", -1)

    with Executor.from_nquads(b"<urn:s> <urn:p> <urn:o> <urn:g> .\n", workers=1, inline_budget_ms=50) as executor:
        async def twice():
            return [await executor.arun("ASK { ?s ?p ?o }", result_format=JSON, timeout=5) for _ in range(2)]

        first, second = asyncio.run(twice())
        assert first == second and json.loads(second.body)["boolean"] is True
        assert executor.inlined == 1


def test_queries_over_the_budget_and_runaways_always_go_to_a_worker(monkeypatch):
    monkeypatch.setattr(executor_module, "ANSWER_MAX_BYTES", -1)
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(1000)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=30, inline_budget_ms=0.001) as executor:
        for _ in range(3):
            executor.run("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }", result_format=JSON, timeout=30)
        assert executor.inlined == 0
    with Executor.from_nquads(data, workers=1, queue_wait=30, inline_budget_ms=50) as executor:
        runaway = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        for _ in range(2):  # stopped at the limit each time: it never ran to the end, so never in-process
            with pytest.raises(QueryTimeout):
                executor.run(runaway, result_format=JSON, timeout=0.5)
        assert executor.inlined == 0


def test_errors_are_not_answered_in_process():
    with Executor.from_nquads(b"", workers=1, inline_budget_ms=50) as executor:
        for _ in range(2):
            with pytest.raises(QuerySyntaxError):
                executor.run("SELECT * WHERE {", result_format=JSON, timeout=5)
        assert executor.inlined == 0


def test_no_inline_budget_means_every_query_goes_to_a_worker():
    with Executor.from_nquads(b"", workers=1) as executor:
        for _ in range(3):
            executor.run("ASK {}", result_format=JSON, timeout=5)
        assert executor.inlined == 0


def test_start_can_return_with_the_first_worker_and_the_others_join():
    from tests.api.conftest import wait_for

    executor = Executor.from_nquads(b"", workers=3, light_workers=1).start(ready=1)
    try:
        assert executor.live >= 1 and executor.run("ASK {}", result_format=JSON, timeout=10).kind == "boolean"
        assert wait_for(lambda: executor.live == 3, 60)
        assert sorted(worker.lane for worker in executor._all) == ["heavy", "heavy", "light"]
    finally:
        executor.close()


@pytest.mark.parametrize("call", ["RAND()", "NOW()", "STRUUID()", "UUID()", "BNODE()"])
def test_a_query_whose_work_may_change_between_runs_is_never_answered_in_process(call):
    # cheap the first time is no promise: FILTER(IF(RAND() < 0.5, true, <a long scan>)) runs long every other time
    with Executor.from_nquads(b"<urn:s> <urn:p> <urn:o> <urn:g> .\n", workers=1, inline_budget_ms=50) as executor:
        for _ in range(3):
            executor.run(f"SELECT ?x WHERE {{ BIND({call} AS ?x) }}", result_format=JSON, timeout=5)
        assert executor.inlined == 0


def test_an_answer_is_kept_and_given_again_without_evaluation():
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(100)).encode()
    with Executor.from_nquads(data, workers=1, inline_budget_ms=50) as executor:
        query = "SELECT ?o WHERE { <urn:s7> <urn:p> ?o }"
        answers = [executor.run(query, result_format=JSON, timeout=5) for _ in range(3)]
        assert (executor.inlined, executor.reused) == (0, 2)  # a worker, then the kept answer twice
        assert all(answer == answers[0] for answer in answers)
        assert bindings(answers[-1]) == [{"o": {"type": "uri", "value": "urn:o7"}}]
        # another row cap is another request: a worker answers it first, then its own kept answer
        capped = [executor.run(query, result_format=JSON, max_rows=0, timeout=5) for _ in range(2)]
        assert executor.reused == 3 and all(answer.truncated for answer in capped)
        assert bindings(capped[1]) == []


def test_an_expensive_answer_is_kept_too_but_never_evaluated_in_process():
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(1000)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=30, inline_budget_ms=0.001) as executor:
        query = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }"
        answers = [executor.run(query, result_format=JSON, timeout=30) for _ in range(3)]
        assert (executor.inlined, executor.reused) == (0, 2)
        assert bindings(answers[2]) == [{"n": {"type": "literal", "value": "1000000",
                                               "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]


def test_errors_and_volatile_queries_are_never_kept():
    with Executor.from_nquads(b"<urn:s> <urn:p> <urn:o> <urn:g> .\n", workers=1, inline_budget_ms=50) as executor:
        for _ in range(2):
            with pytest.raises(QuerySyntaxError):
                executor.run("SELECT * WHERE {", result_format=JSON, timeout=5)
        first, second = (executor.run("SELECT ?x WHERE { BIND(STRUUID() AS ?x) }", result_format=JSON, timeout=5)
                         for _ in range(2))
        assert executor.reused == 0 and not executor._answers and first != second


def test_kept_answers_stay_within_their_byte_budget(monkeypatch):
    monkeypatch.setattr(executor_module, "ANSWER_BYTES", 2000)
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(50)).encode()
    with Executor.from_nquads(data, workers=1, inline_budget_ms=50) as executor:
        for i in range(20):
            executor.run(f"SELECT ?o WHERE {{ <urn:s{i}> <urn:p> ?o }}", result_format=JSON, timeout=5)
        kept = executor._answers
        assert kept and executor._answer_bytes == sum(executor_module._kept_size(key, answer)
                                                      for key, answer in kept.items()) <= 2000
        assert len(kept) < 20 and list(kept)[-1][0].startswith("SELECT ?o WHERE { <urn:s19>")  # the oldest went

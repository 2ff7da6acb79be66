"""Worker faults (issue 9, bugs 1-4 and 6): each answered with the right error, the pool heals itself."""

import inspect
import os
import re
import signal
import time

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app

from api.errors import ApiError, QueryTooLarge
from api.executor import QUERY_HEADROOM_MB, STATUSES, Evaluator, Executor, _AnswerReader, _outcome_of, _send_answer
from tests.api.conftest import make_settings, wait_for

JSON = "application/sparql-results+json"
# a 131 MB string built by doubling: far past a small worker's memory, in a fraction of a second
HUNGRY = ('SELECT ?s WHERE { BIND("' + "x" * 1000 + '" AS ?a0) '
          + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(17)) + " BIND(?a17 AS ?s) }")



SENT = sorted(set(re.findall(r'answer = \("(\w+)"', inspect.getsource(Evaluator.answer))))  # what a worker answers


@pytest.mark.parametrize("status", SENT)
def test_every_status_a_worker_sends_crosses_the_pipe(status):
    """Bug 1: the worker answered "memory", which the frame could not carry; it died and the client got 500."""
    assert status in STATUSES
    read, write = os.pipe()
    try:
        _send_answer(write, status, b"why")
        assert _AnswerReader().read_from(read).status == status
    finally:
        os.close(read)
        os.close(write)


def test_a_memory_error_in_a_worker_is_a_503_memory_limit():
    assert isinstance(_outcome_of("memory"), QueryTooLarge)


@pytest.mark.parametrize("cap", [400, 700])
def test_a_huge_string_past_the_memory_cap_is_a_503_and_the_pool_recovers(cap):
    """Bug 1 end to end: whether Python raises MemoryError or the engine aborts, the client gets 503."""
    with Executor.from_nquads(b"", workers=1, queue_wait=30, memory_limit_mb=cap) as executor:
        with pytest.raises(ApiError) as caught:
            executor.run(HUNGRY, result_format=JSON, timeout=60)
        assert (caught.value.status, caught.value.code) == (503, "query_memory_limit")
        assert "worker_memory_mb" in caught.value.message  # which limit was hit
        assert executor.run("ASK {}", result_format=JSON, timeout=30).kind == "boolean"


def test_a_cap_below_the_start_up_size_is_refused_at_start_saying_why():
    """Bug 3: a cap near a worker's own size made start-ups fail at random with `EOFError: hung up`."""
    with pytest.raises(RuntimeError, match=r"worker_memory_mb=60 is too small: a query worker uses \d+ MB"):
        Executor.from_nquads(b"", workers=1, memory_limit_mb=60).start()


def test_a_cap_just_above_the_start_up_size_starts_every_time():
    with pytest.raises(RuntimeError) as refused:  # the refusal says how big a started worker is
        Executor.from_nquads(b"", workers=1, memory_limit_mb=60).start()
    size = int(re.search(r"uses (\d+) MB", str(refused.value)).group(1))
    for _ in range(3):
        with Executor.from_nquads(b"", workers=2, memory_limit_mb=size + QUERY_HEADROOM_MB + 32) as executor:
            assert executor.live == 2
            assert executor.run("ASK {}", result_format=JSON, timeout=10).kind == "boolean"


def test_an_idle_worker_that_died_is_replaced_and_the_query_runs():
    """Bug 4: an idle worker killed from outside went unnoticed until a request drew it and got 500."""
    with Executor.from_nquads(b"", workers=1, queue_wait=30) as executor:
        worker = next(iter(executor._all))
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(5)
        assert executor.run("ASK {}", result_format=JSON, timeout=30).kind == "boolean"
        assert executor.replaced == 1


def test_a_failed_replacement_is_retried_until_the_store_is_back(tmp_path):
    """Bug 2: after failed replacements the pool stayed at 0 workers for good."""
    store = ox.Store(str(tmp_path / "store"))
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:g")))
    store.flush()
    del store
    with Executor.from_path(tmp_path / "store", workers=1, queue_wait=0.5) as executor, \
            TestClient(create_app(make_settings(), executor=executor)) as client:
        (tmp_path / "store").rename(tmp_path / "away")  # the build folder unreadable for a while
        worker = next(iter(executor._all))
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(5)
        with pytest.raises(ApiError):  # no live worker: overloaded
            executor.run("ASK {}", result_format=JSON, timeout=5)
        assert wait_for(lambda: executor.failed_starts >= 2)
        assert executor.live == 0
        health = client.get("/health")  # it said "ok" with no worker alive
        assert (health.status_code, health.json()["status"], health.json()["live_workers"]) == (503, "unavailable", 0)
        (tmp_path / "away").rename(tmp_path / "store")
        assert wait_for(lambda: executor.live == 1)
        assert client.get("/health").json()["status"] == "ok"
        assert executor.run("ASK { ?s ?p ?o }", result_format=JSON, timeout=10).kind == "boolean"


def test_an_unknown_function_is_a_client_error(client):
    """Bug 6: `SELECT (<urn:a>(1) AS ?x) {}` got 500."""
    response = client.get("/sparql", params={"query": "SELECT (<urn:a>(1) AS ?x) {}"})
    assert response.status_code == 400
    assert response.json()["error"] == "query_evaluation"
    assert "urn:a" in response.json()["message"]


def test_a_timeout_is_one_warning_with_the_client_and_the_query_hash(app_with, caplog):
    from api.executor import query_hash

    query = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    data = "".join(f"<urn:s{i}> <urn:p> <urn:o{i}> <urn:g> .\n" for i in range(500)).encode()
    with Executor.from_nquads(data, workers=1, queue_wait=5) as executor, \
            TestClient(create_app(make_settings(query_timeout=0.5), executor=executor)) as client:
        caplog.clear()
        assert client.get("/sparql", params={"query": query}).status_code == 503
    lines = [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert [r.levelname for r in lines] == ["WARNING"]
    assert query_hash(query) in lines[0].getMessage() and "testclient" in lines[0].getMessage()

"""/sparql's own limits hold on every backend: a runaway query is stopped at the service's time limit
(and the engine is given its own limit, so that it stops too), results are cut at max_rows."""

import time

import httpx
import pytest

from tests.api.conftest import generated_nquads
from tests.api.test_safety import RUNAWAY
from tests.backends.conftest import deploy, make_build, serve

LIMIT = 2.0
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="session")
def runaway_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("runaway-data")
    make_build(data, generated_nquads(3000))
    return data


@pytest.fixture(scope="module")
def client(engines, backend, runaway_data):
    with serve(deploy(engines, backend, runaway_data, "runaway"), query_timeout=LIMIT, max_rows=100) as test_client:
        yield test_client


def test_a_runaway_query_is_stopped_at_the_time_limit(client):
    started = time.monotonic()
    response = client.get("/sparql", params={"query": RUNAWAY}, headers=JSON)
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.json()["error"] == "query_timeout", response.text
    assert LIMIT <= elapsed < LIMIT + 2.0
    # the killed worker is replaced (a remote one connects to its engine first), then queries answer again
    deadline = time.monotonic() + 30
    while client.get("/health").json()["status"] != "ok" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=JSON).json()["boolean"] is True


def test_results_past_max_rows_are_cut_and_flagged(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=JSON)
    assert response.status_code == 200
    assert response.headers["X-Swapgraph-Truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == 100


def test_the_engine_is_given_its_own_time_limit(engines, backend, runaway_data):
    """Virtuoso gets it per request (its `timeout` parameter); Oxigraph server has it as a server option
    (--timeout-s, set when the tests start it); the standard engine has none to give."""
    if backend == "embedded":
        pytest.skip("the embedded store has no engine of its own: its worker is killed at the limit")
    from api.dataset import backend_for
    from api.settings import Settings

    settings = Settings(**deploy(engines, backend, runaway_data, "runaway"), query_timeout=LIMIT)
    endpoint = backend_for(settings).endpoint
    assert endpoint.timeout == LIMIT + 1
    parameters = endpoint.quirks().query_parameters(endpoint.timeout)
    assert parameters == ({"timeout": str(int((LIMIT + 1) * 1000))} if endpoint.engine == "virtuoso" else {})
    if endpoint.engine == "virtuoso":
        # the engine stops by itself: it refuses the query on its cost estimate, or cuts it at the limit
        started = time.monotonic()
        response = httpx.post(endpoint.query_url, data={"query": RUNAWAY, "timeout": "500"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert time.monotonic() - started < 5
        assert response.status_code >= 500 or response.headers.get("x-sql-state") == "S1TAT"
        # and an answer it cut short ("anytime" results) is never passed on as complete
        partial = httpx.Response(200, headers={"X-SQL-State": "S1TAT"}, content=b'{"head":{},"results":{"bindings":[]}}')
        with pytest.raises(RuntimeError, match="partial"):
            endpoint.quirks().solutions(partial)

"""Safe by construction: no query reaches the network, a runaway query is stopped, limits hold."""

import json
import socket
import threading
import time

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import QueryRefused
from api.executor import Executor
from tests.api.conftest import ThreadedServer, generated_nquads, make_settings

DIRECT = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it receives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> "Listener":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener():
    with Listener() as running:
        yield running


def test_the_engine_itself_would_connect(listener):
    """The control: pyoxigraph evaluates SERVICE by connecting, so refusing it first is what keeps us safe."""
    try:
        list(ox.Store().query(f"SELECT * {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"))
    except OSError:
        pass  # the listener hangs up at once
    deadline = time.monotonic() + 2
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connections == 1


def outbound_attempts(port: int) -> list[tuple[str, dict]]:
    """Requests that would make a careless endpoint reach 127.0.0.1:port; (method, httpx kwargs)."""
    target = f"http://127.0.0.1:{port}"
    queries = [
        f"SELECT * WHERE {{ SERVICE <{target}/> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{target}/> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y 1 .SERVICE <{target}/> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}/> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{target}/> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{target}/> {{ ?s ?p ?o }} }} }}",
        f"SELECT * FROM <{target}/x> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{target}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"DESCRIBE <{target}/x>",
        f"LOAD <{target}/x>",
        f"LOAD <{target}/x> INTO GRAPH <urn:g>",
    ]
    attempts = [("GET", {"params": {"query": query}}) for query in queries]
    attempts += [("POST", {"content": query.encode(), "headers": {"Content-Type": DIRECT}}) for query in queries]
    attempts += [
        ("GET", {"params": {"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": f"{target}/x"}}),
        ("GET", {"params": {"query": "SELECT * { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": f"{target}/x"}}),
        ("GET", {"params": {"update": f"LOAD <{target}/x>"}}),
        ("POST", {"content": f"LOAD <{target}/x>".encode(), "headers": {"Content-Type": "application/sparql-update"}}),
        ("POST", {"data": {"update": f"LOAD <{target}/x>"}}),
    ]
    return attempts


def test_no_query_reaches_the_network(client, listener):
    statuses = []
    for method, kwargs in outbound_attempts(listener.port):
        response = client.request(method, "/sparql", **kwargs)
        statuses.append(response.status_code)
        assert response.status_code in (200, 400, 403), response.text
        if "SERVICE" in str(kwargs).upper() or "LOAD" in str(kwargs).upper():
            assert response.status_code == 403, kwargs
    time.sleep(0.3)
    print(f"\n{len(statuses)} attempts, statuses {sorted(set(statuses))}, connections {listener.connections}")
    assert listener.connections == 0


def test_the_executor_refuses_service_for_every_caller(protocol_executor, listener):
    query = f"SELECT * {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"
    with pytest.raises(QueryRefused):
        protocol_executor.run(query, result_format="application/sparql-results+json", timeout=5)
    assert listener.connections == 0


# --- the time limit ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runaway_executor():
    with Executor.from_nquads(generated_nquads(3000), workers=2, queue_wait=0.5) as executor:
        yield executor


def test_a_runaway_query_is_stopped_while_health_stays_fast(runaway_executor):
    limit = 1.0
    app = create_app(make_settings(query_timeout=limit), executor=runaway_executor)
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        outcome = {}

        def runaway():
            started = time.monotonic()
            response = http.get("/sparql", params={"query": RUNAWAY})
            outcome["elapsed"] = time.monotonic() - started
            outcome["response"] = response

        thread = threading.Thread(target=runaway)
        thread.start()
        time.sleep(0.2)
        health_times, other_times = [], []
        while thread.is_alive():
            started = time.monotonic()
            assert http.get("/health").status_code == 200
            health_times.append(time.monotonic() - started)
            started = time.monotonic()
            assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
            other_times.append(time.monotonic() - started)
            time.sleep(0.05)
        thread.join()
        response = outcome["response"]
        print(
            f"\nrunaway query stopped after {outcome['elapsed']:.3f} s (limit {limit} s); "
            f"/health during it: {len(health_times)} calls, max {max(health_times) * 1000:.1f} ms; "
            f"other queries: max {max(other_times) * 1000:.1f} ms"
        )
        assert response.status_code == 503
        assert response.json() == {
            "error": "query_timeout",
            "message": response.json()["message"],
            "status": 503,
        }
        assert "truncated" not in response.text
        assert limit <= outcome["elapsed"] < limit + 1.5
        assert max(health_times) < 0.25
        assert max(other_times) < 0.5
        # the killed worker is replaced: the pool is whole again shortly after
        deadline = time.monotonic() + 30
        while runaway_executor.idle < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runaway_executor.idle == 2
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_all_workers_busy_past_overload_wait_is_a_503_overload():
    """Another client's only query waits overload_wait (the executor's default: queue_wait), then 503."""
    with Executor.from_nquads(generated_nquads(2000), workers=1, queue_wait=0.2) as executor:
        app = create_app(make_settings(query_timeout=2.0, workers=1, client_header="X-Forwarded-For",
                                       trusted_proxies=("testclient",)), executor=executor)
        with TestClient(app) as client:
            thread = threading.Thread(target=client.get, args=("/sparql",), kwargs={"params": {"query": RUNAWAY}})
            thread.start()
            time.sleep(0.3)
            started = time.monotonic()
            response = client.get("/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "192.0.2.8"})
            waited = time.monotonic() - started
            thread.join()
            assert response.status_code == 503
            assert response.json()["error"] == "overloaded"
            assert response.headers["retry-after"]
            assert waited < 1.0


# --- limits ------------------------------------------------------------------------------------


def test_body_over_the_limit_is_a_413(app_with):
    with app_with(max_body_bytes=100) as client:
        for content_type, body in [(DIRECT, b"ASK {} #" + b"x" * 200), (FORM, b"query=ASK%20%7B%7D&x=" + b"y" * 200)]:
            response = client.post("/sparql", content=body, headers={"Content-Type": content_type})
            assert response.status_code == 413
            assert response.json()["error"] == "body_too_large"

        def chunks():  # no Content-Length: the cap holds while reading
            for _ in range(10):
                yield b"#" + b"x" * 50

        response = client.post("/sparql", content=chunks(), headers={"Content-Type": DIRECT})
        assert response.status_code == 413


def test_query_over_the_length_limit_is_a_413(app_with):
    with app_with(max_query_length=50) as client:
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        response = client.get("/sparql", params={"query": "ASK {} " + "#" * 60})
        assert response.status_code == 413
        assert response.json()["error"] == "query_too_long"


@pytest.mark.parametrize("opener,closer", [("{", "}"), ("(", ")"), ("[", "]")])
def test_nesting_deeper_than_the_limit_is_a_400(app_with, opener, closer):
    with app_with(max_nesting_depth=10) as client:
        deep = {"{": "ASK " + "{" * 11 + "}" * 11,
                "(": "ASK { FILTER(" + "(" * 10 + "1" + ")" * 10 + ") }",
                "[": "ASK { ?s ?p " + "[ ?p " * 10 + "1" + " ]" * 10 + " }"}[opener]
        response = client.get("/sparql", params={"query": deep})
        assert response.status_code == 400
        assert response.json()["error"] == "query_too_deep"


def test_a_very_deep_query_never_reaches_the_parser(client):
    response = client.get("/sparql", params={"query": "ASK { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"})
    assert response.status_code == 400
    assert response.json()["error"] == "query_too_deep"


def test_results_over_the_row_cap_are_cut_and_say_so(app_with):
    with app_with(max_rows=2) as client:
        query = "SELECT ?s WHERE { ?s a ?t }"
        response = client.get("/sparql", params={"query": query, "format": "json"})
        assert response.status_code == 200
        assert response.headers["x-swapgraph-truncated"] == "true"
        body = response.json()
        assert body["truncated"] is True
        assert len(body["results"]["bindings"]) == 2
        xml = client.get("/sparql", params={"query": query, "format": "xml"})
        assert "truncated" in xml.text and xml.headers["x-swapgraph-truncated"] == "true"
        ttl = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s a ?t }", "format": "ttl"})
        assert ttl.text.startswith("# truncated") and ttl.headers["x-swapgraph-truncated"] == "true"
        whole = client.get("/sparql", params={"query": query + " LIMIT 2", "format": "json"})
        assert "x-swapgraph-truncated" not in whole.headers
        assert "truncated" not in whole.json()


def test_concurrent_queries_are_capped_by_the_worker_count(protocol_executor, app_with):
    with app_with() as client:
        assert client.get("/health").json()["workers"] == protocol_executor.size == 2


# --- error bodies ------------------------------------------------------------------------------


def test_unknown_path_gets_the_json_error_shape(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not Found", "status": 404}


class BrokenExecutor:
    """An executor with a bug: it answers the start-up counts and fails on any other query."""

    size = 1
    idle = 1
    running = True

    def run(self, query, **options):
        from api.executor import Result

        if "COUNT" in query:
            body = json.dumps({"head": {"vars": ["g", "n"]}, "results": {"bindings": []}}).encode()
            return Result("application/sparql-results+json", body, False, "solutions")
        raise KeyError("a bug")

    async def arun(self, query, **options):
        return self.run(query, **options)


def test_a_bug_is_a_logged_500_without_a_stack_trace(caplog):
    with TestClient(create_app(make_settings(), executor=BrokenExecutor()), raise_server_exceptions=False) as client:
        response = client.get("/sparql", params={"query": "ASK {}"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "internal error; it has been logged",
                               "status": 500}
    assert "Traceback" not in response.text and "KeyError" not in response.text
    assert any("KeyError" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_cors_is_off_unless_origins_are_set(client, app_with):
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in response.headers
    with app_with(cors_origins=("https://example.org",)) as cors:
        response = cors.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        assert "access-control-allow-credentials" not in response.headers
        preflight = cors.options("/sparql", headers={"Origin": "https://example.org",
                                                     "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200
        other = cors.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

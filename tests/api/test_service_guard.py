"""The service against its users, over real sockets (issue 9): connections that survive errors, fair
share per client, limits on headers and query size, safe headers, the Host not reflected, no injection."""

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.staticfiles import StaticFiles

from api.app import create_app
from api.executor import Executor
from tests.api.conftest import ThreadedServer, generated_nquads, make_settings, wait_for

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read its whole response (Content-Length framed)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def runaway_executor():
    with Executor.from_nquads(generated_nquads(3000), workers=3, queue_wait=3) as executor:
        yield executor


def test_an_unhandled_error_leaves_the_keep_alive_connection_open(protocol_executor):
    """Bug 5: the 500 was sent, the exception re-raised, and uvicorn reset the connection."""
    settings = make_settings()
    app = create_app(settings, executor=protocol_executor)

    @app.get("/test-bug")
    def broken():
        raise RuntimeError("a bug in a route")

    with ThreadedServer(app, settings) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        first = exchange(sock, b"GET /test-bug HTTP/1.1\r\nHost: x\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 500") and b'"internal_error"' in first
        assert b"connection: close" not in first.lower()
        second = exchange(sock, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert second.startswith(b"HTTP/1.1 200")


def test_a_bad_host_header_is_not_an_error_and_not_reflected(protocol_executor):
    """Bug 5's third trigger: `Host: %zz` on /sparql was 'Invalid base IRI', a 500 and a reset connection."""
    settings = make_settings()
    with ThreadedServer(create_app(settings, executor=protocol_executor), settings) as server, \
            socket.create_connection(("127.0.0.1", server.port)) as sock:
        answer = exchange(sock, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: %zz\r\n"
                                b"Accept: application/sparql-results+json\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        description = exchange(sock, b"GET /sparql HTTP/1.1\r\nHost: evil.example\r\nAccept: application/n-triples\r\n\r\n")
        assert b"evil.example" not in description and f"127.0.0.1:{server.port}/sparql".encode() in description


def test_a_configured_public_host_is_named(app_with):
    with app_with(public_hosts=("data.example.org",)) as client:
        description = client.get("/sparql", headers={"Host": "data.example.org", "Accept": "application/n-triples"})
        assert "<http://data.example.org/sparql>" in description.text


@pytest.mark.parametrize("host", ["data.example.org", "evil.example", "127.0.0.1:8000"])
def test_with_a_public_base_url_every_self_reference_names_it_whatever_the_host(app_with, host):
    """public_base_url and public_hosts are one answer to "what is my name": VoID, the service
    description and the editor's endpoint agree, and no made-up Host is reflected."""
    with app_with(public_base_url="https://data.example.org") as client:
        headers = {"Host": host}
        description = client.get("/sparql", headers={**headers, "Accept": "application/n-triples"}).text
        void = client.get("/void", headers={**headers, "Accept": "application/n-triples"}).text
        editor = client.get("/sparql", headers={**headers, "Accept": "text/html"}).text
    assert "<https://data.example.org/sparql>" in description
    assert "<https://data.example.org/sparql>" in void
    assert "https://data.example.org/sparql" in editor
    for text in (description, void, editor):
        assert "evil.example" not in text and "http://data.example.org" not in text


def test_a_missing_static_folder_stops_the_start_naming_it(protocol_executor, tmp_path):
    app = create_app(make_settings(), executor=protocol_executor)
    app.mount("/extra", StaticFiles(directory=tmp_path / "absent", check_dir=False))
    with pytest.raises(FileNotFoundError, match="absent"):
        with TestClient(app):
            pass


def test_security_headers_and_no_server_banner(protocol_executor):
    settings = make_settings()
    with ThreadedServer(create_app(settings, executor=protocol_executor), settings) as server:
        page = httpx.get(server.url + "/explain", headers={"Accept": "text/html"})
        data = httpx.get(server.url + "/health")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    for response in (page, data):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]
        assert "server" not in response.headers


def test_a_client_past_its_concurrent_queries_gets_429_and_others_do_not(runaway_executor):
    settings = make_settings(query_timeout=2.0, client_max_queries=1, client_header="X-Forwarded-For",
                             trusted_proxies=("127.0.0.1",))
    with ThreadedServer(create_app(settings, executor=runaway_executor), settings) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        mine = {"X-Forwarded-For": "203.0.113.7"}
        thread = threading.Thread(target=http.get, args=("/sparql",), kwargs={"params": {"query": RUNAWAY},
                                                                             "headers": mine})
        idle = runaway_executor.idle
        thread.start()
        assert wait_for(lambda: runaway_executor.idle < idle)  # the runaway holds a worker
        refused = http.get("/sparql", params={"query": "ASK {}"}, headers=mine)
        other = http.get("/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "198.51.100.9"})
        thread.join()
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
    assert int(refused.headers["retry-after"]) >= 1
    assert other.status_code == 200, other.text


def test_with_every_worker_busy_a_clients_only_query_waits_its_turn_and_a_second_one_gets_429():
    """Overload is shed per client: past queue_wait, a client with another query in flight gets 429; a
    client's only query keeps its place (up to overload_wait) instead of a 503."""
    settings = make_settings(query_timeout=4.0, client_header="X-Forwarded-For", trusted_proxies=("127.0.0.1",))
    with Executor.from_nquads(generated_nquads(2000), workers=1, queue_wait=0.3, overload_wait=60) as executor, \
            ThreadedServer(create_app(settings, executor=executor), settings) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        greedy = {"X-Forwarded-For": "203.0.113.7"}
        thread = threading.Thread(target=http.get, args=("/sparql",), kwargs={"params": {"query": RUNAWAY},
                                                                             "headers": greedy})
        thread.start()
        assert wait_for(lambda: executor.idle == 0)  # the runaway holds the one worker
        started = time.monotonic()
        second = http.get("/sparql", params={"query": "ASK {}"}, headers=greedy)
        refused_after = time.monotonic() - started
        started = time.monotonic()
        waiting = http.get("/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "198.51.100.9"})
        waited = time.monotonic() - started
        thread.join()
    assert second.status_code == 429 and second.json()["error"] == "too_many_requests"
    assert second.headers["retry-after"] and refused_after < 5  # queue_wait, far from overload_wait
    assert waiting.status_code == 200, waiting.text
    assert waited > 0.3  # it did wait for the runaway's worker to be stopped and replaced


def test_a_client_that_spent_its_query_seconds_gets_429_with_retry_after(runaway_executor, app_with):
    app = create_app(make_settings(query_timeout=1.0, client_query_seconds=0.5, client_window=60),
                     executor=runaway_executor)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/sparql", params={"query": RUNAWAY}).status_code == 503  # 1 s spent
        refused = client.get("/sparql", params={"query": "ASK {}"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 1
        assert client.get("/health").status_code == 200  # pages and /health are not charged


def test_a_query_of_too_many_terms_is_refused_before_parsing(app_with):
    terms = " || ".join(f"?x = {i}" for i in range(3000))
    with app_with(max_query_terms=2000) as client:
        started = time.monotonic()
        response = client.get("/sparql", params={"query": f"SELECT * {{ VALUES ?x {{ 1 }} FILTER({terms}) }}"})
        assert time.monotonic() - started < 2
    assert response.status_code == 400
    assert response.json()["error"] == "query_too_complex" and "2000" in response.json()["message"]


def test_oversized_headers_get_431_and_half_sent_requests_408(protocol_executor):
    settings = make_settings(max_header_bytes=8192, max_headers=20, header_timeout=0.5)
    with ThreadedServer(create_app(settings, executor=protocol_executor), settings) as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            many = b"".join(f"X-H{i}: 1\r\n".encode() for i in range(30))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the end of the headers
            sock.settimeout(5)
            started = time.monotonic()
            assert sock.recv(65536).startswith(b"HTTP/1.1 408")
            assert time.monotonic() - started < 3
        assert httpx.get(server.url + "/health").status_code == 200


def test_explain_binds_a_literal_and_never_pastes_its_datatype(client):
    """Bug 7: o="x"^^<urn:a> } OPTIONAL {...} } ORDER BY ?c #> was pasted into the server's SPARQL."""
    injected = '"x"^^<urn:a> } OPTIONAL { ?a ?b ?c . ?d ?e ?f } } ORDER BY ?c #>'
    response = client.get("/explain", params={"s": "<urn:s>", "p": "<urn:p>", "o": injected, "format": "json"})
    assert response.status_code == 422
    assert response.json()["parameter"] == "o"


def test_unknown_iris_are_not_cached(protocol_app, client):
    """3,000 unknown IRIs of 20 KB once added 169 MiB to the HTTP process, never released."""
    for i in range(20):
        assert client.get(f"/id/unknown-{i}-" + "x" * 2000, headers={"Accept": "text/turtle"}).status_code == 404
    descriptions = protocol_app.state.linked_data._descriptions
    assert not any("unknown-" in iri for iri in descriptions)

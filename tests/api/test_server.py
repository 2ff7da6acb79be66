"""One real server: `python -m api.run` with uvicorn on 127.0.0.1 and a free port, over HTTP."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from graph.store import StoreLayout
from tests.api.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
ASSERTED = "https://w3id.org/swapgraph/graph/asserted"
INFERRED = "https://w3id.org/swapgraph/graph/inferred"


def build_store(data_dir: Path) -> Path:
    layout = StoreLayout(data_dir)
    build = layout.new_build_dir()
    store = ox.Store(str(build))
    ex = "https://w3id.org/swapgraph/id/"
    store.add(ox.Quad(ox.NamedNode(ex + "x"), ox.NamedNode("urn:p"), ox.Literal("asserted"), ox.NamedNode(ASSERTED)))
    store.add(ox.Quad(ox.NamedNode(ex + "x"), ox.NamedNode("urn:q"), ox.Literal("inferred"), ox.NamedNode(INFERRED)))
    store.add(ox.Quad(ox.NamedNode(ex + "y"), ox.NamedNode("urn:q"), ox.Literal("more"), ox.NamedNode(INFERRED)))
    store.flush()
    del store
    layout.publish(build)
    return build


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    build = build_store(data_dir)
    port = free_port()
    env = {**os.environ, "SWAPGRAPH_DATA_DIR": str(data_dir), "SWAPGRAPH_PORT": str(port),
           "SWAPGRAPH_WORKERS": "2", "SWAPGRAPH_HOST": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "-m", "api.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + process.stdout.read().decode(errors="replace"))
            time.sleep(0.1)
        yield url, build
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_real_server_answers_sparql_over_http(server):
    url, _ = server
    with httpx.Client(base_url=url, timeout=10) as http:
        response = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                            headers={"Accept": "text/csv"})
        assert response.status_code == 200
        assert response.text.split() == ["n", "3"]
        asserted = http.post("/sparql", params={"default-graph-uri": ASSERTED},
                             content=b"SELECT ?o { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query",
                                                                         "Accept": "text/csv"})
        assert asserted.text.split() == ["o", "asserted"]
        update = http.post("/sparql", data={"update": "CLEAR ALL"})
        assert update.status_code == 403


def test_real_server_reports_its_build(server):
    url, build = server
    version = httpx.get(url + "/version", timeout=10).json()
    assert version["dataset"]["build"] == build.name
    assert version["dataset"]["built_at"]
    assert version["dataset"]["graphs"] == {ASSERTED: 1, INFERRED: 2}
    description = httpx.get(url + "/sparql", headers={"Accept": "application/n-triples"}, timeout=10).text
    assert f"<{url}/sparql>" in description


def test_the_readme_python_example_runs_against_the_server(server, capsys):
    """The data scientists' example in the README (SPARQLWrapper + pandas), run against a real server."""
    pytest.importorskip("SPARQLWrapper")
    pytest.importorskip("pandas")
    import re

    url, _ = server
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- service:start -->")[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code.replace("http://127.0.0.1:8000", url), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert ASSERTED in printed and INFERRED in printed


def test_an_answer_reaches_the_client_in_one_read(server):
    """uvicorn writes a response's head and body apart; sent as two segments, a client waiting in recv
    is woken by the head alone (two wake-ups per light lookup). The service sends them in one."""
    import socket
    from urllib.parse import quote

    url, _ = server
    port = int(url.rsplit(":", 1)[1])
    request = (f"GET /sparql?query={quote('ASK { ?s ?p ?o }')} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Accept: application/sparql-results+json\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(30):
            sock.sendall(request)
            first = sock.recv(65536)  # blocks until the first segment arrives
            head, _, body = first.partition(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            assert head.startswith(b"HTTP/1.1 200") and len(body) == length and b'"boolean":true' in body


def test_writes_wait_for_the_end_of_the_loop_turn_unless_they_pile_up():
    import asyncio
    import socket

    from api.run import OneSendPerTurn

    def received(sock) -> bytes:
        try:
            return sock.recv(1 << 20)
        except BlockingIOError:
            return b""

    async def scenario():
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        theirs.setblocking(False)
        transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
        held = OneSendPerTurn(transport, loop)
        held.write(b"head ")
        held.write(b"body")
        assert received(theirs) == b""  # not yet: the turn is not over
        await asyncio.sleep(0.05)
        assert received(theirs) == b"head body"
        held.write(b"x" * OneSendPerTurn.HELD_BYTES)  # a chunk this large goes at once, within the turn
        assert len(received(theirs)) > 0
        await asyncio.sleep(0.05)
        while received(theirs):
            pass
        held.write(b"last")
        held.close()  # sends what it holds first
        await asyncio.sleep(0.05)
        assert received(theirs).endswith(b"last")
        theirs.close()

    asyncio.run(scenario())

"""Fixtures for the service tests: small in-memory datasets served by a real executor, apps in-process.

The protocol dataset restates the W3C SPARQL 1.1 Protocol test suite's (w3c/rdf-tests,
sparql/sparql11/protocol): three named graphs G/dataN.rdf, each holding `<G/dataN.rdf> a foaf:Document`.
"""

import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.executor import Executor
from api.settings import Settings

G = "http://kasei.us/2009/09/sparql/data/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FOAF_DOCUMENT = "http://xmlns.com/foaf/0.1/Document"
SWAP = "https://w3id.org/swapgraph/graph/"


def protocol_nquads() -> bytes:
    lines = [f"<{G}data{n}.rdf> <{RDF_TYPE}> <{FOAF_DOCUMENT}> <{G}data{n}.rdf> .\n" for n in (1, 2, 3)]
    # one asserted and one inferred fact, to show graph selection by name
    lines.append(f"<https://w3id.org/swapgraph/id/a> <{RDF_TYPE}> <https://w3id.org/swapgraph/ontology#Exchange> <{SWAP}asserted> .\n")
    lines.append(f"<https://w3id.org/swapgraph/id/a> <{RDF_TYPE}> <https://w3id.org/swapgraph/ontology#Event> <{SWAP}inferred> .\n")
    return "".join(lines).encode()


def generated_nquads(count: int) -> bytes:
    """`count` triples in one named graph: enough for a cartesian product that never ends in time."""
    graph = SWAP + "asserted"
    return "".join(
        f'<https://example.org/s{i}> <https://example.org/p{i % 7}> "{i}" <{graph}> .\n' for i in range(count)
    ).encode()


def wait_for(condition, seconds: float = 30.0) -> bool:
    """Whether `condition()` became true within `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def make_settings(**overrides) -> Settings:
    defaults = {"workers": 2, "query_timeout": 5.0, "queue_wait": 2.0}
    return Settings(**{**defaults, **overrides})


@pytest.fixture(scope="session")
def protocol_executor():
    with Executor.from_nquads(protocol_nquads(), workers=2, queue_wait=5.0) as executor:
        yield executor


@pytest.fixture(scope="session")
def protocol_app(protocol_executor):
    return create_app(make_settings(), executor=protocol_executor)


@pytest.fixture(scope="session")
def client(protocol_app):
    with TestClient(protocol_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def app_with(protocol_executor):
    """Build a client for the protocol dataset with other settings: `with app_with(max_rows=1) as c:`."""

    def build(**overrides) -> TestClient:
        return TestClient(create_app(make_settings(**overrides), executor=protocol_executor),
                          raise_server_exceptions=False)

    return build


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThreadedServer:
    """A real uvicorn serving an app on 127.0.0.1 from a thread, for tests that need real sockets."""

    def __init__(self, app, settings: Settings | None = None):
        """With settings: uvicorn configured as `swapgraph serve` configures it (api.run), limits included."""
        import uvicorn

        from api.run import uvicorn_config

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if settings is None:
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        else:
            config = uvicorn_config(app, settings, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)

    def __enter__(self) -> "ThreadedServer":
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class CountingExecutor:
    """The real executor, counting the queries it is asked to run."""

    def __init__(self, executor: Executor):
        self.executor, self.queries = executor, []

    def run(self, query, **options):
        self.queries.append(query)
        return self.executor.run(query, **options)

    def __getattr__(self, name):
        return getattr(self.executor, name)


@pytest.fixture(scope="session")
def corpus_client(tmp_path_factory):
    """The app in-process on a graph built once from the corpus (pages, search, canned questions)."""
    from graph.build import SourcePaths, build
    from graph.store import StoreLayout

    data = tmp_path_factory.mktemp("corpus-data")
    build(StoreLayout(data), SourcePaths())
    with TestClient(create_app(Settings(data_dir=data, workers=2)), raise_server_exceptions=False) as test_client:
        yield test_client

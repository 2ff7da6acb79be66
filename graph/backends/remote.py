"""A remote triple store over the standard protocols: queries (SPARQL 1.1 Protocol), loading (Graph
Store HTTP Protocol), the pointer graph, and publishing a build so that readers switch atomically.

Layout on the engine. A build named N is loaded under versioned graph names, `<public>/store/<dataset>/N`
for each of its named graphs. The dataset's pointer graph describes every version: its graphs, the
public name each serves as and its triple count, and, once it is complete and its counts checked, a
`publishedAt` time. The served version is the one published last; publishing it is one INSERT DATA
of one triple, so a reader sees the old version or the new one, never a mix, and a publish killed at
any step leaves the old one serving (its half-loaded graphs are dropped by the next publish).

One publisher at a time per dataset: a publish first takes the dataset's lease (a small graph naming
its holder, host and process, and until when it holds it), renews it after every upload, and gives it
back at the end. A second publish meanwhile stops with a PublishError naming the holder. A holder that
died (killed, or its machine lost) is recovered from: on its own host, a process that no longer runs
holds nothing; elsewhere, the lease lapses LEASE_SECONDS after its last renewal.

Reading. The service never uses the engine's own default graph (Virtuoso's holds system triples):
every query is sent with its dataset stated in the protocol, default-graph-uri = the version's graphs
(the union the embedded store gives), named-graph-uri = the version's graphs, unless the query names
its own FROM / FROM NAMED. Graph names are public in queries and answers: IRIs equal to a graph's
public name are rewritten to its stored name in the query text (on tokens, graph.backends.sparqltext)
and in the loaded data, and back in every answer, so `GRAPH ?g` binds public names and a graph's IRI
used as a subject still matches. Bound variables travel as a VALUES block of parsed terms.

Blank nodes. An engine's blank node labels do not name its nodes from one request to the next, yet
the service looks up the node it got from one query in the next (explanations of OWL axioms, pages
of derivations). So blank nodes are loaded as skolem IRIs (RDF 1.1 section 3.5, `SKOLEM<label>`) and
given back as blank nodes with the same label in every answer; a term bound to a blank node travels
as its skolem IRI. Their prefix is the dataset's and build's own (`Endpoint.skolem`), and isBLANK,
isIRI and isURI are rewritten to test it (graph.backends.sparqltext), so queries see blank nodes.
What still shows the skolem IRI: STR() of a blank node (an error in SPARQL) and comparing one with an
IRI by its text.
"""

import base64
import http.client
import io
import itertools
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from graph.backends import Version, built_at
from graph.backends.oxigraph_server import OxigraphServer
from graph.backends.sparqltext import QueryText
from graph.backends.standard import SPARQL_JSON, StandardEngine
from graph.backends.virtuoso import Virtuoso
from graph.summary import read_summary

log = logging.getLogger("swapgraph.store")

ENGINES = {engine.name: engine for engine in (StandardEngine, OxigraphServer, Virtuoso)}
STORE = "https://w3id.org/swapgraph/store#"
DATASETS = "https://w3id.org/swapgraph/store/"  # <DATASETS><dataset>/pointer, <DATASETS><dataset>/version/<build>
EMPTY = "https://w3id.org/swapgraph/store/empty"  # a graph never written: an empty default graph or named set
ABSENT = "https://w3id.org/swapgraph/store/absent/"  # stands for a graph the version lacks
SKOLEM = "https://w3id.org/swapgraph/.well-known/genid/"  # + <dataset>/<build>/<label>: blank nodes, as stored
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
CHUNK_TRIPLES = 50_000  # triples per upload request
SUMMARY_CHUNK = 20_000  # characters of the build's summary (JSON) per literal of its summary graph
DUMP_BATCH = 20_000  # quads per piece of a dump streamed from the engine
TRANSIENT_RETRIES = 3  # a query the engine failed for a passing reason (quirks.transient) is asked again
PUBLISH_REQUEST_SECONDS = 3600.0  # one upload or drop of a publish (not a reader's query: no query budget)
LEASE_SECONDS = 300  # a publish renews its lease at every upload; one not renewed for this long has lapsed
KEEP_VERSIONS = 2  # the served version and the one before (replicas may still be reading it)


class PublishError(RuntimeError):
    """A publish that did not switch the served version (the previous one still serves)."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach the engine; the password is never printed (repr) nor logged."""

    query_url: str
    update_url: str = ""
    graph_store_url: str = ""
    engine: str = "standard"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float | None = None  # the engine's own time limit per query, in seconds
    dataset: str = "swapgraph"  # the dataset's name on the engine: several can share one engine

    @property
    def pointer(self) -> str:
        return f"{DATASETS}{self.dataset}/pointer"

    @property
    def version_base(self) -> str:
        return f"{DATASETS}{self.dataset}/version/"

    def stored_name(self, public: str, version: str) -> str:
        return f"{public}/store/{self.dataset}/{version}"

    @property
    def lease(self) -> str:
        return f"{DATASETS}{self.dataset}/lease"

    def summary_graph(self, version: str) -> str:
        return f"{DATASETS}{self.dataset}/summary/{version}"

    def skolem(self, version: str) -> str:
        """The prefix of the version's blank nodes as stored: one per dataset and build, so that two
        datasets (or two builds) on one engine never share a node, whatever labels their parsers gave."""
        return f"{SKOLEM}{self.dataset}/{version}/"

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"SWAPGRAPH_REMOTE_ENGINE={self.engine!r}: expected one of {', '.join(ENGINES)}")

    @classmethod
    def at(cls, base_url: str, engine: str, **options) -> "Endpoint":
        """The engine's usual URLs under base_url (oxigraph: /query /update /store; virtuoso: /sparql ...)."""
        kind = ENGINES[engine]
        urls = kind.urls(base_url.rstrip("/")) if hasattr(kind, "urls") else {"query_url": base_url}
        return cls(engine=engine, **{**urls, **{k: v for k, v in options.items() if v}})

    def quirks(self) -> StandardEngine:
        return ENGINES[self.engine]()


class _Connection:
    """One HTTP/1.1 client (kept-alive) to the engine, speaking the protocols through its quirks."""

    def __init__(self, endpoint: Endpoint, limit: float | None = None):
        """`limit`: seconds per request, for publishing (whose counts are not readers' queries: they are
        sent without the engine's per-query time limit); by default the readers' limit and a margin."""
        self.endpoint = endpoint
        self.quirks = endpoint.quirks()
        self.engine_timeout = None if limit else endpoint.timeout
        limit = limit or (endpoint.timeout or 300.0) + 30.0
        # TCP_NODELAY: a request's headers and body go in two writes, and Nagle's algorithm would hold
        # the second until the engine's delayed ACK (40 ms a query on Linux)
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.client = httpx.Client(auth=self.quirks.auth(endpoint.user, endpoint.password), transport=transport,
                                   timeout=httpx.Timeout(limit, connect=10.0))
        self.queries = _QueryClient(endpoint, limit)

    def _send(self, method: str, url: str, **options) -> httpx.Response:
        try:
            return self.client.request(method, url, **options)
        except httpx.TransportError as exc:  # named by type only: the request may carry credentials
            raise ConnectionError(f"the engine at {_without_userinfo(url)} could not be reached "
                                  f"({type(exc).__name__})") from None

    def query(self, text: str, accept: str, default_graphs=None, named_graphs=None) -> httpx.Response:
        form = [("query", text)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        form += list(self.quirks.query_parameters(self.engine_timeout).items())
        body = urlencode(form).encode()
        headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(TRANSIENT_RETRIES + 1):
            response = self.queries.post(body, headers)
            if attempt == TRANSIENT_RETRIES or not self.quirks.transient(response.status_code, response.text):
                break
            time.sleep(0.2 * (attempt + 1))
        if response.status_code == 401 and self.client.auth is not None:  # digest: httpx answers the challenge
            response = self._send("POST", self.endpoint.query_url, content=body, headers=headers)
        return _checked(response, "query")

    def stream(self, text: str, accept: str, default_graphs, named_graphs):
        """The answer to a query as a stream (a context manager), for answers too big to hold at once."""
        form = [("query", text)] + [("default-graph-uri", g) for g in default_graphs]
        form += [("named-graph-uri", g) for g in named_graphs]
        return self.client.stream("POST", self.endpoint.query_url, content=urlencode(form).encode(),
                                  headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})

    def select(self, text: str) -> list[dict]:
        return self.quirks.solutions(self.query(text, SPARQL_JSON))["results"]["bindings"]

    def update(self, text: str) -> None:
        url = self.endpoint.update_url or self.endpoint.query_url
        response = self._send("POST", url, content=text.encode(),
                              headers={"Content-Type": "application/sparql-update"})
        _checked(response, "update")

    def put_graph(self, graph: str, body: bytes, append: bool) -> None:
        if not self.endpoint.graph_store_url:
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {body.decode()} }} }}")
            return
        method, options = self.quirks.graph_store_request(graph, body, append)
        _checked(self._send(method, self.endpoint.graph_store_url, **options), "graph store upload")

    def close(self) -> None:
        self.client.close()
        self.queries.close()


@dataclass(frozen=True)
class _Answer:
    """What _checked and the quirks read of an answer (as of an httpx.Response)."""

    status_code: int
    headers: dict  # names in lower case
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _QueryClient:
    """Queries over one kept-alive http.client connection. Measured under load on this machine
    (tests/backends: A/B of the same query on an Oxigraph server), httpx cost 4-9 ms a small query
    where http.client cost 1-1.5 ms and the engine alone 0.2-0.5 ms: the readers' hot path is here,
    httpx stays for publishing (digest auth, streams). The request goes in one write (headers and
    body together): no Nagle / delayed-ACK stall, and TCP_NODELAY for the rest."""

    RETRIED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest)

    def __init__(self, endpoint: Endpoint, limit: float):
        url = httpx.URL(endpoint.query_url)
        self.url, self.limit = url, limit
        self.path = url.raw_path.decode("ascii")
        self.auth = {}
        if endpoint.user and endpoint.engine != "virtuoso":  # Virtuoso's query endpoint needs none (digest: 401)
            token = base64.b64encode(f"{endpoint.user}:{endpoint.password}".encode()).decode()
            self.auth = {"Authorization": f"Basic {token}"}
        self.connection = None

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.url.scheme == "https" else http.client.HTTPConnection
        connection = kind(self.url.host, self.url.port, timeout=self.limit)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def post(self, body: bytes, headers: dict) -> _Answer:
        head = {"Host": self.url.netloc.decode("ascii"), "Content-Length": str(len(body)), **headers, **self.auth}
        request = (f"POST {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                   + "\r\n").encode("latin-1") + body
        for attempt in range(2):  # a kept-alive connection the engine closed meanwhile: once more, anew
            try:
                if self.connection is None:
                    self.connection = self._connect()
                self.connection.sock.sendall(request)
                response = http.client.HTTPResponse(self.connection.sock, method="POST")
                response.begin()
                content = response.read()
                if response.will_close:
                    self.close()
                return _Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)
            except self.RETRIED:
                self.close()
                if attempt:
                    raise ConnectionError(f"the engine at {_without_userinfo(str(self.url))} closed the connection")
            except OSError as exc:
                self.close()
                raise ConnectionError(f"the engine at {_without_userinfo(str(self.url))} could not be reached "
                                      f"({type(exc).__name__})") from None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _without_userinfo(url: str) -> str:
    parts = httpx.URL(url)
    return str(parts.copy_with(username=None, password=None)) if parts.userinfo else url


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    """The response when it succeeded; SyntaxError for a 400 (the engine's message), else RuntimeError.
    Only the status and the engine's message are kept: never the request (it may carry credentials)."""
    if response.is_success:
        return response
    message = response.text.strip()[:500]
    if response.status_code == 400:
        raise SyntaxError(message or f"the engine refused the {what} (400)")
    raise RuntimeError(f"the engine answered {response.status_code} to a {what}: {message}")


# --- reading: what a query worker opens -------------------------------------------------------------


@dataclass(frozen=True)
class RemoteReader:
    """A version as a worker reads it (picklable): the endpoint and the version's public -> stored names."""

    endpoint: Endpoint
    graphs: tuple[tuple[str, str], ...]
    version: str = ""

    def open(self) -> "RemoteQueries":
        return RemoteQueries(self.endpoint, dict(self.graphs), self.endpoint.skolem(self.version))

    def summary(self) -> dict:
        """The build's summary (graph.summary) as published with it, {} when the build had none."""
        connection = _Connection(self.endpoint)
        try:
            rows = connection.select(f"PREFIX st: <{STORE}> SELECT ?i ?text WHERE {{ GRAPH <{self.endpoint.summary_graph(self.version)}> "
                                     "{ ?part st:index ?i ; st:text ?text } }")
        finally:
            connection.close()
        text = "".join(row["text"]["value"] for row in sorted(rows, key=lambda row: int(row["i"]["value"])))
        summary = json.loads(text) if text else {}
        return summary if "counts" in summary else {}

    def dump(self) -> "RemoteDump":
        return RemoteDump(self)


class RemoteQueries:
    """Answers `query(...)` like pyoxigraph.Store.query, on one version of a remote store."""

    def __init__(self, endpoint: Endpoint, graphs: dict[str, str], skolem: str = SKOLEM):
        self.connection = _Connection(endpoint)
        self.to_stored = graphs
        self.to_public = {stored: public for public, stored in graphs.items()}
        self.skolem = skolem
        self.syntax = ox.Store()  # empty: parses each query first, so errors read as the embedded store's
        self.connection.query("ASK {}", SPARQL_JSON, [EMPTY], [EMPTY])  # reachable, or the worker fails to start

    def named_graphs(self):
        return iter([ox.NamedNode(public) for public in self.to_stored])

    def contains_named_graph(self, graph) -> bool:
        return graph.value in self.to_stored

    def query(self, query: str, *, default_graph=None, named_graphs=None, use_default_graph_as_union=False,
              substitutions=None, base_iri=None):
        options = {"base_iri": base_iri} if base_iri else {}
        self.syntax.query(query, **options)  # SyntaxError as the embedded store raises it; not evaluated
        form, text, default, named = self.request_for(query, default_graph, named_graphs, use_default_graph_as_union,
                                                      substitutions, base_iri)
        if form in ("CONSTRUCT", "DESCRIBE"):
            response = self.connection.query(text, self.connection.quirks.graph_accept, default, named)
            return [self._public_triple(quad) for quad in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]
        response = self.connection.query(text, SPARQL_JSON, default, named)
        data = self.connection.quirks.solutions(response)
        for row in data.get("results", {}).get("bindings", []):
            for term in row.values():
                if term.get("type") == "uri" and term["value"] in self.to_public:
                    term["value"] = self.to_public[term["value"]]
                elif term.get("type") == "uri" and term["value"].startswith(self.skolem):
                    term["type"], term["value"] = "bnode", term["value"][len(self.skolem):]
        return ox.parse_query_results(json.dumps(data).encode(), format=ox.QueryResultsFormat.JSON)

    def request_for(self, query: str, default_graph=None, named_graphs=None, union: bool = False,
                    substitutions=None, base_iri=None) -> tuple[str, str, list | None, list | None]:
        """What is sent to the engine for a query: its form, the rewritten text, default-graph-uri and
        named-graph-uri (None, None: the query's own FROM)."""
        parsed = QueryText.parse(query)
        bindings = {v.value: self._term_text(t) for v, t in (substitutions or {}).items()}
        default, named = self._dataset(parsed, default_graph, named_graphs, union)
        text = parsed.rewritten(self.to_stored, bindings or None, base_iri, without_dataset_clause=default is not None,
                                plain_strings=self.connection.quirks.plain_strings, skolem=self.skolem)
        return parsed.form, text, default, named

    def _dataset(self, parsed: QueryText, default_graph, named_graphs, union: bool):
        """default-graph-uri and named-graph-uri for a query (None, None: the query's own FROM)."""
        if default_graph is not None or named_graphs is not None:
            return self._stored(default_graph), self._stored(named_graphs)
        everything = list(self.to_stored.values())
        if union:
            return everything, everything
        if parsed.has_dataset_clause:
            return None, None
        return [EMPTY], everything  # the store's own default graph: nothing is ever loaded there

    def _stored(self, graphs) -> list[str]:
        names = [self.to_stored.get(g.value, ABSENT + g.value) for g in graphs or ()]
        return names or [EMPTY]

    def _term_text(self, term) -> str:
        if isinstance(term, ox.NamedNode) and term.value in self.to_stored:
            return f"<{self.to_stored[term.value]}>"
        if isinstance(term, ox.BlankNode):
            return f"<{self.skolem}{term.value}>"
        return str(term)

    def _public(self, term):
        if isinstance(term, ox.NamedNode) and term.value in self.to_public:
            return ox.NamedNode(self.to_public[term.value])
        if isinstance(term, ox.NamedNode) and term.value.startswith(self.skolem):
            return ox.BlankNode(term.value[len(self.skolem):])
        return term

    def _public_triple(self, quad) -> ox.Triple:
        return ox.Triple(self._public(quad.subject), self._public(quad.predicate), self._public(quad.object))


class RemoteDump:
    """Every quad of a version as N-Quads, streamed from the engine graph by graph as it is read (one
    CONSTRUCT per named graph, parsed as it arrives): nothing is held whole, nor run by a query worker.
    `open("rb")` gives a file, as the embedded build's dump file does (api/linked_data.py streams it)."""

    def __init__(self, reader: RemoteReader):
        self.reader = reader

    def open(self, mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(_Chunks(self._pieces()), buffer_size=1 << 20)

    def _pieces(self):
        queries = RemoteQueries.__new__(RemoteQueries)  # the term mapping only: no worker's connection
        queries.to_stored = dict(self.reader.graphs)
        queries.to_public = {stored: public for public, stored in self.reader.graphs}
        queries.skolem = self.reader.endpoint.skolem(self.reader.version)
        connection = _Connection(self.reader.endpoint)
        try:
            for public, stored in self.reader.graphs:
                graph = ox.NamedNode(public)
                text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{stored}> {{ ?s ?p ?o }} }}"
                with connection.stream(text, connection.quirks.graph_accept, [EMPTY], [stored]) as response:
                    _checked_stream(response)
                    triples = ox.parse(_Chunks(response.iter_bytes()), format=ox.RdfFormat.N_TRIPLES)
                    while batch := list(itertools.islice(triples, DUMP_BATCH)):
                        yield ox.serialize([ox.Quad(*queries._public_triple(t), graph) for t in batch],
                                           format=ox.RdfFormat.N_QUADS)
        finally:
            connection.close()


class _Chunks(io.RawIOBase):
    """A read-only file over an iterator of byte strings."""

    def __init__(self, pieces):
        self.pieces, self.left = iter(pieces), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.left:
            self.left = next(self.pieces, b"")
            if not self.left:
                return 0
        size = min(len(buffer), len(self.left))
        buffer[:size], self.left = self.left[:size], self.left[size:]
        return size


def _checked_stream(response: httpx.Response) -> None:
    if not response.is_success:
        response.read()
        _checked(response, "dump")


# --- the backend: versions, publishing ----------------------------------------------------------------


@dataclass(frozen=True)
class _Described:
    name: str
    built_at: str
    published: str | None
    graphs: dict  # public -> (stored, triples)


class RemoteBackend:
    """A remote store: the served version read from its pointer graph, and publishing builds to it."""

    kind = "remote"

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def describe(self) -> str:
        return f"remote {self.endpoint.engine} store at {self.endpoint.query_url}"

    def hold(self, version: Version):
        from contextlib import nullcontext  # old versions are kept one publish longer instead

        return nullcontext(version)

    def current(self) -> Version | None:
        published = self._published()
        if not published:
            return None
        newest = published[0]
        graphs = tuple(sorted((public, stored) for public, (stored, _) in newest.graphs.items()))
        return Version(newest.name, newest.built_at, RemoteReader(self.endpoint, graphs, newest.name))

    def _versions(self) -> list[_Described]:
        connection = _Connection(self.endpoint)
        try:
            rows = connection.select(
                f"PREFIX st: <{STORE}> SELECT ?v ?built ?published ?stored ?public ?n WHERE {{ GRAPH <{self.endpoint.pointer}> {{ "
                "?v st:builtAt ?built . OPTIONAL { ?v st:publishedAt ?published } "
                "OPTIONAL { ?v st:graph ?stored . ?stored st:servesAs ?public ; st:triples ?n } } }")
        finally:
            connection.close()
        versions: dict[str, _Described] = {}
        for row in rows:
            iri = row["v"]["value"]
            described = versions.setdefault(iri, _Described(iri[len(self.endpoint.version_base):], row["built"]["value"],
                                                            row.get("published", {}).get("value"), {}))
            if "stored" in row:
                described.graphs[row["public"]["value"]] = (row["stored"]["value"], int(row["n"]["value"]))
        return list(versions.values())

    def _published(self) -> list[_Described]:
        """Published versions, the newest first."""
        return sorted((v for v in self._versions() if v.published), key=lambda v: v.published, reverse=True)

    def publish(self, build_dir: Path) -> Version:
        """Load a build folder's store as a new version, check its counts, switch to it, drop old ones."""
        source = ox.Store.read_only(str(build_dir))
        name = build_dir.name
        started = time.monotonic()
        graphs = sorted(g.value for g in source.named_graphs())
        renamed = {public: self.endpoint.stored_name(public, name) for public in graphs}
        counts = {public: _count(source, public) for public in graphs}
        connection = _Connection(self.endpoint, PUBLISH_REQUEST_SECONDS)
        lease = Lease(connection, self.endpoint.lease)
        try:
            lease.take()
            self._drop(connection, [v for v in self._versions() if v.name == name])  # a retried publish
            connection.update(_description(self.endpoint, name, built_at(build_dir), renamed, counts))
            for public in graphs:
                _upload(connection, source, public, renamed, self.endpoint.skolem(name), lease.renew)
            _upload_summary(connection, self.endpoint.summary_graph(name), read_summary(build_dir))
            loaded = {public: _remote_count(connection, renamed[public]) for public in graphs}
            wrong = {public: (counts[public], loaded[public]) for public in graphs if loaded[public] != counts[public]}
            if wrong:
                raise PublishError("the engine holds other counts than the build, so the build was not published "
                                   "(graph: built, loaded): " + "; ".join(f"{g}: {a}, {b}" for g, (a, b) in wrong.items()))
            now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            connection.update(f"PREFIX st: <{STORE}> INSERT DATA {{ GRAPH <{self.endpoint.pointer}> {{ "
                              f"<{self.endpoint.version_base}{name}> st:publishedAt \"{now}\" }} }}")
            log.info("published %s to %s: %d triples in %.1f s", name, self.describe(), sum(counts.values()),
                     time.monotonic() - started)
            self._drop_old(connection)
        finally:
            try:
                lease.give_back()
            finally:
                connection.close()
        return self.current()

    def _drop_old(self, connection: _Connection) -> None:
        """Drop every version but the served one and the one before (and unfinished ones older than it)."""
        keep = {v.name for v in self._published()[:KEEP_VERSIONS]}
        self._drop(connection, [v for v in self._versions() if v.name not in keep])

    def _drop(self, connection: _Connection, versions: list[_Described]) -> None:
        for version in versions:
            for stored, _ in version.graphs.values():
                connection.update(f"DROP SILENT GRAPH <{stored}>")
            connection.update(f"DROP SILENT GRAPH <{self.endpoint.summary_graph(version.name)}>")
            connection.update(
                f"PREFIX st: <{STORE}> DELETE {{ GRAPH <{self.endpoint.pointer}> {{ ?x ?p ?o }} }} WHERE {{ GRAPH <{self.endpoint.pointer}> {{ "
                f"{{ BIND(<{self.endpoint.version_base}{version.name}> AS ?x) }} UNION {{ <{self.endpoint.version_base}{version.name}> st:graph ?x }} "
                "?x ?p ?o } }")


class Lease:
    """The dataset's publish lease on the engine (see the module's docstring)."""

    def __init__(self, connection: _Connection, graph: str, seconds: float = LEASE_SECONDS):
        self.connection, self.graph, self.seconds = connection, graph, seconds
        self.holder = f"{socket.gethostname()} {os.getpid()} {uuid.uuid4().hex}"
        self.taken = False

    def take(self) -> None:
        """Hold the lease, or raise PublishError naming the publish that holds it. A live holder is seen
        by reading alone: a second publish writes nothing while the first runs (Oxigraph server fails a
        writer whose transaction meets another's)."""
        for _ in range(2):
            now = time.time()
            holders = self._holders()
            live = [holder for holder in holders if holder[2] >= now and not _dead_here(holder[0])]
            if live:
                holder, since, until = live[0]
                raise PublishError(
                    f"another publish of this dataset is under way (host and process {' '.join(holder.split()[:2])}, "
                    f"since {_utc(since)}; its lease runs until {_utc(until)} unless renewed): try again when it is "
                    "done, or after that time if it was stopped")
            for holder, _, _ in holders:  # lapsed, or a killed publish of this machine: recovered now
                self._delete(holder)
            self.connection.update(
                f"PREFIX st: <{STORE}> INSERT {{ GRAPH <{self.graph}> {{ <{self.graph}#{uuid.uuid4().hex}> st:holder "
                f"{json.dumps(self.holder)} ; st:since {now:.3f} ; st:until {now + self.seconds:.3f} }} }} WHERE "
                f"{{ FILTER NOT EXISTS {{ GRAPH <{self.graph}> {{ ?h st:holder ?any }} }} }}")
            holders = self._holders()
            if holders and holders[0][0] == self.holder:  # two at once: the earliest holder keeps it
                self.taken = True
                return
            if any(holder == self.holder for holder, _, _ in holders):
                self._delete(self.holder)  # the other one was first: the next look names it
        raise PublishError("the publish lease could not be taken: try again")

    def renew(self) -> None:
        until = time.time() + self.seconds
        self.connection.update(
            f"PREFIX st: <{STORE}> DELETE {{ GRAPH <{self.graph}> {{ ?h st:until ?old }} }} INSERT {{ GRAPH <{self.graph}> "
            f"{{ ?h st:until {until:.3f} }} }} WHERE {{ GRAPH <{self.graph}> {{ ?h st:holder {json.dumps(self.holder)} ; "
            "st:until ?old } }")

    def give_back(self) -> None:
        if self.taken:
            self._delete(self.holder)
            self.taken = False

    def _holders(self) -> list[tuple[str, float, float]]:
        rows = self.connection.select(f"PREFIX st: <{STORE}> SELECT ?holder ?since ?until WHERE {{ GRAPH <{self.graph}> "
                                      "{ ?h st:holder ?holder ; st:since ?since ; st:until ?until } }")
        holders = [(row["holder"]["value"], float(row["since"]["value"]), float(row["until"]["value"])) for row in rows]
        return sorted(holders, key=lambda holder: (holder[1], holder[0]))  # the earliest first, whatever the engine did

    def _delete(self, holder: str) -> None:
        self.connection.update(f"PREFIX st: <{STORE}> DELETE {{ GRAPH <{self.graph}> {{ ?h ?p ?o }} }} WHERE {{ "
                               f"GRAPH <{self.graph}> {{ ?h st:holder {json.dumps(holder)} ; ?p ?o }} }}")


def _dead_here(holder: str) -> bool:
    """Whether a lease holder ("host pid token") is a process of this machine that no longer runs."""
    host, pid = (holder.split() + ["", ""])[:2]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _count(store: ox.Store, graph: str) -> int:
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))["n"].value)


def _remote_count(connection: _Connection, stored: str) -> int:
    rows = connection.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{stored}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"]["value"]) if rows else 0


def _description(endpoint: Endpoint, name: str, when: str, renamed: dict[str, str], counts: dict[str, int]) -> str:
    version = f"<{endpoint.version_base}{name}>"
    lines = [f'{version} st:builtAt "{when}" .']
    for public, stored in renamed.items():
        lines.append(f"{version} st:graph <{stored}> . <{stored}> st:servesAs <{public}> ; st:triples {counts[public]} .")
    return f"PREFIX st: <{STORE}> INSERT DATA {{ GRAPH <{endpoint.pointer}> {{ {' '.join(lines)} }} }}"


def _upload(connection: _Connection, source: ox.Store, public: str, renamed: dict[str, str], skolem: str,
            renew=lambda: None) -> None:
    """One graph's triples under its stored name: graph names inside the data renamed too, blank nodes
    as skolem IRIs (so that uploads can be cut in parts, and nodes named again by later queries). Read
    from the build a chunk at a time: a graph of millions of triples is never held whole."""
    names = {ox.NamedNode(p): ox.NamedNode(s) for p, s in renamed.items()}

    def stored(term):
        if isinstance(term, ox.BlankNode):
            return ox.NamedNode(skolem + term.value)
        return names.get(term, term)

    quads = source.quads_for_pattern(None, None, None, ox.NamedNode(public))
    first = True
    while (chunk := list(itertools.islice(quads, CHUNK_TRIPLES))) or first:
        triples = [ox.Triple(stored(q.subject), names.get(q.predicate, q.predicate), stored(q.object)) for q in chunk]
        connection.put_graph(renamed[public], ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), append=not first)
        renew()
        first = False


def _upload_summary(connection: _Connection, graph: str, summary: dict) -> None:
    """The build's summary (graph.summary: whatever keys it has) as JSON text cut in indexed literals,
    in the version's own summary graph: loaded before the switch, so it changes with the version."""
    if not summary:
        return
    text = json.dumps(summary, ensure_ascii=False)
    index, text_of = ox.NamedNode(STORE + "index"), ox.NamedNode(STORE + "text")
    triples = []
    for number, start in enumerate(range(0, len(text), SUMMARY_CHUNK)):
        piece = ox.NamedNode(f"{graph}#{number}")
        triples += [ox.Triple(piece, index, ox.Literal(str(number), datatype=ox.NamedNode(XSD_INTEGER))),
                    ox.Triple(piece, text_of, ox.Literal(text[start:start + SUMMARY_CHUNK]))]
    connection.put_graph(graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), append=False)

"""A pool of warm worker processes that evaluate SPARQL queries and can be stopped.

Neither rdflib nor pyoxigraph can cancel a running query, so each query runs in a worker process
(multiprocessing, spawn context) that holds the store open read-only. Past the time limit the worker
is killed and replaced in the background and the caller gets `QueryTimeout` (a 503). When every
worker stays busy beyond `queue_wait` seconds the caller gets `Overloaded` (a 503).

Interface, shared by /sparql and the canned questions::

    executor = Executor.from_path(build_dir, workers=4)     # or Executor.from_nquads(data)
    executor.start()
    result = executor.run(
        query,                                   # SPARQL 1.1 query text (never an update)
        result_format="application/sparql-results+json",  # a media type from api.results
        substitutions={"person": "<https://w3id.org/swapgraph/id/person/x>"},  # var -> N-Triples term
        default_graph=None,                      # list of graph IRIs, or None
        named_graphs=None,                       # list of graph IRIs, or None
        union_default_graph=True,                # default graph = union of all named graphs
        max_rows=10_000,                         # None: no cap
        timeout=10.0,                            # seconds
    )
    result.media_type, result.body, result.truncated, result.kind  # kind: boolean|solutions|graph
    result = await executor.arun(query, ...)     # the same, for `async def` code: never blocks the loop
    executor.close()

`run` blocks its thread (use it from plain `def` handlers, which FastAPI runs in a thread pool);
`arun` waits on the event loop (the worker's pipe is watched with `add_reader`), which is what /sparql
uses: a thread-pool hop per request cost more than half the throughput in bench/sparql.py. Both
share one pool of idle workers: callers are served first come, first served, and get the worker that
answered last (its caches warm). Workers run at a lower CPU priority (nice +5) than the HTTP process,
so answers are handed over promptly when queries fill every core. A request travels to its worker
as a pickled dict; the answer comes back as a small header and the serialised result's bytes as they
are (no pickling), read in exact sizes.

The dataset: when `default_graph` or `named_graphs` is given (the protocol's default-graph-uri /
named-graph-uri), it is exactly those graphs, the other list empty, and the query's own FROM is
overridden; graphs absent from the store are empty. Otherwise a query with FROM / FROM NAMED uses
them, and any other query sees the union of all named graphs as its default graph when
`union_default_graph` is true. Nothing is ever fetched: queries with SERVICE and update keywords are
refused by `api.screening` before a worker sees them (`QueryRefused`, a 403).

Errors raised by `run` are `api.errors.ApiError`s: `QuerySyntaxError` (400), `QueryRefused` (403),
`QueryTimeout` / `Overloaded` (503), `WorkerFailure` (500, logged). `ValueError` for a bad
argument from the calling code (an unknown media type, a substitution that is not an N-Triples term).
"""

import asyncio
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from api import results
from api.errors import Overloaded, QuerySyntaxError, QueryTimeout, QueryTooLarge, WorkerFailure
from api.screening import screen_cached

log = logging.getLogger("swapgraph.executor")

_CONTEXT = multiprocessing.get_context("spawn")
KINDS = ("boolean", "solutions", "graph")
# The pipe to a worker carries frames, each a fixed header and a payload written with one writev. A
# request is its payload size and a pickled dict. An answer is its payload size, status, kind and
# truncation flag, and the payload itself: the serialised result (status "ok") or a message (others):
# the result bytes are never pickled, and are read in exact sizes, without blocking the event loop.
_REQUEST = struct.Struct("!Q")
_ANSWER = struct.Struct("!QBB?")
STATUSES = ("ready", "failed", "ok", "syntax", "value", "error")
WORKER_NICENESS = 5


@dataclass(frozen=True)
class Result:
    media_type: str
    body: bytes
    truncated: bool
    kind: str  # 'boolean' | 'solutions' | 'graph'


class Answer(NamedTuple):
    """One answer from a worker: a status from STATUSES; for "ok" the result's kind and bytes."""

    status: str
    kind: str
    truncated: bool
    payload: bytes

    def message(self) -> str:
        return self.payload.decode("utf-8", "replace")


@dataclass(frozen=True)
class StoreSource:
    """Where a worker gets its store: a pyoxigraph store directory (opened read-only) or N-Quads bytes."""

    path: str | None = None
    nquads: bytes | None = None

    def open(self):
        import pyoxigraph as ox

        if self.path is not None:
            return ox.Store.read_only(self.path)
        store = ox.Store()
        if self.nquads:
            store.load(self.nquads, format=ox.RdfFormat.N_QUADS)
        return store


# --- the worker process ---------------------------------------------------------------------------


def _parse_term(text: str):
    import pyoxigraph as ox

    try:
        quads = list(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError as exc:
        raise ValueError(f"substitution {text!r} is not an N-Triples term: {exc}") from None
    if len(quads) != 1:
        raise ValueError(f"substitution {text!r} is not one N-Triples term")
    return quads[0].object


def _evaluate(store, request: dict, prefixes: dict | None) -> tuple:
    import pyoxigraph as ox

    from graph.vocab import Graphs

    CANDIDATES = ox.NamedNode(str(Graphs.CANDIDATES))
    options = {}
    if request["base_iri"]:
        options["base_iri"] = request["base_iri"]
    if request["default_graph"] is not None or request["named_graphs"] is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in request["default_graph"] or []]
        options["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"] or []]
    elif request["union_default_graph"] and store.contains_named_graph(CANDIDATES):
        # Candidate facts are shown only when asked for (GRAPH <.../graph/candidates> or default-graph-uri).
        options["default_graph"] = [g for g in store.named_graphs() if g != CANDIDATES]
        options["named_graphs"] = list(store.named_graphs())
    elif request["union_default_graph"]:
        options["use_default_graph_as_union"] = True
    if request["substitutions"]:
        options["substitutions"] = {
            ox.Variable(name.lstrip("?$")): _parse_term(term) for name, term in request["substitutions"].items()
        }
    media_type = request["result_format"]
    max_rows = request["max_rows"]
    answer = store.query(request["query"], **options)
    if isinstance(answer, ox.QueryBoolean):
        return "boolean", results.serialize_boolean(answer, media_type), False
    if isinstance(answer, ox.QuerySolutions):
        body, truncated = results.serialize_query_solutions(answer, media_type, max_rows)
        return "solutions", body, truncated
    rows = []
    truncated = False
    for item in answer:
        if max_rows is not None and len(rows) >= max_rows:
            truncated = True
            break
        rows.append(item)
    return "graph", results.serialize_triples(rows, media_type, max_rows if truncated else None, prefixes), truncated


def _write_frame(fd: int, header: bytes, payload: bytes) -> None:
    """Write a header and its payload whole (a blocking fd), without joining them into a copy."""
    parts = [memoryview(header), memoryview(payload)]
    while parts:
        written = os.writev(fd, parts)
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts:
            parts[0] = parts[0][written:]


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from a blocking fd; EOFError if the other side hangs up first."""
    parts = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("the other end of the pipe hung up")
        parts.append(chunk)
        size -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _text(message: str) -> bytes:
    return message.encode("utf-8", "backslashreplace")


def _send_answer(fd: int, status: str, payload: bytes = b"", kind: str = KINDS[0], truncated: bool = False) -> None:
    header = _ANSWER.pack(len(payload), STATUSES.index(status), KINDS.index(kind), truncated)
    _write_frame(fd, header, payload)


def _worker_main(conn, source: StoreSource, prefixes: dict | None, memory_limit_mb: int | None = None) -> None:
    # Below the HTTP process in CPU priority: when queries fill every core, the event loop still gets
    # its turn, so /health, refusals and the hand-over of answers stay prompt.
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    if memory_limit_mb:
        # A query that would eat the machine's memory fails in its worker, not in the whole host.
        limit = memory_limit_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    fd = conn.fileno()
    try:
        store = source.open()
    except Exception as exc:  # reported to the parent, which fails start-up
        _send_answer(fd, "failed", _text(f"{type(exc).__name__}: {exc}"))
        return
    _send_answer(fd, "ready")
    while True:
        try:
            (size,) = _REQUEST.unpack(_read_exactly(fd, _REQUEST.size))
            request = pickle.loads(_read_exactly(fd, size))
        except (EOFError, OSError, KeyboardInterrupt):  # the parent closed the pipe: stop
            return
        try:
            kind, body, truncated = _evaluate(store, request, prefixes)
            answer = ("ok", body, kind, truncated)
        except SyntaxError as exc:
            answer = ("syntax", _text(str(exc)))
        except ValueError as exc:
            answer = ("value", _text(str(exc)))
        except MemoryError:
            answer = ("memory", _text("the query needed more memory than a worker may use"))
        except Exception as exc:
            answer = ("error", _text(f"{type(exc).__name__}: {exc}"))
        _send_answer(fd, *answer)


# --- the parent side ------------------------------------------------------------------------------


class _Worker:
    def __init__(self, source: StoreSource, prefixes: dict | None, memory_limit_mb: int | None = None):
        parent, child = _CONTEXT.Pipe()
        self.conn = parent
        self.process = _CONTEXT.Process(
            target=_worker_main, args=(child, source, prefixes, memory_limit_mb), daemon=True,
            name="swapgraph-query-worker",
        )
        self.process.start()
        child.close()

    def send(self, request: dict) -> None:
        fd = self.conn.fileno()
        os.set_blocking(fd, True)
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        _write_frame(fd, _REQUEST.pack(len(data)), data)

    def read(self) -> Answer:
        """The worker's next answer, blocking until it is complete."""
        fd = self.conn.fileno()
        os.set_blocking(fd, True)
        return _AnswerReader().read_from(fd)

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise RuntimeError(f"query worker not ready after {timeout:g} s")
        answer = self.read()
        if answer.status != "ready":
            self.kill()
            raise RuntimeError(f"query worker failed to open the store: {answer.message()}")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        self.conn.close()  # the worker reads the end of the pipe and returns
        self.process.join(timeout=2)
        self.kill()


class _AnswerReader:
    """Reads one answer frame, in as many calls as it takes: the header, then exactly the payload."""

    def __init__(self):
        self.header = b""
        self.fields: tuple | None = None
        self.missing = 0
        self.parts: list[bytes] = []

    def read_from(self, fd: int) -> Answer:
        """Read until the answer is whole and return it. On a non-blocking fd with nothing more to
        read yet, raises BlockingIOError (call again when readable); EOFError if the worker hung up."""
        while self.fields is None:
            chunk = os.read(fd, _ANSWER.size - len(self.header))
            if not chunk:
                raise EOFError("the query worker hung up")
            self.header += chunk
            if len(self.header) == _ANSWER.size:
                self.fields = _ANSWER.unpack(self.header)
                self.missing = self.fields[0]
        while self.missing:
            chunk = os.read(fd, self.missing)
            if not chunk:
                raise EOFError("the query worker hung up")
            self.parts.append(chunk)
            self.missing -= len(chunk)
        _, status, kind, truncated = self.fields
        payload = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        return Answer(STATUSES[status], KINDS[kind], truncated, payload)


class _AsyncAnswer:
    """Reads one answer from a worker in event-loop callbacks; None in the future means too late."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop):
        self.fd = fd
        self.future = loop.create_future()
        self.reader = _AnswerReader()

    def on_readable(self) -> None:
        if self.future.done():
            return
        try:
            answer = self.reader.read_from(self.fd)
        except BlockingIOError:
            return
        except (EOFError, OSError) as exc:
            self.future.set_exception(exc)
            return
        self.future.set_result(answer)

    def expire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class _Pool:
    """Idle workers, handed out in arrival order to threads (`acquire`) and coroutines (`acquire_async`).

    The idle workers form a stack: the one that answered last goes out first, its caches (the store's
    blocks, the interpreter's memory) still warm; at low load one or two workers do all the work.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: deque[_Worker] = deque()
        self._waiters: deque = deque()  # ("sync", [slot], Event) or ("async", loop, Future)

    def __len__(self) -> int:
        return len(self._idle)

    def release(self, worker: _Worker) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter[0] == "sync":
                    _, slot, event = waiter
                    slot.append(worker)
                    event.set()
                    return
                _, loop, future = waiter
                if not future.done():
                    loop.call_soon_threadsafe(self._deliver, future, worker)
                    return
            self._idle.append(worker)

    def _deliver(self, future, worker: _Worker) -> None:
        if future.done():  # the waiter gave up meanwhile: pass the worker on
            self.release(worker)
        else:
            future.set_result(worker)

    def acquire(self, timeout: float) -> _Worker | None:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            slot: list[_Worker] = []
            event = threading.Event()
            waiter = ("sync", slot, event)
            self._waiters.append(waiter)
        if event.wait(timeout):
            return slot[0]
        with self._lock:
            if slot:  # handed over just as the wait ended
                return slot[0]
            self._waiters.remove(waiter)
        return None

    async def acquire_async(self, timeout: float) -> _Worker | None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._idle:
                return self._idle.pop()
            future = loop.create_future()
            self._waiters.append(("async", loop, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None


class Executor:
    """Warm query workers; see the module docstring for the interface."""

    def __init__(
        self,
        source: StoreSource,
        *,
        workers: int = 4,
        queue_wait: float = 2.0,
        max_depth: int | None = None,
        prefixes: dict | None = None,
        start_timeout: float = 120.0,
        memory_limit_mb: int | None = None,
    ):
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self.source = source
        self.size = workers
        self.queue_wait = queue_wait
        self.max_depth = max_depth
        self.prefixes = prefixes
        self.start_timeout = start_timeout
        self.memory_limit_mb = memory_limit_mb  # address-space cap per worker (None: no cap)
        self._idle = _Pool()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = True
        self.replaced = 0  # workers killed and replaced so far (time limit or crash)

    @classmethod
    def from_path(cls, path: str | Path, **options) -> "Executor":
        return cls(StoreSource(path=str(path)), **options)

    @classmethod
    def from_nquads(cls, data: bytes, **options) -> "Executor":
        return cls(StoreSource(nquads=data), **options)

    # lifecycle

    def start(self) -> "Executor":
        self._closed = False
        started = [_Worker(self.source, self.prefixes, self.memory_limit_mb) for _ in range(self.size)]
        try:
            for worker in started:
                worker.wait_ready(self.start_timeout)
        except Exception:
            for worker in started:
                worker.kill()
            self._closed = True
            raise
        for worker in started:
            self._adopt(worker)
        return self

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()

    def __enter__(self) -> "Executor":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return not self._closed

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _adopt(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                worker.stop()
                return
            self._all.add(worker)
        self._idle.release(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        threading.Thread(target=self._replace, args=(worker,), daemon=True, name="swapgraph-replace").start()

    def _replace(self, dead: _Worker) -> None:
        dead.kill()
        self.replaced += 1
        if self._closed:
            return
        try:
            fresh = _Worker(self.source, self.prefixes, self.memory_limit_mb)
            fresh.wait_ready(self.start_timeout)
        except Exception:
            log.exception("could not replace a query worker")
            return
        self._adopt(fresh)

    # queries

    def run(
        self,
        query: str,
        *,
        result_format: str,
        substitutions: dict[str, str] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
        max_rows: int | None = None,
        timeout: float,
        base_iri: str | None = None,
    ) -> Result:
        """Evaluate a query in a worker and return its serialised result; see the module docstring."""
        request = self._request(
            query, result_format, substitutions, default_graph, named_graphs, union_default_graph, max_rows, base_iri
        )
        worker = self._idle.acquire(self.queue_wait)
        if worker is None:
            raise Overloaded()
        started = time.monotonic()
        try:
            worker.send(request)
            if not worker.conn.poll(timeout):
                self._timed_out(worker, timeout, started)
            answer = worker.read()
        except (EOFError, OSError) as exc:
            self._discard(worker)
            raise self._death(worker, exc) from None
        self._idle.release(worker)
        return self._outcome(answer, result_format)

    async def arun(
        self,
        query: str,
        *,
        result_format: str,
        substitutions: dict[str, str] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
        max_rows: int | None = None,
        timeout: float,
        base_iri: str | None = None,
    ) -> Result:
        """`run` for coroutines: waits for a worker and its answer on the event loop, never blocking it."""
        request = self._request(
            query, result_format, substitutions, default_graph, named_graphs, union_default_graph, max_rows, base_iri
        )
        worker = await self._idle.acquire_async(self.queue_wait)
        if worker is None:
            raise Overloaded()
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        fd = worker.conn.fileno()
        reader = _AsyncAnswer(fd, loop)
        timer = None
        try:
            worker.send(request)
            os.set_blocking(fd, False)
            loop.add_reader(fd, reader.on_readable)
            timer = loop.call_later(timeout, reader.expire)
            try:
                answer = await reader.future
            finally:
                timer.cancel()
                loop.remove_reader(fd)
            if answer is None:
                self._timed_out(worker, timeout, started)
        except (EOFError, OSError) as exc:
            self._discard(worker)
            raise self._death(worker, exc) from None
        except asyncio.CancelledError:
            self._discard(worker)  # its query may still be running: never hand it out again
            raise
        self._idle.release(worker)
        return self._outcome(answer, result_format)

    def _request(self, query, result_format, substitutions, default_graph, named_graphs, union_default_graph,
                 max_rows, base_iri) -> dict:
        if self._closed:
            raise Overloaded("the query executor is not running")
        screening = screen_cached(query, self.max_depth)
        allowed = results.GRAPH_TYPES if screening.kind == "graph" else results.RESULT_TYPES
        if result_format not in allowed:
            raise ValueError(f"{result_format} is not a result format for a {screening.form} query")
        return {
            "query": query,
            "result_format": result_format,
            "substitutions": substitutions,
            "default_graph": default_graph,
            "named_graphs": named_graphs,
            "union_default_graph": union_default_graph and not screening.has_dataset_clause,
            "max_rows": max_rows,
            "base_iri": base_iri,
        }

    def _death(self, worker: _Worker, exc: Exception) -> Exception:
        """Why a worker hung up mid-query: the engine aborts when the memory cap refuses it an allocation."""
        worker.process.join(1.0)
        if self.memory_limit_mb and worker.process.exitcode == -signal.SIGABRT:
            log.warning("a query worker hit the %d MB memory cap and was replaced", self.memory_limit_mb)
            return QueryTooLarge(f"the query needed more than the {self.memory_limit_mb} MB a worker may use")
        return WorkerFailure(f"the query worker died ({type(exc).__name__})")

    def _timed_out(self, worker: _Worker, timeout: float, started: float):
        self._discard(worker)
        log.warning("query stopped at the %.3g s time limit after %.3f s", timeout, time.monotonic() - started)
        raise QueryTimeout(timeout)

    @staticmethod
    def _outcome(answer: Answer, result_format: str) -> Result:
        if answer.status == "ok":
            return Result(media_type=result_format, body=answer.payload, truncated=answer.truncated, kind=answer.kind)
        if answer.status == "syntax":
            raise QuerySyntaxError(answer.message())
        if answer.status == "value":
            raise ValueError(answer.message())
        if answer.status == "memory":
            raise QueryTooLarge(answer.message())
        raise WorkerFailure(f"query evaluation failed: {answer.message()}")

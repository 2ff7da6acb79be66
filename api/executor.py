"""A pool of warm worker processes that evaluate SPARQL queries and can be stopped, and the cheap
queries answered without them.

Neither rdflib nor pyoxigraph can cancel a running query, so each query runs in a worker process
(multiprocessing, spawn context) that holds the store open read-only. Past the time limit the worker
is killed and replaced in the background and the caller gets `QueryTimeout` (a 503). When every
worker is busy a query waits its turn (first come, first served): a client that already has another
query in flight waits at most `queue_wait` seconds, then gets `TooManyRequests` (429: it is asked to
slow down, not the service reported broken); a client's only query, and the service's own (pages,
canned questions), wait up to `overload_wait` seconds before `Overloaded` (a 503).

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

Cheap queries skip the hand-over (with `inline_budget_ms`, for a store on this machine): a worker
reports the CPU time each query took, and a request (query text, format, bindings, dataset, row cap)
that a worker answered within the budget is answered the next time in the calling process, from the
store opened read-only there. On a read-only build the same request does the same work, so nothing
needs stopping: a query never seen to finish within the budget (a runaway, one stopped at the limit,
an error), and one whose work may differ between runs (RAND(), NOW(), UUID() ...: `api.screening`)
always goes to a worker; an in-process run that took far more CPU than the budget (`INLINE_SLACK`
times) sends that request back to the workers. Light lookups then cost one process
instead of two wake-ups and a pipe each way (figures: README, "Serving at scale"). For the same
reason the answer of any such request (not volatile, on a store on this machine), cheap or not, is
kept once a worker or this process has given it (as bytes, `ANSWER_BYTES` in all, the oldest dropped
first) and sent again as it is the next time: a repeated lookup or question costs no evaluation.
Errors and timeouts are not kept. The pool is per build, so a reload starts with none kept.

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
import hashlib
import logging
import multiprocessing
import os
import pickle
import resource
import select
import signal
import struct
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from api import results
from api.errors import (Overloaded, QuerySyntaxError, QueryTimeout, QueryTooLarge, TooManyRequests, WorkerFailure,
                        bad_request)
from api.fairshare import HEAVY, LANE, LIGHT, TICKET
from api.screening import screen_cached

log = logging.getLogger("swapgraph.executor")

_CONTEXT = multiprocessing.get_context("spawn")
KINDS = ("boolean", "solutions", "graph")
# The pipe to a worker carries frames, each a fixed header and a payload written with one writev. A
# request is its payload size and a pickled dict. An answer is its payload size, status, kind,
# truncation flag and the CPU microseconds the query took, and the payload itself: the serialised
# result (status "ok") or a message (others):
# the result bytes are never pickled, and are read in exact sizes, without blocking the event loop.
_REQUEST = struct.Struct("!Q")
_ANSWER = struct.Struct("!QBB?I")
STATUSES = ("ready", "failed", "ok", "syntax", "value", "error", "memory", "evaluation")
WORKER_NICENESS = 5
# Address space a started worker must have to spare under its cap for a query to have room to run.
QUERY_HEADROOM_MB = 128
# Waits between attempts to replace a worker that could not be started (doubling up to the last).
REPLACE_BACKOFF = (0.25, 30.0)
# Queries answered in the calling process (see Executor): how many are remembered, the longest text
# remembered, and how far past its budget an inline run may go before its query goes back to the workers.
INLINE_KEYS = 1024
INLINE_QUERY_LENGTH = 8192
INLINE_SLACK = 4
# Answers kept as bytes (a build is read-only: the same request gives the same bytes): at most this
# many bytes in all, and none larger than the second (so that one large answer cannot push out many).
ANSWER_BYTES = 32 * 2**20
ANSWER_MAX_BYTES = 256 * 2**10


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
    cpu_us: int = 0  # CPU time the worker spent on the query

    def message(self) -> str:
        return self.payload.decode("utf-8", "replace")


@dataclass(frozen=True)
class StoreSource:
    """Where a worker gets its store: a pyoxigraph store directory (opened read-only), N-Quads bytes, or
    a store backend's reader (graph.backends: a version of the embedded or a remote store)."""

    path: str | None = None
    nquads: bytes | None = None
    reader: object = None

    @property
    def local(self) -> bool:
        """Whether opening it reads only this machine's files or memory (not a remote store's network)."""
        if self.reader is None:
            return True
        from graph.backends import EmbeddedReader

        return isinstance(self.reader, EmbeddedReader)

    def open(self):
        import pyoxigraph as ox

        if self.reader is not None:
            return self.reader.open()
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


class Evaluator:
    """A store opened for queries, with what every query on it shares: the store is read-only (or, from
    N-Quads, never written), so its named graphs are listed once, not per query."""

    def __init__(self, store, prefixes: dict | None):
        self.store = store
        self.prefixes = prefixes
        self._union: dict | None = None

    def _union_options(self) -> dict:
        if self._union is None:
            import pyoxigraph as ox

            from vocab import Graphs

            candidates = ox.NamedNode(str(Graphs.CANDIDATES))
            if self.store.contains_named_graph(candidates):
                # Candidate facts are shown only when asked for (GRAPH <.../graph/candidates> or default-graph-uri).
                graphs = list(self.store.named_graphs())
                self._union = {"default_graph": [g for g in graphs if g != candidates], "named_graphs": graphs}
            else:
                self._union = {"use_default_graph_as_union": True}
        return self._union

    def evaluate(self, request: dict) -> tuple:
        """(kind, serialised result, truncated) of a request (the dict `Executor._request` makes)."""
        import pyoxigraph as ox

        options = {}
        if request["base_iri"]:
            options["base_iri"] = request["base_iri"]
        if request["default_graph"] is not None or request["named_graphs"] is not None:
            options["default_graph"] = [ox.NamedNode(g) for g in request["default_graph"] or []]
            options["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"] or []]
        elif request["union_default_graph"]:
            options.update(self._union_options())
        if request["substitutions"]:
            options["substitutions"] = {
                ox.Variable(name.lstrip("?$")): _parse_term(term) for name, term in request["substitutions"].items()
            }
        media_type = request["result_format"]
        max_rows = request["max_rows"]
        answer = self.store.query(request["query"], **options)
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
        body = results.serialize_triples(rows, media_type, max_rows if truncated else None, self.prefixes)
        return "graph", body, truncated

    def answer(self, request: dict, memory_limit_mb: int | None = None) -> tuple:
        """The request's answer as a worker sends it: (status, payload, kind, truncated), never raising
        for the query's own faults."""
        try:
            kind, body, truncated = self.evaluate(request)
            answer = ("ok", body, kind, truncated)
        except SyntaxError as exc:
            answer = ("syntax", _text(str(exc)))
        except ValueError as exc:
            answer = ("value", _text(str(exc)))
        except MemoryError:
            answer = ("memory", _text(_memory_message(memory_limit_mb)))
        except RuntimeError as exc:  # the engine's evaluation errors (storage and I/O ones are OSError)
            answer = ("evaluation", _text(str(exc)))
        except Exception as exc:
            answer = ("error", _text(f"{type(exc).__name__}: {exc}"))
        return answer


def _write_frame(fd: int, header: bytes, payload: bytes) -> None:
    """Write a header and its payload whole, without joining them into a copy (on a non-blocking fd,
    waiting for room when the pipe is full: the worker at the other end is reading)."""
    parts = [memoryview(header), memoryview(payload)]
    while parts:
        try:
            written = os.writev(fd, parts)
        except BlockingIOError:
            _ready(fd, select.POLLOUT, None)
            continue
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts:
            parts[0] = parts[0][written:]


def _ready(fd: int, events: int, timeout_ms: int | None) -> bool:
    """Whether `fd` has one of `events` (or hung up) within the time given (None: wait), in one syscall
    (poll, not select: a descriptor may be numbered past select's 1024 under many connections)."""
    poller = select.poll()
    poller.register(fd, events)
    return bool(poller.poll(timeout_ms))


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


def _send_answer(fd: int, status: str, payload: bytes = b"", kind: str = KINDS[0], truncated: bool = False,
                 cpu_us: int = 0) -> None:
    header = _ANSWER.pack(len(payload), STATUSES.index(status), KINDS.index(kind), truncated, min(cpu_us, 2**32 - 1))
    _write_frame(fd, header, payload)


def address_space_mb() -> int:
    """This process's address space (VmSize), in MiB: what RLIMIT_AS counts."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) // 1024
    raise OSError("no VmSize in /proc/self/status")


def _cap_memory(limit_mb: int) -> None:
    """Cap the address space once the worker is up (the interpreter, imports and the open store), so that
    start-up never hits the cap; a cap that leaves no room for queries is refused, saying why."""
    started = address_space_mb()
    if limit_mb < started + QUERY_HEADROOM_MB:
        raise ValueError(
            f"worker_memory_mb={limit_mb} is too small: a query worker uses {started} MB of address space "
            f"once started, and needs {QUERY_HEADROOM_MB} MB more for queries; "
            f"set SWAPGRAPH_WORKER_MEMORY_MB to at least {started + QUERY_HEADROOM_MB} (or 0: no cap)")
    resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _memory_message(limit_mb: int | None) -> str:
    return f"the query needed more than the {limit_mb} MB a query worker may use (worker_memory_mb)"


def _worker_main(conn, source: StoreSource, prefixes: dict | None, memory_limit_mb: int | None = None) -> None:
    # Below the HTTP process in CPU priority: when queries fill every core, the event loop still gets
    # its turn, so /health, refusals and the hand-over of answers stay prompt.
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    fd = conn.fileno()
    try:
        evaluator = Evaluator(source.open(), prefixes)
        if memory_limit_mb:
            _cap_memory(memory_limit_mb)
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
        started = time.thread_time()
        answer = evaluator.answer(request, memory_limit_mb)
        _send_answer(fd, *answer, cpu_us=int((time.thread_time() - started) * 1e6))


# --- the parent side ------------------------------------------------------------------------------


_MAIN_LOCK = threading.Lock()


@contextmanager
def _main_module_hidden():
    """While a worker is being spawned, the starting program's main module looks like an interactive
    session's, so that spawn does not run it again in the worker: a worker needs only this module, and
    re-running `api.run` or the CLI imported FastAPI, pydantic and rdflib into every worker (about 1 s
    of CPU and 35 MB each, at every start and every replacement)."""
    main = sys.modules["__main__"]
    with _MAIN_LOCK:
        saved = {name: vars(main)[name] for name in ("__spec__", "__file__") if name in vars(main)}
        main.__spec__ = None
        vars(main).pop("__file__", None)
        try:
            yield
        finally:
            vars(main).update(saved)


class _Worker:
    def __init__(self, source: StoreSource, prefixes: dict | None, memory_limit_mb: int | None = None,
                 lane: str = HEAVY):
        parent, child = _CONTEXT.Pipe()
        self.conn = parent
        self._blocking = True
        self.lane = lane
        self.process = _CONTEXT.Process(
            target=_worker_main, args=(child, source, prefixes, memory_limit_mb), daemon=True,
            name="swapgraph-query-worker",
        )
        with _main_module_hidden():
            self.process.start()
        child.close()

    def send(self, request: dict) -> None:
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        _write_frame(self.conn.fileno(), _REQUEST.pack(len(data)), data)

    def blocking(self, flag: bool) -> int:
        """The pipe's fd, in blocking mode (threads) or not (the event loop); two syscalls only when the
        mode changes (a light lookup is a few dozen microseconds of the HTTP process's CPU)."""
        fd = self.conn.fileno()
        if self._blocking is not flag:
            os.set_blocking(fd, flag)
            self._blocking = flag
        return fd

    def read(self) -> Answer:
        """The worker's next answer, blocking until it is complete."""
        return _AnswerReader().read_from(self.blocking(True))

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise RuntimeError(f"query worker not ready after {timeout:g} s")
        answer = self.read()
        if answer.status != "ready":
            self.kill()
            raise RuntimeError(f"query worker failed to open the store: {answer.message()}")

    def alive(self) -> bool:
        """Whether an idle worker can take a query: its process runs and its pipe has not been closed
        (an idle worker never writes, so a readable pipe means it hung up)."""
        try:
            return self.process.is_alive() and not _ready(self.conn.fileno(), select.POLLIN, 0)
        except (OSError, EOFError, ValueError):
            return False

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
        _, status, kind, truncated, cpu_us = self.fields
        payload = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        return Answer(STATUSES[status], KINDS[kind], truncated, payload, cpu_us)


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

    def take(self) -> _Worker | None:
        """An idle worker at once, or None."""
        with self._lock:
            return self._idle.pop() if self._idle else None

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
        light_workers: int = 0,
        queue_wait: float = 2.0,
        overload_wait: float | None = None,
        max_depth: int | None = None,
        prefixes: dict | None = None,
        start_timeout: float = 120.0,
        memory_limit_mb: int | None = None,
        inline_budget_ms: float = 0.0,
    ):
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self.source = source
        self.size = workers
        # Workers kept for the light lane (pages, canned questions): /sparql queries never hold them all.
        self.light_workers = max(0, min(light_workers, workers - 1))
        self.queue_wait = queue_wait
        self.overload_wait = queue_wait if overload_wait is None else max(queue_wait, overload_wait)
        self.max_depth = max_depth
        self.prefixes = prefixes
        self.start_timeout = start_timeout
        self.memory_limit_mb = memory_limit_mb  # address-space cap per worker (None: no cap)
        # A query a worker answered in at most this much CPU runs in the calling process next time (0: never).
        self.inline_budget_us = inline_budget_ms * 1000 if source.local else 0
        self._local: Evaluator | None = None  # the store opened in this process, for those queries
        self._cheap: dict[tuple, None] = {}  # their requests (insertion order: the oldest go first)
        self._cheap_lock = threading.Lock()
        self._answers: dict[tuple, Result] = {}  # answers kept for requests seen before (oldest first)
        self._answer_bytes = 0
        self.inlined = 0  # queries evaluated in this process so far
        self.reused = 0  # queries answered with the answer kept from an earlier run (no evaluation)
        self._pools = {HEAVY: _Pool(), LIGHT: _Pool()}
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = True
        self._stopping = threading.Event()
        self.replaced = 0  # workers killed and replaced so far (time limit or crash)
        self.failed_starts = 0  # attempts to start a replacement that failed (retried with back-off)

    @classmethod
    def from_path(cls, path: str | Path, **options) -> "Executor":
        return cls(StoreSource(path=str(path)), **options)

    @classmethod
    def from_nquads(cls, data: bytes, **options) -> "Executor":
        return cls(StoreSource(nquads=data), **options)

    # lifecycle

    def _spawn(self, lane: str) -> _Worker:
        return _Worker(self.source, self.prefixes, self.memory_limit_mb, lane)

    def start(self, ready: int | None = None) -> "Executor":
        """Start the workers; return once `ready` of them (None: all) have opened the store. The others
        are started after those, in the background, and join the pool as they come up: the first ones
        do not share the cores with them (a start-up that fails raises and stops the workers started;
        one of the later ones that fails is retried as a replacement is). The first ones up serve
        /sparql (the heavy lane)."""
        self._closed = False
        self._stopping.clear()
        lanes = [HEAVY] * (self.size - self.light_workers) + [LIGHT] * self.light_workers
        started = [self._spawn(lane) for lane in lanes[:ready or len(lanes)]]
        try:
            if self.inline_budget_us:  # while the workers start
                self._local = Evaluator(self.source.open(), self.prefixes)
            for worker in started:
                worker.wait_ready(self.start_timeout)
        except Exception:
            for worker in started:
                worker.kill()
            self._closed = True
            self._local = None
            raise
        for worker in started:
            self._adopt(worker)
        for lane in lanes[len(started):]:
            threading.Thread(target=self._start_until_adopted, args=(lane,), daemon=True,
                             name="swapgraph-start").start()
        return self

    def close(self) -> None:
        self._closed = True
        self._stopping.set()
        self._local = None  # the store's files are released with the last query running on it
        self._cheap.clear()
        with self._cheap_lock:
            self._answers.clear()
            self._answer_bytes = 0
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()

    def retire(self, grace: float) -> None:
        """Close once the queries running now have finished (or after `grace` seconds): for a pool that
        new requests no longer reach, after a reload."""
        deadline = time.monotonic() + grace
        while self.idle < self.live and time.monotonic() < deadline:
            time.sleep(0.05)
        self.close()

    def __enter__(self) -> "Executor":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return not self._closed

    @property
    def idle(self) -> int:
        return sum(len(pool) for pool in self._pools.values())

    @property
    def live(self) -> int:
        """Workers started and not known dead (busy or idle)."""
        return len(self._all)

    def _adopt(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                worker.stop()
                return
            self._all.add(worker)
        self._pools[worker.lane].release(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        threading.Thread(target=self._replace, args=(worker,), daemon=True, name="swapgraph-replace").start()

    def _replace(self, dead: _Worker) -> None:
        """Start a worker in the place of a dead one, retrying with back-off until one starts or the
        pool is closed (a build folder may be unreadable for a while)."""
        dead.kill()
        self.replaced += 1
        self._start_until_adopted(dead.lane)

    def _start_until_adopted(self, lane: str) -> None:
        delay, longest = REPLACE_BACKOFF
        while not self._closed:
            try:
                fresh = self._spawn(lane)
                fresh.wait_ready(self.start_timeout)
            except Exception as exc:
                if self._closed:  # stopped with the pool, not a failure
                    return
                self.failed_starts += 1
                log.error("could not start a query worker (%s live of %d): %s; retrying in %.2g s",
                          self.live, self.size, exc, delay)
                if self._stopping.wait(delay):
                    return
                delay = min(delay * 2, longest)
                continue
            self._adopt(fresh)
            return

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
        key = self._inline_key(request)
        kept = self._answers.get(key) if key is not None else None
        if kept is not None:
            with self._charged(query):
                self.reused += 1
                return kept
        if key in self._cheap:
            with self._charged(query):
                return self._inline(key, request)
        with self._charged(query):
            worker, started = self._acquire(request), time.monotonic()
            try:
                if not worker.conn.poll(timeout):
                    self._timed_out(worker, query, timeout, started)
                answer = worker.read()
            except (EOFError, OSError) as exc:
                # Why it died is read from its exit status first: the replacement thread kills and reaps it.
                failure = self._death(worker, exc)
                self._discard(worker)
                raise failure from None
        self._pools[worker.lane].release(worker)
        result = self._outcome(answer, result_format)
        self._learn(key, answer, result)
        return result

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
        """`run` for coroutines: waits for a worker and its answer on the event loop, never blocking it
        (a query answered inline holds the loop for at most about its budget of CPU)."""
        request = self._request(
            query, result_format, substitutions, default_graph, named_graphs, union_default_graph, max_rows, base_iri
        )
        key = self._inline_key(request)
        kept = self._answers.get(key) if key is not None else None
        if kept is not None:
            with self._charged(query):
                self.reused += 1
                return kept
        if key in self._cheap:
            with self._charged(query):
                return self._inline(key, request)
        with self._charged(query):
            worker = await self._acquire_async(request)
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            fd = worker.blocking(False)
            reader = _AsyncAnswer(fd, loop)
            try:
                loop.add_reader(fd, reader.on_readable)
                timer = loop.call_later(timeout, reader.expire)
                try:
                    answer = await reader.future
                finally:
                    timer.cancel()
                    loop.remove_reader(fd)
                if answer is None:
                    self._timed_out(worker, query, timeout, started)
            except (EOFError, OSError) as exc:
                # Why it died is read from its exit status first: the replacement thread kills and reaps it.
                failure = await loop.run_in_executor(None, self._death, worker, exc)  # it joins the process
                self._discard(worker)
                raise failure from None
            except asyncio.CancelledError:
                self._discard(worker)  # its query may still be running: never hand it out again
                raise
        self._pools[worker.lane].release(worker)
        result = self._outcome(answer, result_format)
        self._learn(key, answer, result)
        return result

    # queries answered in this process

    def _inline_key(self, request: dict) -> tuple | None:
        """What makes two requests the same query on this store (None: never answered inline: one whose
        work may change from run to run, with RAND() or NOW(), is never known to be cheap)."""
        if not self.inline_budget_us or request["volatile"] or len(request["query"]) > INLINE_QUERY_LENGTH:
            return None
        substitutions = request["substitutions"]
        return (request["query"], request["result_format"],
                tuple(sorted(substitutions.items())) if substitutions else None,
                tuple(request["default_graph"]) if request["default_graph"] is not None else None,
                tuple(request["named_graphs"]) if request["named_graphs"] is not None else None,
                request["union_default_graph"], request["max_rows"], request["base_iri"])

    def _learn(self, key: tuple | None, answer: Answer, result: Result) -> None:
        """Keep the answer of a request a worker answered, and remember the request if it took no more
        than the inline budget: the same query on the same read-only store does the same work, so it
        can run here without a time limit to enforce (once its kept answer has been dropped)."""
        if key is None:
            return
        self._keep(key, result)
        if answer.cpu_us > self.inline_budget_us:
            return
        with self._cheap_lock:
            if len(self._cheap) >= INLINE_KEYS:
                self._cheap.pop(next(iter(self._cheap)))
            self._cheap[key] = None

    def _inline(self, key: tuple, request: dict) -> Result:
        """Answer a request known to be cheap with the store opened in this process: no hand-over to a
        worker (two process wake-ups, a pipe each way). One that took far more CPU than its budget this
        time goes back to the workers (CPU, not wall time: on a busy machine a 0.2 ms query can wait
        for a core for tens of milliseconds, and would be sent back for it)."""
        local = self._local
        if local is None:  # closed meanwhile
            raise Overloaded("the query executor is not running")
        self.inlined += 1
        started = time.thread_time()
        status, payload, *rest = local.answer(request)
        cpu_us = int((time.thread_time() - started) * 1e6)
        if status != "ok" or cpu_us > self.inline_budget_us * INLINE_SLACK:
            with self._cheap_lock:
                self._cheap.pop(key, None)
        kind, truncated = rest or (KINDS[0], False)
        result = self._outcome(Answer(status, kind, truncated, payload, cpu_us), request["result_format"])
        self._keep(key, result)
        return result

    def _keep(self, key: tuple, result: Result) -> None:
        """Keep a request's answer for its next run, within ANSWER_BYTES (the oldest go first)."""
        if len(result.body) > ANSWER_MAX_BYTES:
            return
        with self._cheap_lock:
            if key in self._answers:
                return
            size = _kept_size(key, result)
            while self._answers and self._answer_bytes + size > ANSWER_BYTES:
                oldest = next(iter(self._answers))
                self._answer_bytes -= _kept_size(oldest, self._answers.pop(oldest))
            self._answers[key] = result
            self._answer_bytes += size

    @contextmanager
    def _charged(self, query: str):
        """The query charged to the request's client (api.fairshare), when the request has one."""
        ticket = TICKET.get()
        if ticket is None or LANE.get() != HEAVY:  # the service's own queries (pages, canned) are not charged
            yield
            return
        try:
            with ticket.charge():
                yield
        except TooManyRequests:
            log.warning("client %s refused (429: its share is spent) query %s", ticket.client, query_hash(query))
            raise

    def _lanes(self) -> tuple[_Pool, ...]:
        """Pools to draw from, in order: the light lane first takes its own workers, then any idle one."""
        if LANE.get() == LIGHT and self.light_workers:
            return self._pools[LIGHT], self._pools[HEAVY]
        return (self._pools[HEAVY],)

    def _acquire(self, request: dict) -> _Worker:
        """A live worker that has been sent `request` (a worker found dead is replaced, the next one tried)."""
        deadline, greedy = self._wait_limit()
        pools = self._lanes()
        while True:
            worker = next(filter(None, (pool.take() for pool in pools)), None)
            if worker is None:
                worker = pools[0].acquire(max(0.0, deadline - time.monotonic()))
            if worker is None:
                self._no_worker(request, greedy)
            if self._hand_over(worker, request):
                return worker

    async def _acquire_async(self, request: dict) -> _Worker:
        deadline, greedy = self._wait_limit()
        pools = self._lanes()
        while True:
            worker = next(filter(None, (pool.take() for pool in pools)), None)
            if worker is None:
                worker = await pools[0].acquire_async(max(0.0, deadline - time.monotonic()))
            if worker is None:
                self._no_worker(request, greedy)
            if self._hand_over(worker, request):
                return worker

    def _wait_limit(self) -> tuple[float, bool]:
        """Until when a query may wait for a worker, and whether its client has another query in flight
        (decided once, on arrival, so that a waiting query keeps its place in the line)."""
        ticket = TICKET.get()
        greedy = ticket is not None and LANE.get() == HEAVY and ticket.budgets.running(ticket.client) > 1
        return time.monotonic() + (self.queue_wait if greedy else self.overload_wait), greedy

    def _no_worker(self, request: dict, greedy: bool):
        if not greedy:
            self._overloaded(request)
        ticket = TICKET.get()
        log.warning("client %s refused (429: every worker busy and it has another query in flight) query %s",
                    ticket.client, query_hash(request["query"]))
        raise TooManyRequests("every query worker is busy and this client already has a query running or "
                              f"waiting; it waited {self.queue_wait:g} s: send one query at a time", 1)

    def _hand_over(self, worker: _Worker, request: dict) -> bool:
        """Send the request; False (the worker discarded) when the worker turns out to have died idle."""
        if worker.alive():
            try:
                worker.send(request)
                return True
            except OSError:  # it died between the check and the send: the query never reached it
                pass
        log.warning("a query worker had died while idle (exit code %s); replacing it, retrying the query",
                    worker.process.exitcode)
        self._discard(worker)
        return False

    def _overloaded(self, request: dict):
        ticket = TICKET.get()
        log.warning("overloaded: no free query worker within %.3g s for client %s, query %s",
                    self.overload_wait, ticket.client if ticket else "-", query_hash(request["query"]))
        raise Overloaded()

    def _request(self, query, result_format, substitutions, default_graph, named_graphs, union_default_graph,
                 max_rows, base_iri) -> dict:
        if self._closed:
            raise Overloaded("the query executor is not running")
        # the term cap is for the users' own queries: the service's own (long VALUES lists) are trusted
        ticket = TICKET.get()
        max_terms = ticket.max_terms if ticket is not None and LANE.get() == HEAVY else None
        screening = screen_cached(query, self.max_depth, max_terms)
        allowed = results.GRAPH_TYPES if screening.kind == "graph" else results.RESULT_TYPES
        if result_format not in allowed:
            raise ValueError(f"{result_format} is not a result format for a {screening.form} query")
        if base_iri is not None and not _valid_iri(base_iri):
            raise bad_request("bad_base_iri", f"the endpoint's address {base_iri!r} (from the Host header) "
                                              "is not a valid IRI to resolve the query's relative IRIs against")
        return {
            "query": query,
            "result_format": result_format,
            "substitutions": substitutions,
            "default_graph": default_graph,
            "named_graphs": named_graphs,
            "union_default_graph": union_default_graph and not screening.has_dataset_clause,
            "max_rows": max_rows,
            "base_iri": base_iri,
            "volatile": screening.volatile,
        }

    def _death(self, worker: _Worker, exc: Exception) -> Exception:
        """Why a worker hung up mid-query: the engine aborts when the memory cap refuses it an allocation."""
        worker.process.join(10.0)  # an aborting engine prints its backtrace first: seconds, under load
        if self.memory_limit_mb and worker.process.exitcode == -signal.SIGABRT:
            log.warning("a query worker hit the %d MB memory cap and was replaced", self.memory_limit_mb)
            return QueryTooLarge(_memory_message(self.memory_limit_mb))
        return WorkerFailure(f"the query worker died ({type(exc).__name__}, exit code {worker.process.exitcode})")

    def _timed_out(self, worker: _Worker, query: str, timeout: float, started: float):
        self._discard(worker)
        ticket = TICKET.get()
        log.warning("query %s from client %s stopped at the %.3g s time limit after %.3f s", query_hash(query),
                    ticket.client if ticket else "-", timeout, time.monotonic() - started)
        raise QueryTimeout(timeout)

    @staticmethod
    def _outcome(answer: Answer, result_format: str) -> Result:
        if answer.status == "ok":
            return Result(media_type=result_format, body=answer.payload, truncated=answer.truncated, kind=answer.kind)
        raise _outcome_of(answer.status, answer.message())


def _outcome_of(status: str, message: str = "") -> Exception:
    """The error a worker's non-"ok" answer stands for."""
    if status == "syntax":
        return QuerySyntaxError(message)
    if status == "evaluation":
        return bad_request("query_evaluation", message)
    if status == "value":
        return ValueError(message)
    if status == "memory":
        return QueryTooLarge(message)
    return WorkerFailure(f"query evaluation failed: {message}")


def _kept_size(key: tuple, result: Result) -> int:
    """What a kept answer holds, in bytes, about: its body and its request's query text (the key)."""
    return len(result.body) + len(key[0]) + 256


def query_hash(query: str) -> str:
    """A short stable name for a query in the logs (the text itself may be long or private)."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@lru_cache(maxsize=64)
def _valid_iri(iri: str) -> bool:
    import pyoxigraph as ox

    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True

"""The Oxigraph store on disk: build directories, filling a build's store, the atomic switch, opening for reading."""

import os
import queue
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

KEEP_BUILDS = 2
SERVING_MARKER = ".served-by-"
BUILDING_MARKER = ".built-by-"  # in a build folder until it is published; a dead pid means a killed build


@dataclass(frozen=True)
class StoreLayout:
    """`<data>/builds/<stamp>/` holds each build; `<data>/current` is a symlink to the one serving."""

    data_dir: Path

    @property
    def builds(self) -> Path:
        return self.data_dir / "builds"

    @property
    def current(self) -> Path:
        return self.data_dir / "current"

    def new_build_dir(self) -> Path:
        """A fresh build folder, marked as being built; the folders of killed builds are removed first."""
        self.builds.mkdir(parents=True, exist_ok=True)
        self.clean_partial()
        now = time.time_ns()  # one reading, so that names sort in the order builds were made
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f"-{now % 10**9:09d}"
        path = self.builds / stamp
        path.mkdir()
        (path / f"{BUILDING_MARKER}{os.getpid()}").touch()
        return path

    def clean_partial(self) -> None:
        """Remove build folders left by builds that died before publishing (never a published one)."""
        keep = self.current_build()
        for folder in self.builds.iterdir():
            if folder.is_dir() and folder != keep and _live_pids(folder, BUILDING_MARKER) is False:
                shutil.rmtree(folder, ignore_errors=True)

    def current_build(self) -> Path | None:
        return self.current.resolve() if self.current.is_symlink() else None

    def publish(self, build_dir: Path) -> None:
        """Point `current` at build_dir in one atomic rename, then drop old builds."""
        for marker in build_dir.glob(BUILDING_MARKER + "*"):
            marker.unlink()
        link = self.data_dir / f".current-{os.getpid()}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(build_dir.relative_to(self.data_dir))
        os.replace(link, self.current)
        self.prune()

    def prune(self) -> None:
        """Drop old builds, but never the current one nor one a live server still reads."""
        keep = self.current_build()
        builds = sorted(p for p in self.builds.iterdir() if p.is_dir() and not any(p.glob(BUILDING_MARKER + "*")))
        for old in builds[:-KEEP_BUILDS]:
            if old != keep and not _served(old):
                shutil.rmtree(old, ignore_errors=True)

    @contextmanager
    def serving(self, build_dir: Path):
        """Mark build_dir as read by this process for as long as the context lasts."""
        marker = build_dir / f"{SERVING_MARKER}{os.getpid()}"
        marker.touch()
        try:
            yield build_dir
        finally:
            marker.unlink(missing_ok=True)

    def discard(self, build_dir: Path) -> None:
        shutil.rmtree(build_dir, ignore_errors=True)


def _served(build_dir: Path) -> bool:
    return bool(_live_pids(build_dir, SERVING_MARKER))


def _live_pids(build_dir: Path, prefix: str) -> bool | None:
    """Whether a process named by a `prefix<pid>` marker still runs; None when there is no marker.
    Markers of dead processes are removed."""
    found = None
    for marker in build_dir.glob(prefix + "*"):
        pid = marker.name[len(prefix):]
        if not pid.isdigit():
            continue  # not a marker of ours
        found = False
        try:
            os.kill(int(pid), 0)
            return True
        except ProcessLookupError:
            if prefix == SERVING_MARKER:
                marker.unlink(missing_ok=True)  # left by a server that died
        except PermissionError:
            return True
    return found


def open_current(layout: StoreLayout) -> pyoxigraph.Store:
    """The serving build, read-only; raises FileNotFoundError when nothing was built yet."""
    build = layout.current_build()
    if build is None or not build.exists():
        raise FileNotFoundError(f"no graph built under {layout.data_dir}: run `swapgraph build`")
    return pyoxigraph.Store.read_only(str(build))


LOAD_CHUNK = 64 << 20  # bytes of N-Quads handed to the bulk loader at a time


def load_file(store: pyoxigraph.Store, path: Path, graph: pyoxigraph.NamedNode | None = None,
              stop: threading.Event | None = None, bulk: bool = True) -> None:
    """An N-Quads file written by the build (by Oxigraph or from Oxigraph terms), or an N-Triples one
    into `graph`, into a store by Oxigraph's own parser, a chunk at a time (bulk: its bulk loader, for
    the on-disk store). Parsing renames blank nodes, and derivations name the ontology's blank nodes
    by their canonical labels: the few lines with a blank node (or "_:" in a literal) are parsed apart
    and inserted as terms, which keeps their labels. The build wrote the text from checked terms, so
    its IRIs need no checking again (lenient)."""
    rdf = pyoxigraph.RdfFormat.N_QUADS if graph is None else pyoxigraph.RdfFormat.N_TRIPLES
    into = {} if graph is None else {"to_graph": graph}
    insert = store.bulk_load if bulk else store.load
    blank: list[bytes] = []
    with path.open("rb") as lines:
        while (chunk := lines.read(LOAD_CHUNK)) and not (stop and stop.is_set()):
            chunk += lines.readline()  # to the end of the chunk's last line
            if b"_:" in chunk:
                plain = []
                for line in chunk.splitlines(keepends=True):
                    (blank if b"_:" in line else plain).append(line)
                chunk = b"".join(plain)
            insert(chunk, format=rdf, lenient=True, **into)
    if blank:
        parsed = pyoxigraph.parse(b"".join(blank), format=rdf, lenient=True)
        store.bulk_extend(parsed if graph is None else
                          (pyoxigraph.Quad(t.subject, t.predicate, t.object, graph) for t in parsed))


class StoreFiller(threading.Thread):
    """A build folder's on-disk store, bulk-loaded in a thread from the N-Quads files the build hands
    it as it makes them (`add`), so that the load (about 8-14 us CPU per quad, the build's largest
    cost) runs on the second core beside inference, validation and the summary: Oxigraph's loader
    runs without Python's lock. Files go in `parts`, which `finish` removes."""

    def __init__(self, build_dir: Path):
        super().__init__(name="fill-disk-store")
        self.build_dir, self.parts = build_dir, build_dir / ".parts"
        self.parts.mkdir()
        self.files: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.seconds = 0.0  # spent loading (not waiting for files)
        self.closed = False

    def add(self, path: Path, graph: pyoxigraph.NamedNode | None = None) -> None:
        """Load `path` (N-Quads; N-Triples into `graph` if given) after the files added before it."""
        self.files.put((path, graph))

    def run(self) -> None:
        ended, store = False, None
        try:
            store = pyoxigraph.Store(str(self.build_dir))
            while (part := self.files.get()) is not None:
                if not self.stop.is_set():
                    started = time.perf_counter()
                    load_file(store, *part, stop=self.stop)
                    self.seconds += time.perf_counter() - started
            ended = True
            store.flush()
        except BaseException as exc:  # handed to the building thread by finish()
            self.error = exc
            while not ended and self.files.get() is not None:
                pass  # the build adds files until it closes: take them, load nothing
        finally:
            store = None  # closed now, though the error's traceback keeps this frame: readers may open it

    def close(self) -> None:
        """No more files: the loader flushes and frees its store (its caches and buffers) as soon as
        it has loaded the files added."""
        if not self.closed:
            self.closed = True
            self.files.put(None)

    def finish(self) -> None:
        """Wait until every file added is loaded; raise the loader's error if it had one."""
        self.close()
        self.join()
        shutil.rmtree(self.parts, ignore_errors=True)
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop loading (the build failed): returns once the loader no longer writes into the folder."""
        self.stop.set()
        self.close()
        self.join()

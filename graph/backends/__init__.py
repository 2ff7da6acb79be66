"""The store interface the service reads through: the served version, holding it, publishing a build.

Two backends implement it: `embedded` (graph.store: pyoxigraph on local disk, the default) and
`remote` (graph.backends.remote: any engine speaking the SPARQL 1.1 Protocol and Graph Store HTTP
Protocol). A `Version` names what is served; its `reader` is picklable and opens, in a query worker,
an object answering `query(...)`, `named_graphs()` and `contains_named_graph(...)` the way
pyoxigraph.Store does, with the version's graphs under their public names. The reader also gives the
build's summary (graph.summary, published with the build) and its dump (something with `open("rb")`
giving the N-Quads, or None), read the same way whatever the backend.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from graph.store import StoreLayout
from graph.summary import dump_path, read_summary


@dataclass(frozen=True)
class Version:
    """One published build: its name (the build folder's), when it was built, how workers read it."""

    name: str
    built_at: str | None
    reader: object = field(compare=False, repr=False)
    path: Path | None = None  # the build folder, for the embedded store

    def exists(self) -> bool:
        return self.path is None or self.path.exists()


@dataclass(frozen=True)
class EmbeddedReader:
    path: str

    def open(self) -> ox.Store:
        return ox.Store.read_only(self.path)

    def summary(self) -> dict:
        return read_summary(Path(self.path))

    def dump(self) -> Path | None:
        return dump_path(Path(self.path))


def built_at(build_dir: Path) -> str:
    """When a build was made: its folder's name starts with the UTC time (graph.store), else its mtime."""
    try:
        stamp = datetime.strptime(build_dir.name.split("-")[0], "%Y%m%dT%H%M%S")
        return stamp.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
    except ValueError:
        mtime = build_dir.stat().st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


class EmbeddedBackend:
    """pyoxigraph stores on local disk: `<data>/builds/<stamp>/`, `<data>/current` the one served."""

    kind = "embedded"

    def __init__(self, data_dir: Path):
        self.layout = StoreLayout(Path(data_dir))

    def current(self) -> Version | None:
        build = self.layout.current_build()
        if build is None or not build.exists():
            return None
        return Version(build.name, built_at(build), EmbeddedReader(str(build)), build)

    def hold(self, version: Version):
        """Keep the version's folder from clean-up while this process reads it."""
        return self.layout.serving(version.path)

    def publish(self, build_dir: Path) -> Version:
        self.layout.publish(build_dir)
        return self.current()

    def describe(self) -> str:
        return f"embedded store under {self.layout.data_dir}"


def open_backend(kind: str, data_dir: Path, endpoint=None):
    """The backend named by SWAPGRAPH_STORE: "embedded" (data_dir) or "remote" (endpoint)."""
    if kind == "embedded":
        return EmbeddedBackend(data_dir)
    if kind == "remote":
        from graph.backends.remote import RemoteBackend

        if endpoint is None:
            raise ValueError("SWAPGRAPH_STORE=remote needs SWAPGRAPH_REMOTE_URL or SWAPGRAPH_REMOTE_QUERY_URL")
        return RemoteBackend(endpoint)
    raise ValueError(f"SWAPGRAPH_STORE={kind!r}: expected embedded or remote")


"""The Oxigraph store on disk: build directories, the atomic switch to a new build, opening for reading."""

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

KEEP_BUILDS = 2


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
        self.builds.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.monotonic_ns() % 1_000_000:06d}"
        path = self.builds / stamp
        path.mkdir()
        return path

    def current_build(self) -> Path | None:
        return self.current.resolve() if self.current.is_symlink() else None

    def publish(self, build_dir: Path) -> None:
        """Point `current` at build_dir in one atomic rename, then drop old builds."""
        link = self.data_dir / f".current-{os.getpid()}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(build_dir.relative_to(self.data_dir))
        os.replace(link, self.current)
        self.prune()

    def prune(self) -> None:
        keep = self.current_build()
        builds = sorted(p for p in self.builds.iterdir() if p.is_dir())
        for old in builds[:-KEEP_BUILDS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self, build_dir: Path) -> None:
        shutil.rmtree(build_dir, ignore_errors=True)


def open_current(layout: StoreLayout) -> pyoxigraph.Store:
    """The serving build, read-only; raises FileNotFoundError when nothing was built yet."""
    build = layout.current_build()
    if build is None or not build.exists():
        raise FileNotFoundError(f"no graph built under {layout.data_dir}: run `swapgraph build`")
    return pyoxigraph.Store.read_only(str(build))

"""Replicas of the embedded store: the current build of one data directory copied into another, atomically.

The copy keeps the build's name, so every replica of a build reports the same dataset version (and the
same ETags); a service serving the target directory picks it up at its next live-reload look. The files
are copied under a marked temporary name, renamed into place, then `current` is switched (graph.store):
a copy killed midway never becomes current and is removed by the next publish or build.
"""

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from graph.store import BUILDING_MARKER, SERVING_MARKER, StoreLayout

MARKERS = (BUILDING_MARKER + "*", SERVING_MARKER + "*")


@dataclass(frozen=True)
class Published:
    build: str
    target: Path
    files: int
    bytes: int
    seconds: float
    copied: bool  # False when the target already held this build

    def summary(self) -> str:
        if not self.copied:
            return f"{self.target}: build {self.build} was already there; it is now current"
        return (f"{self.target}: build {self.build} copied ({self.files} files, {self.bytes / 2**20:.1f} MiB, "
                f"{self.seconds:.2f} s) and now current")


def publish_to(source: StoreLayout, target_dir: Path) -> Published:
    """Make the build served under `source` the current build of `target_dir` (created if need be)."""
    build = source.current_build()
    if build is None or not build.exists():
        raise FileNotFoundError(f"no graph built under {source.data_dir}: run `swapgraph build` first")
    target = StoreLayout(target_dir)
    if target.data_dir.resolve() == source.data_dir.resolve():
        raise ValueError(f"{target_dir} is the data directory the build comes from: publish to another one")
    started = time.perf_counter()
    target.builds.mkdir(parents=True, exist_ok=True)
    target.clean_partial()
    final = target.builds / build.name
    copied = not final.exists() or any(final.glob(BUILDING_MARKER + "*"))
    files = size = 0
    if copied:
        shutil.rmtree(final, ignore_errors=True)  # a copy under this name that never finished
        files, size = _copy_marked(build, target.builds / f"{build.name}.incoming-{os.getpid()}", final)
    target.publish(final)
    return Published(build.name, target.data_dir, files, size, time.perf_counter() - started, copied)


def _copy_marked(build: Path, incoming: Path, final: Path) -> tuple[int, int]:
    """Copy build's files (not its markers) to `incoming`, marked as being built, then rename it to `final`."""
    incoming.mkdir()
    marker = incoming / f"{BUILDING_MARKER}{os.getpid()}"
    marker.touch()
    shutil.copytree(build, incoming, ignore=shutil.ignore_patterns(*MARKERS), dirs_exist_ok=True)
    files = [path for path in incoming.rglob("*") if path.is_file() and path != marker]
    size = sum(path.stat().st_size for path in files)
    _sync(incoming, files)
    os.rename(incoming, final)  # the marker goes with it; graph.store's publish removes it at the switch
    return len(files), size


def _sync(folder: Path, files: list[Path]) -> None:
    """The copied bytes on disk before the copy can become current (a crash then leaves a whole build)."""
    for path in files:
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

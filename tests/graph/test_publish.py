"""graph.publish and `swapgraph publish --to`: a build copied into another data directory, atomically."""

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.publish import publish_to
from graph.store import BUILDING_MARKER, SERVING_MARKER, StoreLayout

ROOT = Path(__file__).resolve().parents[2]
GRAPH = ox.NamedNode("https://w3id.org/swapgraph/graph/asserted")


def make_build(data_dir: Path, version: int) -> Path:
    layout = StoreLayout(data_dir)
    build = layout.new_build_dir()
    store = ox.Store(str(build))
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:version"), ox.Literal(str(version)), GRAPH))
    store.flush()
    del store
    layout.publish(build)
    return build


def versions(build: Path) -> list[str]:
    store = ox.Store.read_only(str(build))
    return [quad.object.value for quad in store.quads_for_pattern(None, ox.NamedNode("urn:version"), None, GRAPH)]


def test_the_current_build_becomes_current_in_the_target_under_its_own_name(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replica"
    build = make_build(source, 1)
    published = publish_to(StoreLayout(source), target)
    copy = StoreLayout(target).current_build()
    assert copy.name == build.name == published.build and copy.parent == (target / "builds").resolve()
    assert versions(copy) == ["1"]
    assert published.copied and published.files > 0 and published.bytes > 0
    assert not list(copy.glob(BUILDING_MARKER + "*"))


def test_markers_of_the_source_are_not_copied(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replica"
    make_build(source, 1)
    with StoreLayout(source).serving(StoreLayout(source).current_build()):
        publish_to(StoreLayout(source), target)
    assert not list(StoreLayout(target).current_build().glob(SERVING_MARKER + "*"))


def test_a_second_build_replaces_the_first_and_the_same_build_again_copies_nothing(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replica"
    make_build(source, 1)
    publish_to(StoreLayout(source), target)
    second = make_build(source, 2)
    assert publish_to(StoreLayout(source), target).copied
    assert StoreLayout(target).current_build().name == second.name
    assert versions(StoreLayout(target).current_build()) == ["2"]
    again = publish_to(StoreLayout(source), target)
    assert not again.copied and StoreLayout(target).current_build().name == second.name


def test_a_copy_killed_midway_never_becomes_current_and_is_cleaned_up(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replica"
    make_build(source, 1)
    publish_to(StoreLayout(source), target)
    served = StoreLayout(target).current_build()
    second = make_build(source, 2)
    dead = dead_pid()
    half = target / "builds" / f"{second.name}.incoming-{dead}"  # what a publish killed while copying leaves
    half.mkdir()
    (half / f"{BUILDING_MARKER}{dead}").touch()
    (half / "partial-file").write_bytes(b"x")
    assert StoreLayout(target).current_build() == served
    publish_to(StoreLayout(source), target)
    assert not half.exists()
    assert versions(StoreLayout(target).current_build()) == ["2"]


def test_publishing_onto_itself_or_with_nothing_built_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="swapgraph build"):
        publish_to(StoreLayout(tmp_path / "empty"), tmp_path / "replica")
    make_build(tmp_path / "source", 1)
    with pytest.raises(ValueError, match="another one"):
        publish_to(StoreLayout(tmp_path / "source"), tmp_path / "source")


def test_the_command_publishes_and_says_so(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replica"
    build = make_build(source, 1)
    done = run_cli("--data-dir", str(source), "publish", "--to", str(target))
    assert done.returncode == 0, done.stderr
    assert build.name in done.stdout and "now current" in done.stdout
    assert StoreLayout(target).current_build().name == build.name
    refused = run_cli("--data-dir", str(tmp_path / "nothing"), "publish", "--to", str(target))
    assert refused.returncode == 1 and "swapgraph publish: no graph built" in refused.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "swapgraph", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    try:
        os.kill(child.pid, 0)
    except ProcessLookupError:
        return child.pid
    pytest.skip("could not find a pid that is surely not running")

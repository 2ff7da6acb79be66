"""The store layout: builds, the atomic `current` switch, clean-up that spares served builds."""

import os
import subprocess
import sys

import pyoxigraph as ox
from rdflib import RDF, RDFS

from graph.store import KEEP_BUILDS, SERVING_MARKER, StoreFiller, StoreLayout


def make_builds(layout: StoreLayout, count: int):
    builds = [layout.new_build_dir() for _ in range(count)]
    for build in builds:
        layout.publish(build)
    return builds


def test_publish_switches_current_and_keeps_the_last_builds(tmp_path):
    layout = StoreLayout(tmp_path)
    builds = make_builds(layout, KEEP_BUILDS + 2)
    assert layout.current_build() == builds[-1]
    assert sorted(p for p in layout.builds.iterdir()) == builds[-KEEP_BUILDS:]


def test_a_build_served_by_a_live_process_is_kept(tmp_path):
    layout = StoreLayout(tmp_path)
    first = layout.new_build_dir()
    layout.publish(first)
    with layout.serving(first):
        make_builds(layout, KEEP_BUILDS + 1)
        assert first.exists()
    make_builds(layout, 1)
    assert not first.exists()


def test_a_marker_left_by_a_dead_server_does_not_keep_a_build(tmp_path):
    layout = StoreLayout(tmp_path)
    first = layout.new_build_dir()
    layout.publish(first)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (first / f"{SERVING_MARKER}{dead.stdout.strip()}").touch()
    (first / f"{SERVING_MARKER}not-a-pid").touch()  # a stray file is ignored, not a crash
    make_builds(layout, KEEP_BUILDS + 1)
    assert not first.exists()


def test_current_is_a_relative_symlink(tmp_path):
    layout = StoreLayout(tmp_path)
    make_builds(layout, 1)
    assert layout.current.is_symlink() and not os.path.isabs(os.readlink(layout.current))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_killed_builds_are_removed_at_the_next_build(tmp_path):
    layout = StoreLayout(tmp_path)
    good = layout.new_build_dir()
    layout.publish(good)
    killed = layout.new_build_dir()
    for marker in killed.glob(".built-by-*"):
        marker.rename(killed / f".built-by-{_dead_pid()}")
    running = layout.new_build_dir()  # this process's own build, still in progress
    assert not killed.exists()
    assert good.exists() and layout.current_build() == good.resolve()
    assert running.exists()
    another = layout.new_build_dir()
    assert running.exists() and another.exists()  # a live builder's folder is never taken


def test_a_build_in_progress_is_not_pruned(tmp_path):
    layout = StoreLayout(tmp_path)
    running = layout.new_build_dir()
    for _ in range(KEEP_BUILDS + 1):
        layout.publish(layout.new_build_dir())
    assert running.exists()


def test_the_filler_loads_each_part_keeping_blank_node_labels(tmp_path):
    """The bulk loader renames blank nodes; derivations name the ontology's by label."""
    ontology, asserted = ox.NamedNode("https://example.org/g/ontology"), ox.NamedNode("https://example.org/g/asserted")
    memory = ox.Store()
    memory.extend([
        ox.Quad(ox.BlankNode("cb0a1"), ox.NamedNode(f"{RDF.first}"), ox.NamedNode("https://example.org/a"), ontology),
        ox.Quad(ox.NamedNode("https://example.org/b"), ox.NamedNode(f"{RDFS.label}"), ox.Literal("not a node: _:x"), ontology),
        *(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode(f"{RDFS.label}"), ox.Literal(str(i)), asserted)
          for i in range(1000)),
        ox.Quad(ox.BlankNode("cb0a2"), ox.NamedNode(f"{RDF.rest}"), ox.NamedNode(f"{RDF.nil}"), asserted),
    ])
    build = tmp_path / "build"
    build.mkdir()
    filler = StoreFiller(build)
    filler.start()
    memory.dump(output=str(filler.parts / "ontology.nt"), format=ox.RdfFormat.N_TRIPLES, from_graph=ontology)
    filler.add(filler.parts / "ontology.nt", ontology)  # N-Triples into a graph
    memory.dump(output=str(filler.parts / "all.nq"), format=ox.RdfFormat.N_QUADS)
    filler.add(filler.parts / "all.nq")  # N-Quads, the same ontology quads again: a store is a set
    filler.finish()
    assert not filler.parts.exists()
    assert set(ox.Store(str(build))) == set(memory)


def test_a_filler_stopped_midway_ends_and_loads_nothing_more(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    filler = StoreFiller(build)
    filler.start()
    part = filler.parts / "part.nq"
    part.write_text("<https://example.org/s> <https://example.org/p> <https://example.org/o> <https://example.org/g> .\n")
    filler.abandon()
    filler.add(part)  # after the stop: taken by nobody, loaded by nobody
    assert not filler.is_alive() and filler.error is None
    assert len(ox.Store(str(build))) == 0

"""Publishing a build to each backend: the switch is atomic for readers (every answer during a publish
is the old version's or the new one's), a second publish replaces the first and old versions are
dropped, a publish killed midway leaves the old version serving, and counts are checked."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from api.dataset import backend_for
from api.settings import Settings
from graph.store import StoreLayout
from tests.backends.conftest import make_build, serve

ROOT = Path(__file__).resolve().parents[2]
GRAPH = "https://w3id.org/swapgraph/graph/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def nquads(triples: int, tag: str) -> bytes:
    """`triples` triples spread over the asserted, inferred and provenance graphs, marked with `tag`."""
    graphs = [GRAPH + name for name in ("asserted", "inferred", "provenance")]
    return "".join(f'<https://example.org/{tag}/s{i}> <https://example.org/p{i % 5}> "{tag} {i}" '
                   f"<{graphs[i % 3]}> .\n" for i in range(triples)).encode()


def new_build(data_dir: Path, triples: int, tag: str) -> Path:
    """A build folder next to the served one, not yet published (what `swapgraph build` makes)."""
    scratch = data_dir.parent / f"{data_dir.name}-{tag}"
    folder = make_build(scratch, nquads(triples, tag))
    target = StoreLayout(data_dir).builds / folder.name
    target.parent.mkdir(parents=True, exist_ok=True)
    folder.rename(target)
    return target


def total(client) -> int:
    response = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def wait_for(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(params=["embedded", "oxigraph", "virtuoso"])
def store_settings(request, engines, tmp_path):
    """Settings for an empty store of one kind (its own dataset name on a shared engine), with data_dir."""
    overrides = {"data_dir": tmp_path / "data", **engines.settings(request.param)}
    if request.param != "embedded":
        overrides["remote_dataset"] = f"publish-{tmp_path.name}"
    return overrides


def publish(overrides: dict, build: Path):
    return backend_for(Settings(**overrides)).publish(build)


def test_a_second_publish_switches_every_reader_and_drops_old_versions(store_settings):
    data = store_settings["data_dir"]
    first = new_build(data, 300, "first")
    publish(store_settings, first)
    with serve(store_settings, reload_interval=0.2) as client:
        assert total(client) == 300
        assert client.get("/version").json()["dataset"]["build"] == first.name
        answers, stop = [], threading.Event()

        def read():
            while not stop.is_set():
                answers.append(total(client))

        reader = threading.Thread(target=read)
        reader.start()
        second = new_build(data, 450, "second")
        try:
            publish(store_settings, second)
            assert wait_for(lambda: client.get("/version").json()["dataset"]["build"] == second.name)
            assert wait_for(lambda: total(client) == 450)
        finally:
            stop.set()
            reader.join()
        assert set(answers) <= {300, 450} and 450 in answers  # the old version or the new, never a mix
        third = new_build(data, 200, "third")
        publish(store_settings, third)
        assert wait_for(lambda: total(client) == 200)
    backend = backend_for(Settings(**store_settings))
    assert backend.current().name == third.name
    if store_settings.get("store") == "remote":
        assert stored_versions(backend) == {second.name, third.name}  # the served one and the one before


def stored_versions(backend) -> set[str]:
    """The versions whose graphs the engine still holds (read from the engine itself)."""
    from graph.backends.remote import _Connection

    connection = _Connection(backend.endpoint)
    marker = f"/store/{backend.endpoint.dataset}/"
    try:
        rows = connection.select(f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{GRAPH}") && CONTAINS(STR(?g), "{marker}")) }}')
    finally:
        connection.close()
    return {row["g"]["value"].rsplit("/", 1)[1] for row in rows}


def push_process(overrides: dict, build: Path) -> subprocess.Popen:
    """`swapgraph push --build DIR` in its own process, configured by SWAPGRAPH_* variables."""
    env = {**os.environ, **{Settings.env_names()[k]: str(v) for k, v in overrides.items()}}
    return subprocess.Popen([sys.executable, "-m", "swapgraph", "push", "--build", str(build)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("store_settings", ["oxigraph", "virtuoso"], indirect=True)
def test_a_publish_killed_midway_leaves_the_old_version_serving(store_settings):
    data = store_settings["data_dir"]
    old = new_build(data, 300, "old")
    publish(store_settings, old)
    backend = backend_for(Settings(**store_settings))
    big = new_build(data, 150_000, "big")  # three uploads of 50,000 triples: time to be killed between them
    process = push_process(store_settings, big)
    try:
        assert wait_for(lambda: big.name in stored_versions(backend) or process.poll() is not None, 60), \
            "the publish never started loading"
        assert process.poll() is None, f"the publish ended before it could be killed: {process.communicate()}"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert backend.current().name == old.name
    with serve(store_settings) as client:
        assert total(client) == 300
        assert client.get("/version").json()["dataset"]["build"] == old.name
    newer = new_build(data, 120, "newer")
    publish(store_settings, newer)
    assert backend.current().name == newer.name
    assert big.name not in stored_versions(backend)  # the killed publish's graphs are dropped by the next one


@pytest.mark.parametrize("store_settings", ["oxigraph"], indirect=True)
def test_push_from_the_command_line_says_what_it_published(store_settings):
    build = new_build(store_settings["data_dir"], 30, "cli")
    process = push_process(store_settings, build)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    assert f"published {build.name}" in out.decode()
    assert backend_for(Settings(**store_settings)).current().name == build.name


@pytest.mark.parametrize("store_settings", ["oxigraph"], indirect=True)
def test_counts_that_differ_are_not_published(store_settings, monkeypatch):
    from graph.backends import remote

    old = new_build(store_settings["data_dir"], 60, "kept")
    publish(store_settings, old)
    monkeypatch.setattr(remote, "_remote_count", lambda connection, stored: 1)  # as if the engine lost triples
    with pytest.raises(remote.PublishError, match="other counts"):
        publish(store_settings, new_build(store_settings["data_dir"], 90, "short"))
    assert backend_for(Settings(**store_settings)).current().name == old.name


# --- credentials ------------------------------------------------------------------------------------


SECRET = "pa55-never-printed"


def test_the_password_is_never_in_settings_reprs_or_endpoint_reprs(tmp_path):
    from graph.backends.remote import Endpoint

    settings = Settings(store="remote", remote_url="http://127.0.0.1:1", remote_password=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in repr(Endpoint(query_url="http://127.0.0.1:1/sparql", user="u", password=SECRET))
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    backend = backend_for(Settings(store="remote", remote_engine="virtuoso", remote_url="http://127.0.0.1:1",
                                   remote_user="dba", remote_password_file=str(secret_file)))
    assert backend.endpoint.password == SECRET and SECRET not in repr(backend.endpoint)


@pytest.mark.parametrize("store_settings", ["virtuoso"], indirect=True)
def test_a_refused_or_unreachable_engine_never_shows_the_password(store_settings, caplog, capfd):
    import logging

    caplog.set_level(logging.DEBUG)
    build = new_build(store_settings["data_dir"], 30, "refused")
    wrong = {**store_settings, "remote_password": SECRET}
    with pytest.raises(Exception) as refused:
        publish(wrong, build)
    unreachable = {**store_settings, "remote_url": "http://127.0.0.1:9", "remote_password": SECRET}
    with pytest.raises(ConnectionError) as unreached:
        publish(unreachable, build)
    process = push_process(wrong, build)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and b"still the one served" in err
    shown = [str(refused.value), str(unreached.value), out.decode(), err.decode(), caplog.text, *capfd.readouterr()]
    assert not [text for text in shown if SECRET in text]
    assert "401" in str(refused.value)


# --- one publisher at a time ------------------------------------------------------------------------


@pytest.mark.parametrize("store_settings", ["oxigraph", "virtuoso"], indirect=True)
def test_a_second_publish_while_one_runs_stops_with_a_clear_error(store_settings):
    from graph.backends.remote import PublishError

    data = store_settings["data_dir"]
    old = new_build(data, 60, "before")
    publish(store_settings, old)
    backend = backend_for(Settings(**store_settings))
    big = new_build(data, 150_000, "running")
    process = push_process(store_settings, big)
    try:
        assert wait_for(lambda: big.name in stored_versions(backend) or process.poll() is not None, 60)
        assert process.poll() is None, f"the first publish ended before the second began: {process.communicate()}"
        with pytest.raises(PublishError, match=r"another publish of this dataset is under way \(host and process "
                                               rf"\S+ {process.pid}, since"):
            publish(store_settings, new_build(data, 30, "second"))
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert backend.current().name == big.name  # the first publish was not disturbed
    after = new_build(data, 40, "after")
    assert publish(store_settings, after).name == after.name  # the lease was given back


@pytest.mark.parametrize("store_settings", ["oxigraph"], indirect=True)
def test_a_lease_of_a_dead_publish_is_recovered(store_settings, monkeypatch):
    """A lease held elsewhere stops a publish until it lapses; one held by a process of this machine that
    no longer runs (a killed publish: see the test above it) is taken over at once."""
    from graph.backends import remote

    build = new_build(store_settings["data_dir"], 30, "lapsed")
    backend = backend_for(Settings(**store_settings))
    connection = remote._Connection(backend.endpoint)
    try:
        elsewhere = remote.Lease(connection, backend.endpoint.lease, seconds=1.5)
        elsewhere.holder = "another-host 4242 token"
        elsewhere.take()
        with pytest.raises(remote.PublishError, match="another-host 4242"):
            publish(store_settings, build)
        time.sleep(1.6)
        assert publish(store_settings, build).name == build.name  # lapsed
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        gone = remote.Lease(connection, backend.endpoint.lease)
        gone.holder = f"{remote.socket.gethostname()} {dead.stdout.strip()} token"
        gone.take()
        newer = new_build(store_settings["data_dir"], 20, "taken-over")
        assert publish(store_settings, newer).name == newer.name
    finally:
        connection.close()

"""A new build served without a restart, under load (issue 9), and `swapgraph serve` options (bug 9)."""

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pyoxigraph as ox

from graph.store import StoreLayout
from tests.api.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
GRAPH = "https://w3id.org/swapgraph/graph/asserted"
VERSION_QUERY = "SELECT ?v { ?s <urn:version> ?v }"


def publish(data_dir: Path, version: int) -> str:
    layout = StoreLayout(data_dir)
    build = layout.new_build_dir()
    store = ox.Store(str(build))
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:version"), ox.Literal(str(version)), ox.NamedNode(GRAPH)))
    store.flush()
    del store
    layout.publish(build)
    return build.name


def start_server(data_dir: Path, *args: str, env: dict | None = None):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "swapgraph.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
         "--data-dir", str(data_dir), *args],
        cwd=ROOT, env={**os.environ, "SWAPGRAPH_PORT": "1", **(env or {})},  # the options win over the env
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("server did not start:\n" + process.stdout.read().decode(errors="replace"))
        time.sleep(0.1)


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def version_served(http: httpx.Client) -> str:
    response = http.get("/sparql", params={"query": VERSION_QUERY}, headers={"Accept": "text/csv"})
    response.raise_for_status()
    return response.text.split()[1]


def test_serve_takes_host_port_workers_and_data_dir_as_options(tmp_path):
    publish(tmp_path, 1)
    process, url = start_server(tmp_path, "--workers", "1")
    try:
        health = httpx.get(url + "/health", timeout=5).json()
        assert health["workers"] == 1 and health["status"] == "ok"
    finally:
        stop(process)


def test_new_builds_are_served_under_load_without_a_failed_request(tmp_path):
    publish(tmp_path, 1)
    process, url = start_server(tmp_path, "--workers", "2", env={"SWAPGRAPH_RELOAD_INTERVAL": "0.5",
                                                                  "SWAPGRAPH_CLIENT_MAX_QUERIES": "0"})
    statuses, failures, stop_load = Counter(), [], threading.Event()

    def load():
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop_load.is_set():
                try:
                    for path, params in (("/sparql", {"query": VERSION_QUERY}), ("/health", None)):
                        statuses[http.get(path, params=params, headers={"Accept": "text/csv"}).status_code] += 1
                except httpx.TransportError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for version in (2, 3, 4):
                name = publish(tmp_path, version)
                published = time.monotonic()
                while version_served(http) != str(version):
                    assert time.monotonic() - published < 10, f"build {version} not served after 10 s"
                    time.sleep(0.1)
                print(f"\nbuild {version} served {time.monotonic() - published:.2f} s after it was published")
                assert http.get("/version").json()["dataset"]["build"] == name
            # by hand too: nothing new, nothing done
            assert http.post("/admin/reload").json() == {"reloaded": False, "build": name}
            assert http.post("/admin/reload", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403
    finally:
        stop_load.set()
        for thread in threads:
            thread.join()
        stop(process)
    print(f"requests during the reloads: {dict(statuses)}, transport failures: {len(failures)}")
    assert failures == []
    assert set(statuses) == {200} and sum(statuses.values()) > 50

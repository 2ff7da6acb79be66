"""Stateless copies behind nginx: one copy versus two, a new build published under load, cache hits.

    python -m bench.replicas [--seconds 15] [--clients 16] [--workers 2] [--stores embedded,remote]

Each round starts the copies (`swapgraph serve`), puts nginx in front with
deploy/nginx/swapgraph.conf.template, runs a mixed load (small /sparql queries, canned questions,
pages, linked data, VoID) for `--seconds`, and halfway publishes a new build. It prints throughput,
p50/p99, failed requests (anything but a 200, or no answer), the nginx cache statuses, how long the
publish took and the time from its start until every copy serves the new build. The rounds: one copy
without nginx (the baseline), one copy and two copies behind nginx without its cache, two copies with
the cache; on the embedded store (each copy on a data directory of its own, filled by `publish --to`)
and on one Oxigraph server for every copy (SWAPGRAPH_STORE=remote, each build published once, to the
server). The load generator shares the machine's cores with the copies and nginx; the per-client caps
are off (every request comes from one address).

The nginx and copy machinery here is also what tests/deploy uses.
"""

import argparse
import asyncio
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import SMALL, percentile
from bench.sparql import ROOT, free_port, stop
from graph.build import SourcePaths, build
from graph.catalog import Catalog
from graph.publish import publish_to
from graph.store import StoreLayout

TEMPLATE = ROOT / "deploy" / "nginx" / "swapgraph.conf.template"
EXCHANGE = "https://w3id.org/swapgraph/ontology#Exchange"
FIRST_EXCHANGES = f"SELECT ?x WHERE {{ ?x a <{EXCHANGE}> }} ORDER BY ?x LIMIT 3"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def render_site(listen: str, upstreams: list[str], cache_dir: Path, access_log: Path, cache: bool) -> str:
    """deploy/nginx/swapgraph.conf.template with its placeholders filled (comments, which name them, kept)."""
    servers = "\n    ".join(f"server {address} max_fails=1 fail_timeout=2s;" for address in upstreams)
    values = {"@LISTEN@": listen, "@UPSTREAM_SERVERS@": servers, "@CACHE_DIR@": str(cache_dir),
              "@CACHE@": "swapgraph" if cache else "off", "@ACCESS_LOG@": str(access_log)}
    return "".join(line if line.lstrip().startswith("#") else _fill(line, values)
                   for line in TEMPLATE.read_text(encoding="utf-8").splitlines(keepends=True))


def _fill(line: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        line = line.replace(placeholder, value)
    return line


def main_config(run_dir: Path, site: Path) -> str:
    """A whole nginx.conf around the site file, every path under run_dir (nothing of the system's nginx)."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""  # workers stay us
    temp = "\n".join(f"    {kind}_temp_path {run_dir / 'tmp' / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {run_dir / 'nginx.pid'};\nerror_log {run_dir / 'error.log'} warn;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n    default_type application/octet-stream;\n{temp}\n    include {site};\n}}\n")


@dataclass
class Nginx:
    """nginx on a free loopback port in front of `upstreams`, from a generated config in run_dir."""

    run_dir: Path
    upstreams: list[str]
    cache: bool = True
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.run_dir / "access.log"

    def __enter__(self) -> "Nginx":
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (tests/deploy/setup-nginx.sh installs it, as root)")
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        site = self.run_dir / "swapgraph.conf"
        site.write_text(render_site(self.host, self.upstreams, self.run_dir / "cache", self.access_log, self.cache))
        config = self.run_dir / "nginx.conf"
        config.write_text(main_config(self.run_dir, site))
        command = [binary, "-p", str(self.run_dir), "-c", str(config), "-e", str(self.run_dir / "error.log"),
                   "-g", "daemon off;"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused the generated config:\n{checked.stderr}")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_listening()
        return self

    def _wait_listening(self, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited:\n" + (self.run_dir / "error.log").read_text(errors="replace"))
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {self.port} within {seconds} s")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish their requests
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def upstreams_seen(self) -> Counter:
        """How many logged requests each copy answered (cache hits name none)."""
        seen = Counter()
        for line in self.access_log.read_text(encoding="utf-8").splitlines():
            address = line.split("upstream=", 1)[1].split()[0]
            seen[address] += 1
        return seen


@dataclass
class Copy:
    """One `swapgraph serve` on its own data directory."""

    data_dir: Path
    process: subprocess.Popen
    url: str

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    def build_served(self) -> str | None:
        return httpx.get(self.url + "/version", timeout=5).json()["dataset"]["build"]


def copy_env(public_host: str, cache_control: str, workers: int) -> dict:
    """A copy's settings behind the proxy: its links name the proxy's host, it believes the proxy's
    X-Forwarded-For, it looks for a new build twice a second; the per-client caps are off because the
    whole load comes from one address, and a request waits up to 10 s for a worker (not 2) because
    the rounds measure throughput and the switch to a new build, not the shedding of an overload."""
    return {"SWAPGRAPH_PUBLIC_HOSTS": public_host, "SWAPGRAPH_CLIENT_HEADER": "X-Forwarded-For",
            "SWAPGRAPH_TRUSTED_PROXIES": "127.0.0.1", "SWAPGRAPH_RELOAD_INTERVAL": "0.5",
            "SWAPGRAPH_CACHE_CONTROL": cache_control, "SWAPGRAPH_WORKERS": str(workers),
            "SWAPGRAPH_CLIENT_MAX_QUERIES": "0", "SWAPGRAPH_CLIENT_QUERY_SECONDS": "0",
            "SWAPGRAPH_QUEUE_WAIT": "10"}


def start_copy(data_dir: Path, env: dict, seconds: float = 60) -> Copy:
    port = free_port()
    log = data_dir.with_name(data_dir.name + ".log")  # a file, not a pipe nobody reads while the load runs
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "swapgraph", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir)], cwd=ROOT, env={**os.environ, **env},
            stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return Copy(data_dir, process, url)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError("a copy did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.1)


@dataclass
class EmbeddedStore:
    """Each copy reads a data directory of its own; a build is published by copying it into each one."""

    kind = "embedded"

    @property
    def env(self) -> dict:
        return {}

    def publish(self, source: StoreLayout, data_dirs: list[Path]) -> None:
        for data_dir in data_dirs:
            publish_to(source, data_dir)

    def named(self, dataset: str) -> "EmbeddedStore":
        return self  # each round's copies have data directories of their own already


@dataclass
class RemoteStore:
    """Every copy reads one remote engine; a build is published once, to the engine (`swapgraph push`)."""

    settings: dict  # the api.settings fields that name the engine: store, remote_engine, remote_url, ...
    kind = "remote"

    @property
    def env(self) -> dict:
        from api.settings import Settings

        names = Settings.env_names()
        return {names[name]: str(value) for name, value in self.settings.items() if value != ""}

    def publish(self, source: StoreLayout, data_dirs: list[Path]) -> None:
        from api.dataset import backend_for
        from api.settings import Settings

        backend_for(Settings(**self.settings)).publish(source.current_build())

    def named(self, dataset: str) -> "RemoteStore":
        """The same engine, another dataset on it (a round of its own, not the versions of the last)."""
        return RemoteStore({**self.settings, "remote_dataset": dataset})


@contextmanager
def copies_of(source: StoreLayout, workdir: Path, count: int, env: dict, store=None):
    """`count` copies of the service on `store` (default: embedded), serving the source's current build."""
    store = store or EmbeddedStore()
    data_dirs = [workdir / f"copy-{number + 1}" for number in range(count)]
    for data_dir in data_dirs:
        data_dir.mkdir(parents=True, exist_ok=True)
    store.publish(source, data_dirs)
    started = []
    try:
        for data_dir in data_dirs:
            started.append(start_copy(data_dir, {**env, **store.env}))
        yield started
    finally:
        for copy in started:
            stop(copy.process)


@dataclass(frozen=True)
class Switch:
    published: float  # seconds the publish took (copies, or the load into the engine)
    served: float  # seconds from the start of the publish until every copy served the new build


def publish_everywhere(source: StoreLayout, copies: list[Copy], seconds: float = 30, store=None) -> Switch:
    """Publish the source's current build to the copies' store and wait until every copy serves it."""
    name = source.current_build().name
    started = time.monotonic()
    (store or EmbeddedStore()).publish(source, [copy.data_dir for copy in copies])
    published = time.monotonic() - started
    while not all(copy.build_served() == name for copy in copies):
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"not every copy served build {name} within {seconds} s")
        time.sleep(0.05)
    return Switch(published, time.monotonic() - started)


def workload(url: str) -> list[tuple[str, dict, dict]]:
    """(path, params, headers) requests that all answer 200: small queries, canned questions without
    required parameters, pages, linked data in two representations, VoID."""
    exchanges = httpx.get(url + "/sparql", params={"query": FIRST_EXCHANGES}, headers={"Accept": "text/csv"},
                          timeout=30).text.split()[1:]
    canned = [query.name for query in Catalog.load(ROOT / "queries") if not any(p.required for p in query.params)]
    json_results = {"Accept": "application/sparql-results+json"}
    requests = [("/sparql", {"query": query}, json_results) for query in SMALL]
    requests += [("/sparql", {"query": f"SELECT ?s WHERE {{ ?s a <{EXCHANGE}> }} LIMIT {n}"}, json_results)
                 for n in range(1, 9)]
    requests += [(f"/queries/{name}", {}, {"Accept": "application/json"}) for name in canned[:6]]
    requests += [("/", {}, {"Accept": "text/html"}), ("/exchanges", {}, {"Accept": "text/html"}),
                 ("/void", {}, {"Accept": "text/turtle"})]
    for iri in exchanges:
        path = iri.removeprefix("https://w3id.org/swapgraph")
        requests += [(path, {}, {"Accept": "text/html"}), (path, {}, {"Accept": "text/turtle"})]
    return requests


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    cache: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


async def _client(http: httpx.AsyncClient, requests, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        path, params, headers = random.choice(requests)
        started = time.monotonic()
        try:
            response = await http.get(path, params=params, headers=headers)
        except httpx.TransportError as exc:
            tally.failures.append(f"{_kind(path)}: {type(exc).__name__}")
            continue
        tally.latencies.append(time.monotonic() - started)
        tally.statuses[response.status_code] += 1
        tally.cache[response.headers.get("x-cache-status", "-")] += 1
        if response.status_code != 200:
            tally.failures.append(f"{_kind(path)}: {response.status_code} {_error_code(response)}")


def _kind(path: str) -> str:
    return path.split("/")[1] or "home"


def _error_code(response: httpx.Response) -> str:
    try:
        return response.json().get("error", "")
    except ValueError:
        return response.text[:80]


async def _load(url: str, requests, clients: int, seconds: float, midway) -> tuple[Tally, float, object]:
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    tally = Tally()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.monotonic()
        until = started + seconds
        loop = asyncio.get_running_loop()

        async def publish_halfway():
            await asyncio.sleep(seconds / 2)
            return await loop.run_in_executor(None, midway)

        publisher = asyncio.ensure_future(publish_halfway())
        await asyncio.gather(*(_client(http, requests, until, tally) for _ in range(clients)))
        elapsed = time.monotonic() - started  # the load's own time, not the wait for a slow switch
        outcome = await publisher
    return tally, elapsed, outcome


def mixed_load(url: str, requests, clients: int, seconds: float, midway) -> tuple[Tally, float, object]:
    """Run the load for `seconds`; call `midway()` (in a thread) halfway; (tally, elapsed, its result)."""
    return asyncio.run(_load(url, requests, clients, seconds, midway))


def make_builds(workdir: Path, count: int) -> list[StoreLayout]:
    """`count` builds of the project's graph, each current in a source directory of its own."""
    sources = []
    for number in range(count):
        if sources:
            # A build's time is stated to the second (VoID's dcterms:modified, /version, Last-Modified):
            # the real corpus now builds in under a second, and two builds must not share one.
            time.sleep(1 - time.time() % 1)
        layout = StoreLayout(workdir / f"source-{number + 1}")
        build(layout, SourcePaths())
        sources.append(layout)
    return sources


def run_round(workdir: Path, first: StoreLayout, second: StoreLayout, copies: int, proxy: str, store, args) -> str:
    """One row of the table: `proxy` is "none", "balance" or "cache"."""
    with ExitStack() as stack:
        nginx = Nginx(workdir / "nginx", [], cache=proxy == "cache") if proxy != "none" else None
        host = nginx.host if nginx else "127.0.0.1"
        env = copy_env(host, args.cache_control, args.workers)
        started = stack.enter_context(copies_of(first, workdir, copies, env, store))
        if nginx:
            nginx.upstreams = [copy.address for copy in started]
            stack.enter_context(nginx)
        url = nginx.url if nginx else started[0].url
        requests = workload(url)
        tally, elapsed, switch = mixed_load(url, requests, args.clients, args.seconds,
                                            lambda: publish_everywhere(second, started, SWITCH_LIMIT, store))
    hits = tally.cache.get("HIT", 0) + tally.cache.get("REVALIDATED", 0)
    total = len(tally.latencies)
    cache = f"{hits / total:.0%} ({dict(tally.cache)})" if nginx and nginx.cache else "-"
    if tally.failures:
        print(f"  failed ({store.kind}, {copies} copies, proxy {proxy}): {dict(Counter(tally.failures))}",
              file=sys.stderr)
    return (f"| {store.kind} | {copies} | {proxy} | {total} | {total / elapsed:.0f} "
            f"| {percentile(tally.latencies, 0.5) * 1000:.1f} | {percentile(tally.latencies, 0.99) * 1000:.1f} "
            f"| {tally.failed} | {cache} | {switch.published:.2f} | {switch.served:.2f} |")


@contextmanager
def stores(kinds: list[str], workdir: Path):
    """(kind, store) for each kind asked; remote: an Oxigraph server started here (tests/backends)."""
    with ExitStack() as stack:
        made = []
        for kind in kinds:
            if kind == "remote":
                from tests.backends.servers import start_oxigraph

                engine = start_oxigraph(workdir / "oxigraph")
                stack.callback(engine.stop)
                made.append(RemoteStore(engine.settings()))
            else:
                made.append(EmbeddedStore())
        yield made


ROUNDS = [(1, "none"), (1, "balance"), (2, "balance"), (2, "cache")]
SWITCH_LIMIT = 120  # seconds a round waits for every copy to serve the new build before it gives up


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="load per round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="query workers per copy")
    parser.add_argument("--cache-control", default="public, max-age=5")
    parser.add_argument("--stores", default="embedded,remote",
                        help="embedded (publish --to each copy), remote (one Oxigraph server for all copies)")
    args = parser.parse_args(argv)
    if nginx_binary() is None:
        sys.exit("bench.replicas: nginx is not installed (tests/deploy/setup-nginx.sh installs it, as root)")
    kinds = [kind.strip() for kind in args.stores.split(",") if kind.strip()]
    with tempfile.TemporaryDirectory(prefix="swapgraph-replicas-") as workdir, stores(kinds, Path(workdir)) as made:
        workdir = Path(workdir)
        first, *seconds = make_builds(workdir, 1 + len(ROUNDS) * len(made))
        print(f"mixed load, {args.clients} clients, {args.seconds:g} s per round, {args.workers} workers per copy, "
              f"Cache-Control {args.cache_control!r}; a new build published halfway")
        print("| store | copies | proxy | requests | req/s | p50 ms | p99 ms | failed | cache hits "
              "| publish s | every copy on the new build after s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rounds = [(store, copies, proxy) for store in made for copies, proxy in ROUNDS]
        for number, ((store, copies, proxy), second) in enumerate(zip(rounds, seconds)):
            print(run_round(workdir / f"round-{number + 1}", first, second, copies, proxy,
                            store.named(f"bench-round-{number + 1}"), args), flush=True)


if __name__ == "__main__":
    main()

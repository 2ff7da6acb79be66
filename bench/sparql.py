"""Benchmark: the same store through Swapgraph's /sparql and through `oxigraph serve-read-only`.

    python -m bench.sparql                    # builds the graph into a temporary directory
    python -m bench.sparql --store data/current --concurrency 1 4 16 --count 2000 --seconds 10
    python -m bench.sparql --store data/current --compare /work/main   # also another checkout's service

Both servers bind 127.0.0.1 only. The load comes from a second process (`--load`, an asyncio
HTTP/1.1 keep-alive client), which fires the same queries in turn at each concurrency level, bounded
by a request count and a time budget, and reports requests per second, p50/p99 latency and the CPU
time each server (with its child processes) spent per request: on a shared machine req/s swing with
the other jobs, CPU per request much less. `--compare DIR` serves the same store a third time
through the Swapgraph checkout in DIR (its own .venv), as "before", in the same rounds.
Aims (issue 3): Swapgraph at least 0.7x Oxigraph's throughput and at most 1.5x its p99.
"""

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SG = "PREFIX sg: <https://w3id.org/swapgraph/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"

# The workload: every canned question (queries/*.rq, parameters unbound: the widest form), plus
# what an analyst types by hand: small lookups, joins with labels, aggregates, a CONSTRUCT.
ADHOC = [
    ("ask", "ASK { ?s a sg:Exchange }", "application/sparql-results+json"),
    ("labels", "SELECT ?x ?label WHERE { ?x a sg:Person ; rdfs:label ?label } ORDER BY ?label LIMIT 50",
     "application/sparql-results+json"),
    ("classes", "SELECT ?class (COUNT(?x) AS ?n) WHERE { ?x a ?class } GROUP BY ?class ORDER BY DESC(?n)",
     "application/sparql-results+json"),
    ("releases", "SELECT ?person ?by ?to WHERE { ?r sg:releasedPerson ?person ; sg:releasingState ?by . "
     "OPTIONAL { ?r sg:receivingState ?to } } LIMIT 100", "text/csv"),
    ("evidence", "SELECT ?s ?quote WHERE { ?s sg:evidence ?e . ?e sg:quote ?quote } LIMIT 100",
     "application/sparql-results+json"),
    ("construct", "CONSTRUCT { ?x rdfs:label ?l } WHERE { ?x a sg:Exchange ; rdfs:label ?l }", "text/turtle"),
]


# Lookups whose cost does not grow with the store (issue 12's "light lookups"): where the HTTP layer
# is most of the time, at any size.
LIGHT = [
    ("ask", "ASK { ?s a sg:Exchange }", "application/sparql-results+json"),
    ("term", "SELECT ?p ?o WHERE { sg:Exchange ?p ?o }", "application/sparql-results+json"),
    ("people", "SELECT ?x ?label WHERE { ?x a sg:Person ; rdfs:label ?label } LIMIT 10",
     "application/sparql-results+json"),
    ("releases", "SELECT ?person ?by WHERE { ?r sg:releasedPerson ?person ; sg:releasingState ?by } LIMIT 10",
     "text/csv"),
    ("evidence", "SELECT ?s ?quote WHERE { ?s sg:evidence ?e . ?e sg:quote ?quote } LIMIT 10",
     "application/sparql-results+json"),
]

# `light-new` sends the light lookups with a numbered comment, so that every request is a query text the
# server has not seen: no answer kept from an earlier run (api.executor), every one evaluated.
NEW = "light-new"
WORKLOADS = ("light", NEW, "small", "canned")


def workload(kind: str) -> list[tuple[str, str, str]]:
    """(name, query text, Accept) for every query of a workload: `small` (ad-hoc lookups, where the
    HTTP layer weighs most) or `canned` (every canned question, unbound: the service's real queries)."""
    if kind == "canned":
        return [(path.stem, path.read_text(encoding="utf-8"), "application/sparql-results+json")
                for path in sorted((ROOT / "queries").glob("*.rq"))]
    return [(name, SG + query, accept) for name, query, accept in (LIGHT if kind in ("light", NEW) else ADHOC)]


def answerable(url: str, path: str) -> str:
    """The question's path, with each parameter value the graph does not have (a generated corpus has
    none of the real examples' names) replaced by the first value its 422 allows."""
    import httpx
    from urllib.parse import parse_qsl, urlencode, urlsplit

    for _ in range(5):
        response = httpx.get(url + path, timeout=120)
        body = response.json() if response.status_code == 422 else {}
        if not body.get("allowed"):
            return path
        split = urlsplit(path)
        params = dict(parse_qsl(split.query))
        params[body["parameter"]] = body["allowed"][0]["value"]
        path = f"{split.path}?{urlencode(params)}"
    return path


def questions() -> list[tuple[str, str]]:
    """(name, path) of every canned question as a person asks it: /queries/<name>?<its example>, JSON."""
    from graph.catalog import Catalog

    return [(q.name, f"/queries/{q.name}?" + (f"{quote(q.example, safe='=&')}&" if q.example else "") + "format=json")
            for q in Catalog.load()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the load generator (second process) ----------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _connection(host, port, request_at, budget, deadline, latencies, failures):
    """Send request_at(0), request_at(1), ... one at a time on one keep-alive connection."""
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            request = request_at(i)
            i += 1
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(status)
    finally:
        writer.close()


def _request(host: str, port: str, query: str, accept: str) -> bytes:
    """A short query as a GET; a long one (some canned questions) as a direct POST, since Oxigraph's
    server resets a connection whose request line is over its limit (about 8 KB)."""
    encoded = quote(query, safe="")
    if len(encoded) < 4000:
        return (f"GET /sparql?query={encoded} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Accept: {accept}\r\nConnection: keep-alive\r\n\r\n").encode()
    body = query.encode("utf-8")
    return (f"POST /sparql HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n"
            f"Content-Type: application/sparql-query\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n").encode() + body


def _get(host: str, port: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n\r\n".encode()


async def _load(url: str, concurrency: int, count: int, seconds: float, kind: str = "small") -> dict:
    host, port = url.split("//", 1)[1].split(":")
    if kind.startswith("/"):  # one page or canned question, by path
        requests = [_get(host, port, kind)]
    else:
        requests = [_request(host, port, query, accept) for _, query, accept in workload(kind)]

    def sender(connection: str, offset: int):
        """request_at for one connection: the workload in turn from `offset`; for `light-new`, each
        query with a comment naming this run, connection and request: a text the server never saw."""
        if kind != NEW:
            return lambda i: requests[(i + offset) % len(requests)]
        queries = workload(kind)
        tag = f"{os.getpid()}-{connection}"
        return lambda i: _request(host, port, f"{queries[(i + offset) % len(queries)][1]}\n# {tag}-{i}",
                                  queries[(i + offset) % len(queries)][2])

    warm = [count // 10 + len(requests)]
    await asyncio.gather(*(_connection(host, int(port), sender(f"w{c}", 0), warm, time.perf_counter() + seconds,
                                       [], []) for c in range(min(concurrency, 4))))
    latencies, failures = [], []
    budget = [count]
    started = time.perf_counter()
    await asyncio.gather(*(
        _connection(host, int(port), sender(str(c), c), budget, started + seconds, latencies, failures)
        for c in range(concurrency)
    ))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "failures": len(failures),
            "statuses": sorted(set(failures))}


def load_main(args) -> None:
    kind = args.path or args.workload[0]
    print(json.dumps(asyncio.run(_load(args.load, args.concurrency[0], args.count, args.seconds, kind))))


# --- servers --------------------------------------------------------------------------------------


def _wait_up(url: str, process: subprocess.Popen, started: float | None = None, timeout: float = 600) -> float:
    """Seconds from `started` (the process start; default: now) to its first answered query (a real lookup)."""
    import httpx

    started = time.monotonic() if started is None else started
    query = SG + "SELECT ?x WHERE { ?x a sg:Exchange } LIMIT 1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/sparql", params={"query": query}, timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not come up")


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            continue
    return children


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process, its live children and the children it has reaped."""
    def read(one: int, reaped: bool) -> float:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
        return ticks / os.sysconf("SC_CLK_TCK")

    total = read(pid, True)
    for child in _children(pid):
        try:
            total += read(child, False)
        except OSError:  # a worker replaced meanwhile
            continue
    return total


def memory(pid: int) -> dict:
    """RSS and PSS (shared pages divided among the processes sharing them) of a process and of each of
    its children, in MB, from /proc."""
    def read(one: int) -> tuple[float, float]:
        fields = {}
        with open(f"/proc/{one}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                parts = line.split()
                if len(parts) >= 2 and parts[0] in ("Rss:", "Pss:"):
                    fields[parts[0]] = int(parts[1]) / 1024
        return fields["Rss:"], fields["Pss:"]

    own = read(pid)
    kids = []
    for child in _children(pid):
        try:
            kids.append(read(child))
        except OSError:  # a worker replaced meanwhile (killed past its time limit)
            continue
    return {"rss": own[0], "pss": own[1], "children_rss": [k[0] for k in kids], "children_pss": [k[1] for k in kids],
            "total_rss": own[0] + sum(k[0] for k in kids), "total_pss": own[1] + sum(k[1] for k in kids)}


def _memory_line(name: str, pid: int) -> str:
    m = memory(pid)
    workers = ", ".join(f"{r:.0f}/{p:.0f}" for r, p in zip(m["children_rss"], m["children_pss"]))
    return (f"{name:>9}: RSS {m['total_rss']:7.0f} MB, PSS {m['total_pss']:7.0f} MB (server {m['rss']:.0f}/{m['pss']:.0f}"
            + (f"; {len(m['children_rss'])} child processes (workers, resource tracker) RSS/PSS {workers}" if m["children_rss"] else "") + ")")


def start_swapgraph(store: Path, workers: int, checkout: Path = ROOT) -> tuple[subprocess.Popen, str, Path]:
    """`python -m api.run` of a checkout (this one, or another with its own .venv) on a temporary data
    directory whose `current` points at the store."""
    data_dir = Path(tempfile.mkdtemp(prefix="swapgraph-bench-"))
    (data_dir / "current").symlink_to(store.resolve())
    port = free_port()
    env = {**os.environ, "SWAPGRAPH_DATA_DIR": str(data_dir), "SWAPGRAPH_HOST": "127.0.0.1",
           "SWAPGRAPH_PORT": str(port), "SWAPGRAPH_WORKERS": str(workers), "SWAPGRAPH_QUEUE_WAIT": "10",
           # one load generator stands for many clients: no per-client share (else 429s, not speed)
           "SWAPGRAPH_CLIENT_MAX_QUERIES": "0", "SWAPGRAPH_CLIENT_QUERY_SECONDS": "0"}
    python = sys.executable
    if checkout != ROOT:
        python = str(checkout / ".venv" / "bin" / "python")
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # another checkout is only read
    process = subprocess.Popen([python, "-m", "api.run"], cwd=checkout, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}", data_dir


def start_oxigraph(store: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("oxigraph", path=str(BIN)) or shutil.which("oxigraph")
    if binary is None:
        raise SystemExit("the oxigraph CLI is missing: pip install oxigraph")
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


# --- the store ------------------------------------------------------------------------------------


def build_store(workdir: Path) -> Path:
    """The project's graph, built by `swapgraph build` into a temporary data directory."""
    cli = shutil.which("swapgraph", path=str(BIN))
    command = [cli] if cli else [sys.executable, "-c", "from swapgraph.cli import main; main()"]
    subprocess.run([*command, "--data-dir", str(workdir), "build"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return (workdir / "current").resolve()


def run_load(url: str, concurrency: int, count: int, seconds: float, kind: str) -> dict:
    target = ["--path", kind] if kind.startswith("/") else ["--workload", kind]
    output = subprocess.run(
        [sys.executable, "-m", "bench.sparql", "--load", url, "--concurrency", str(concurrency),
         "--count", str(count), "--seconds", str(seconds), *target],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", type=Path, help="a pyoxigraph store directory (default: build the graph)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--count", type=int, default=2000, help="requests per run at most")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per run at most")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server and level, alternating servers")
    parser.add_argument("--workers", type=int, default=None, help="Swapgraph query workers (default: settings)")
    parser.add_argument("--workload", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also serve the store through this Swapgraph checkout (its .venv), named 'before'")
    parser.add_argument("--questions", action="store_true",
                        help="also time each canned question at /queries/<name>?<example> (Swapgraph only)")
    parser.add_argument("--pages", nargs="*", default=[], metavar="PATH",
                        help="also time these pages (Swapgraph only), e.g. / /void /ontology")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)  # internal: run the load generator
    args = parser.parse_args(argv)
    if args.load:
        return load_main(args)

    from api.settings import Settings

    workers = args.workers or Settings().workers
    workdir = Path(tempfile.mkdtemp(prefix="swapgraph-bench-store-"))
    store = args.store.resolve() if args.store else build_store(workdir)
    for kind in args.workload:
        names = [name for name, _, _ in workload(kind)]
        print(f"workload {kind}: {len(names)} queries in turn: {', '.join(names)}")
    print(f"store {store}\nper run at most {args.count} requests or {args.seconds:g} s; {args.rounds} rounds alternating the "
          f"servers; Swapgraph workers: {workers}; cores: {os.cpu_count()}; load average {_load_average()}"
          + (f"; before: {args.compare.resolve()}" if args.compare else ""), flush=True)
    servers: dict[str, subprocess.Popen] = {}
    urls: dict[str, str] = {}
    data_dirs: list[Path] = []
    cold: dict[str, float] = {}
    runs: dict[tuple[str, str, int], list[dict]] = {}
    per_path: dict[str, dict] = {}
    try:
        started = time.monotonic()
        servers["oxigraph"], urls["oxigraph"] = start_oxigraph(store)
        cold["oxigraph"] = _wait_up(urls["oxigraph"], servers["oxigraph"], started)
        cold_cpu = {"oxigraph": cpu_seconds(servers["oxigraph"].pid)}
        checkouts = {"before": args.compare.resolve()} if args.compare else {}
        checkouts["swapgraph"] = ROOT
        for name, checkout in checkouts.items():  # one after the other: each start has the cores it can get
            started = time.monotonic()
            servers[name], urls[name], data_dir = start_swapgraph(store, workers, checkout)
            data_dirs.append(data_dir)
            cold[name] = _wait_up(urls[name], servers[name], started)
            cold_cpu[name] = cpu_seconds(servers[name].pid)
        print("cold start (process start to first answered lookup, one after the other): "
              + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in cold.items())
              + "; CPU used by then (server and children): "
              + ", ".join(f"{name} {cold_cpu[name]:.2f} s" for name in cold))
        print("memory after start:\n" + "\n".join(_memory_line(name, p.pid) for name, p in servers.items()), flush=True)
        for kind, concurrency, round_ in itertools.product(args.workload, args.concurrency, range(args.rounds)):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for name in order:
                cpu = cpu_seconds(servers[name].pid)
                result = run_load(urls[name], concurrency, args.count, args.seconds, kind)
                result["cpu_us"] = (cpu_seconds(servers[name].pid) - cpu) / max(1, result["requests"]) * 1e6
                runs.setdefault((kind, name, concurrency), []).append(result)
                print(f"{kind:>6} {name:>9} c={concurrency:<3} {result['requests']:>6} req in {result['seconds']:.2f} s: "
                      f"{result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                      f"CPU {result['cpu_us']:6.0f} us/req  load {_load_average()}"
                      + (f"  NON-200: {result['failures']} {result['statuses']}" if result["failures"] else ""),
                      flush=True)
        print("memory after the load:\n" + "\n".join(_memory_line(name, p.pid) for name, p in servers.items()))
        swapgraph_url = urls["swapgraph"]
        timed = [(name, answerable(swapgraph_url, path)) for name, path in questions()] if args.questions else []
        timed += [(path, path) for path in args.pages]
        for name, path in timed:  # printed as measured: a slow question at scale takes its whole budget
            per_path[name] = r = run_load(swapgraph_url, 1, 50, min(args.seconds, 3.0), path)
            print(f"  {name}: {r['requests']} requests, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
                  + (f", non-200 {r['failures']} {r['statuses']}" if r["failures"] else "") + f"  ({path})", flush=True)
        if timed:
            print("memory after the questions and pages:\n" + _memory_line("swapgraph", servers["swapgraph"].pid))
    finally:
        for process in servers.values():
            stop(process)
        for data_dir in data_dirs:
            shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    _print_medians(runs, args.workload, args.concurrency, [name for name in servers if name != "oxigraph"])
    _print_paths(per_path, args.seconds)


def _load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _print_medians(runs: dict, workloads: list[str], levels: list[int], swapgraphs: list[str]) -> None:
    """Per workload and level, the medians over rounds of each server, and each Swapgraph's ratios to
    Oxigraph: throughput (aim >= 0.7), p99 (aim <= 1.5) and CPU per request."""
    from statistics import median

    print("\nmedians over rounds (ratios: to oxigraph; CPU: the server and its child processes, per request)")
    print(f"{'workload':>8} {'c':>3} {'server':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>10} "
          f"{'req/s ratio (>=0.7)':>19} {'p99 ratio (<=1.5)':>17} {'CPU ratio':>9}")
    for kind, concurrency in itertools.product(workloads, levels):
        ox = {k: median(r[k] for r in runs[kind, "oxigraph", concurrency]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
        for name in ["oxigraph", *swapgraphs]:
            m = {k: median(r[k] for r in runs[kind, name, concurrency]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
            ratios = "" if name == "oxigraph" else (
                f" {m['rps'] / ox['rps']:>19.2f} {m['p99_ms'] / ox['p99_ms']:>17.2f} {m['cpu_us'] / ox['cpu_us']:>9.2f}")
            print(f"{kind:>8} {concurrency:>3} {name:>9} {m['rps']:>8.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} "
                  f"{m['cpu_us']:>10.0f}{ratios}")


def _print_paths(per_path: dict, seconds: float) -> None:
    if not per_path:
        return
    print(f"\nSwapgraph alone, one request at a time (at most 50 or {min(seconds, 3.0):g} s each; the "
          "few warm-up requests before them not counted)")
    print(f"{'question or page':>28} {'requests':>8} {'p50 ms':>9} {'p99 ms':>9} {'non-200':>8}")
    for name, r in per_path.items():
        print(f"{name:>28} {r['requests']:>8} {r['p50_ms']:>9.2f} {r['p99_ms']:>9.2f} "
              f"{r['failures']:>8}{' ' + str(r['statuses']) if r['failures'] else ''}")


if __name__ == "__main__":
    main()

"""Mixed load and soak against a real `python -m api.run` on loopback: throughput, p50/p99 and statuses
per concurrency level, /health p99 with runaway queries in flight, and the HTTP process's RSS in a soak.

    python -m bench.load [--levels 1,16,64] [--seconds 10] [--count 20000] [--soak-seconds 60]

Each simulated client has its own address (sent as X-Forwarded-For, which the server is told to trust
from 127.0.0.1), so the per-client fair share applies as it would to distinct users. The mix: /health,
small /sparql queries, canned questions (with their example parameters), pages; in the runaway round a
few extra clients each keep a query in flight that can only end at the time limit. Everything is
bounded in time and count.

The clients are dealt out among `--processes` generator processes (asyncio and httpx each), so that one
process's event loop does not queue every response. /health is timed twice: inside the mix (which
includes the generators' own event-loop delays, reported as their loop lag) and by a probe in a separate process that asks for it alone, one
request at a time, as a load balancer's health check does. Each round also reports the CPU seconds
used by the generator, the HTTP process and the query workers, and the machine's load average (the
cores are shared), so that a slow round can be told from a busy machine. Rounds are numbered: round 1
is the first burst a freshly started server sees (what it has not warmed at start-up shows there).
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

from bench.sparql import ROOT, _wait_up, build_store, free_port, stop

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = [
    "ASK { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s a ?t } LIMIT 10",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
]


def canned_requests(queries_dir: Path) -> list[tuple[str, str, dict | None]]:
    """Every canned question, with its header's example parameters (one that needs a parameter and
    has no example is left out: asked bare it would only measure a 422)."""
    from graph.catalog import Catalog

    requests = []
    for query in Catalog.load(queries_dir).queries.values():
        params = dict(parse_qsl(query.example or "", keep_blank_values=True))
        if all(p.name in params for p in query.params if p.required):
            requests.append(("canned", f"/queries/{query.name}", params or None))
    return requests


def mix(canned: list[tuple[str, str, dict | None]]) -> list[tuple[str, str, dict | None]]:
    """(kind, path, params) requests drawn at random, heavier on queries."""
    requests = [("health", "/health", None)] * 2
    requests += [("sparql", "/sparql", {"query": q}) for q in SMALL] * 2
    requests += canned
    requests += [("page", "/", None), ("page", "/exchanges", None)]
    return requests


def status_of(response: httpx.Response) -> str | int:
    """The status, with the error's stable code for a refusal or failure ("503 overloaded")."""
    if response.status_code < 400:
        return response.status_code
    try:
        return f"{response.status_code} {response.json()['error']}"
    except (ValueError, KeyError, TypeError):
        return response.status_code


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client_loop(http: httpx.AsyncClient, address: str, requests, until: float, budget: list[int],
                      latencies: dict, statuses: Counter) -> None:
    headers = {"X-Forwarded-For": address, "Accept": "application/json"}
    while time.monotonic() < until and budget[0] > 0:
        budget[0] -= 1
        kind, path, params = random.choice(requests)
        started = time.monotonic()
        try:
            response = await http.get(path, params=params, headers=headers)
            statuses[status_of(response)] += 1
        except httpx.TransportError as exc:
            statuses[type(exc).__name__] += 1
            continue
        latencies.setdefault(kind, []).append(time.monotonic() - started)


async def runaway_loop(http: httpx.AsyncClient, address: str, until: float, statuses: Counter) -> None:
    while time.monotonic() < until:
        try:
            response = await http.get("/sparql", params={"query": RUNAWAY}, headers={"X-Forwarded-For": address})
            statuses[f"runaway {status_of(response)}"] += 1
        except httpx.TransportError as exc:
            statuses[f"runaway {type(exc).__name__}"] += 1


async def _fire(url: str, clients: list[str], runaways: list[str], seconds: float, count: int, requests) -> dict:
    """One generator process's share of a round: its clients' latencies, statuses and own loop lag."""
    connections = len(clients) + len(runaways) + 4
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    cpu, started = sum(os.times()[:2]), time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        latencies, statuses, budget, lags = {}, Counter(), [count], []
        until = time.monotonic() + seconds
        tasks = [client_loop(http, address, requests, until, budget, latencies, statuses) for address in clients]
        tasks += [runaway_loop(http, address, until, statuses) for address in runaways]
        await asyncio.gather(*tasks, loop_lag(until, lags))
    return {"latencies": latencies, "statuses": dict(statuses), "lags": lags, "cpu": sum(os.times()[:2]) - cpu,
            "elapsed": time.monotonic() - started}


def fire_main() -> None:
    """The --fire mode: a share of a round, described as JSON on stdin, answered as JSON on stdout."""
    spec = json.load(sys.stdin)
    requests = [tuple(request) for request in spec["requests"]]
    print(json.dumps(asyncio.run(_fire(spec["url"], spec["clients"], spec["runaways"], spec["seconds"],
                                       spec["count"], requests))))


def _merge(shares: list[dict], clients: int, runaways: int) -> dict:
    latencies: dict[str, list[float]] = {}
    statuses: Counter = Counter()
    for share in shares:
        for kind, values in share["latencies"].items():
            latencies.setdefault(kind, []).extend(values)
        statuses.update(share["statuses"])
    every = [v for values in latencies.values() for v in values]
    elapsed = max(share["elapsed"] for share in shares)
    return {"clients": clients, "runaways": runaways, "requests": len(every), "rps": len(every) / elapsed,
            "p50": percentile(every, 0.5), "p99": percentile(every, 0.99),
            "health_p99": percentile(latencies.get("health", []), 0.99), "statuses": dict(statuses),
            "lag_p99": percentile([lag for share in shares for lag in share["lags"]], 0.99),
            "generator_cpu": sum(share["cpu"] for share in shares)}


async def loop_lag(until: float, lags: list[float], tick: float = 0.01) -> None:
    """How late the generator's own event loop wakes up: a latency measured in the mix includes it."""
    while time.monotonic() < until:
        started = time.monotonic()
        await asyncio.sleep(tick)
        lags.append(time.monotonic() - started - tick)


def round_of(url: str, clients: int, seconds: float, count: int, requests, runaways: int = 0,
             server: int | None = None, processes: int = 1) -> dict:
    """One round of the mix from `processes` generator processes (the clients dealt out among them), with
    the /health probe beside them in a process of its own, and the CPU seconds each side used."""
    probe = subprocess.Popen([sys.executable, "-m", "bench.load", "--probe", url, "--seconds", str(seconds)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    addresses = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(clients)]
    runaway_addresses = [f"10.9.0.{i + 1}" for i in range(runaways)]
    processes = max(1, min(processes, clients))
    before = cpu_seconds(server), os.getloadavg()[0]
    generators = []
    for n in range(processes):
        spec = {"url": url, "clients": addresses[n::processes], "runaways": runaway_addresses[n::processes],
                "seconds": seconds, "count": count // processes, "requests": requests}
        generator = subprocess.Popen([sys.executable, "-m", "bench.load", "--fire"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        generator.stdin.write(json.dumps(spec))
        generator.stdin.close()
        generators.append(generator)
    shares = [json.loads(generator.stdout.read()) for generator in generators]
    for generator in generators:
        generator.wait(timeout=30)
    after = cpu_seconds(server), os.getloadavg()[0]
    probed = json.loads(probe.communicate(timeout=seconds + 30)[0])
    row = _merge(shares, clients, runaways)
    return {**row, "processes": processes, "probe_p99": probed["p99"], "probe_statuses": probed["statuses"],
            "http_cpu": after[0][0] - before[0][0], "workers_cpu": after[0][1] - before[0][1],
            "load": (before[1], after[1])}


def probe(url: str, seconds: float, pause: float = 0.02) -> dict:
    """/health alone, one request at a time on one connection, for `seconds`: its p99 and statuses."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    latencies, statuses = [], Counter()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            connection.request("GET", "/health", headers={"X-Forwarded-For": "10.8.0.1"})
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
        except (OSError, http.client.HTTPException) as exc:
            statuses[type(exc).__name__] += 1
            connection.close()
            continue
        latencies.append(time.monotonic() - started)
        time.sleep(pause)
    return {"requests": len(latencies), "p99": percentile(latencies, 0.99), "statuses": dict(statuses)}


def cpu_seconds(pid: int | None) -> tuple[float, float]:
    """CPU seconds used so far by a process, and by its children (the query workers: those running, and
    those killed and reaped, which the kernel adds to the parent's account)."""
    if pid is None:
        return 0.0, 0.0
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == pid]
    return _cpu(pid), _cpu(pid, reaped=True) + sum(_cpu(child) for child in children)


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _cpu(pid: int, reaped: bool = False) -> float:
    """utime + stime (or, reaped, cutime + cstime: the children it has waited for), in seconds."""
    fields = _stat(pid)
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def sample_rss(pid: int, seconds: float, samples: list[float], parts: int = 10) -> None:
    """The process's RSS at the start of the soak and after each tenth of it."""
    samples.append(rss_mb(pid))
    for _ in range(parts):
        time.sleep(seconds / parts)
        samples.append(rss_mb(pid))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(store: Path, workers: int, query_timeout: float) -> tuple[subprocess.Popen, str]:
    data_dir = Path(tempfile.mkdtemp(prefix="swapgraph-load-"))
    (data_dir / "current").symlink_to(store.resolve())
    port = free_port()
    env = {**os.environ, "SWAPGRAPH_DATA_DIR": str(data_dir), "SWAPGRAPH_HOST": "127.0.0.1",
           "SWAPGRAPH_PORT": str(port), "SWAPGRAPH_WORKERS": str(workers),
           "SWAPGRAPH_QUERY_TIMEOUT": str(query_timeout), "SWAPGRAPH_CLIENT_HEADER": "X-Forwarded-For",
           "SWAPGRAPH_TRUSTED_PROXIES": "127.0.0.1", "SWAPGRAPH_RELOAD_INTERVAL": "0"}
    process = subprocess.Popen([sys.executable, "-m", "api.run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_up(url, process)
    return process, url


HEADER = ("| round | clients | generator processes | runaway queries | requests | req/s | p50 ms | p99 ms | /health p99 ms (probe) "
          "| /health p99 ms (in mix) | generator loop lag p99 ms | statuses | CPU s: generator / HTTP / workers | load average |")


def show(row: dict, number: int) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row["statuses"].items(), key=str))
    probe_failures = {k: v for k, v in row["probe_statuses"].items() if k != "200"}
    probed = f"{row['probe_p99'] * 1000:.1f}" + (f" ({probe_failures})" if probe_failures else "")
    named = f"{number} (first after start)" if number == 1 else str(number)
    return (f"| {named} | {row['clients']} | {row['processes']} | {row['runaways']} | {row['requests']} | {row['rps']:.0f} | "
            f"{row['p50'] * 1000:.1f} | {row['p99'] * 1000:.1f} | {probed} | {row['health_p99'] * 1000:.1f} | "
            f"{row['lag_p99'] * 1000:.1f} | {statuses} | {row['generator_cpu']:.1f} / {row['http_cpu']:.1f} / {row['workers_cpu']:.1f} | "
            f"{row['load'][0]:.1f} → {row['load'][1]:.1f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level (at most)")
    parser.add_argument("--count", type=int, default=20_000, help="requests per level (at most)")
    parser.add_argument("--runaways", type=int, default=2, help="runaway queries in flight in the last round")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--query-timeout", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=4,
                        help="generator processes the clients are dealt out among (the probe is one more)")
    parser.add_argument("--probe", metavar="URL", help=argparse.SUPPRESS)  # internal: the /health probe
    parser.add_argument("--fire", action="store_true", help=argparse.SUPPRESS)  # internal: a generator's share
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.seconds)))
        return
    if args.fire:
        return fire_main()
    requests = mix(canned_requests(ROOT / "queries"))
    with tempfile.TemporaryDirectory(prefix="swapgraph-load-store-") as workdir:
        store = build_store(Path(workdir))
        process, url = start_server(store, args.workers, args.query_timeout)
        try:
            levels = [int(level) for level in args.levels.split(",")]
            print(f"mixed load, {args.workers} workers, at most {args.seconds:g} s or {args.count} requests per level; "
                  f"{os.cpu_count()} cores")
            print(HEADER)
            print("|---" * (HEADER.count("|") - 1) + "|")
            for number, level in enumerate(levels, 1):
                print(show(round_of(url, level, args.seconds, args.count, requests, server=process.pid,
                                    processes=args.processes), number), flush=True)
            print(show(round_of(url, levels[-1], args.seconds, args.count, requests, args.runaways,
                                server=process.pid, processes=args.processes), len(levels) + 1), flush=True)
            samples: list[float] = []
            sampler = threading.Thread(target=sample_rss, args=(process.pid, args.soak_seconds, samples), daemon=True)
            sampler.start()
            soak = round_of(url, 16, args.soak_seconds, 10**9, requests, server=process.pid,
                            processes=args.processes)
            sampler.join()
            print(f"soak: {args.soak_seconds:g} s at 16 clients, {soak['requests']} requests, statuses "
                  f"{soak['statuses']}; /health p99 {soak['probe_p99'] * 1000:.1f} ms (probe); load average "
                  f"{soak['load'][0]:.1f} → {soak['load'][1]:.1f}; HTTP process RSS {samples[0]:.1f} MiB at start, "
                  f"{samples[-1]:.1f} MiB at end; every tenth of the soak: "
                  + " ".join(f"{mib:.1f}" for mib in samples))
        finally:
            stop(process)


if __name__ == "__main__":
    main()

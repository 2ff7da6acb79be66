"""Mixed load and soak against a real `python -m api.run` on loopback: throughput, p50/p99 and statuses
per concurrency level, /health p99 with runaway queries in flight, and the HTTP process's RSS in a soak.

    python -m bench.load [--levels 1,16,64] [--seconds 10] [--count 20000] [--soak-seconds 60]

Each simulated client has its own address (sent as X-Forwarded-For, which the server is told to trust
from 127.0.0.1), so the per-client fair share applies as it would to distinct users. The mix: /health,
small /sparql queries, canned questions, pages; in the runaway round a few extra clients each keep a
query in flight that can only end at the time limit. Everything is bounded in time and count.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.sparql import ROOT, _wait_up, build_store, free_port, stop

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = [
    "ASK { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s a ?t } LIMIT 10",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
]


def mix(canned: list[str]) -> list[tuple[str, str, dict | None]]:
    """(kind, path, params) requests drawn at random, heavier on queries."""
    requests = [("health", "/health", None)] * 2
    requests += [("sparql", "/sparql", {"query": q}) for q in SMALL] * 2
    requests += [("canned", f"/queries/{name}", None) for name in canned]
    requests += [("page", "/", None), ("page", "/exchanges", None)]
    return requests


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
            statuses[response.status_code] += 1
        except httpx.TransportError as exc:
            statuses[type(exc).__name__] += 1
            continue
        latencies.setdefault(kind, []).append(time.monotonic() - started)


async def runaway_loop(http: httpx.AsyncClient, address: str, until: float, statuses: Counter) -> None:
    while time.monotonic() < until:
        try:
            response = await http.get("/sparql", params={"query": RUNAWAY}, headers={"X-Forwarded-For": address})
            statuses[f"runaway {response.status_code}"] += 1
        except httpx.TransportError as exc:
            statuses[f"runaway {type(exc).__name__}"] += 1


async def round_of(url: str, clients: int, seconds: float, count: int, requests, runaways: int = 0) -> dict:
    limits = httpx.Limits(max_connections=clients + runaways + 4, max_keepalive_connections=clients + runaways + 4)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        latencies, statuses, budget = {}, Counter(), [count]
        started = time.monotonic()
        until = started + seconds
        tasks = [client_loop(http, f"10.0.{i // 250}.{i % 250 + 1}", requests, until, budget, latencies, statuses)
                 for i in range(clients)]
        tasks += [runaway_loop(http, f"10.9.0.{i + 1}", until, statuses) for i in range(runaways)]
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    every = [v for values in latencies.values() for v in values]
    return {"clients": clients, "runaways": runaways, "requests": len(every), "rps": len(every) / elapsed,
            "p50": percentile(every, 0.5), "p99": percentile(every, 0.99),
            "health_p99": percentile(latencies.get("health", []), 0.99), "statuses": dict(statuses)}


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


def show(row: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row["statuses"].items(), key=str))
    return (f"| {row['clients']} | {row['runaways']} | {row['requests']} | {row['rps']:.0f} | "
            f"{row['p50'] * 1000:.1f} | {row['p99'] * 1000:.1f} | {row['health_p99'] * 1000:.1f} | {statuses} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level (at most)")
    parser.add_argument("--count", type=int, default=20_000, help="requests per level (at most)")
    parser.add_argument("--runaways", type=int, default=2, help="runaway queries in flight in the last round")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--query-timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    canned = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    requests = mix(canned)
    with tempfile.TemporaryDirectory(prefix="swapgraph-load-store-") as workdir:
        store = build_store(Path(workdir))
        process, url = start_server(store, args.workers, args.query_timeout)
        try:
            levels = [int(level) for level in args.levels.split(",")]
            print(f"mixed load, {args.workers} workers, at most {args.seconds:g} s or {args.count} requests per level")
            print("| clients | runaway queries | requests | req/s | p50 ms | p99 ms | /health p99 ms | statuses |")
            print("|---|---|---|---|---|---|---|---|")
            for level in levels:
                print(show(asyncio.run(round_of(url, level, args.seconds, args.count, requests))), flush=True)
            print(show(asyncio.run(round_of(url, levels[-1], args.seconds, args.count, requests, args.runaways))),
                  flush=True)
            start_rss = rss_mb(process.pid)
            soak = asyncio.run(round_of(url, 16, args.soak_seconds, 10**9, requests))
            end_rss = rss_mb(process.pid)
            print(f"soak: {args.soak_seconds:g} s at 16 clients, {soak['requests']} requests, statuses "
                  f"{soak['statuses']}; HTTP process RSS {start_rss:.1f} MiB at start, {end_rss:.1f} MiB at end")
        finally:
            stop(process)


if __name__ == "__main__":
    main()

"""Benchmark: the same queries through Swapgraph on each store backend and through each engine directly.

    python -m bench.backends                              # builds the corpus graph into a temporary folder
    python -m bench.backends --store data/current --concurrency 1 8 --seconds 8 --publish-store /tmp/d/current

In one run: Swapgraph on the embedded store, Swapgraph on an Oxigraph server, Swapgraph on Virtuoso 7,
and each engine's own endpoint sent exactly the requests Swapgraph sends it (rewritten query text,
default-graph-uri / named-graph-uri of the served version): the ratio Swapgraph/engine is the cost of
the service in front of the engine. Then the time to publish a build to each backend (`--publish-store`:
a larger build, e.g. one made from `python -m bench.generate`). Engines and servers bind 127.0.0.1 on
free ports, with temporary databases (tests/backends/servers.py starts the engines).
"""

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.sparql import ROOT, _connection, _request, _wait_up, build_store, free_port, stop, workload
from tests.backends import servers

# Canned questions Virtuoso 7.2 cannot answer (tests/backends/conftest.py DEVIATIONS): left out of the
# canned workload for every target, so that all answer the same queries.
NOT_ON_VIRTUOSO = {"releases-by-citizenship", "search"}


def queries(kind: str) -> list[tuple[str, str, str]]:
    return [q for q in workload(kind) if q[0] not in NOT_ON_VIRTUOSO]


def start_swapgraph(env_settings: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SWAPGRAPH_HOST": "127.0.0.1", "SWAPGRAPH_PORT": str(port),
           "SWAPGRAPH_WORKERS": str(workers), "SWAPGRAPH_QUEUE_WAIT": "10", "SWAPGRAPH_LIGHT_WORKERS": "0",
           "SWAPGRAPH_CLIENT_MAX_QUERIES": "0", "SWAPGRAPH_CLIENT_QUERY_SECONDS": "0",
           **{f"SWAPGRAPH_{k.upper()}": str(v) for k, v in env_settings.items()}}
    process = subprocess.Popen([sys.executable, "-m", "api.run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def direct_requests(engine: servers.Engine, dataset: str, kind: str) -> list[bytes]:
    """The requests Swapgraph's worker sends the engine for the workload, as raw HTTP/1.1."""
    from api.dataset import backend_for
    from api.settings import Settings

    backend = backend_for(Settings(**engine.settings(), remote_dataset=dataset))
    reader = backend.current().reader.open()
    quirks = backend.endpoint.quirks()
    url = backend.endpoint.query_url
    host_port, path = url.split("//", 1)[1].split("/", 1)
    requests = []
    for _, query, accept in queries(kind):
        _, text, default, named = reader.request_for(query, union=True)
        form = [("query", text)] + [("default-graph-uri", g) for g in default] + \
            [("named-graph-uri", g) for g in named] + list(quirks.query_parameters(backend.endpoint.timeout).items())
        body = urlencode(form).encode()
        head = (f"POST /{path} HTTP/1.1\r\nHost: {host_port}\r\nAccept: {accept}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n")
        requests.append(head.encode() + b"\r\n" + body)
    reader.connection.close()
    return requests


def swapgraph_requests(url: str, kind: str) -> list[bytes]:
    host, port = url.split("//", 1)[1].split(":")
    return [_request(host, port, query, accept) for _, query, accept in queries(kind)]


async def _load(url: str, requests: list[bytes], concurrency: int, count: int, seconds: float) -> dict:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    warm = [len(requests) * 2]
    await asyncio.gather(*(_connection(host, int(port), requests, warm, time.perf_counter() + seconds, [], [])
                           for _ in range(min(concurrency, 2))))
    latencies, failures, budget = [], [], [count]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, int(port), requests[c % len(requests):] + requests[:c % len(requests)],
                                       budget, started + seconds, latencies, failures) for c in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "failures": len(failures), "statuses": sorted(set(failures))}


def publish_times(store: Path, engines: dict, label: str) -> list[tuple[str, int, float]]:
    """Seconds to publish the build `store` to each backend (a fresh dataset name on each engine)."""
    import pyoxigraph as ox

    from api.dataset import backend_for
    from api.settings import Settings
    from graph.store import StoreLayout

    triples = len(ox.Store.read_only(str(store)))
    rows = []
    data_dir = Path(tempfile.mkdtemp(prefix="swapgraph-bench-publish-"))
    layout = StoreLayout(data_dir)
    layout.builds.mkdir(parents=True)
    linked = layout.builds / store.name
    linked.symlink_to(store)
    started = time.perf_counter()
    layout.publish(linked)  # the embedded store's publish: the build is already where it is read
    rows.append(("embedded", triples, time.perf_counter() - started))
    for kind, engine in engines.items():
        backend = backend_for(Settings(**engine.settings(), remote_dataset=f"publish-{label}"))
        started = time.perf_counter()
        backend.publish(store)
        rows.append((kind, triples, time.perf_counter() - started))
    shutil.rmtree(data_dir, ignore_errors=True)
    return rows


def synthetic_build(folder: Path, triples: int) -> Path:
    """A build folder of `triples` triples over the project's named graphs: entities with labels,
    typed numbers and dates, evidence quotes, and one blank node in ten (as OWL axioms have)."""
    import pyoxigraph as ox

    from vocab import Graphs

    graphs = [ox.NamedNode(str(g)) for g in Graphs.ALL]
    label, count, quote = (ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                           ox.NamedNode("https://w3id.org/swapgraph/ontology#count"),
                           ox.NamedNode("https://w3id.org/swapgraph/ontology#quote"))

    def quads():
        for i in range(triples):
            subject = ox.BlankNode(f"b{i}") if i % 10 == 0 else ox.NamedNode(f"https://w3id.org/swapgraph/id/gen/{i // 3}")
            kind = i % 3
            obj = (ox.Literal(f"Entity {i}", language="en") if kind == 0 else
                   ox.Literal(str(i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")) if kind == 1
                   else ox.Literal(f"The text says {i} people were released on day {i % 28 + 1}."))
            yield ox.Quad(subject, (label, count, quote)[kind], obj, graphs[i % len(graphs)])

    folder = folder / f"synthetic-{triples}"
    store = ox.Store(str(folder))
    store.bulk_extend(quads())
    store.flush()
    del store
    import gc

    gc.collect()
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", type=Path, help="the build folder to serve (default: build the corpus graph)")
    parser.add_argument("--publish-store", type=Path, help="a larger build folder whose publish time to measure")
    parser.add_argument("--publish-triples", type=int, nargs="*", default=[],
                        help="also measure publishing synthetic builds of these sizes (triples)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--count", type=int, default=3000, help="requests per run at most")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per run at most")
    parser.add_argument("--workers", type=int, default=2, help="Swapgraph query workers")
    parser.add_argument("--workload", nargs="+", choices=("small", "canned"), default=["small", "canned"])
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="swapgraph-bench-backends-"))
    store = args.store.resolve() if args.store else build_store(workdir / "data")
    data_dir = workdir / "serve"
    data_dir.mkdir()
    (data_dir / "current").symlink_to(store)
    print(f"store {store}; per run at most {args.count} requests or {args.seconds:g} s; Swapgraph workers: "
          f"{args.workers}; cores: {os.cpu_count()}; canned workload without {', '.join(sorted(NOT_ON_VIRTUOSO))} "
          "(Virtuoso cannot answer them)")
    engines, processes = {}, []
    try:
        engines["oxigraph"] = servers.start_oxigraph(workdir / "oxigraph")
        engines["virtuoso"] = servers.start_virtuoso(workdir / "virtuoso")
        publishes = publish_times(store, engines, "served")
        for engine in engines.values():  # the served dataset
            from api.dataset import backend_for
            from api.settings import Settings

            backend_for(Settings(**engine.settings(), remote_dataset="bench")).publish(store)
        targets = {}
        sg, url = start_swapgraph({"data_dir": data_dir}, args.workers)
        processes.append(sg)
        targets["swapgraph-embedded"] = (url, sg, lambda kind, url=url: swapgraph_requests(url, kind))
        for kind, engine in engines.items():
            sg, url = start_swapgraph({**engine.settings(), "remote_dataset": "bench", "data_dir": data_dir},
                                      args.workers)
            processes.append(sg)
            targets[f"swapgraph-{kind}"] = (url, sg, lambda k, url=url: swapgraph_requests(url, k))
            targets[f"{kind}-direct"] = (engine.base_url, None,
                                         lambda k, engine=engine: direct_requests(engine, "bench", k))
        for url, process, _ in targets.values():
            if process is not None:
                _wait_up(url, process)
        results = {}
        for kind, concurrency in itertools.product(args.workload, args.concurrency):
            for name, (url, _, make) in targets.items():
                result = asyncio.run(_load(url, make(kind), concurrency, args.count, args.seconds))
                results[name, kind, concurrency] = result
                print(f"{kind:>6} c={concurrency:<2} {name:>19}: {result['requests']:>5} req {result['rps']:8.1f} req/s "
                      f"p50 {result['p50_ms']:8.2f} ms p99 {result['p99_ms']:8.2f} ms"
                      + (f"  NON-200: {result['failures']} {result['statuses']}" if result["failures"] else ""))
        if args.publish_store:
            publishes += publish_times(args.publish_store.resolve(), engines, "large")
        for size in args.publish_triples:
            publishes += publish_times(synthetic_build(workdir, size), engines, f"synthetic-{size}")
    finally:
        for process in processes:
            stop(process)
        for engine in engines.values():
            engine.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{'workload':>8} {'c':>2} {'target':>19} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'fail':>5} "
          f"{'rps vs engine':>13} {'p99 vs engine':>13} {'rps vs embedded':>15}")
    for kind, concurrency in itertools.product(args.workload, args.concurrency):
        embedded = results["swapgraph-embedded", kind, concurrency]
        for name in targets:
            r = results[name, kind, concurrency]
            engine = name.split("-")[1] if name.startswith("swapgraph-") else None
            direct = results.get((f"{engine}-direct", kind, concurrency)) if engine else None
            print(f"{kind:>8} {concurrency:>2} {name:>19} {r['rps']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                  f"{r['failures']:>5} "
                  + (f"{r['rps'] / direct['rps']:>13.2f} {r['p99_ms'] / direct['p99_ms']:>13.2f}" if direct
                     else f"{'':>13} {'':>13}")
                  + f" {r['rps'] / embedded['rps']:>15.2f}")
    print(f"\n{'publish to':>10} {'triples':>9} {'seconds':>8}")
    for kind, triples, seconds in publishes:
        print(f"{kind:>10} {triples:>9} {seconds:>8.2f}")


if __name__ == "__main__":
    main()

"""Benchmark: the build's summary step (graph.summary.summarize) against another checkout's, on one store.

    python -m bench.summary --build data/current --compare /work/base --out /tmp/summary-bench

Loads the build's dump (swapgraph.nq) into one memory store, as the build summarizes its memory
store, then runs the other checkout's graph/summary.py (imported by path, with this checkout's other
modules) and this checkout's in turn, CPU and wall seconds each, and writes both summaries' files
under --out/before and --out/after to compare them byte for byte. The report's figures, which
summarize copies through, are read from the build's own summary.json.
"""

import argparse
import importlib.util
import json
import os
import resource
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox

from graph import summary as this


def report_of(build: Path) -> SimpleNamespace:
    """The build report's figures that summarize reads, from the build's summary.json."""
    saved = json.loads((build / this.SUMMARY_NAME).read_text(encoding="utf-8"))
    per_predicate = Counter({(p, rule): n for p, rules in saved["counts"]["derived"].items() for rule, n in rules.items()})
    inference = SimpleNamespace(inferred=saved["inferred"], per_rule=Counter(saved["by_rule"]),
                                per_predicate_rule=per_predicate)
    return SimpleNamespace(documents=saved["documents"], facts=saved["facts"], graph_sizes=saved["graphs"],
                           class_counts=saved["classes"], inference=inference)


def module_of(checkout: Path):
    spec = importlib.util.spec_from_file_location("baseline_summary", checkout / "graph" / "summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(module, store: ox.Store, report, out: Path) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    module.write_summary(out, module.summarize(store, report))
    return time.process_time() - cpu, time.perf_counter() - wall


def sorted_keys(value, rows: bool = False):
    """A JSON value with every object's keys sorted (the orders a store's hash gave, made canonical);
    with `rows`, every list's items sorted too."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key], rows) for key in sorted(value)}
    if isinstance(value, list):
        items = [sorted_keys(item, rows) for item in value]
        return sorted(items, key=json.dumps) if rows else items
    return value


def compare(before: Path, after: Path) -> list[str]:
    lines = []
    for name in sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()}):
        a, b = (before / name).read_bytes() if (before / name).exists() else None, \
            (after / name).read_bytes() if (after / name).exists() else None
        if a == b:
            verdict = "identical"
        elif a is None or b is None:
            verdict = "only " + ("after" if a is None else "before")
        elif name.endswith(".json") and sorted_keys(json.loads(a)) == sorted_keys(json.loads(b)):
            verdict = "same but for the order of keys"
        elif name.endswith(".json") and sorted_keys(json.loads(a), True) == sorted_keys(json.loads(b), True):
            verdict = "same but for the order of keys and of list items"
        else:
            verdict = "DIFFERENT"
        lines.append(f"  {name:28s} {verdict}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a build folder with swapgraph.nq and summary.json")
    parser.add_argument("--compare", type=Path, required=True, metavar="CHECKOUT", help="the baseline checkout")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    build = args.build.resolve()
    wall = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(build / this.DUMP_NAME), format=ox.RdfFormat.N_QUADS, lenient=True)
    print(f"{build}: {len(store)} quads loaded in {time.perf_counter() - wall:.1f} s; load average {os.getloadavg()}",
          flush=True)
    report = report_of(build)
    seconds = {}
    for name, module in (("before", module_of(args.compare.resolve())), ("after", this)):
        (args.out / name).mkdir(parents=True, exist_ok=True)
        seconds[name] = timed(module, store, report, args.out / name)
        print(f"{name:6s} summarize+write cpu {seconds[name][0]:7.2f} s  wall {seconds[name][1]:7.2f} s; "
              f"load average {os.getloadavg()}", flush=True)
    print(f"after/before: cpu {seconds['after'][0] / seconds['before'][0]:.2f}x  "
          f"wall {seconds['after'][1] / seconds['before'][1]:.2f}x")
    print("\n".join(compare(args.out / "before", args.out / "after")))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()

"""Benchmark: the whole build on generated corpora, step by step, and the inference engines side by side.

    python -m bench.build                         # 10k (the cheap smoke run)
    python -m bench.build --sizes 10000 100000 1000000 --owlrl-timeout 300

For each size, bench/generate.py writes a corpus (kept under --work, reused when the size and seed
match), then a child process builds it as `swapgraph build` does and reports, per step, the time
and the peak RSS of that step (the kernel's high-water mark, reset at each step). Then each
inference engine computes the closure of the same asserted graph in a child process of its own:
the project's engine, owlrl (the oracle of the tests) and `reasonable` (a Rust OWL 2 RL reasoner),
the last two followed by the project's SPARQL rules (evaluated by Oxigraph, in rounds until nothing
is new), and their inferred domain facts are compared for equality; the engine of an earlier commit
(--reference, graph/inference.py as it was there) runs on the same store, and the two whole inferred
graphs are compared triple for triple; the project's engine prints its CPU seconds per step (read,
pattern rounds, index, store writes, SPARQL rounds, records). Between sizes the table gives
the growth exponent log(t2/t1)/log(n2/n1) of each step: 1 is linear.
"""

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("swapgraph", "reference", "reasonable", "owlrl")
REFERENCE = "feade55"  # the engine the current one must infer exactly the same triples as (--reference)


# --- measuring, in the child ----------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset_peak() (VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


class StepClock:
    """The build's progress callback: each call ends the step before and starts a new one."""

    def __init__(self):
        self.steps: dict[str, dict] = {}
        self.current: str | None = None
        self.started = 0.0

    def __call__(self, name: str) -> None:
        self.stop()
        self.current, self.started = name.strip().split()[0], time.perf_counter()
        reset_peak()

    def stop(self) -> None:
        if self.current:
            self.steps[self.current] = {"seconds": time.perf_counter() - self.started, "rss_mb": peak_rss_mb()}
            self.current = None


def sources(corpus: Path):
    """The generated corpus with the project's own ontology, shapes and rules (not the corpus's copy)."""
    from graph.build import SourcePaths

    generated = SourcePaths.under(corpus)
    return replace(SourcePaths(), documents=generated.documents, annotations=generated.annotations,
                   registry=generated.registry)


def child_build(corpus: Path) -> dict:
    from graph.build import build
    from graph.store import StoreLayout

    clock = StepClock()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as data:
        report = build(StoreLayout(Path(data)), sources(corpus),
                       progress=lambda name: clock(name) if not name.startswith(" ") else None)
        clock.stop()
        total = time.perf_counter() - started
        measured = sum(step["seconds"] for step in clock.steps.values())
        clock.steps["other"] = {"seconds": total - measured, "rss_mb": peak_rss_mb()}
    return {"steps": clock.steps, "seconds": total, "graph_sizes": report.graph_sizes,
            "inferred": report.inference.inferred, "derivation_quads": report.inference.provenance_quads}


def _base(corpus: Path):
    from rdflib import Graph

    from graph.rules import load_rules
    from loaders.corpus import load_corpus

    paths = sources(corpus)
    graphs = load_corpus(paths.documents, paths.annotations, paths.registry)
    ontology = Graph().parse(paths.ontology)
    return ontology, graphs, load_rules(paths.rules)


def _ox_store(graphs_and_names):
    import pyoxigraph as ox

    from graph.build import load_graph

    store = ox.Store()
    for graph, name in graphs_and_names:
        load_graph(store, graph, name)
    return store


def sparql_rules_by_oxigraph(triples: set, rules) -> set:
    """The project's SPARQL rules on a closure computed by another engine, in rounds until stable."""
    import pyoxigraph as ox
    from rdflib import Literal

    from graph.inference import bindings, instantiate
    from vocab.terms import to_ox, to_rdflib

    sparql_rules = [r for r in rules if not r.is_owl_rl]
    store = ox.Store()
    # owlrl also states facts about literals (`"x" a rdfs:Literal`), which RDF cannot hold as subjects.
    store.extend(ox.Quad(*(to_ox(t) for t in triple)) for triple in triples if not isinstance(triple[0], Literal))
    added = set()
    while True:
        new = set()
        for rule in sparql_rules:
            for binding in bindings(store.query(rule.query)):
                for pattern in rule.conclusions:
                    triple = instantiate(pattern, binding)
                    if None not in triple and not isinstance(triple[0], ox.Literal) and ox.Quad(*triple) not in store:
                        new.add(triple)
        if not new:
            return added
        store.extend(ox.Quad(*t) for t in new)
        added |= {tuple(to_rdflib(t) for t in triple) for triple in new}


def child_engine(engine: str, corpus: Path, out: Path) -> dict:
    from graph.inference import domain_facts
    from vocab import Graphs

    ontology, graphs, rules = _base(corpus)
    base = ontology + graphs.entities + graphs.asserted
    reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    extra = {}
    if engine == "swapgraph" or engine.startswith("reference="):
        import pyoxigraph as ox

        from vocab.terms import to_rdflib

        run_inference = _engine_module(engine).run_inference
        store = _ox_store(((ontology, Graphs.ONTOLOGY), (graphs.entities - graphs.asserted, Graphs.ENTITIES),
                           (graphs.asserted, Graphs.ASSERTED)))
        cpu_inference = time.process_time()
        report = run_inference(store, rules)
        extra = {"inferred": report.inferred, "derivation_quads": report.provenance_quads,
                 "inference_seconds": report.seconds, "inference_cpu_seconds": time.process_time() - cpu_inference,
                 "steps": getattr(report, "steps", {})}
        # The whole inferred graph (not only the domain facts), for the comparison with the reference engine.
        inferred = sorted(str(q.triple) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.INFERRED))))
        out.with_suffix(".inferred.nt").write_text("\n".join(inferred), encoding="utf-8")
        closure = {tuple(to_rdflib(t) for t in (q.subject, q.predicate, q.object))
                   for q in store.quads_for_pattern(None, None, None, None)
                   if q.graph_name != ox.NamedNode(str(Graphs.PROVENANCE))}
    else:
        if engine == "owlrl":
            import owlrl

            graph = closure_graph(base)
            owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
            closure = set(graph)
        else:
            import reasonable

            reasoner = reasonable.PyReasoner()
            reasoner.from_graph(base)
            closure = set(reasoner.reason()) | set(base)
        # Alternate the OWL closure and the SPARQL rules until neither adds anything.
        while added := sparql_rules_by_oxigraph(closure, rules) - closure:
            closure |= added
            if engine == "owlrl":
                graph = closure_graph(closure)
                owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
                closure = set(graph)
            else:
                reasoner = reasonable.PyReasoner()
                reasoner.from_graph(list(closure))
                closure |= set(reasoner.reason())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    facts = domain_facts(map(_same_terms, closure)) - domain_facts(map(_same_terms, base))
    out.write_text("\n".join(sorted(" ".join(t.n3() for t in triple) for triple in facts)), encoding="utf-8")
    return {"seconds": seconds, "cpu_seconds": cpu, "rss_mb": peak_rss_mb(), "inferred_domain_facts": len(facts)} | extra


def _engine_module(engine: str):
    """graph.inference, or for `reference=<file>` the engine module in that file (an earlier commit's)."""
    if engine == "swapgraph":
        import graph.inference

        return graph.inference
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_inference", engine.split("=", 1)[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_engine(work: Path, revision: str) -> str:
    """The engine argument for graph/inference.py as it was at `revision` (written under `work`)."""
    path = work / f"reference-inference-{revision}.py"
    if not path.exists():
        path.write_text(subprocess.run(["git", "show", f"{revision}:graph/inference.py"], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout, encoding="utf-8")
    return f"reference={path}"


def _same_terms(triple: tuple) -> tuple:
    """Terms as the store holds them: `"x"^^xsd:string` is the plain literal "x", numbers canonical."""
    from vocab.terms import to_ox, to_rdflib

    return tuple(to_rdflib(to_ox(t)) for t in triple)


def closure_graph(triples):
    from rdflib import Graph

    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


# --- driving, in the parent -----------------------------------------------------------------------


def corpus_for(work: Path, size: int, seed: int) -> Path:
    from bench.generate import generate

    folder = work / f"corpus-{size}-seed{seed}"
    stamp = folder / ".generated"
    if not stamp.exists():
        started = time.perf_counter()
        generate(folder, size, seed)
        stamp.write_text(f"{time.perf_counter() - started:.1f}")
    return folder


def run_child(args: list[str], timeout: float | None) -> dict | None:
    try:
        done = subprocess.run([sys.executable, "-m", "bench.build", "--child", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(small: tuple[int, float], large: tuple[int, float]) -> str:
    (n1, t1), (n2, t2) = small, large
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return "-"
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


def print_build_table(results: dict) -> None:
    steps = list(dict.fromkeys(name for r in results.values() if "steps" in r for name in r["steps"]))
    print("\nBuild, per step: seconds / peak RSS MB of the step")
    print(f"{'asserted':>10} " + " ".join(f"{name:>18}" for name in steps) + f" {'total s':>9}")
    for size, result in results.items():
        if "steps" not in result:
            print(f"{size:>10} {result.get('error', 'did not finish')}")
            continue
        cells = [f"{result['steps'][n]['seconds']:8.2f} /{result['steps'][n]['rss_mb']:7.0f}"
                 if n in result["steps"] else f"{'-':>18}" for n in steps]
        print(f"{size:>10} " + " ".join(f"{c:>18}" for c in cells) + f" {result['seconds']:9.2f}")
        print(f"{'':>10} graphs: " + ", ".join(f"{k} {v}" for k, v in result["graph_sizes"].items())
              + f"; derivation quads per inferred triple: "
              + f"{result['derivation_quads'] / max(1, result['inferred']):.1f}")
    sizes = [s for s in results if "steps" in results[s]]
    for small, large in zip(sizes, sizes[1:]):
        cells = [exponent((small, results[small]["steps"][n]["seconds"]), (large, results[large]["steps"][n]["seconds"]))
                 if n in results[small]["steps"] and n in results[large]["steps"] else "-" for n in steps]
        total = exponent((small, results[small]["seconds"]), (large, results[large]["seconds"]))
        print(f"{f'{small}->{large}':>10} " + " ".join(f"{'exp ' + c:>18}" for c in cells) + f" {'exp ' + total:>9}")


def compare_engines(work: Path, size: int, corpus: Path, engines: list[str], timeouts: dict,
                    reference: str = REFERENCE) -> None:
    print(f"\nInference engines at {size} asserted: seconds (wall, CPU), peak RSS MB, inferred domain facts, "
          f"equal to {engines[0]}; derivation quads per inferred triple")
    facts, inferred = {}, {}
    for engine in engines:
        out = work / f"facts-{size}-{engine}.nt"
        argument = reference_engine(work, reference) if engine == "reference" else engine
        result = run_child(["engine", argument, str(corpus), str(out)], timeouts.get(engine))
        if result is None:
            print(f"  {engine:<11} did not finish in {timeouts[engine]:.0f} s")
            continue
        if "error" in result:
            print(f"  {engine:<11} failed: {result['error']}")
            continue
        facts[engine] = set(out.read_text(encoding="utf-8").splitlines())
        same = _same_as(facts, engine, engines[0])
        quads = (f"   {result['derivation_quads'] / max(1, result['inferred']):.2f} "
                 f"(run_inference alone: {result['inference_seconds']:.2f} s, "
                 f"{result['inference_cpu_seconds']:.2f} s CPU)") if "inferred" in result else ""
        print(f"  {engine:<11} {result['seconds']:9.2f} s {result['cpu_seconds']:9.2f} s CPU {result['rss_mb']:8.0f} MB "
              f"{result['inferred_domain_facts']:>10}   {same}{quads}")
        if result.get("steps"):
            print(f"  {'':<11} CPU s per step: " + ", ".join(f"{k} {v:.2f}" for k, v in result["steps"].items()))
        if "inferred" in result:
            inferred[engine] = set(out.with_suffix(".inferred.nt").read_text(encoding="utf-8").splitlines())
    if "reference" in inferred and engines[0] in inferred:
        print(f"  inferred graph of {engines[0]} equal to the reference engine's ({reference}): "
              + _same_as(inferred, engines[0], "reference") + f", {len(inferred[engines[0]])} triples")


def _same_as(found: dict[str, set], engine: str, reference: str) -> str:
    """'yes' when the two engines' sets are equal, else how they differ ('-' for the reference itself)."""
    if engine == reference or reference not in found:
        return "-"
    missing, extra = len(found[reference] - found[engine]), len(found[engine] - found[reference])
    return "yes" if not missing and not extra else f"NO ({missing} only in {reference}, {extra} only in {engine})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000], help="asserted triples per corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "swapgraph-bench")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--owlrl-timeout", type=float, default=300.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per build and per engine run")
    parser.add_argument("--no-build", action="store_true", help="the inference engines only, not the whole build")
    parser.add_argument("--reference", default=REFERENCE, help="the commit whose graph/inference.py is the reference engine")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        result = child_build(Path(rest[0])) if kind == "build" else child_engine(rest[0], Path(rest[1]), Path(rest[2]))
        print(json.dumps(result))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    timeouts = {engine: args.timeout for engine in ENGINES} | {"owlrl": args.owlrl_timeout}
    results = {}
    for size in sorted(args.sizes):
        corpus = corpus_for(args.work, size, args.seed)
        if not args.no_build:
            print(f"building {size} ({corpus}) …", flush=True)
            results[size] = run_child(["build", str(corpus)], args.timeout) or {"error": f"no build in {args.timeout:.0f} s"}
            print_build_table({size: results[size]})
        compare_engines(args.work, size, corpus, args.engines, timeouts, args.reference)
    if len(results) > 1:
        print_build_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

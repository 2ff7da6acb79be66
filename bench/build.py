"""Benchmark: the whole build on generated corpora, step by step, and the inference engines side by side.

    python -m bench.build                         # 10k (the cheap smoke run)
    python -m bench.build --sizes 10000 100000 1000000 --owlrl-timeout 300

For each size, bench/generate.py writes a corpus (kept under --work, reused when the size and seed
match; or read from --corpora), then a child process builds a copy of it as `swapgraph build` does
and reports, per step, the wall and CPU time and the peak RSS of that step (the kernel's high-water
mark, reset at each step); then it changes one document of the copy and builds again in the same
data folder (the incremental row: only that document is parsed again). Then each
inference engine computes the closure of the same asserted graph in a child process of its own:
the project's engine, owlrl (the oracle of the tests) and `reasonable` (a Rust OWL 2 RL reasoner),
the last two followed by the project's SPARQL rules (evaluated by Oxigraph, in rounds until nothing
is new), and their inferred domain facts are compared for equality; the engine of an earlier commit
(--reference, graph/inference.py as it was there) runs on the same store, and the two whole inferred
graphs are compared triple for triple; the project's engine prints its CPU seconds per step (read,
pattern rounds, index, store writes, SPARQL rounds, records). Between sizes the table gives
the growth exponent log(t2/t1)/log(n2/n1) of each step's CPU time: 1 is linear.
"""

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("swapgraph", "reference", "reasonable", "owlrl")
REFERENCE = "feade55"  # the engine the current one must infer exactly the same triples as (--reference)
STEP_LINE = "step: "  # a child's line for one finished build step
RESULTS = "build-results.json"  # the parent's build figures per size, kept in --work


# --- measuring, in the child ----------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset_peak() (VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


class StepClock:
    """The build's progress callback: each call ends the step before and starts a new one (wall and
    CPU seconds: the machine is shared, CPU time is the steadier figure)."""

    def __init__(self, run: str = "full"):
        self.run = run  # which build of the child: full or incremental
        self.steps: dict[str, dict] = {}
        self.current: str | None = None
        self.started = self.cpu_started = 0.0

    def __call__(self, name: str) -> None:
        if name.startswith(" "):
            return  # a remark within a step, not a step
        self.stop()
        self.current, self.started, self.cpu_started = name.strip().split()[0], time.perf_counter(), time.process_time()
        reset_peak()

    def stop(self) -> None:
        if self.current:
            self.steps[self.current] = {"seconds": time.perf_counter() - self.started,
                                        "cpu_seconds": time.process_time() - self.cpu_started, "rss_mb": peak_rss_mb()}
            # Each step as it ends, so that a build stopped by the timeout still reports the steps it did.
            print(STEP_LINE + json.dumps({"run": self.run, "step": self.current} | self.steps[self.current]), flush=True)
            self.current = None


def sources(corpus: Path):
    """The generated corpus with the project's own ontology, shapes and rules (not the corpus's copy)."""
    from graph.build import SourcePaths

    generated = SourcePaths.under(corpus)
    return replace(SourcePaths(), documents=generated.documents, annotations=generated.annotations,
                   registry=generated.registry)


def timed_build(layout, paths, run: str = "full") -> dict:
    """One `swapgraph build` into layout, each step timed by a StepClock."""
    from graph.build import build

    clock = StepClock(run)
    started, cpu_started = time.perf_counter(), time.process_time()
    report = build(layout, paths, progress=clock)
    clock.stop()
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    clock.steps["other"] = {"seconds": total - sum(step["seconds"] for step in clock.steps.values()),
                            "cpu_seconds": cpu - sum(step["cpu_seconds"] for step in clock.steps.values()),
                            "rss_mb": peak_rss_mb()}
    return {"steps": clock.steps, "seconds": total, "cpu_seconds": cpu, "graph_sizes": report.graph_sizes,
            "inferred": report.inference.inferred, "derivation_quads": report.inference.provenance_quads}


def change_one_document(corpus: Path, seed: int) -> Path:
    """The corpus's first document and its annotation file replaced by those of a small corpus made with
    another seed (other people, counts and dates under the same names): an edited document."""
    from bench.generate import generate

    other = corpus.parent / "other"
    generate(other, 2000, seed)
    for folder, suffix in (("corpus/documents", ".txt"), ("corpus/annotations", ".yaml")):
        first = sorted((other / folder).glob("*" + suffix))[0]
        shutil.copy(first, corpus / folder / first.name)
    return corpus / "corpus/documents" / first.with_suffix(".txt").name


def child_build(corpus: Path, work: Path, incremental: bool = True) -> dict:
    """A full build of a copy of the corpus; then one document of the copy changed and built again
    in the same data folder (its parse cache warm: only that document is parsed again)."""
    from graph.store import StoreLayout

    with tempfile.TemporaryDirectory(prefix="bench-build-", dir=work) as work:
        copy = Path(work) / "corpus"
        shutil.copytree(corpus, copy)
        layout = StoreLayout(Path(work) / "data")
        result = timed_build(layout, sources(copy))
        if incremental:
            change_one_document(copy, seed=99)
            result["incremental"] = timed_build(layout, sources(copy), "incremental")
    return result


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
    except subprocess.TimeoutExpired as exc:
        partial = partial_steps((exc.stdout or b"").decode("utf-8", "replace") if isinstance(exc.stdout, bytes)
                                else exc.stdout or "")
        return {"error": f"did not finish in {timeout:.0f} s", **partial} if partial else None
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1], **partial_steps(done.stdout)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def partial_steps(stdout: str) -> dict:
    """The steps a child reported before it stopped: {"partial": {run: {step: figures}}}, or {}."""
    runs: dict[str, dict] = {}
    for line in stdout.splitlines():
        if line.startswith(STEP_LINE):
            step = json.loads(line[len(STEP_LINE):])
            runs.setdefault(step.pop("run"), {})[step.pop("step")] = step
    return {"partial": runs} if runs else {}


def exponent(small: tuple[int, float], large: tuple[int, float]) -> str:
    (n1, t1), (n2, t2) = small, large
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return "-"
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


STEP_ORDER = ("parse", "checks", "store", "inference", "provenance", "validation", "candidates", "summary", "switch",
              "other")


def _cell(step: dict | None) -> str:
    return f"{step['seconds']:.1f} / {step['cpu_seconds']:.1f} s, {step['rss_mb']:.0f} MB" if step else "-"


def print_build_table(results: dict) -> None:
    """One Markdown table: a row per size (and per incremental build), a column per step."""
    seen = {name for r in results.values() for run in (r, r.get("incremental", {})) for name in run.get("steps", {})}
    seen |= {name for r in results.values() for run in r.get("partial", {}).values() for name in run}
    steps = [n for n in STEP_ORDER if n in seen] + sorted(seen - set(STEP_ORDER))
    print("\nBuild, per step: wall / CPU seconds, peak RSS of the step (MB); `incremental`: the same data "
          "folder after one document changed\n")
    print("| asserted | " + " | ".join(steps) + " | total wall / CPU |")
    print("|---" * (len(steps) + 2) + "|")
    for size, result in results.items():
        if "steps" not in result:
            for run, done in result.get("partial", {"full": {}}).items():
                label = f"{size}" if run == "full" else f"{size} {run}"
                print(f"| {label} | " + " | ".join(_cell(done.get(n)) for n in steps)
                      + f" | {result.get('error', 'did not finish')} (after {', '.join(done) or 'no step'}) |")
            continue
        for label, run in ((f"{size}", result), (f"{size} incremental", result.get("incremental"))):
            if run:
                print(f"| {label} | " + " | ".join(_cell(run["steps"].get(n)) for n in steps)
                      + f" | {run['seconds']:.1f} / {run['cpu_seconds']:.1f} s |")
    done = {size: r.get("steps") or r.get("partial", {}).get("full") for size, r in results.items()}
    sizes = [size for size in results if done[size]]
    for small, large in zip(sizes, sizes[1:]):
        cells = [exponent((small, done[small][n]["cpu_seconds"]), (large, done[large][n]["cpu_seconds"]))
                 if n in done[small] and n in done[large] else "-" for n in steps]
        total = (exponent((small, results[small]["cpu_seconds"]), (large, results[large]["cpu_seconds"]))
                 if "cpu_seconds" in results[large] else "-")
        print(f"| growth exponent {small}→{large} (CPU) | " + " | ".join(cells) + f" | {total} |")
    for size in (size for size in sizes if "graph_sizes" in results[size]):
        result = results[size]
        print(f"\n{size}: graphs " + ", ".join(f"{k} {v}" for k, v in result["graph_sizes"].items())
              + f"; derivation quads per inferred triple {result['derivation_quads'] / max(1, result['inferred']):.2f}")


def compare_engines(work: Path, size: int, corpus: Path, engines: list[str], timeouts: dict,
                    gave_up: set | None = None, reference: str = REFERENCE) -> None:
    """gave_up: engines that did not finish at a smaller size, not run again (they only grow)."""
    gave_up = set() if gave_up is None else gave_up
    print(f"\nInference engines at {size} asserted: seconds (wall, CPU), peak RSS MB, inferred domain facts, "
          f"equal to {engines[0]}; derivation quads per inferred triple")
    facts, inferred = {}, {}
    for engine in engines:
        if engine in gave_up:
            print(f"  {engine:<11} not run: did not finish in {timeouts[engine]:.0f} s at a smaller size")
            continue
        out = work / f"facts-{size}-{engine}.nt"
        argument = reference_engine(work, reference) if engine == "reference" else engine
        result = run_child(["engine", argument, str(corpus), str(out)], timeouts.get(engine))
        if result is None or "partial" in result:
            print(f"  {engine:<11} did not finish in {timeouts[engine]:.0f} s")
            gave_up.add(engine)
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
    parser.add_argument("--corpora", help="existing corpora instead of generating them, e.g. /work/data/gen-{size}")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "swapgraph-bench")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--owlrl-timeout", type=float, default=300.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per build and per engine run")
    parser.add_argument("--no-build", action="store_true", help="the inference engines only, not the whole build")
    parser.add_argument("--no-incremental", action="store_true", help="no second build after one document changed")
    parser.add_argument("--table", action="store_true",
                        help=f"print the build table of the builds last saved in --work/{RESULTS}, and stop")
    parser.add_argument("--reference", default=REFERENCE, help="the commit whose graph/inference.py is the reference engine")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        result = (child_build(Path(rest[0]), Path(rest[1]), incremental=rest[2:] != ["full"]) if kind == "build"
                  else child_engine(rest[0], Path(rest[1]), Path(rest[2])))
        print(json.dumps(result))
        return 0
    if args.table:
        saved = json.loads((args.work / RESULTS).read_text(encoding="utf-8"))
        print_build_table({int(size): result for size, result in saved.items()})
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    timeouts = {engine: args.timeout for engine in ENGINES} | {"owlrl": args.owlrl_timeout}
    results, gave_up = {}, set()
    for size in sorted(args.sizes):
        corpus = Path(args.corpora.format(size=size)) if args.corpora else corpus_for(args.work, size, args.seed)
        if not args.no_build:
            print(f"building {size} ({corpus}) …", flush=True)
            child = ["build", str(corpus), str(args.work)] + (["full"] if args.no_incremental else [])
            results[size] = run_child(child, args.timeout) or {"error": f"no build in {args.timeout:.0f} s"}
            print_build_table({size: results[size]})
            (args.work / RESULTS).write_text(json.dumps(results), encoding="utf-8")  # for --table
        compare_engines(args.work, size, corpus, args.engines, timeouts, gave_up, args.reference)
    if len(results) > 1:
        print_build_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

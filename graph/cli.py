"""The `swapgraph` command: build, validate, query, export, stats, serve."""

import argparse
import csv
import dataclasses
import gzip
import re
import json
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from graph.build import BuildError, Budget, SourcePaths, build, build_store, class_counts, graph_sizes
from graph.catalog import Catalog, CatalogError, ParameterError
from graph.rules import RuleError
from graph.store import StoreLayout, open_current
from graph.vocab import PREFIXES
from loaders.errors import LoadError

EXPORT_FORMATS = {
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": None,  # written through rdflib, which keeps named graphs in JSON-LD
}


class Progress:
    """One line per step on stderr, with the time the previous step took."""

    current: "Progress | None" = None  # the open progress line, closed before an error is printed

    def __init__(self, stream=sys.stderr):
        self.stream, self.name, self.started = stream, None, 0.0
        Progress.current = self

    def __call__(self, name: str) -> None:
        self.finish()
        self.name, self.started = name, time.perf_counter()
        print(f"  {name} …", end="", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.name:
            print(f" {time.perf_counter() - self.started:.2f}s", file=self.stream, flush=True)
            self.name = None


def _layout(args) -> StoreLayout:
    if args.data_dir:
        return StoreLayout(Path(args.data_dir))
    from api.settings import Settings

    return StoreLayout(Path(Settings.from_env().data_dir))


def _sources(args) -> SourcePaths:
    return SourcePaths.under(Path(args.sources)) if args.sources else SourcePaths()


def _budget(args) -> Budget:
    return Budget(max_seconds=args.max_seconds, max_inferred=args.max_inferred)


def cmd_build(args) -> int:
    progress = Progress()
    print("building the graph from corpus/ …", file=sys.stderr)
    report = build(_layout(args), _sources(args), progress, _budget(args))
    progress.finish()
    print(report.summary())
    print(f"serving build: {report.build_dir}")
    return 0


def cmd_validate(args) -> int:
    progress = Progress()
    report = build_store(ox.Store(), _sources(args), progress, _budget(args))
    progress.finish()
    print(f"valid: {report.facts} facts from {report.documents} documents, no SHACL violation")
    return 0


def _query_source(target: str) -> tuple[str, str]:
    """(where the query comes from, its text): a .rq file, or the argument itself."""
    path = Path(target)
    if path.suffix == ".rq" and path.exists():
        return str(path), path.read_text(encoding="utf-8")
    return "query", target


def _syntax_error(source: str, exc: SyntaxError) -> str:
    """pyoxigraph says `error at LINE:COLUMN: ...`; name the file and line the way load errors do."""
    match = re.match(r"error at (\d+):(\d+): (.*)", str(exc), re.S)
    if not match:
        return f"{source}: {exc}"
    line, column, message = match.groups()
    return f"{source}:{line}: column {column}: {message.splitlines()[0][:300]}"


def cmd_query(args) -> int:
    store = open_current(_layout(args))
    catalog = Catalog.load()
    if args.query in catalog.queries:
        return _run_canned(store, catalog, args)
    if args.param:
        print("query: --param goes with a canned query name "
              f"({', '.join(sorted(catalog.queries))})", file=sys.stderr)
        return 1
    source, text = _query_source(args.query)
    try:
        result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
    except SyntaxError as exc:
        print(_syntax_error(source, exc), file=sys.stderr)
        return 1
    write_result(result, args.format, sys.stdout)
    return 0


def _run_canned(store: ox.Store, catalog: Catalog, args) -> int:
    canned = catalog.get(args.query)

    def run(sparql: str) -> list[dict]:
        solutions = store.query(sparql, use_default_graph_as_union=True)
        return [{v.value: s[v] for v in solutions.variables if s[v] is not None} for s in solutions]

    raw = dict(pair.partition("=")[::2] for pair in args.param)
    try:
        bound = catalog.bind(canned, raw, run)
    except ParameterError as exc:
        print(f"query {canned.name}: {exc}", file=sys.stderr)
        return 1
    substitutions = {ox.Variable(name): term for name, term in bound.items()}
    result = store.query(canned.sparql, use_default_graph_as_union=True, substitutions=substitutions)
    write_result(result, args.format, sys.stdout)
    return 0


def write_result(result, fmt: str, out) -> None:
    if isinstance(result, ox.QueryBoolean):
        print(json.dumps({"boolean": bool(result)}) if fmt == "json" else str(bool(result)).lower(), file=out)
        return
    if isinstance(result, ox.QueryTriples):
        out.write(result.serialize(format=ox.RdfFormat.TURTLE).decode("utf-8"))
        return
    variables = [v.value for v in result.variables]
    rows = [[_cell(solution[v]) for v in result.variables] for solution in result]
    if fmt == "json":
        json.dump([dict(zip(variables, row)) for row in rows], out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(variables)
        writer.writerows(rows)
    else:
        widths = [max([len(v)] + [len(r[i] or "") for r in rows]) for i, v in enumerate(variables)]
        print("  ".join(v.ljust(w) for v, w in zip(variables, widths)), file=out)
        print("  ".join("-" * w for w in widths), file=out)
        for row in rows:
            print("  ".join((c or "").ljust(w) for c, w in zip(row, widths)), file=out)
        print(f"({len(rows)} rows)", file=out)


def _cell(term) -> str | None:
    if term is None:
        return None
    return term.value


def cmd_export(args) -> int:
    store = open_current(_layout(args))
    if args.output:
        # A name ending in .gz gives a compressed dump, as served at /dumps/.
        out = gzip.open(args.output, "wb") if args.output.endswith(".gz") else open(args.output, "wb")
    else:
        out = sys.stdout.buffer
    try:
        if args.format == "jsonld":
            from graph.build import to_rdflib_dataset

            out.write(to_rdflib_dataset(store).serialize(format="json-ld", encoding="utf-8"))
        elif args.format == "turtle":
            out.write(_union_turtle(store))
        else:
            out.write(store.dump(format=EXPORT_FORMATS[args.format]))
    finally:
        if args.output:
            out.close()
    return 0


def _union_turtle(store: ox.Store) -> bytes:
    """Turtle has no named graphs: the union of all graphs."""
    triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    return triples.serialize(format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def cmd_stats(args) -> int:
    store = open_current(_layout(args))
    sizes, counts = graph_sizes(store), class_counts(store)
    if args.format == "json":
        print(json.dumps({"triples": sizes, "instances": counts}, indent=2))
    else:
        print("triples per graph: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        print("instances: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_serve(args) -> int:
    from api.run import serve
    from api.settings import Settings

    settings = Settings.from_env()
    if args.data_dir:
        settings = dataclasses.replace(settings, data_dir=Path(args.data_dir))
    serve(settings)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="swapgraph", description="Build and query the Swapgraph knowledge graph.")
    top.add_argument("--data-dir", help="where builds are kept (default: SWAPGRAPH_DATA_DIR or ./data)")
    verbs = top.add_subparsers(dest="verb", required=True)
    for name, run, text in (("build", cmd_build, "documents to a validated, inferred store"),
                            ("validate", cmd_validate, "load, infer and validate in memory; change nothing")):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("--sources", help="project folder holding corpus/ and ontology/ (default: this checkout)")
        verb.add_argument("--max-seconds", type=float, help="stop a build that takes longer (default: no limit)")
        verb.add_argument("--max-inferred", type=int, help="stop when the rules infer more triples (default: no limit)")
        verb.set_defaults(run=run)
    query = verbs.add_parser("query", help="run SPARQL text, a .rq file or a canned query name")
    query.add_argument("query")
    query.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(run=cmd_query)
    export = verbs.add_parser("export", help="dump the store with its named graphs")
    export.add_argument("--format", choices=tuple(EXPORT_FORMATS), default="trig")
    export.add_argument("-o", "--output", help="file to write; a name ending in .gz is gzip-compressed")
    export.set_defaults(run=cmd_export)
    stats = verbs.add_parser("stats", help="triples per graph and instances per class")
    stats.add_argument("--format", choices=("table", "json"), default="table")
    stats.set_defaults(run=cmd_stats)
    verbs.add_parser("serve", help="serve the current build over HTTP").set_defaults(run=cmd_serve)
    return top


def _run(args) -> int:
    try:
        return args.run(args)
    finally:
        if Progress.current and Progress.current.name:  # a step was cut short
            print(" failed", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except (LoadError, RuleError, CatalogError) as exc:
        print(f"swapgraph {args.verb}: bad input:\n{exc}", file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"swapgraph {args.verb}: {exc}\nthe previous build (if any) is still the one served", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader (head, less) stopped early: not an error
        sys.stderr.close()
        return 0
    except (OSError, ValueError) as exc:  # a missing build, an unreadable file, a bad SWAPGRAPH_* value
        print(f"swapgraph {args.verb}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

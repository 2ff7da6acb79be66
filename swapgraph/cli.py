"""The `swapgraph` command: build, validate, query, export, stats, coverage, serve, publish, push, add-document, extract, review."""

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
from graph.coverage import corpus_coverage, report_lines, summary_line, totals
from graph.publish import publish_to
from graph.rules import RuleError
from graph.store import StoreLayout, open_current
from vocab import PREFIXES, Graphs
from loaders.corpus import load_corpus
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
    _warn_uncovered(_sources(args))
    return 0


def _coverage(paths: SourcePaths):
    return corpus_coverage(load_corpus(paths.documents, paths.annotations, paths.registry), paths.annotations)


def _warn_uncovered(paths: SourcePaths) -> None:
    results = _coverage(paths)
    for result in results:
        if result.unexplained or result.stale:
            print(f"warning: {result.document}: {len(result.unexplained)} sentences neither cited by a fact nor "
                  f"explained, {len(result.stale)} stale reasons (see `swapgraph coverage`)", file=sys.stderr)
    print(summary_line(results), file=sys.stderr)


def cmd_coverage(args) -> int:
    paths = _sources(args)
    results = _coverage(paths)
    if args.format == "json":
        print(json.dumps({"totals": totals(results), "documents": [r.as_dict() for r in results]},
                         indent=2, ensure_ascii=False))
    else:
        print("\n".join(report_lines(results, paths.annotations)))
    unexplained = totals(results)["unexplained"] + totals(results)["staleReasons"]
    return 1 if args.strict and unexplained else 0


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


def _dataset(store: ox.Store, candidates: bool) -> dict:
    """The default graph of a query: every named graph, the candidates only if asked for."""
    wanted = ox.NamedNode(str(Graphs.CANDIDATES))
    if candidates or not store.contains_named_graph(wanted):
        return {"use_default_graph_as_union": True}
    graphs = list(store.named_graphs())
    return {"default_graph": [g for g in graphs if g != wanted], "named_graphs": graphs}


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
        result = store.query(text, prefixes=PREFIXES, **_dataset(store, args.candidates))
    except SyntaxError as exc:
        print(_syntax_error(source, exc), file=sys.stderr)
        return 1
    write_result(result, args.format, sys.stdout)
    return 0


def _run_canned(store: ox.Store, catalog: Catalog, args) -> int:
    canned = catalog.get(args.query)

    def run(sparql: str) -> list[dict]:
        solutions = store.query(sparql, **_dataset(store, args.candidates))
        return [{v.value: s[v] for v in solutions.variables if s[v] is not None} for s in solutions]

    raw = dict(pair.partition("=")[::2] for pair in args.param)
    try:
        bound = catalog.bind(canned, raw, run)
    except ParameterError as exc:
        print(f"query {canned.name}: {exc}", file=sys.stderr)
        return 1
    substitutions = {ox.Variable(name): term for name, term in bound.items()}
    result = store.query(canned.sparql, substitutions=substitutions, **_dataset(store, args.candidates))
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
    coverage = _coverage(_sources(args))
    if args.format == "json":
        print(json.dumps({"triples": sizes, "instances": counts, "coverage": totals(coverage)}, indent=2))
    else:
        print("triples per graph: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        print("instances: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(summary_line(coverage) + " (from the sources)")
        for result in coverage:
            print(f"  {result.document}: {result.sentences} sentences, {result.cited} cited, "
                  f"{len(result.explained)} explained, {len(result.unexplained)} unexplained")
    return 0


def cmd_add_document(args) -> int:
    from loaders.intake import add_document

    added = add_document(Path(args.file), _sources(args).documents.parent, args.source, licence=args.licence,
                         attribution=args.attribution, kind=args.kind, language=args.language,
                         title=args.title, date=args.date)
    print(f"added {added.document}\nannotation file {added.annotation}")
    for key, value in added.metadata.items():
        print(f"  {key}: {value}")
    return 0


def cmd_extract(args) -> int:
    from loaders.candidates import document_for, dump_candidates
    from loaders.extraction import RuleExtractor, known_entities, known_exchanges, load_pipeline

    paths = _sources(args)
    documents = [document_for(name, paths.documents) for name in args.documents]
    decls, dates = known_entities(paths.registry, paths.annotations, paths.documents)
    extractor = RuleExtractor(decls, load_pipeline(use_model=not args.blank), dates,
                              exchanges=known_exchanges(paths.annotations, paths.documents))
    paths.candidates.mkdir(exist_ok=True)
    for document in documents:
        started = time.perf_counter()
        extraction = extractor.extract(document)
        target = paths.candidates / f"{document.stem}.yaml"
        target.write_text(dump_candidates(extraction, extractor.version), encoding="utf-8")
        print(f"{document.name}: {len(extraction.facts)} candidate facts -> {target} "
              f"({time.perf_counter() - started:.2f}s)")
    return 0


def _numbers(values: list[str]) -> list[int]:
    return [int(n) for value in values for n in value.split(",") if n.strip()]


def cmd_review(args) -> int:
    import yaml

    from loaders.candidates import document_for
    from loaders.review import Review, in_words

    paths = _sources(args)
    review = Review(document_for(args.document, paths.documents), paths.candidates, paths.annotations, paths.registry)
    from loaders.extraction import known_entities

    known, _ = known_entities(paths.registry, paths.annotations, paths.documents)
    labels = {decl.curie: decl.label for decl in known if decl.label} | {
        curie: entity.label for curie, entity in review.proposed.items()}
    accept = {n: {} for n in _numbers(args.accept)}
    for edit in args.edit:
        number, _, path = edit.partition("=")
        accept[int(number)] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    reject = {n: args.reason for n in _numbers(args.reject)}
    new_labels = dict(pair.partition("=")[::2] for pair in args.label)
    added = [fact for path in args.add for fact in _facts_file(Path(path))]
    if not accept and not reject and not added:
        if sys.stdin.isatty() and not args.list:
            accept, reject = _ask(review, labels)
        else:
            for item in review.items:
                _show(review, item, labels, in_words)
            return 0
    for line in review.decide(accept, reject, new_labels, lambda: build_store(ox.Store(), paths), added):
        print(line)
    print(f"{len(review.items) - len(accept) - len(reject)} candidates left in {review.path}")
    return 0


def _facts_file(path: Path) -> list[dict]:
    """Facts a reviewer adds: a YAML list (or one mapping) of quote, turtle and optional entities."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _show(review, item, labels, in_words) -> None:
    sentence, start, end = review.sentence(item)
    quote = item.fact.quote
    marked = sentence.replace(quote, f"[[{quote}]]", 1) if quote in sentence else f"[[{quote}]]"
    fact = item.fact
    print(f"#{item.number}  {fact.kind}  rule {fact.rule}  confidence {fact.confidence}  modality {fact.modality}"
          f"  chars {start}-{end}" + (f"  NOTE: {fact.note}" if fact.note else ""))
    print(f"   {marked}")
    for line in in_words(fact.turtle, labels):
        print(f"   · {line}")
    print()


def _ask(review, labels) -> tuple[dict, dict]:
    """Interactive review: a(ccept), r(eject), e(dit the Turtle), s(kip), q(uit and apply)."""
    import os
    import subprocess
    import tempfile

    import yaml

    from loaders.review import in_words

    accept, reject = {}, {}
    for item in review.items:
        _show(review, item, labels, in_words)
        answer = input("   [a]ccept [r]eject [e]dit [s]kip [q]uit: ").strip().lower()[:1]
        if answer == "q":
            break
        if answer == "a":
            accept[item.number] = {}
        elif answer == "r":
            reject[item.number] = input("   why (optional): ").strip() or "rejected by the reviewer"
        elif answer == "e":
            with tempfile.NamedTemporaryFile("w+", suffix=".yaml", delete=False, encoding="utf-8") as handle:
                yaml.safe_dump({"quote": item.fact.quote, "turtle": item.fact.turtle}, handle, allow_unicode=True)
            subprocess.run([os.environ.get("EDITOR", "vi"), handle.name], check=False)
            accept[item.number] = yaml.safe_load(Path(handle.name).read_text(encoding="utf-8"))
    return accept, reject


def cmd_serve(args) -> int:
    from api.run import serve
    from api.settings import Settings

    settings = Settings.from_env()
    options = {"host": args.host, "port": args.port, "workers": args.workers,
               "data_dir": Path(args.data_dir) if args.data_dir else None}
    settings = dataclasses.replace(settings, **{k: v for k, v in options.items() if v is not None})
    serve(settings)
    return 0


def cmd_publish(args) -> int:
    print(publish_to(_layout(args), Path(args.to)).summary())
    return 0


def cmd_push(args) -> int:
    """Publish a build folder (default: the current build) to the store SWAPGRAPH_STORE names."""
    from api.dataset import backend_for
    from api.settings import Settings

    settings = Settings.from_env()
    build_dir = Path(args.build) if args.build else _layout(args).current_build()
    if build_dir is None or not build_dir.is_dir():
        raise FileNotFoundError(f"no build folder {build_dir or ''}: run `swapgraph build` first")
    backend = backend_for(settings)
    started = time.perf_counter()
    try:
        version = backend.publish(build_dir)
    except (RuntimeError, SyntaxError) as exc:  # the engine refused a step, or the counts differ
        print(f"swapgraph push: {exc}\nthe previous version (if any) is still the one served", file=sys.stderr)
        return 1
    print(f"published {version.name} to the {backend.describe()} in {time.perf_counter() - started:.1f}s")
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
    query.add_argument("--candidates", action="store_true",
                       help="include the extractor's unreviewed candidate facts in the default graph")
    query.set_defaults(run=cmd_query)
    export = verbs.add_parser("export", help="dump the store with its named graphs")
    export.add_argument("--format", choices=tuple(EXPORT_FORMATS), default="trig")
    export.add_argument("-o", "--output", help="file to write; a name ending in .gz is gzip-compressed")
    export.set_defaults(run=cmd_export)
    stats = verbs.add_parser("stats", help="triples per graph and instances per class")
    stats.add_argument("--format", choices=("table", "json"), default="table")
    stats.add_argument("--sources", help="project folder holding corpus/ (default: this checkout)")
    stats.set_defaults(run=cmd_stats)
    coverage = verbs.add_parser("coverage", help="per document, the sentences no fact cites and their reasons")
    coverage.add_argument("--format", choices=("table", "json"), default="table")
    coverage.add_argument("--sources", help="project folder holding corpus/ (default: this checkout)")
    coverage.add_argument("--strict", action="store_true",
                          help="exit 1 if a sentence has neither a fact nor a reason, or a reason is stale")
    coverage.set_defaults(run=cmd_coverage)
    serve = verbs.add_parser("serve", help="serve the current build over HTTP (a newer build is picked up live)")
    serve.add_argument("--host", help="interface to bind (default: SWAPGRAPH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: SWAPGRAPH_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="query worker processes (default: SWAPGRAPH_WORKERS or 4)")
    serve.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS,
                       help="where builds are kept (default: SWAPGRAPH_DATA_DIR or ./data)")
    serve.set_defaults(run=cmd_serve)
    publish = verbs.add_parser("publish", help="copy the current build into another data directory and make it "
                               "current there (a replica's live reload serves it)")
    publish.add_argument("--to", required=True, metavar="DIR", help="the replica's data directory (created if missing)")
    publish.set_defaults(run=cmd_publish)
    push = verbs.add_parser("push", help="publish a build to the SWAPGRAPH_STORE backend (a remote engine: "
                                         "loaded under versioned graphs, counts checked, then switched)")
    push.add_argument("--build", help="the build folder to publish (default: <data_dir>/current)")
    push.set_defaults(run=cmd_push)
    add = verbs.add_parser("add-document", help="copy a text into the corpus with its metadata and an empty annotation file")
    add.add_argument("file")
    add.add_argument("--source", required=True, help="address the text was taken from")
    add.add_argument("--licence", help="licence of the text: an address or CC-BY-SA-4.0, CC-BY-4.0, CC0-1.0")
    add.add_argument("--attribution", help="to whom the text is credited (Wikipedia sources: Wikipedia contributors)")
    add.add_argument("--kind", help="encyclopedia or news (Wikipedia sources: encyclopedia)")
    add.add_argument("--language", help="language code (Wikipedia sources: from the address)")
    add.add_argument("--title", help="the title as it appears in the text (MediaWiki text: its = Title = line)")
    add.add_argument("--date", help="publication date YYYY-MM-DD, only where the text fixes it")
    add.add_argument("--sources", help="project folder holding corpus/ (default: this checkout)")
    add.set_defaults(run=cmd_add_document)
    extract = verbs.add_parser("extract", help="propose candidate facts for documents (corpus/candidates/)")
    extract.add_argument("documents", nargs="+", metavar="DOC", help="document file name, stem or number (005)")
    extract.add_argument("--blank", action="store_true", help="rules on a blank spaCy pipeline, without the model")
    extract.add_argument("--sources", help="project folder holding corpus/ (default: this checkout)")
    extract.set_defaults(run=cmd_extract)
    review = verbs.add_parser("review", help="list, accept, reject or edit a document's candidate facts")
    review.add_argument("document", metavar="DOC", help="document file name, stem or number (005)")
    review.add_argument("--list", action="store_true", help="only list the candidates (the default without a terminal)")
    review.add_argument("--accept", action="append", default=[], metavar="N[,N...]", help="accept candidates as they are")
    review.add_argument("--edit", action="append", default=[], metavar="N=FILE",
                        help="accept candidate N as corrected in FILE (YAML with quote and turtle)")
    review.add_argument("--reject", action="append", default=[], metavar="N[,N...]")
    review.add_argument("--add", action="append", default=[], metavar="FILE",
                        help="facts the extractor missed (YAML: quote, turtle, entities), validated with the rest")
    review.add_argument("--reason", default="rejected by the reviewer", help="why, kept with the rejected candidates")
    review.add_argument("--label", action="append", default=[], metavar="CURIE=LABEL",
                        help="the label of a proposed entity, if the extractor's is not right")
    review.add_argument("--sources", help="project folder holding corpus/ and ontology/ (default: this checkout)")
    review.set_defaults(run=cmd_review)
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

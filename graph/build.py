"""The build: documents and annotations to a validated, inferred Oxigraph store, switched in atomically."""

import gc
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
from rdflib import RDF, Dataset, Graph
from rdflib.compare import to_canonical_graph

from graph.inference import InferenceError, InferenceReport, run_inference
from graph.rules import load_rules
from graph.store import StoreFiller, StoreLayout, load_file
from graph.summary import DUMP_NAME, SUMMARY_NAME, summarize, write_summary  # noqa: F401 (names of a build's files)
from vocab.terms import PROVENANCE, statement_id, to_ox, to_rdflib
from vocab import ID, SG, Graphs
from loaders.candidates import load_candidates
from loaders.corpus import MAX_LITERAL_BYTES, CorpusGraphs, load_corpus
from loaders.errors import LoadError, LoadIssue

ROOT = Path(__file__).resolve().parent.parent
COUNTED_CLASSES = ("Exchange", "ExchangeLeg", "Detainee", "Release", "State", "Mediator", "Venue",
                   "Negotiation", "DetaineeGroup", "Person", "Organization", "Claim", "Document", "Evidence",
                   "CountClaim", "Statement", "RankingClaim", "Position", "LifeEvent", "Contribution")


class BuildError(Exception):
    """The build failed; the message says why (validation report, load errors)."""


@dataclass(frozen=True)
class SourcePaths:
    documents: Path = ROOT / "corpus/documents"
    annotations: Path = ROOT / "corpus/annotations"
    registry: Path = ROOT / "corpus/entities.yaml"
    candidates: Path = ROOT / "corpus/candidates"  # the extractor's proposals, one file per document
    ontology: Path = ROOT / "ontology/swapgraph.ttl"
    shapes: Path = ROOT / "ontology/shapes.ttl"
    rules: Path = ROOT / "ontology/rules"

    @classmethod
    def under(cls, root: Path) -> "SourcePaths":
        """The same layout below another project folder (corpus/ and ontology/)."""
        return cls(*(root / path.relative_to(ROOT) for path in cls().__dict__.values()))


@dataclass(frozen=True)
class Budget:
    """What a build may spend before it stops with a clear message (None: no limit)."""

    max_seconds: float | None = None
    max_inferred: int | None = None  # inferred triples; a rule minting new nodes each round hits it
    max_literal_bytes: int = MAX_LITERAL_BYTES

    def check_time(self, started: float, step: str) -> None:
        spent = time.perf_counter() - started
        if self.max_seconds is not None and spent > self.max_seconds:
            raise BuildError(f"the build took {spent:.1f} s by the end of step {step!r}, over its budget of "
                             f"{self.max_seconds:g} s")


@dataclass
class BuildReport:
    class_counts: dict = field(default_factory=dict)
    graph_sizes: dict = field(default_factory=dict)
    facts: int = 0
    documents: int = 0
    inference: InferenceReport | None = None
    step_seconds: dict = field(default_factory=dict)
    seconds: float = 0.0
    build_dir: Path | None = None
    candidates: int = 0  # triples in the candidates graph (the extractor's unreviewed proposals)

    def summary(self) -> str:
        lines = [f"documents: {self.documents}   facts (quotes): {self.facts}"]
        lines.append("triples per graph: " + ", ".join(f"{name} {n}" for name, n in self.graph_sizes.items()))
        lines.append("instances: " + ", ".join(f"{name} {n}" for name, n in self.class_counts.items()))
        lines.append(f"candidates (unreviewed, graph/candidates): {self.candidates} triples")
        if self.inference:
            lines.append(f"inference: {self.inference.inferred} triples in {self.inference.rounds} rounds "
                         f"({self.inference.seconds:.2f}s); by rule: "
                         + ", ".join(f"{r} {n}" for r, n in sorted(self.inference.per_rule.items()) if n))
        lines.append("steps: " + ", ".join(f"{name} {s:.2f}s" for name, s in self.step_seconds.items()))
        lines.append(f"build time: {self.seconds:.2f}s")
        return "\n".join(lines)


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def read_turtle(path: Path) -> Graph:
    """A Turtle file of ours (the ontology, the shapes); a syntax error is a LoadError at its line."""
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:  # rdflib raises BadSyntax and others; all mean the file is not valid Turtle
        match = re.search(r"line (\d+)", str(exc))
        raise LoadError([LoadIssue(path, int(match.group(1)) if match else 1,
                                   f"Turtle syntax: {str(exc).strip().splitlines()[-1][:200]}")]) from exc


def canonical(graph: Graph) -> Graph:
    """The same graph with blank nodes named from their content, so that every build names them alike
    (the ontology's property-chain lists are premises of derivations, and statement IRIs hash them)."""
    return to_canonical_graph(graph)


def load_graph(store: ox.Store, graph: Graph, name, keep_blank_nodes: bool = False) -> None:
    """Bulk-load an rdflib graph into a named graph; parsing renames blank nodes, unless kept."""
    if keep_blank_nodes:
        target = ox.NamedNode(str(name))
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), target) for s, p, o in graph)
        return
    data = graph.serialize(format="nt", encoding="utf-8")
    store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(name)))


def load_table(store: ox.Store, triples, name) -> None:
    """Triples of Oxigraph terms (a loader's TripleTable) into a named graph, in one bulk insert."""
    graph = ox.NamedNode(str(name))
    store.bulk_extend(ox.Quad(s, p, o, graph) for s, p, o in triples)


def reification_lines(corpus: CorpusGraphs):
    """N-Quads text, one string per asserted triple: its statement node (vocab.terms.reification, the
    same IRI and quads) and a link to each evidence span that states it. Text that Oxigraph parses is
    about half the cost of making five Quad objects per triple (the store step's largest part)."""
    graph = f" {PROVENANCE} .\n"
    head = f"<{ID}statement/"
    stated = f" <{RDF.type}> <{RDF.Statement}>{graph}"
    subject, predicate, obj = (f" <{term}> " for term in (RDF.subject, RDF.predicate, RDF.object))
    evidence_link = f" <{SG.evidence}> "
    for (s, p, o), evidence in corpus.evidence.items():
        s, p, o = str(s), str(p), str(o)
        node = head + statement_id(s, p, o) + ">"
        yield (f"{node}{stated}{node}{subject}{s}{graph}{node}{predicate}{p}{graph}{node}{obj}{o}{graph}"
               + "".join(f"{node}{evidence_link}{span}{graph}" for span in evidence))


def write_provenance(path: Path, corpus: CorpusGraphs) -> None:
    """The provenance graph as the corpus gives it (documents, evidence spans, each asserted triple
    reified), as N-Quads text, for both stores: inference never reads it, and at 1M it is 5.3M of the
    7.8M quads."""
    graph = f" {PROVENANCE} .\n"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(f"{s} {p} {o}{graph}" for s, p, o in corpus.provenance_table)
        out.writelines(reification_lines(corpus))


class _Parts:
    """Where build_store writes the graph's parts as N-Quads files, handed as they come to the loader
    of the build folder's store (with no filler: only the provenance part, which the memory store
    loads too, in a temporary folder)."""

    def __init__(self, filler: StoreFiller | None):
        self.filler = filler
        self._temporary = None if filler else tempfile.TemporaryDirectory(prefix="swapgraph-parts-")
        self.folder = filler.parts if filler else Path(self._temporary.name)

    def provenance(self, corpus: CorpusGraphs) -> Path:
        path = self.folder / "provenance.nq"
        write_provenance(path, corpus)
        if self.filler:
            self.filler.add(path)
        return path

    def dump(self, store: ox.Store, name: str, graph: ox.NamedNode | None = None) -> None:
        """The store (or one graph of it, as N-Triples) to a part, handed to the disk store's loader."""
        if self.filler is None:
            return
        path = self.folder / name
        if graph is None:
            store.dump(output=str(path), format=ox.RdfFormat.N_QUADS)
        else:
            store.dump(output=str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        self.filler.add(path, graph)


class _Beside(threading.Thread):
    """A call of Oxigraph's (loads, dumps: they run without Python's lock) in a thread beside the
    build's own steps; result() waits for it and raises its error."""

    def __init__(self, call: Callable[[], None], name: str):
        super().__init__(name=name)
        self.call, self.error = call, None
        self.start()

    def run(self) -> None:
        try:
            self.call()
        except BaseException as exc:  # handed to the building thread by result()
            self.error = exc
        finally:
            self.call = None  # its store may be freed once done

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def to_rdflib_dataset(store: ox.Store) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    return dataset


def store_graph(store: ox.Store, names) -> Graph:
    """The union of some named graphs of the store, as one rdflib graph (for pySHACL)."""
    graph = Graph()
    for name in names:
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(str(name))):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graph


def graph_sizes(store: ox.Store) -> dict:
    """Triples per named graph, counted by the store (at 1M 1.7 s CPU; iterating the quads in Python took 5.6 s)."""
    return {str(name).rsplit("/", 1)[-1]: _count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
            for name in Graphs.ALL}


def _count(store: ox.Store, query: str, **options) -> int:
    return int(next(iter(store.query(query, **options)))["n"].value)


def class_counts(store: ox.Store) -> dict:
    counts = {}
    for name in COUNTED_CLASSES:
        query = f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <{SG[name]}> }}"
        # The reviewed graphs only: candidates (graph/candidates) are never counted as facts.
        reviewed = [ox.NamedNode(str(graph)) for graph in Graphs.ALL]
        counts[name] = _count(store, query, default_graph=reviewed)
    return counts


def build_store(store: ox.Store, paths: SourcePaths = SourcePaths(), progress: Progress = _quiet,
                budget: Budget = Budget(), cache_dir: Path | None = None,
                filler: StoreFiller | None = None) -> BuildReport:
    """Fill an empty store from the sources; raise LoadError/BuildError on bad input or invalid data.
    cache_dir: where parsed documents are kept between builds (loaders.corpus.ParseCache).
    filler: the build folder's store, handed each part of the graph as soon as it is final."""
    from graph.shacl import Unsupported
    from graph.validation import DATA_GRAPHS, validate, validate_store

    report = BuildReport()
    started = time.perf_counter()

    def step(name: str):
        progress(name)
        report.step_seconds[name] = time.perf_counter()

    def done(name: str):
        report.step_seconds[name] = time.perf_counter() - report.step_seconds[name]
        budget.check_time(started, name)

    step("parse")
    ontology = canonical(read_turtle(paths.ontology))
    shapes = read_turtle(paths.shapes)
    rules = load_rules(paths.rules)

    def checking(_: str) -> None:
        done("parse")
        step("checks")

    corpus = load_corpus(paths.documents, paths.annotations, paths.registry,
                         max_literal_bytes=budget.max_literal_bytes, cache_dir=cache_dir, progress=checking)
    report.facts, report.documents = corpus.fact_count, len(corpus.documents)
    done("checks")

    step("store")
    parts = _Parts(filler)
    provenance = parts.provenance(corpus)  # first: the disk store's loader starts on the largest part
    load_graph(store, ontology, Graphs.ONTOLOGY, keep_blank_nodes=True)
    # A fact stated by a document lives in the asserted graph only: the default graph is the union
    # of the named graphs, and a triple held by two graphs would be counted twice there.
    load_table(store, (t for t in corpus.entity_table if t not in corpus.asserted_table), Graphs.ENTITIES)
    load_table(store, corpus.asserted_table, Graphs.ASSERTED)
    del corpus  # the store and the provenance part hold it now: millions of term tuples less from here on
    parts.dump(store, "domain.nq")  # the ontology, entities and asserted graphs: all the store holds yet
    done("store")

    step("inference")
    try:
        report.inference = run_inference(store, rules, max_inferred=budget.max_inferred)
    except InferenceError as exc:
        raise BuildError(str(exc)) from exc
    done("inference")

    step("provenance")
    # Inference never reads provenance: the inferred graph and its derivations, the only provenance
    # quads so far, go to the disk store as they are; then the corpus's provenance joins them in
    # memory for validation and the summary. (Inference on a store of its own while this one filled
    # beside it saved main-thread time but held both stores at once: 5.2 GB at 1M instead of 4.5.)
    parts.dump(store, "inferred.nt", ox.NamedNode(str(Graphs.INFERRED)))
    parts.dump(store, "derivations.nt", PROVENANCE)
    load_file(store, provenance, bulk=False)
    done("provenance")

    step("validation")
    try:
        result = validate_store(store, shapes)
    except Unsupported as exc:  # a shape beyond the compiler: pySHACL on a copy of the data, slower
        progress(f"  shapes not compiled to SPARQL ({exc}): validating with pySHACL")
        data = store_graph(store, DATA_GRAPHS)
        result = validate(data, ontology=ontology, asserted=store_graph(store, [Graphs.ASSERTED]), shapes=shapes,
                          store=store)
    done("validation")
    if not result.conforms:
        raise BuildError("SHACL validation failed:\n" + result.text())

    report.graph_sizes = graph_sizes(store)
    report.class_counts = class_counts(store)
    step("candidates")  # last: inference, validation and the counts above are of reviewed facts only
    candidates = load_candidates(paths.documents, paths.annotations, paths.candidates, paths.registry)
    if len(candidates):
        load_graph(store, candidates, Graphs.CANDIDATES)
        parts.dump(store, "candidates.nt", ox.NamedNode(str(Graphs.CANDIDATES)))
    report.candidates = len(candidates)
    done("candidates")
    report.seconds = time.perf_counter() - started
    return report


PARSE_CACHE = "parse-cache"  # under the data folder: documents parsed by earlier builds


def build(layout: StoreLayout, paths: SourcePaths = SourcePaths(), progress: Progress = _quiet,
          budget: Budget = Budget()) -> BuildReport:
    """Build in memory while a thread bulk-loads the build folder's store with each part of the graph
    as soon as it is final (StoreFiller); write the dump beside the summary; switch `current` to the
    build only if everything succeeded."""
    build_dir = layout.new_build_dir()
    filler = dumping = None
    try:
        filler = StoreFiller(build_dir)
        filler.start()
        memory = ox.Store()
        report = build_store(memory, paths, progress, budget, cache_dir=layout.data_dir / PARSE_CACHE, filler=filler)
        filler.close()  # every part is in its queue: its store is freed as soon as they are loaded
        # the served dump, written by Oxigraph from the final memory store beside the summary
        dumping = _Beside(lambda: memory.dump(output=str(build_dir / DUMP_NAME), format=ox.RdfFormat.N_QUADS), "dump")
        progress("summary")
        started = time.perf_counter()
        write_summary(build_dir, summarize(memory, report))
        report.step_seconds["summary"] = time.perf_counter() - started
        progress("switch")
        started = time.perf_counter()
        dumping.result()
        del memory  # dumped and summarised (freed beside the disk store's load if that still runs)
        filler.finish()
        gc.collect()  # the write lock must be gone before readers open the build
        report.step_seconds["switch"] = time.perf_counter() - started  # what the steps before did not hide
        report.step_seconds["disk store (beside the build)"] = filler.seconds
    except BaseException:
        if dumping is not None:
            dumping.join()
        if filler is not None:
            filler.abandon()  # its bulk loader writes into build_dir until it ends
        gc.collect()
        layout.discard(build_dir)
        raise
    layout.publish(build_dir)
    report.build_dir = build_dir
    return report

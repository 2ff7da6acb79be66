"""Turning extractions (facts with quotes) into rdflib graphs: entities, asserted facts, provenance."""

import gc
import hashlib
import pickle
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, XSD, Namespace

from vocab.terms import to_ox, to_rdflib
from vocab import ID, SG, TURTLE_PREFIXES, expand_iri, sg_terms
from loaders.annotations import (
    DOCUMENT_KINDS,
    NAMED_TYPES,
    VERBATIM_METADATA,
    CuratedAnnotations,
    EntityDecl,
    Extraction,
    Extractor,
    LICENCES,
    Fact,
    licence_address,
    read_registry,
)
from loaders.documents import Document, read_documents
from loaders.errors import LoadError, LoadIssue

SG_TERMS = {str(term) for term in sg_terms()}
STATUS_VALUES = {str(SG.done), str(SG.agreed), str(SG.expected), str(SG.announced)}
ALLOWED_FOREIGN_PREDICATES = {RDF.type, RDFS.label, SKOS.altLabel}
# Facts the rules derive; stating them by hand would hide a missing Release or role node.
DERIVED_ONLY = {
    SG.releasedBy, SG.releasedTo, SG.releasedIn, SG.releaseOf, SG.hasRelease, SG.releasingParty,
    SG.receivingParty, SG.mediated, SG.mediatedBy, SG.actsAsMediator, SG.actsAsNegotiator,
    SG.custodyHeldBy, SG.conflictsWith, SG.sumOfLegs, SG.participatedIn, SG.hasPart,
    SG.evidence, SG.derivation, SG.premise, SG.rule,
}
HEADER_LINES = TURTLE_PREFIXES.count("\n")
# The store refuses a term of 16 MiB or more ("Reached the buffer maximal size"): refuse it here, at its line.
MAX_LITERAL_BYTES = 16 * 1024 * 1024 - 1024
CC = Namespace("http://creativecommons.org/ns#")  # Creative Commons Rights Expression Language



class TripleTable:
    """Triples as Oxigraph terms, in the order added, without duplicates: quick to fill and to load
    into a store. `graph()` is an rdflib view, made on first use and kept in step with later additions."""

    def __init__(self):
        self.triples: dict[tuple, None] = {}
        self._graph: Graph | None = None

    def add(self, triple: tuple) -> None:
        if triple not in self.triples:
            self.triples[triple] = None
            if self._graph is not None:
                self._graph.add(tuple(to_rdflib(t) for t in triple))

    def __iter__(self):
        return iter(self.triples)

    def __len__(self) -> int:
        return len(self.triples)

    def __contains__(self, triple) -> bool:
        return triple in self.triples

    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = Graph()
            self._graph.addN((*(to_rdflib(t) for t in triple), self._graph) for triple in self.triples)
        return self._graph


@dataclass
class CorpusGraphs:
    """The loader's output. The tables hold Oxigraph terms (the build loads them as they are); the
    rdflib graphs of the same triples (entities, asserted, provenance) are made when first asked for."""

    entity_table: TripleTable = field(default_factory=TripleTable)
    asserted_table: TripleTable = field(default_factory=TripleTable)
    provenance_table: TripleTable = field(default_factory=TripleTable)  # documents and evidence spans
    evidence: dict = field(default_factory=dict)  # asserted triple (Oxigraph terms) -> evidence IRIs, in order
    documents: list[Document] = field(default_factory=list)
    fact_count: int = 0

    @property
    def entities(self) -> Graph:
        return self.entity_table.graph()

    @property
    def asserted(self) -> Graph:
        return self.asserted_table.graph()

    @property
    def provenance(self) -> Graph:
        return self.provenance_table.graph()


def locate(fact: Fact) -> tuple[int, int]:
    text, quote = fact.document.text, fact.quote
    starts, at = [], text.find(quote)
    while at != -1:
        starts.append(at)
        at = text.find(quote, at + 1)
    if not starts:
        raise ValueError(f"quote not found verbatim in {fact.document.name}: {quote[:80]!r}")
    if fact.occurrence is None and len(starts) > 1:
        raise ValueError(f"quote occurs {len(starts)} times in {fact.document.name}; add occurrence: N")
    index = (fact.occurrence or 1) - 1
    if index >= len(starts):
        raise ValueError(f"occurrence {fact.occurrence} asked, the quote occurs {len(starts)} times")
    return starts[index], starts[index] + len(quote)


def parse_fact_turtle(fact: Fact) -> Graph:
    """The snippet's triples as an rdflib graph (see parse_fact_triples)."""
    graph = Graph()
    for triple in parse_fact_triples(fact):
        graph.add(tuple(to_rdflib(t) for t in triple))
    return graph


FACT_GRAPH = "urn:swapgraph:fact:"  # a fact's snippet as a graph of one TriG document per annotation file
# Snippets the TriG wrapping could read otherwise than Turtle does: braces (a graph block of their own),
# directives (not allowed inside a graph block), no final "." (optional before a block's "}").
_NOT_WRAPPABLE = re.compile(r"[{}]|@prefix|@base|^\s*(PREFIX|BASE)\b", re.IGNORECASE | re.MULTILINE)


def parse_document_facts(facts: list[Fact]) -> list[list[tuple]] | None:
    """Every fact's triples (Oxigraph terms), from one parse of all the snippets of a document, each
    wrapped in a graph of its own; None when a snippet cannot be wrapped or the parse fails (then each
    fact is parsed alone, and errors are reported at their line)."""
    if any(_NOT_WRAPPABLE.search(fact.turtle) or not fact.turtle.rstrip().endswith(".") for fact in facts):
        return None
    document = TURTLE_PREFIXES + "".join(f"<{FACT_GRAPH}{i}> {{\n{fact.turtle}\n}}\n" for i, fact in enumerate(facts))
    triples: list[list[tuple]] = [[] for _ in facts]
    try:
        for q in ox.parse(document, format=ox.RdfFormat.TRIG):
            triples[int(q.graph_name.value[len(FACT_GRAPH):])].append((q.subject, q.predicate, q.object))
    except (SyntaxError, ValueError, TypeError, AttributeError):
        return None
    return triples


def parse_fact_triples(fact: Fact) -> list[tuple]:
    """The snippet's triples as Oxigraph terms: parsed by Oxigraph (fast); on any error, by rdflib,
    whose message and line the error reports keep."""
    try:
        return [(q.subject, q.predicate, q.object)
                for q in ox.parse(TURTLE_PREFIXES + fact.turtle, format=ox.RdfFormat.TURTLE, without_named_graphs=True)]
    except (SyntaxError, ValueError, TypeError):
        pass
    try:
        graph = Graph().parse(data=TURTLE_PREFIXES + fact.turtle, format="turtle")
    except Exception as exc:  # rdflib raises several kinds; all mean the snippet is not valid Turtle
        line = _syntax_error_line(str(exc))
        raise ValueError((fact.turtle_line + line - 1 if line else fact.turtle_line),
                         f"Turtle syntax: {str(exc).splitlines()[-1][:200]}") from exc
    return [tuple(to_ox(t) for t in triple) for triple in graph]


def _syntax_error_line(message: str) -> int | None:
    import re

    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) - HEADER_LINES if match else None


ID_BASE = str(ID)
DERIVED_ONLY_IRIS = {str(p) for p in DERIVED_ONLY}
FOREIGN_PREDICATE_IRIS = {str(p) for p in ALLOWED_FOREIGN_PREDICATES}
RDF_TYPE, SG_STATUS = str(RDF.type), str(SG.status)


def _iri(term) -> str | None:
    """The IRI of an rdflib or Oxigraph IRI term, None for other terms."""
    if type(term) is ox.NamedNode:
        return term.value
    return str(term) if isinstance(term, URIRef) else None


def check_triple(s, p, o) -> str | None:
    """What is wrong with a fact's triple (rdflib or Oxigraph terms), or None."""
    if type(s) is ox.NamedNode and type(p) is ox.NamedNode and type(o) in (ox.NamedNode, ox.Literal) \
            and s.value.startswith(ID_BASE):  # the loader's usual triple: no conversions, no isinstance walks
        predicate = p.value
        return _predicate_problem(predicate) or (_object_problem(predicate, o.value) if type(o) is ox.NamedNode else (
            f"type {o} is not a class of the ontology" if predicate == RDF_TYPE else None))
    if isinstance(s, (BNode, ox.BlankNode)) or isinstance(o, (BNode, ox.BlankNode)):
        return "blank nodes are not allowed: give every node an IRI"
    subject, predicate, obj = _iri(s), _iri(p), _iri(o)
    if subject is None:
        return "a literal cannot be a subject"
    if not subject.startswith(ID_BASE):
        return f"subject {subject} is not an entity IRI (id: namespace)"
    return _predicate_problem(predicate) or (_object_problem(predicate, obj) if obj is not None else (
        f"type {o} is not a class of the ontology" if predicate == RDF_TYPE else None))


@lru_cache(maxsize=4096)  # a corpus uses a few hundred predicates and objects outside id/: checked once each
def _predicate_problem(predicate: str) -> str | None:
    if predicate not in SG_TERMS and predicate not in FOREIGN_PREDICATE_IRIS:
        return f"predicate {predicate} is not a term of the ontology"
    if predicate in DERIVED_ONLY_IRIS:
        return f"{URIRef(predicate).n3()} is derived by the rules; state the Release or role node instead"
    if predicate in SG_TERMS and predicate.rpartition("#")[2][:1].isupper():
        return f"{predicate} is a class, not a property"
    return None


def _object_problem(predicate: str, obj: str) -> str | None:
    if predicate == RDF_TYPE:
        return _type_problem(obj)
    # sg:status takes one of the ontology's sg:Status individuals, the only non-entity object allowed.
    if not obj.startswith(ID_BASE) and not (predicate == SG_STATUS and obj in STATUS_VALUES):
        return f"object {obj} is not an entity IRI (id: namespace)"
    return None


@lru_cache(maxsize=4096)
def _type_problem(obj: str) -> str | None:
    if obj not in SG_TERMS or not obj.rpartition("#")[2][:1].isupper():
        return f"type {obj} is not a class of the ontology"
    return None


O_TYPE, O_LABEL, O_ALT_LABEL = (ox.NamedNode(str(t)) for t in (RDF.type, RDFS.label, SKOS.altLabel))
O_ISO, O_DOCUMENT, O_EVIDENCE, O_FILE_NAME, O_SHA256 = (
    ox.NamedNode(str(t)) for t in (SG.isoCode, SG.Document, SG.Evidence, SG.fileName, SG.sha256))
O_DOCUMENT_LINK, O_QUOTE, O_START, O_END, O_LINE = (
    ox.NamedNode(str(t)) for t in (SG.document, SG.quote, SG.startOffset, SG.endOffset, SG.annotationLine))
O_INTEGER = ox.NamedNode(str(XSD.integer))


@lru_cache(maxsize=1 << 16)
def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=O_INTEGER)


class _Builder:
    evidence_base = "evidence"  # candidate facts get their own evidence IRIs (loaders/candidates.py)

    def __init__(self, max_literal_bytes: int = MAX_LITERAL_BYTES):
        self.max_literal_bytes = max_literal_bytes
        self.out = CorpusGraphs()
        self.issues: list[LoadIssue] = []
        self.declared: dict[URIRef, EntityDecl] = {}
        self.typed_in_facts: set[str] = set()  # IRIs
        self.used: dict[str, tuple[Path, int]] = {}  # IRI -> where first used

    def add_entities(self, decls: list[EntityDecl]):
        for decl in decls:
            expanded = expand_iri(decl.curie)
            if expanded is None or not expanded.startswith(str(ID)):
                self.issues.append(LoadIssue(decl.source, decl.line, f"{decl.curie!r} is not an entity CURIE (id: prefixes)"))
                continue
            iri = URIRef(expanded)
            known = self.declared.get(iri)
            if known is None:
                if decl.type is None or decl.label is None:
                    self.issues.append(LoadIssue(decl.source, decl.line,
                                                 f"entity {decl.curie}: type and label are required"))
                    continue
                self.declared[iri] = decl
            elif (decl.type, decl.label, decl.iso) not in ((None, None, None), (known.type, known.label, known.iso)):
                self.issues.append(LoadIssue(decl.source, decl.line,
                                             f"entity {decl.curie} is already declared at {known.source}:{known.line}"
                                             " with another type or label; only altLabels may be added"))
                continue
            self._emit_entity(iri, decl)

    def _emit_entity(self, iri: URIRef, decl: EntityDecl):
        add, node = self.out.entity_table.add, ox.NamedNode(str(iri))
        if decl.type:
            add((node, O_TYPE, ox.NamedNode(str(SG[decl.type]))))
            add((node, O_LABEL, ox.Literal(decl.label)))
        for alt in decl.alt_labels:
            add((node, O_ALT_LABEL, ox.Literal(alt)))
        if decl.iso:
            add((node, O_ISO, ox.Literal(decl.iso)))

    def add_document(self, extraction: Extraction, parsed: list[list[tuple]] | None = None):
        """The document's node, metadata and facts; `parsed`: its snippets' triples if already parsed."""
        doc = extraction.document
        node = ox.NamedNode(str(ID["document/" + doc.stem]))
        add = self.out.provenance_table.add
        add((node, O_TYPE, O_DOCUMENT))
        self.typed_in_facts.add(node.value)  # a corpus document may be the object of a fact (its contributors)
        add((node, O_LABEL, ox.Literal(str(extraction.metadata.get("title") or doc.name))))
        add((node, O_FILE_NAME, ox.Literal(doc.name)))
        add((node, O_SHA256, ox.Literal(doc.sha256)))
        meta = extraction.metadata
        for key in VERBATIM_METADATA:
            value = meta.get(key)
            if value is None:
                continue
            if str(value) not in doc.text:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines[key],
                                             f"metadata {key} {value!r} does not appear in {doc.name}"))
            add((node, to_ox({"title": SG.title, "publisher": SG.publisher, "author": SG.author}[key]),
                 ox.Literal(str(value))))
        if meta.get("kind") is not None:
            if meta["kind"] not in DOCUMENT_KINDS:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines["kind"],
                                             f"kind must be one of {DOCUMENT_KINDS}"))
            add((node, to_ox(SG.documentKind), to_ox(Literal(meta["kind"]))))
        if meta.get("language"):
            add((node, to_ox(SG.language), to_ox(Literal(meta["language"]))))
        if meta.get("date"):
            add((node, to_ox(SG.publicationDate), to_ox(Literal(str(meta["date"]), datatype=XSD.date))))
        self._add_rights(node, extraction)
        parsed = parsed if parsed is not None else parse_document_facts(extraction.facts)
        for index, fact in enumerate(extraction.facts):
            self.add_fact(fact, node, parsed[index] if parsed is not None else None)

    def _too_large(self, text: str) -> str | None:
        if len(text) * 4 <= self.max_literal_bytes:  # UTF-8 takes at most 4 bytes a character
            return None
        size = len(text.encode("utf-8"))
        if size > self.max_literal_bytes:
            return f"literal too large: {size} bytes, the store takes at most {self.max_literal_bytes}"
        return None

    def _add_rights(self, node: ox.NamedNode, extraction: Extraction):
        """Where the text was taken from, under which licence, credited to whom (documents added later)."""
        add, meta = self.out.provenance_table.add, extraction.metadata
        if meta.get("source"):
            add((node, to_ox(DCTERMS.source), ox.NamedNode(str(meta["source"]))))
        if meta.get("licence"):
            address = licence_address(str(meta["licence"]))
            if address is None:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines["licence"],
                                             f"licence must be an address or one of {sorted(LICENCES)}"))
            else:
                add((node, to_ox(DCTERMS.license), ox.NamedNode(address)))
        if meta.get("attribution"):
            add((node, to_ox(CC.attributionName), ox.Literal(str(meta["attribution"]))))

    def add_fact(self, fact: Fact, doc_node: ox.NamedNode, triples: list[tuple] | None = None):
        problem = self._too_large(fact.quote)
        if problem:
            self.issues.append(LoadIssue(fact.source, fact.line, problem))
            return
        try:
            start, end = locate(fact)
            triples = triples if triples is not None else parse_fact_triples(fact)
        except ValueError as exc:
            line, message = (exc.args if len(exc.args) == 2 else (fact.line, exc.args[0]))
            self.issues.append(LoadIssue(fact.source, line, message))
            return
        evidence = ox.NamedNode(f"{ID_BASE}{self.evidence_base}/{fact.document.stem}/{start}-{end}")
        add = self.out.provenance_table.add
        add((evidence, O_TYPE, O_EVIDENCE))
        add((evidence, O_DOCUMENT_LINK, doc_node if isinstance(doc_node, ox.NamedNode) else to_ox(doc_node)))
        add((evidence, O_QUOTE, ox.Literal(fact.quote)))
        add((evidence, O_START, _integer(start)))
        add((evidence, O_END, _integer(end)))
        add((evidence, O_LINE, _integer(fact.line)))
        for triple in triples:
            s, p, o = triple
            literal = type(o) is ox.Literal
            problem = check_triple(s, p, o) or (self._too_large(o.value) if literal else None)
            if problem:
                self.issues.append(LoadIssue(fact.source, fact.turtle_line, problem))
                continue
            self.out.asserted_table.add(triple)
            if p == O_TYPE:
                self.typed_in_facts.add(s.value)
            where = (fact.source, fact.turtle_line)
            self.used.setdefault(s.value, where)
            if not literal:
                self.used.setdefault(o.value, where)
            self.out.evidence.setdefault(triple, {})[evidence] = None
        self.out.fact_count += 1

    def check_references(self):
        declared = {str(iri) for iri in self.declared}
        for iri, (source, line) in self.used.items():
            if iri.startswith(ID_BASE) and iri not in declared and iri not in self.typed_in_facts:
                self.issues.append(LoadIssue(source, line,
                                             f"{iri} is neither declared under entities nor typed in a fact"))

    def check_labels(self, documents: list[Document], annotation_files: dict[Path, Document]):
        """Every name appears in some document: first looked up in the document whose annotation file
        declares it (one small text), the whole corpus only for the registry and misses."""
        texts = {doc.path: _normalize(doc.text) for doc in documents}
        corpus_text = None
        for decl in self.declared.values():
            names = list(decl.alt_labels) + ([decl.label] if decl.type in NAMED_TYPES else [])
            own = annotation_files.get(decl.source)
            for name in names:
                wanted = _normalize(name)
                if own is not None and wanted in texts[own.path]:
                    continue
                if corpus_text is None:
                    corpus_text = "\n".join(texts.values())
                if wanted not in corpus_text:
                    self.issues.append(LoadIssue(decl.source, decl.line,
                                                 f"label {name!r} of {decl.curie} appears in no document"))


def _normalize(text: str) -> str:
    """Case and typographic apostrophes do not make a different name."""
    return text.casefold().replace("\u2019", "'").replace("\u2018", "'")


class ParseCache:
    """Each document's extraction and parsed snippets, kept between builds in one file per document and
    used again while neither the document nor its annotation file changed (an incremental build
    re-parses only the documents that changed). A cache file is ours: written and read by the build."""

    VERSION = b"swapgraph-parse-1"  # change when what is cached changes shape

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def key(self, document: Document, extractor: Extractor) -> str | None:
        path = getattr(extractor, "path_for", None)
        source = path(document) if path else None
        if source is None or not source.is_file():
            return None  # nothing to key on: always extracted afresh
        digest = hashlib.sha256(self.VERSION + extractor.name.encode())
        digest.update(f"{document.path}\0{source}\0".encode())  # cached facts name both paths
        digest.update(document.text.encode("utf-8"))
        digest.update(source.read_bytes())
        return digest.hexdigest()

    def _file(self, document: Document, extractor: Extractor) -> Path:
        return self.folder / f"{document.stem}.{extractor.name}.pickle"

    def get(self, document: Document, extractor: Extractor, key: str):
        try:
            with self._file(document, extractor).open("rb") as cached:
                stored_key, extraction, parsed = pickle.load(cached)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return None
        return (extraction, parsed) if stored_key == key else None

    def put(self, document: Document, extractor: Extractor, key: str, extraction: Extraction, parsed) -> None:
        temporary = self._file(document, extractor).with_suffix(".tmp")
        with temporary.open("wb") as out:
            pickle.dump((key, extraction, parsed), out, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self._file(document, extractor))

    def keep_only(self, documents: list[Document]) -> None:
        """Drop the files of documents no longer in the corpus."""
        stems = {document.stem for document in documents}
        for cached in self.folder.glob("*.pickle"):
            if cached.name.split(".", 1)[0] not in stems:
                cached.unlink(missing_ok=True)


def _extract(document: Document, extractor: Extractor, cache: ParseCache | None):
    """(extraction, parsed snippets or None) for one document, from the cache when it is current."""
    key = cache.key(document, extractor) if cache is not None else None
    if key is not None and (hit := cache.get(document, extractor, key)) is not None:
        return hit
    extraction = extractor.extract(document)
    parsed = parse_document_facts(extraction.facts)
    if key is not None:
        cache.put(document, extractor, key, extraction, parsed)
    return extraction, parsed


def load_corpus(documents_dir: Path, annotations_dir: Path, registry_path: Path,
                extractors: list[Extractor] | None = None, max_literal_bytes: int = MAX_LITERAL_BYTES,
                cache_dir: Path | None = None, progress=None) -> CorpusGraphs:
    """Read documents, registry and extractions; raise LoadError listing every problem found.
    With cache_dir, documents unchanged since the last load there are not parsed again (ParseCache).
    progress: called with "checks" when parsing is done and the checks across documents begin."""
    with _no_cyclic_gc():
        return _load_corpus(documents_dir, annotations_dir, registry_path, extractors, max_literal_bytes, cache_dir,
                            progress or (lambda _: None))


@contextmanager
def _no_cyclic_gc():
    """The cyclic collector paused: the loader makes millions of small acyclic objects (term tuples),
    and each collection walks all of them (64 s instead of 109 s to load the 1M corpus, measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_corpus(documents_dir, annotations_dir, registry_path, extractors, max_literal_bytes, cache_dir,
                 progress) -> CorpusGraphs:
    extractors = extractors or [CuratedAnnotations(annotations_dir)]
    cache = ParseCache(cache_dir) if cache_dir is not None else None
    builder = _Builder(max_literal_bytes)
    issues: list[LoadIssue] = []
    try:
        builder.add_entities(read_registry(registry_path))
    except LoadError as exc:
        issues += exc.issues
    documents = read_documents(documents_dir)
    builder.out.documents = documents
    extractions = []
    for document in documents:
        for extractor in extractors:
            try:
                extractions.append(_extract(document, extractor, cache))
            except LoadError as exc:
                issues += exc.issues
    for extraction, _ in extractions:
        builder.add_entities(extraction.entities)
    for extraction, parsed in extractions:
        builder.add_document(extraction, parsed)
    progress("checks")
    builder.check_references()
    builder.check_labels(documents, {e.source: e.document for e, _ in extractions if e.source is not None})
    issues += builder.issues
    if issues:
        raise LoadError(issues)
    if cache is not None:
        cache.keep_only(documents)
    return builder.out

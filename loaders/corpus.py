"""Turning extractions (facts with quotes) into rdflib graphs: entities, asserted facts, provenance."""

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, XSD, Namespace

from vocab.terms import to_rdflib
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



@dataclass
class CorpusGraphs:
    entities: Graph = field(default_factory=Graph)
    asserted: Graph = field(default_factory=Graph)
    provenance: Graph = field(default_factory=Graph)  # documents and evidence spans
    evidence: dict = field(default_factory=dict)  # asserted triple -> set of evidence IRIs
    documents: list[Document] = field(default_factory=list)
    fact_count: int = 0


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
    """The snippet's triples: parsed by Oxigraph (fast); on any error, by rdflib, whose message and line
    the error reports keep."""
    graph = Graph()
    try:
        for quad in ox.parse(TURTLE_PREFIXES + fact.turtle, format=ox.RdfFormat.TURTLE, without_named_graphs=True):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph
    except (SyntaxError, ValueError, TypeError):
        graph = Graph()
    try:
        graph.parse(data=TURTLE_PREFIXES + fact.turtle, format="turtle")
    except Exception as exc:  # rdflib raises several kinds; all mean the snippet is not valid Turtle
        line = _syntax_error_line(str(exc))
        raise ValueError((fact.turtle_line + line - 1 if line else fact.turtle_line),
                         f"Turtle syntax: {str(exc).splitlines()[-1][:200]}") from exc
    return graph


def _syntax_error_line(message: str) -> int | None:
    import re

    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) - HEADER_LINES if match else None


def check_triple(s, p, o) -> str | None:
    for node in (s, o):
        if isinstance(node, BNode):
            return "blank nodes are not allowed: give every node an IRI"
    if isinstance(s, Literal):
        return "a literal cannot be a subject"
    if not str(s).startswith(str(ID)):
        return f"subject {s} is not an entity IRI (id: namespace)"
    if str(p) not in SG_TERMS and p not in ALLOWED_FOREIGN_PREDICATES:
        return f"predicate {p} is not a term of the ontology"
    if p in DERIVED_ONLY:
        return f"{p.n3()} is derived by the rules; state the Release or role node instead"
    if str(p) in SG_TERMS and str(p).rpartition("#")[2][:1].isupper():
        return f"{p} is a class, not a property"
    if p == RDF.type and (str(o) not in SG_TERMS or not str(o).rpartition("#")[2][:1].isupper()):
        return f"type {o} is not a class of the ontology"
    # sg:status takes one of the ontology's sg:Status individuals, the only non-entity object allowed.
    if isinstance(o, URIRef) and p != RDF.type and not str(o).startswith(str(ID)) and not (
            p == SG.status and str(o) in STATUS_VALUES):
        return f"object {o} is not an entity IRI (id: namespace)"
    return None


class _Builder:
    evidence_base = "evidence"  # candidate facts get their own evidence IRIs (loaders/candidates.py)

    def __init__(self, max_literal_bytes: int = MAX_LITERAL_BYTES):
        self.max_literal_bytes = max_literal_bytes
        self.out = CorpusGraphs()
        self.issues: list[LoadIssue] = []
        self.declared: dict[URIRef, EntityDecl] = {}
        self.typed_in_facts: set[URIRef] = set()
        self.used: dict[URIRef, tuple[Path, int]] = {}

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
        g = self.out.entities
        if decl.type:
            g.add((iri, RDF.type, SG[decl.type]))
            g.add((iri, RDFS.label, Literal(decl.label)))
        for alt in decl.alt_labels:
            g.add((iri, SKOS.altLabel, Literal(alt)))
        if decl.iso:
            g.add((iri, SG.isoCode, Literal(decl.iso)))

    def add_document(self, extraction: Extraction):
        doc = extraction.document
        node = ID["document/" + doc.stem]
        g = self.out.provenance
        g.add((node, RDF.type, SG.Document))
        self.typed_in_facts.add(node)  # a corpus document may be the object of a fact (its contributors)
        g.add((node, RDFS.label, Literal(extraction.metadata.get("title") or doc.name)))
        g.add((node, SG.fileName, Literal(doc.name)))
        g.add((node, SG.sha256, Literal(doc.sha256)))
        meta = extraction.metadata
        for key in VERBATIM_METADATA:
            value = meta.get(key)
            if value is None:
                continue
            if str(value) not in doc.text:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines[key],
                                             f"metadata {key} {value!r} does not appear in {doc.name}"))
            g.add((node, {"title": SG.title, "publisher": SG.publisher, "author": SG.author}[key], Literal(str(value))))
        if meta.get("kind") is not None:
            if meta["kind"] not in DOCUMENT_KINDS:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines["kind"],
                                             f"kind must be one of {DOCUMENT_KINDS}"))
            g.add((node, SG.documentKind, Literal(meta["kind"])))
        if meta.get("language"):
            g.add((node, SG.language, Literal(meta["language"])))
        if meta.get("date"):
            g.add((node, SG.publicationDate, Literal(str(meta["date"]), datatype=XSD.date)))
        self._add_rights(node, extraction)
        for fact in extraction.facts:
            self.add_fact(fact, node)

    def _too_large(self, text: str) -> str | None:
        size = len(text.encode("utf-8"))
        if size > self.max_literal_bytes:
            return f"literal too large: {size} bytes, the store takes at most {self.max_literal_bytes}"
        return None

    def _add_rights(self, node: URIRef, extraction: Extraction):
        """Where the text was taken from, under which licence, credited to whom (documents added later)."""
        g, meta = self.out.provenance, extraction.metadata
        if meta.get("source"):
            g.add((node, DCTERMS.source, URIRef(str(meta["source"]))))
        if meta.get("licence"):
            address = licence_address(str(meta["licence"]))
            if address is None:
                self.issues.append(LoadIssue(extraction.source, extraction.metadata_lines["licence"],
                                             f"licence must be an address or one of {sorted(LICENCES)}"))
            else:
                g.add((node, DCTERMS.license, URIRef(address)))
        if meta.get("attribution"):
            g.add((node, CC.attributionName, Literal(str(meta["attribution"]))))

    def add_fact(self, fact: Fact, doc_node: URIRef):
        problem = self._too_large(fact.quote)
        if problem:
            self.issues.append(LoadIssue(fact.source, fact.line, problem))
            return
        try:
            start, end = locate(fact)
            graph = parse_fact_turtle(fact)
        except ValueError as exc:
            line, message = (exc.args if len(exc.args) == 2 else (fact.line, exc.args[0]))
            self.issues.append(LoadIssue(fact.source, line, message))
            return
        evidence = ID[f"{self.evidence_base}/{fact.document.stem}/{start}-{end}"]
        prov = self.out.provenance
        prov.add((evidence, RDF.type, SG.Evidence))
        prov.add((evidence, SG.document, doc_node))
        prov.add((evidence, SG.quote, Literal(fact.quote)))
        prov.add((evidence, SG.startOffset, Literal(start)))
        prov.add((evidence, SG.endOffset, Literal(end)))
        prov.add((evidence, SG.annotationLine, Literal(fact.line)))
        for s, p, o in graph:
            problem = check_triple(s, p, o) or (self._too_large(str(o)) if isinstance(o, Literal) else None)
            if problem:
                self.issues.append(LoadIssue(fact.source, fact.turtle_line, problem))
                continue
            self.out.asserted.add((s, p, o))
            if p == RDF.type:
                self.typed_in_facts.add(s)
            for node in (s, o):
                if isinstance(node, URIRef):
                    self.used.setdefault(node, (fact.source, fact.turtle_line))
            self.out.evidence.setdefault((s, p, o), set()).add(evidence)
        self.out.fact_count += 1

    def check_references(self):
        for iri, (source, line) in self.used.items():
            if str(iri).startswith(str(ID)) and iri not in self.declared and iri not in self.typed_in_facts:
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


def load_corpus(documents_dir: Path, annotations_dir: Path, registry_path: Path,
                extractors: list[Extractor] | None = None, max_literal_bytes: int = MAX_LITERAL_BYTES) -> CorpusGraphs:
    """Read documents, registry and extractions; raise LoadError listing every problem found."""
    extractors = extractors or [CuratedAnnotations(annotations_dir)]
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
                extractions.append(extractor.extract(document))
            except LoadError as exc:
                issues += exc.issues
    for extraction in extractions:
        builder.add_entities(extraction.entities)
    for extraction in extractions:
        builder.add_document(extraction)
    builder.check_references()
    builder.check_labels(documents, {e.source: e.document for e in extractions if e.source is not None})
    issues += builder.issues
    if issues:
        raise LoadError(issues)
    return builder.out

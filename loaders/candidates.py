"""Candidate files: an extractor's proposals per document, written as YAML and read back as one graph."""

from pathlib import Path

import yaml
from rdflib import RDFS, Graph, Literal, URIRef

from vocab import ID, expand_iri
from loaders.annotations import CandidateAnnotations, CuratedAnnotations, Extraction, Fact, read_registry
from loaders.corpus import _Builder
from loaders.documents import Document, read_documents
from loaders.errors import LoadError, LoadIssue


class _Block(str):
    """A string written as a YAML block scalar (`|`), as Turtle is in the annotation files."""


yaml.SafeDumper.add_representer(_Block, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|"))


def candidate_item(number: int, fact: Fact, start: int, end: int) -> dict:
    item = {"number": number, "quote": fact.quote}
    if fact.occurrence:
        item["occurrence"] = fact.occurrence
    item.update({"start": start, "end": end, "turtle": _Block(fact.turtle), "status": "candidate",
                 "confidence": fact.confidence, "rule": fact.rule, "modality": fact.modality, "kind": fact.kind})
    if fact.note:
        item["note"] = fact.note
    return item


def dump_candidates(extraction: Extraction, version: str) -> str:
    """The candidate file of one document: the annotation format, each fact marked as a candidate."""
    from loaders.corpus import locate

    entities = {e.curie: {"type": e.type, "label": e.label, **({"iso": e.iso} if e.iso else {})}
                for e in extraction.entities}
    facts = [candidate_item(number, fact, *locate(fact)) for number, fact in enumerate(extraction.facts, start=1)]
    body = {"document": extraction.document.name, "extractor": version, "entities": entities, "facts": facts}
    header = ("# Candidate facts proposed by the extractor: not reviewed, never in the reviewed graph.\n"
              "# Review them with `swapgraph review DOCUMENT` (docs/annotation-guide.md).\n")
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110)


class _CandidateBuilder(_Builder):
    """The loader's checks (verbatim quotes, ontology terms, declared entities) for candidate facts."""

    evidence_base = "candidate"

    def add_document(self, extraction: Extraction):
        node = ID["document/" + extraction.document.stem]
        for fact in extraction.facts:
            before = self.out.fact_count
            self.add_fact(fact, node)
            if self.out.fact_count > before:
                self._describe(fact)

    def _describe(self, fact: Fact):
        from loaders.corpus import locate

        start, end = locate(fact)
        node = ID[f"{self.evidence_base}/{fact.document.stem}/{start}-{end}"]
        self.out.provenance.add((node, RDFS.comment, Literal(
            f"candidate ({fact.kind}): rule {fact.rule}, confidence {fact.confidence}, modality {fact.modality}")))


def load_candidates(documents_dir: Path, annotations_dir: Path, candidates_dir: Path, registry_path: Path) -> Graph:
    """Every candidate file as one graph (facts, proposed entities, candidate evidence); LoadError if bad."""
    documents = [doc for doc in read_documents(documents_dir) if (candidates_dir / f"{doc.stem}.yaml").exists()]
    graph = Graph()
    if not documents:
        return graph
    builder, issues = _CandidateBuilder(), []
    builder.add_entities(read_registry(registry_path))
    curated, candidates = CuratedAnnotations(annotations_dir), CandidateAnnotations(candidates_dir)
    extractions = []
    for document in read_documents(documents_dir):
        try:
            builder.add_entities(curated.extract(document).entities)  # known entities keep their labels
        except LoadError:
            pass  # a broken reviewed file is reported by the reviewed build itself
    for document in documents:
        try:
            extractions.append(candidates.extract(document))
        except LoadError as exc:
            issues += exc.issues
    for extraction in extractions:  # a reviewed declaration wins over the extractor's proposal
        builder.add_entities([decl for decl in extraction.entities
                              if URIRef(expand_iri(decl.curie) or "") not in builder.declared])
    for extraction in extractions:
        builder.add_document(extraction)
    builder.check_references()
    issues += builder.issues
    if issues:
        raise LoadError(issues)
    out = builder.out
    # Only what the candidate files add: the reviewed entities are in the entities graph already.
    for triple in out.asserted:
        graph.add(triple)
    proposed = {URIRef(expand_iri(decl.curie)) for e in extractions for decl in e.entities}
    for s, p, o in out.entities:
        if s in proposed:
            graph.add((s, p, o))
    for s, p, o in out.provenance:
        if str(s).startswith(str(ID[builder.evidence_base + "/"])):
            graph.add((s, p, o))
    return graph


def document_for(name: str, documents_dir: Path) -> Document:
    """A corpus document by file name, stem or path; LoadError naming the choices if there is none."""
    stem = Path(name).stem
    for document in read_documents(documents_dir):
        if document.stem == stem or document.stem.startswith(stem + "_") or document.stem.split("_")[0] == stem:
            return document
    raise LoadError([LoadIssue(Path(name), 0, f"no document {name!r} in {documents_dir}")])

"""The curated annotation layer: one reviewed YAML file of facts and quotes per document."""

import dataclasses
import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from loaders.documents import Document
from loaders.errors import LoadError, LoadIssue
from loaders.yamlfile import LineDict, LineList, read_yaml

ENTITY_TYPES = ("Person", "State", "Organization", "Place", "Venue", "Exchange", "ExchangeLeg", "Negotiation")
# Named things whose labels must be names found in the documents; event labels are descriptive.
NAMED_TYPES = ("Person", "State", "Organization", "Place", "Venue")
METADATA_KEYS = ("title", "publisher", "author", "kind", "language", "date", "source", "licence", "attribution")
VERBATIM_METADATA = ("title", "publisher", "author")
DOCUMENT_KINDS = ("encyclopedia", "news")
# Licence names accepted in metadata, and the address each stands for.
LICENCES = {
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


def licence_address(licence: str) -> str | None:
    """The address of a licence given by name (SPDX) or by address; None if it is neither."""
    address = LICENCES.get(licence, licence)
    return address if address.startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class EntityDecl:
    curie: str
    type: str | None
    label: str | None
    alt_labels: tuple[str, ...]
    iso: str | None
    source: Path
    line: int


@dataclass(frozen=True)
class Fact:
    document: Document
    quote: str
    occurrence: int | None
    turtle: str
    source: Path
    line: int
    turtle_line: int  # file line of the snippet's first line
    extractor: str
    # Candidate facts (an extractor's proposals, kept apart until reviewed) say how they were found.
    status: str = "reviewed"  # reviewed | candidate
    confidence: float | None = None
    rule: str | None = None
    modality: str | None = None  # done | agreed | expected | announced
    kind: str | None = None  # the kind of fact (release, party, mediator, ...), for review and scoring
    note: str | None = None  # why a candidate is partial (a date without year, no releasing state)


@dataclass
class Extraction:
    """What one extractor says about one document."""

    document: Document
    facts: list[Fact] = field(default_factory=list)
    entities: list[EntityDecl] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    metadata_lines: dict = field(default_factory=dict)
    source: Path | None = None
    extractor: str | None = None  # name and version of the extractor that made candidate facts


class Extractor(Protocol):
    """Anything that states facts about a document with quotes: curated files now, a model later."""

    name: str

    def extract(self, document: Document) -> Extraction: ...


def parse_entities(mapping: LineDict, source: Path, issues: list[LoadIssue]) -> list[EntityDecl]:
    decls = []
    for curie, body in mapping.items():
        line = mapping.value_lines[curie]
        if not isinstance(body, dict):
            issues.append(LoadIssue(source, line, f"entity {curie}: expected a mapping"))
            continue
        unknown = set(body) - {"type", "label", "altLabels", "iso"}
        if unknown:
            issues.append(LoadIssue(source, line, f"entity {curie}: unknown keys {sorted(unknown)}"))
        kind = body.get("type")
        if kind is not None and kind not in ENTITY_TYPES:
            issues.append(LoadIssue(source, line, f"entity {curie}: type {kind!r} is not one of {ENTITY_TYPES}"))
        alt = body.get("altLabels") or []
        if not isinstance(alt, list) or not all(isinstance(a, str) for a in alt):
            issues.append(LoadIssue(source, line, f"entity {curie}: altLabels must be a list of strings"))
            alt = []
        label = body.get("label")
        decls.append(EntityDecl(curie, kind, str(label) if label is not None else None,
                                tuple(alt), body.get("iso"), source, line))
    return decls


FACT_KEYS = {"quote", "occurrence", "turtle"}
CANDIDATE_KEYS = {"number", "status", "confidence", "rule", "modality", "kind", "note", "start", "end"}
MODALITIES = ("done", "agreed", "expected", "announced")


def _parse_fact(item, line: int, document: Document, source: Path, issues: list[LoadIssue],
                allowed: set = FACT_KEYS) -> Fact | None:
    if not isinstance(item, dict):
        issues.append(LoadIssue(source, line, "a fact must be a mapping with quote and turtle"))
        return None
    unknown = set(item) - allowed
    if unknown:
        issues.append(LoadIssue(source, line, f"unknown keys in fact: {sorted(unknown)}"))
    quote, turtle = item.get("quote"), item.get("turtle")
    if not isinstance(quote, str) or not quote.strip():
        issues.append(LoadIssue(source, line, "fact has no quote"))
        return None
    if not isinstance(turtle, str) or not turtle.strip():
        issues.append(LoadIssue(source, line, "fact has no turtle"))
        return None
    occurrence = item.get("occurrence")
    if occurrence is not None and (not isinstance(occurrence, int) or occurrence < 1):
        issues.append(LoadIssue(source, item.value_lines["occurrence"], "occurrence must be a positive integer"))
        return None
    # A block scalar's node starts at its indicator ('|'); its text begins on the next line.
    turtle_line = item.value_lines["turtle"] + (1 if "turtle" in item.block_keys else 0)
    if allowed is FACT_KEYS:
        return Fact(document, quote, occurrence, turtle, source, line, turtle_line, "curated")
    return _candidate_fact(item, Fact(document, quote, occurrence, turtle, source, line, turtle_line, "candidate"),
                           issues)


def _candidate_fact(item, fact: Fact, issues: list[LoadIssue]) -> Fact | None:
    problems = []
    if item.get("status") != "candidate":
        problems.append("status: must be candidate")
    confidence = item.get("confidence")
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        problems.append("confidence: must be a number from 0 to 1")
    if not isinstance(item.get("rule"), str):
        problems.append("rule: must name the pattern that made the fact")
    if item.get("modality") not in MODALITIES:
        problems.append(f"modality: must be one of {MODALITIES}")
    for problem in problems:
        issues.append(LoadIssue(fact.source, fact.line, problem))
    if problems:
        return None
    return dataclasses.replace(fact, status="candidate", confidence=float(confidence), rule=item["rule"],
                               modality=item["modality"], kind=item.get("kind"), note=item.get("note"))


def _section(data: LineDict, key: str, kind: type, issues: list[LoadIssue], source: Path):
    """A top-level section of the expected shape, or None (with an issue if it has another shape)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        shape = "a mapping" if kind is LineDict else "a list"
        issues.append(LoadIssue(source, data.value_lines[key], f"{key}: must be {shape}"))
        return None
    return value


def _check_date(metadata: LineDict, source: Path, issues: list[LoadIssue]) -> None:
    value = metadata.get("date")
    if value is not None and not isinstance(value, datetime.date):
        issues.append(LoadIssue(source, metadata.value_lines["date"], f"date {value!r} is not a YYYY-MM-DD date"))


class CuratedAnnotations:
    """Reads `<annotations>/<document stem>.yaml`, the reviewed facts of each document."""

    name = "curated"
    fact_keys = FACT_KEYS
    # `uncited`: reasons for the sentences no fact cites, read by graph/coverage.py.
    top_keys = {"document", "metadata", "entities", "facts", "uncited"}

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, document: Document) -> Path:
        return self.folder / f"{document.stem}.yaml"

    def extract(self, document: Document) -> Extraction:
        source = self.path_for(document)
        if not source.exists():
            raise LoadError([LoadIssue(source, 1, f"no annotation file for document {document.name}")])
        data = read_yaml(source)
        issues: list[LoadIssue] = []
        if not isinstance(data, dict):
            raise LoadError([LoadIssue(source, 1, "expected a mapping with document, metadata, entities, facts")])
        unknown = set(data) - self.top_keys
        if unknown:
            issues.append(LoadIssue(source, data.line, f"unknown top-level keys {sorted(unknown)}"))
        if data.get("document") != document.name:
            issues.append(LoadIssue(source, data.value_lines.get("document", 1),
                                    f"document: must be {document.name!r}, found {data.get('document')!r}"))
        extraction = Extraction(document, source=source)
        metadata = _section(data, "metadata", LineDict, issues, source)
        if metadata:
            extraction.metadata = dict(metadata)
            extraction.metadata_lines = metadata.value_lines
            for key in set(metadata) - set(METADATA_KEYS):
                issues.append(LoadIssue(source, metadata.value_lines[key], f"unknown metadata key {key!r}"))
            _check_date(metadata, source, issues)
        entities = _section(data, "entities", LineDict, issues, source)
        if entities:
            extraction.entities = parse_entities(entities, source, issues)
        facts = _section(data, "facts", LineList, issues, source)
        for item, line in zip(facts or [], getattr(facts, "item_lines", [])):
            fact = _parse_fact(item, line, document, source, issues, self.fact_keys)
            if fact:
                extraction.facts.append(fact)
        self.check_file(data, extraction, source, issues)
        if issues:
            raise LoadError(issues)
        return extraction

    def check_file(self, data: LineDict, extraction: Extraction, source: Path, issues: list[LoadIssue]) -> None:
        """What a file of this layer must say besides its facts (nothing, for reviewed files)."""


class CandidateAnnotations(CuratedAnnotations):
    """Reads `<candidates>/<document stem>.yaml`, an extractor's proposals: facts with confidence and rule."""

    name = "candidates"
    fact_keys = FACT_KEYS | CANDIDATE_KEYS
    top_keys = {"document", "extractor", "entities", "facts"}

    def check_file(self, data: LineDict, extraction: Extraction, source: Path, issues: list[LoadIssue]) -> None:
        if not isinstance(data.get("extractor"), str):
            issues.append(LoadIssue(source, data.line, "extractor: must name the extractor and its version"))
        extraction.extractor = data.get("extractor")


def read_registry(path: Path) -> list[EntityDecl]:
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        raise LoadError([LoadIssue(path, 1, "expected a mapping of entity CURIEs")])
    issues: list[LoadIssue] = []
    decls = parse_entities(data, path, issues)
    for decl in decls:
        if decl.type is None or decl.label is None:
            issues.append(LoadIssue(path, decl.line, f"entity {decl.curie}: type and label are required"))
    if issues:
        raise LoadError(issues)
    return decls

"""Adding a document to the corpus: its stable file name, its metadata record, an empty annotation file."""

import datetime
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from loaders.annotations import DOCUMENT_KINDS, LICENCES, licence_address
from loaders.errors import LoadError, LoadIssue

NAME_PATTERN = re.compile(r"^(\d{3})_([0-9a-f]{16})\.txt$")
# A MediaWiki page copied as text starts its body with `= Title =`.
MEDIAWIKI_TITLE = re.compile(r"^= (.+?) =$", re.M)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class AddedDocument:
    document: Path
    annotation: Path
    metadata: dict


def stable_name(text: str, documents: Path) -> str:
    """`NNN_<first 16 hex digits of the text's SHA-256>.txt`, NNN one past the highest number in use."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    numbers = [int(match.group(1)) for path in documents.glob("*.txt") if (match := re.match(r"^(\d+)_", path.name))]
    return f"{max(numbers, default=-1) + 1:03d}_{digest}.txt"


def same_text(text: str, documents: Path) -> Path | None:
    """A document of the corpus with exactly this text, if any."""
    for path in sorted(documents.glob("*.txt")):
        if path.read_bytes() == text.encode("utf-8"):
            return path
    return None


def _wikipedia_language(source: str) -> str | None:
    host = urlparse(source).hostname or ""
    match = re.fullmatch(r"([a-z]{2,3})(?:\.m)?\.wikipedia\.org", host)
    return match.group(1) if match else None


def metadata_for(text: str, source: str, licence: str | None = None, attribution: str | None = None,
                 kind: str | None = None, language: str | None = None, title: str | None = None,
                 date: str | None = None) -> dict:
    """Only what the caller gives or what the text or the source address fix; nothing guessed."""
    wiki_language = _wikipedia_language(source)
    if title is None and (heading := MEDIAWIKI_TITLE.search(text)):
        title = heading.group(1)
    if kind is None and wiki_language:
        kind = "encyclopedia"  # the source is a Wikipedia article
    if attribution is None and wiki_language:
        attribution = "Wikipedia contributors"
    record = {"source": source, "licence": licence, "attribution": attribution, "title": title,
              "kind": kind, "language": language or wiki_language, "date": date}
    return {key: value for key, value in record.items() if value is not None}


def check_request(path: Path, text: str, metadata: dict) -> list[str]:
    problems = []
    parsed = urlparse(metadata["source"])
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(f"--source {metadata['source']!r} is not an http(s) address")
    if metadata.get("licence") and licence_address(metadata["licence"]) is None:
        problems.append(f"--licence must be an address or one of {sorted(LICENCES)}")
    if metadata.get("kind") and metadata["kind"] not in DOCUMENT_KINDS:
        problems.append(f"--kind must be one of {DOCUMENT_KINDS}")
    if metadata.get("title") and metadata["title"] not in text:
        problems.append(f"--title {metadata['title']!r} does not appear in the text")
    if metadata.get("date") and not DATE_PATTERN.match(metadata["date"]):
        problems.append(f"--date {metadata['date']!r} is not YYYY-MM-DD")
    if not text.strip():
        problems.append("the file is empty")
    return problems


def add_document(path: Path, corpus: Path, source: str, **given) -> AddedDocument:
    """Copy the text under its stable name into corpus/documents and write corpus/annotations/<name>.yaml."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError([LoadIssue(path, path.read_bytes()[: exc.start].count(b"\n") + 1,
                                   f"not valid UTF-8: {exc.reason}")]) from exc
    documents, annotations = corpus / "documents", corpus / "annotations"
    metadata = metadata_for(text, source, **given)
    problems = check_request(path, text, metadata)
    if existing := same_text(text, documents):
        problems.append(f"this text is already in the corpus as {existing.name}")
    if problems:
        raise LoadError([LoadIssue(path, 1, problem) for problem in problems])
    if "date" in metadata:
        metadata["date"] = datetime.date.fromisoformat(metadata["date"])  # written as a YAML date
    name = stable_name(text, documents)
    target = documents / name
    annotation = annotations / f"{target.stem}.yaml"
    target.write_bytes(text.encode("utf-8"))
    annotation.write_text(annotation_scaffold(name, metadata), encoding="utf-8")
    return AddedDocument(target, annotation, metadata)


def annotation_scaffold(name: str, metadata: dict) -> str:
    """The empty annotation file: the document, its metadata, no entities and no facts yet."""
    body = {"document": name, "metadata": metadata}
    header = ("# Reviewed facts of this document (docs/annotation-guide.md). Candidates from\n"
              "# `swapgraph extract` are reviewed with `swapgraph review` and land here.\n")
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False) + "entities: {}\nfacts: []\n"

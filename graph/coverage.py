"""Coverage of the documents by the facts: the sentences no fact cites, and the reason recorded for each."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from vocab import SG
from loaders.corpus import CorpusGraphs
from loaders.errors import LoadError, LoadIssue
from loaders.yamlfile import LineDict, LineList, read_yaml

# A sentence ends at . ! or ? (and a closing quote or bracket), before a space and a capital, a digit
# or an opening quote. Abbreviations that end in a full stop do not end a sentence.
SENTENCE_END = re.compile(r"(?<=[.!?])(?P<close>[\"”’)\]]?)\s+(?=[\"“‘(\[]?[A-Z0-9])")
ABBREVIATIONS = ("U.S.", "D.C.", "Jr.", "Mr.", "Mrs.", "Dr.", "St.", "vs.", "U.K.")
# Wiki section headings ("== Background ==") are structure, not statements: reason recorded here.
HEADING = re.compile(r"^=+\s.*\s=+$")
AUTOMATIC_REASON = "heading"
SECTION = "uncited"


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Reason:
    sentence: str
    reason: str
    line: int


@dataclass
class DocumentCoverage:
    document: str
    sentences: int = 0
    cited: int = 0
    explained: list[tuple[Sentence, str]] = field(default_factory=list)
    unexplained: list[Sentence] = field(default_factory=list)
    stale: list[Reason] = field(default_factory=list)  # a reason for a sentence that is cited or absent

    def as_dict(self) -> dict:
        return {"document": self.document, "sentences": self.sentences, "cited": self.cited,
                "explained": len(self.explained), "unexplained": len(self.unexplained),
                "uncitedSentences": [{"start": s.start, "end": s.end, "text": s.text, "reason": r}
                                     for s, r in self.explained]
                + [{"start": s.start, "end": s.end, "text": s.text, "reason": None} for s in self.unexplained],
                "staleReasons": [{"line": r.line, "sentence": r.sentence} for r in self.stale]}


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of a text with their offsets: one line is one or more sentences."""
    found = []
    offset = 0
    for line in text.split("\n"):
        start = offset
        offset += len(line) + 1
        piece_start = start
        for match in SENTENCE_END.finditer(line):
            if line[: match.start()].endswith(ABBREVIATIONS):
                continue
            found.append(_sentence(text, piece_start, start + match.start() + len(match.group("close"))))
            piece_start = start + match.end()
        found.append(_sentence(text, piece_start, start + len(line)))
    return [s for s in found if s is not None]


def _sentence(text: str, start: int, end: int) -> Sentence | None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return None
    lead = len(raw) - len(raw.lstrip())
    return Sentence(start + lead, start + lead + len(stripped), stripped)


def read_reasons(path: Path) -> list[Reason]:
    """The `uncited:` section of an annotation file: `- sentence: "..."` with `reason: ...`."""
    data = read_yaml(path)
    section = data.get(SECTION) if isinstance(data, LineDict) else None
    if section is None:
        return []
    if not isinstance(section, LineList):
        raise LoadError([LoadIssue(path, data.value_lines[SECTION], f"{SECTION}: must be a list")])
    reasons, issues = [], []
    for item, line in zip(section, section.item_lines):
        if not isinstance(item, dict) or not isinstance(item.get("sentence"), str) \
                or not isinstance(item.get("reason"), str) or set(item) - {"sentence", "reason"}:
            issues.append(LoadIssue(path, line, f"{SECTION}: each entry is a mapping with sentence and reason"))
            continue
        reasons.append(Reason(" ".join(item["sentence"].split()), item["reason"].strip(), line))
    if issues:
        raise LoadError(issues)
    return reasons


def document_coverage(name: str, text: str, spans: list[tuple[int, int]], reasons: list[Reason]) -> DocumentCoverage:
    result = DocumentCoverage(name)
    by_text = {r.sentence: r for r in reasons}
    used = set()
    for sentence in split_sentences(text):
        result.sentences += 1
        if any(start < sentence.end and end > sentence.start for start, end in spans):
            result.cited += 1
            continue
        key = " ".join(sentence.text.split())
        if HEADING.match(sentence.text):
            result.explained.append((sentence, AUTOMATIC_REASON))
        elif key in by_text:
            result.explained.append((sentence, by_text[key].reason))
            used.add(key)
        else:
            result.unexplained.append(sentence)
    result.stale = [r for r in reasons if r.sentence not in used]
    return result


def evidence_spans(corpus: CorpusGraphs) -> dict[str, list[tuple[int, int]]]:
    """Document stem -> the character spans its facts quote."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for node in corpus.provenance.subjects(predicate=SG.startOffset):
        stem = str(corpus.provenance.value(node, SG.document)).rsplit("/", 1)[-1]
        start = corpus.provenance.value(node, SG.startOffset).toPython()
        end = corpus.provenance.value(node, SG.endOffset).toPython()
        spans.setdefault(stem, []).append((start, end))
    return spans


def corpus_coverage(corpus: CorpusGraphs, annotations: Path) -> list[DocumentCoverage]:
    spans = evidence_spans(corpus)
    results = []
    for document in corpus.documents:
        path = annotations / f"{document.stem}.yaml"
        reasons = read_reasons(path) if path.exists() else []
        results.append(document_coverage(document.name, document.text, spans.get(document.stem, []), reasons))
    return results


def totals(results: list[DocumentCoverage]) -> dict:
    return {"documents": len(results),
            "sentences": sum(r.sentences for r in results),
            "cited": sum(r.cited for r in results),
            "explained": sum(len(r.explained) for r in results),
            "unexplained": sum(len(r.unexplained) for r in results),
            "staleReasons": sum(len(r.stale) for r in results)}


def summary_line(results: list[DocumentCoverage]) -> str:
    t = totals(results)
    return (f"coverage: {t['sentences']} sentences in {t['documents']} documents, {t['cited']} cited by a fact, "
            f"{t['explained']} uncited with a recorded reason, {t['unexplained']} uncited without one"
            + (f", {t['staleReasons']} stale reasons" if t["staleReasons"] else ""))


def report_lines(results: list[DocumentCoverage], annotations: Path) -> list[str]:
    lines = []
    for r in results:
        lines.append(f"{r.document}: {r.sentences} sentences, {r.cited} cited, {len(r.explained)} explained, "
                     f"{len(r.unexplained)} unexplained")
        for sentence, reason in r.explained:
            lines.append(f"  [{reason}] {sentence.start}-{sentence.end}: {_short(sentence.text)}")
        for sentence in r.unexplained:
            lines.append(f"  [NO REASON] {sentence.start}-{sentence.end}: {_short(sentence.text)}")
        path = annotations / (Path(r.document).stem + ".yaml")
        for reason in r.stale:
            lines.append(f"  {path}:{reason.line}: reason for a sentence that is cited or not in the document: "
                         f"{_short(reason.sentence)}")
    lines.append(summary_line(results))
    return lines


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

"""Inference rules as files under ontology/rules/: OWL 2 RL rules and the project's SPARQL rules."""

import re
from dataclasses import dataclass
from pathlib import Path

from vocab import SPARQL_PREFIXES, expand_iri

HEADER = re.compile(r"^#\s*([a-z]+):\s?(.*)$")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
KEYS = {"id", "label", "source", "description", "premise", "conclusion"}


class RuleError(Exception):
    def __init__(self, path: Path, line: int, message: str):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Pattern:
    subject: str
    predicate: str
    object: str

    def variables(self) -> set[str]:
        return {t[1:] for t in (self.subject, self.predicate, self.object) if t.startswith("?")}

    def sparql(self) -> str:
        return f"{self.subject} {self.predicate} {self.object} ."


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    source: str
    description: str
    premises: tuple[Pattern, ...]
    conclusions: tuple[Pattern, ...]
    query: str  # a SELECT binding at least every conclusion variable
    path: Path
    has_body: bool = False  # a SPARQL body of its own; without one, the premises are the whole rule

    @property
    def is_owl_rl(self) -> bool:
        return not self.id.startswith("sg-")

    def reads(self) -> frozenset[str] | None:
        """The IRIs the rule's query mentions (rdf:type for `a`): a new fact whose predicate (or, for a
        type, class) is none of them cannot change its answers. None when a pattern has a variable
        predicate: then every new fact may."""
        text = re.sub(r"^\s*PREFIX\s.*$", "", self.query, flags=re.M | re.I)
        body = text[text.index("{"):] if "{" in text else text
        body = re.sub(r"SELECT[^{]*\{", "{ ", re.sub(r"(GROUP|ORDER)\s+BY[^{}]*", " ", body, flags=re.I), flags=re.I)
        while re.search(r"\([^()]*\)", body):  # expressions (FILTER, BIND, aggregates) hold no patterns
            body = re.sub(r"\([^()]*\)", " ", body)
        if re.search(r"\?\w+\s+\?\w+", body):
            return None
        iris = {expand_iri(t) for t in re.findall(r"<[^>\s]*>|[A-Za-z][\w-]*:[\w-]+", body)}
        if re.search(r"\sa\s", body):
            iris.add(RDF_TYPE)
        return frozenset(i for i in iris if i)


def _pattern(text: str, path: Path, line: int) -> Pattern:
    parts = text.split()
    if len(parts) != 3:
        raise RuleError(path, line, f"a pattern is three terms, got {text!r}")
    for token in parts:
        if not token.startswith("?") and token != "a" and expand_iri(token) is None:
            raise RuleError(path, line, f"{token!r} is neither a variable nor an IRI or known CURIE")
    return Pattern(*parts)


def parse_rule(path: Path) -> Rule:
    header: dict[str, list[str]] = {key: [] for key in KEYS}
    body_lines: list[str] = []
    last_key = None
    premises, conclusions = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = HEADER.match(line)
        if match and not body_lines:
            key, value = match.groups()
            if key not in KEYS:
                raise RuleError(path, number, f"unknown header key {key!r}")
            header[key].append(value.strip())
            last_key = key
            if key == "premise":
                premises.append(_pattern(value, path, number))
            elif key == "conclusion":
                conclusions.append(_pattern(value, path, number))
        elif line.startswith("#  ") and last_key == "description" and not body_lines:
            header["description"][-1] += " " + line[1:].strip()
        elif line.strip() or body_lines:
            body_lines.append(line)
    if not header["id"] or header["id"][0] != path.stem:
        raise RuleError(path, 1, "the id must be given and equal the file name")
    if not premises or not conclusions:
        raise RuleError(path, 1, "a rule needs premise and conclusion lines")
    body = "\n".join(body_lines).strip()
    has_body = bool(body)
    if not body:
        body = "SELECT * WHERE {\n  " + "\n  ".join(p.sparql() for p in premises) + "\n}"
    return Rule(header["id"][0], " ".join(header["label"]), " ".join(header["source"]),
                " ".join(header["description"]), tuple(premises), tuple(conclusions),
                SPARQL_PREFIXES + body, path, has_body)


def load_rules(folder: Path) -> list[Rule]:
    rules = [parse_rule(path) for path in sorted(folder.glob("*.rq"))]
    if not rules:
        raise RuleError(folder, 0, "no rule files")
    return rules

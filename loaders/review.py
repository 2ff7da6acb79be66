"""Reviewing candidates: accepted facts go into the reviewed annotation file, rejected ones into negatives."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from loaders.annotations import CandidateAnnotations, CuratedAnnotations, Fact, read_registry
from loaders.corpus import locate
from loaders.documents import Document
from loaders.errors import LoadError, LoadIssue
from loaders.yamlfile import read_yaml

CURIE = re.compile(r"\b((?:person|state|org|place|exchange|negotiation):[\w-]+)")


@dataclass
class Item:
    """One candidate of a candidate file, with the number the extractor gave it (kept until decided)."""

    number: int
    data: dict  # the YAML mapping as read (quote, turtle, rule, confidence, ...)
    fact: Fact


class Review:
    """The candidate file of one document and the decisions taken on it."""

    def __init__(self, document: Document, candidates: Path, annotations: Path, registry: Path):
        self.document = document
        self.path = candidates / f"{document.stem}.yaml"
        self.negatives = candidates / "rejected" / f"{document.stem}.yaml"
        self.annotation = annotations / f"{document.stem}.yaml"
        self.annotations, self.registry = annotations, registry
        if not self.path.exists():
            raise LoadError([LoadIssue(self.path, 0, f"no candidates for {document.name}: run swapgraph extract")])
        self.extraction = CandidateAnnotations(candidates).extract(document)
        raw = read_yaml(self.path)
        self.raw = {key: raw[key] for key in raw}
        self.items = [Item(data.get("number", n), dict(data), fact) for n, (data, fact)
                      in enumerate(zip(raw.get("facts") or [], self.extraction.facts), start=1)]
        self.proposed = {e.curie: e for e in self.extraction.entities}

    def item(self, number: int) -> Item:
        for item in self.items:
            if item.number == number:
                return item
        numbers = ", ".join(str(item.number) for item in self.items) or "none left"
        raise LoadError([LoadIssue(self.path, 0, f"no candidate number {number} (candidates: {numbers})")])

    def sentence(self, item: Item) -> tuple[str, int, int]:
        """The sentence around the quote (from the previous line break or full stop), and the quote's place in it."""
        start, end = locate(item.fact)
        text = self.document.text
        left = max(text.rfind("\n", 0, start), text.rfind(". ", 0, start) + 1)
        right_candidates = [i for i in (text.find("\n", end), text.find(". ", end)) if i != -1]
        right = min(right_candidates) + 1 if right_candidates else len(text)
        return text[left + 1 if left >= 0 else 0:right].strip(), start, end

    def known_curies(self) -> set[str]:
        known = {decl.curie for decl in read_registry(self.registry)}
        for path in self.annotations.glob("*.yaml"):
            data = read_yaml(path)
            if isinstance(data, dict) and isinstance(data.get("entities"), dict):
                known |= set(data["entities"])
        return known

    def entities_for(self, turtles: list[str], labels: dict[str, str]) -> dict[str, dict]:
        """Proposed entities the accepted Turtle names and the reviewed files do not declare yet."""
        known, needed = self.known_curies(), {}
        for turtle in turtles:
            for curie in CURIE.findall(turtle):
                if curie in known or curie in needed:
                    continue
                if curie in getattr(self, "proposed_extra", {}):
                    needed[curie] = dict(self.proposed_extra[curie])
                    continue
                entity = self.proposed.get(curie)
                if entity is None:
                    raise LoadError([LoadIssue(self.path, 0, f"{curie} is neither known nor proposed: declare it")])
                needed[curie] = {"type": entity.type, "label": labels.get(curie, entity.label),
                                 **({"iso": entity.iso} if entity.iso else {})}
        return needed

    def decide(self, accept: dict[int, dict], reject: dict[int, str], labels: dict[str, str], validate,
               added: list[dict] = ()) -> list[str]:
        """Apply the decisions: accepted facts (possibly edited) and facts the reviewer adds (ones the extractor
        missed) are appended and validated together; if they do not validate, nothing changes."""
        accepted, declared = [], {}
        for number, edit in sorted(accept.items()):
            item = self.item(number)
            accepted.append({"quote": edit.get("quote", item.fact.quote), "turtle": edit.get("turtle", item.fact.turtle),
                             **({"occurrence": edit["occurrence"]} if "occurrence" in edit else {})})
            declared.update(edit.get("entities") or {})
        for fact in added:
            accepted.append({key: fact[key] for key in ("quote", "turtle", "occurrence") if key in fact})
            declared.update(fact.get("entities") or {})
        accepted = _merge_same_quotes(accepted)
        for number in reject:
            self.item(number)
        before = self.annotation.read_text(encoding="utf-8")
        if accepted:
            self.proposed_extra = declared
            entities = self.entities_for([fact["turtle"] for fact in accepted], labels)
            self.annotation.write_text(append_reviewed(before, accepted, entities, self.document.text),
                                       encoding="utf-8")
            try:
                validate()
            except Exception:
                self.annotation.write_text(before, encoding="utf-8")  # the reviewed file stays as it was
                raise
        self._keep_negatives([(self.item(n), reason) for n, reason in reject.items()])
        done = set(accept) | set(reject)
        self._rewrite_candidates([item for item in self.items if item.number not in done])
        return ([f"accepted {n}" for n in sorted(accept)] + [f"rejected {n}" for n in sorted(reject)]
                + [f"added: {fact['quote'][:60]}" for fact in added])

    def _keep_negatives(self, rejected: list[tuple[Item, str]]):
        """Rejected candidates are kept, with the reason, as negative examples for the extractor's tests."""
        if not rejected:
            return
        self.negatives.parent.mkdir(exist_ok=True)
        data = yaml.safe_load(self.negatives.read_text(encoding="utf-8")) if self.negatives.exists() else None
        data = data or {"document": self.document.name, "rejected": []}
        from loaders.candidates import _Block

        for item, reason in rejected:
            kept = {k: v for k, v in item.data.items() if k != "status"}
            data["rejected"].append({**kept, "turtle": _Block(kept["turtle"]), "reason": reason})
        self.negatives.write_text("# Candidates a reviewer rejected: negative examples for the extractor.\n"
                                  + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110),
                                  encoding="utf-8")

    def _rewrite_candidates(self, remaining: list[Item]):
        from loaders.candidates import _Block

        facts = [{**item.data, "turtle": _Block(item.data["turtle"])} for item in remaining]
        used = {curie for item in remaining for curie in CURIE.findall(item.data["turtle"])}
        entities = {k: dict(v) for k, v in (self.raw.get("entities") or {}).items() if k in used}
        body = {"document": self.document.name, "extractor": self.raw.get("extractor"), "entities": entities,
                "facts": facts}
        self.path.write_text("# Candidate facts still to review (swapgraph review).\n"
                             + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def _merge_same_quotes(facts: list[dict]) -> list[dict]:
    """Facts citing the same span are one fact: one quote, the Turtle of all of them."""
    merged: dict[tuple, dict] = {}
    for fact in facts:
        key = (fact["quote"], fact.get("occurrence"))
        if key in merged:
            merged[key]["turtle"] = merged[key]["turtle"].rstrip("\n") + "\n" + fact["turtle"]
        else:
            merged[key] = dict(fact)
    return list(merged.values())


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _yaml_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_quoted(str(v)) for v in value) + "]"
    return _quoted(str(value))


def _append_to_entities(text: str, block: str) -> str:
    """The block added at the end of the `entities:` mapping, whatever key or comment follows it."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("entities:"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i][0].isspace()),
               len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines before the next key stay after the new entities
    return "".join(lines[:end]) + block + "".join(lines[end:])


def append_reviewed(text: str, facts: list[dict], entities: dict[str, dict], document_text: str) -> str:
    """The reviewed file's text with entities added to its `entities:` and facts appended to its `facts:`."""
    if entities:
        block = "".join(f"  {curie}:\n" + "".join(f"    {k}: {_yaml_value(v)}\n" for k, v in body.items())
                        for curie, body in entities.items())
        if re.search(r"^entities: \{\}\s*$", text, re.M):
            text = re.sub(r"^entities: \{\}\s*$", "entities:\n" + block.rstrip("\n"), text, count=1, flags=re.M)
        elif re.search(r"^entities:", text, re.M):
            text = _append_to_entities(text, block)
        else:
            text = re.sub(r"^facts:", "entities:\n" + block + "facts:", text, count=1, flags=re.M)
    text = re.sub(r"^facts: \[\]\s*$", "facts:", text, count=1, flags=re.M).rstrip("\n") + "\n"
    for fact in facts:
        text += f"  - quote: {_quoted(fact['quote'])}\n"
        occurrences = document_text.count(fact["quote"])
        if occurrences > 1:
            text += f"    occurrence: {fact.get('occurrence', 1)}\n"
        text += "    turtle: |\n" + "".join(f"      {line}\n" for line in fact["turtle"].rstrip("\n").splitlines())
    return text


def in_words(turtle: str, labels: dict[str, str]) -> list[str]:
    """The Turtle as sentences a reviewer can check: subject, property, value, with labels where known."""
    from rdflib import Graph

    from vocab import TURTLE_PREFIXES

    graph = Graph().parse(data=TURTLE_PREFIXES + turtle, format="turtle")
    lines = []
    for s, p, o in sorted(graph):
        name = str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        value = labels.get(_curie(str(o)), _curie(str(o))) if not hasattr(o, "datatype") else str(o)
        lines.append(f"{labels.get(_curie(str(s)), _curie(str(s)))} — {name} — {value}")
    return lines


def _curie(iri: str) -> str:
    from vocab import PREFIXES

    for prefix, base in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base):]}"
    return iri

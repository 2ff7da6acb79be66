"""Release arguments from the dependency parse (model pipeline): DependencyMatcher patterns, one per argument."""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from loaders.linking import PATTERNS

COPULAS = {"was", "were", "is", "are", "included"}
NAME_LABELS = {"PERSON", "GPE", "NORP", "ORG", "FAC", "LOC"}


@dataclass
class Frame:
    """One release verb and its arguments by role (released, releaser, receiver, counterpart, mediator)."""

    verb: object  # spaCy Token
    args: dict = field(default_factory=lambda: defaultdict(list))
    rule_of: dict = field(default_factory=dict)  # token index -> the pattern that found it


def load_matcher(nlp, triggers: dict, folder: Path = PATTERNS):
    """The DependencyMatcher of dependencies.json with the trigger words filled in, and each pattern's role."""
    from spacy.matcher import DependencyMatcher

    fill = {"{RELEASE}": sorted(set(triggers["release"])), "{MEDIATION}": sorted(set(triggers["mediation"]))}
    matcher, roles = DependencyMatcher(nlp.vocab), {}
    for item in json.loads((folder / "dependencies.json").read_text(encoding="utf-8"))["patterns"]:
        text = json.dumps(item["pattern"])
        for key, words in fill.items():
            text = text.replace(json.dumps(key), json.dumps(words))
        matcher.add(item["id"], [json.loads(text)])
        roles[item["id"]] = item["role"]
    return matcher, roles


def frames(doc, matcher, roles: dict) -> list[Frame]:
    """The release frames of a parsed document: arguments gathered per verb from every pattern that matched."""
    by_verb: dict[int, Frame] = {}
    for match_id, tokens in matcher(doc):
        rule = doc.vocab.strings[match_id]
        pattern_nodes = [node["RIGHT_ID"] for node in matcher.get(rule)[1][0]]
        found = dict(zip(pattern_nodes, tokens))
        verb, arg = doc[found["verb"]], doc[found["arg"]]
        frame = by_verb.setdefault(verb.i, Frame(verb))
        if arg not in frame.args[roles[rule]]:
            frame.args[roles[rule]].append(arg)
            frame.rule_of.setdefault(arg.i, rule)
    for frame in by_verb.values():
        # The subject releases when the verb has an object (`A freed B`), else it is the one released (`B returned`).
        subjects, objects = frame.args.pop("subject", []), frame.args.pop("object", [])
        frame.args["releaser"] += subjects if objects else []
        released = objects + frame.args["released"] + ([] if objects else subjects)
        for token in subjects if not objects else []:
            frame.rule_of[token.i] = "dep-released-subject"
        frame.args["released"] = []
        for token in released:
            value = _copula_value(token)
            frame.rule_of.setdefault(value.i, frame.rule_of[token.i])
            frame.args["released"].append(value)
    return sorted(by_verb.values(), key=lambda frame: frame.verb.i)


def _copula_value(token):
    """`Another prisoner released was A`: the released noun is the subject of a copula; A is the one named.
    `A, a pilot convicted of ... and released`: the noun is set beside A; A is the one named."""
    head = token.head
    if token.dep_ == "appos" and head.tag_ in ("NNP", "NNPS"):
        return head
    if token.dep_ == "nsubj" and head.lower_ in COPULAS:
        for child in head.children:
            if child.dep_ in ("attr", "dobj", "acomp") and child.i > head.i:
                return child
    return token


def items(token) -> list:
    """A noun and the nouns coordinated with it or set beside it (`the figures, A, B and C`), in text order."""
    found = [token, *token.conjuncts]
    for child in token.children:
        if child.dep_ == "appos":
            found += [child, *child.conjuncts]
    return sorted(dict.fromkeys(found), key=lambda t: t.i)


def entity_span(token):
    """The named entity a token is part of, or None."""
    for ent in token.doc.ents:
        if ent.start <= token.i < ent.end and ent.label_ in NAME_LABELS:
            return ent
    return None


def name_span(token):
    """The name a token heads: its entity, or the token with its compound words (`Radio Free Europe`)."""
    ent = entity_span(token)
    if ent is not None:
        return ent
    left = min([token.i] + [c.i for c in token.lefts if c.dep_ == "compound"])
    return token.doc[left:token.i + 1]


def group(token):
    """A group from its noun (`about 270 Russian military personnel`, `thirteen of the prisoners`): the qualifier
    (`about`, or None), the count's span and the category's span; None if the noun has no count."""
    if token.tag_ == "CD":
        of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of"), None)
        noun = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
        return None if noun is None else (_qualifier(token), _number(token), _category(noun))
    number = next((c for c in token.children if c.dep_ == "nummod"), None)
    if number is None:
        return None
    return _qualifier(number), _number(number), token.doc[number.i + 1:token.i + 1]


def _qualifier(number) -> str | None:
    words = [c for c in number.children if c.dep_ in ("quantmod", "advmod") and c.i < number.i]
    return " ".join(t.lower_ for t in sorted(words, key=lambda t: t.i)) or None


def _number(number):
    """`1,000`, `twenty-six`, `two hundred`: the number's own tokens (compound numbers included)."""
    parts = [number] + [c for c in number.children if c.dep_ == "compound" and c.tag_ == "CD"]
    return number.doc[min(t.i for t in parts):max(t.i for t in parts) + 1]


def _category(noun):
    left = min([noun.i] + [c.i for c in noun.lefts if c.dep_ in ("amod", "compound")])
    return noun.doc[left:noun.i + 1]


def elliptic_groups(verb) -> list:
    """`... released to A and three to B`: a number coordinated with the verb, with its own receiver."""
    out = []
    for child in verb.children:
        if child.dep_ == "conj" and child.tag_ == "CD":
            to = next((c for c in child.children if c.dep_ == "prep" and c.lower_ == "to"), None)
            receiver = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
            if receiver is not None:
                out.append((child, receiver))
    return out

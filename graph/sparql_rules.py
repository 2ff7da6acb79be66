"""The project's SPARQL rules (sg-*) evaluated on the inference engine's in-memory facts, with their queries' solutions."""

import hashlib
import re
from collections import defaultdict

from vocab import expand_iri

XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                              "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt",
                              "unsignedLong", "unsignedShort", "unsignedByte")}
INTEGER = f"<{XSD}integer>"
TRUE = f'"true"^^<{XSD}boolean>'
ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class Unsupported(Exception):
    """A term this in-memory form does not compare the way SPARQL would: the rule's query runs on the store."""


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    return chr(int(code[1:], 16)) if code[0] in "uU" and len(code) > 1 else SIMPLE_ESCAPES.get(code, code)


def lexical(text: str) -> str:
    """STR() of a term given as N-Triples text (a blank node has none: SPARQL's STR errs)."""
    if text[0] == "<":
        return text[1:-1]
    if text[0] != '"':
        raise Unsupported(f"STR of a blank node {text}")
    body = text[1:text.rfind('"')]
    return ESCAPE.sub(_unescape, body) if "\\" in body else body


def datatype(text: str) -> str | None:
    end = text.rfind('"')
    return text[end + 4:-1] if text.startswith("^^<", end + 1) else None


class View:
    """The facts (term codes) and their texts, as the rules below look them up."""

    def __init__(self, facts, codes):
        self.facts, self.terms, self.code = facts, codes.terms, codes.code
        self.numbers: dict[int, int] = {}

    def c(self, token: str) -> int:
        """A constant's code (-1, matching nothing, when no fact uses it)."""
        text = f'<{expand_iri("rdf:type")}>' if token == "a" else token if token[0] == '"' else f"<{expand_iri(token)}>"
        return self.code.get(text, -1)

    def objects(self, s: int, p: int):
        return self.facts.by_sp.get((s, p), ())

    def subjects(self, p: int, o: int):
        return self.facts.by_po.get((p, o), ())

    def pairs(self, p: int):
        return self.facts.by_p.get(p, ())

    def has(self, s: int, p: int, o: int) -> bool:
        return (s, p, o) in self.facts.all

    def number(self, code: int) -> int:
        """The value of an integer literal (other numbers would need SPARQL's type promotion)."""
        found = self.numbers.get(code)
        if found is None:
            text = self.terms[code]
            if text[0] != '"' or datatype(text) not in INTEGERS:
                raise Unsupported(f"not an integer: {text}")
            try:
                found = self.numbers[code] = int(lexical(text))
            except ValueError:  # an ill-formed integer: SPARQL's comparison errs on it, not Python's
                raise Unsupported(f"not an integer: {text}") from None
        return found

    def iri(self, *codes: int) -> None:
        """SPARQL's != on these terms is term inequality only for IRIs (literals compare by value)."""
        for code in codes:
            if self.terms[code][0] != "<":
                raise Unsupported(f"compared as a term: {self.terms[code]}")


def categorised_differently(v: View):
    a, claim_class, counted, subgroup_of = v.c("a"), v.c("sg:CountClaim"), v.c("sg:countedGroup"), v.c("sg:subgroupOf")
    category, about, side = v.c("sg:category"), v.c("sg:aboutExchange"), v.c("sg:side")
    by_exchange_side = defaultdict(list)
    for c in v.subjects(a, claim_class):
        for group in v.objects(c, counted):
            for cat in v.objects(c, category):
                words = lexical(v.terms[cat]).lower()
                for ex in v.objects(c, about):
                    for s in v.objects(c, side):
                        by_exchange_side[ex, s].append((c, group, cat, words))
    for claims in by_exchange_side.values():
        for whole, group, whole_cat, whole_words in claims:
            for part, sub, part_cat, part_words in claims:
                if whole_words != part_words and v.has(sub, subgroup_of, group):
                    yield whole, part, group, sub, whole_cat, part_cat


def conflicting_count_claims(v: View):
    a, claim_class, approximate, true = v.c("a"), v.c("sg:CountClaim"), v.c("sg:approximate"), v.c(TRUE)
    about, side, category, count = v.c("sg:aboutExchange"), v.c("sg:side"), v.c("sg:category"), v.c("sg:count")
    groups = defaultdict(list)
    for c in v.subjects(a, claim_class):
        if v.has(c, approximate, true):
            continue
        for ex in v.objects(c, about):
            for s in v.objects(c, side):
                for cat in v.objects(c, category):
                    for n in v.objects(c, count):
                        groups[ex, s, cat].append((c, n, v.number(n)))
    for (ex, s, cat), claims in groups.items():
        for c1, n1, value1 in claims:
            for c2, n2, value2 in claims:
                if value1 != value2:
                    yield c1, c2, ex, s, cat, n1, n2


def conflicting_ordinal_claims(v: View):
    """Per ordinal, the claims' scopes (year; else start, words or none), paired by the query's FILTER:
    the same exchange only in different years; different exchanges with the same year, or without
    years where the two scopes are compatible (either empty, of different kinds, or equal)."""
    a, claim_class, ordinal, about = v.c("a"), v.c("sg:OrdinalClaim"), v.c("sg:ordinal"), v.c("sg:aboutExchange")
    in_year, since, scope = v.c("sg:inYear"), v.c("sg:since"), v.c("sg:scope")
    per_ordinal = defaultdict(lambda: (defaultdict(list), defaultdict(list), defaultdict(list)))
    for c in v.subjects(a, claim_class):
        years = [lexical(v.terms[y]) for y in v.objects(c, in_year)] or [None]
        starts = [lexical(v.terms[f]) for f in v.objects(c, since)] or [None]
        words = [lexical(v.terms[t]) for t in v.objects(c, scope)] or [None]
        for n in v.objects(c, ordinal):
            by_exchange, by_year, by_scope = per_ordinal[n]
            for ex in v.objects(c, about):
                for y in years:
                    if y is not None:
                        by_exchange[ex].append((c, y))
                        by_year[y].append((c, ex))
                        continue
                    for f in starts:
                        for t in words:
                            key = f"since:{f}" if f is not None else f"words:{t}" if t is not None else ""
                            by_scope[key].append((c, ex))
    for n, (by_exchange, by_year, by_scope) in per_ordinal.items():
        for ex, claims in by_exchange.items():
            for c1, y1 in claims:
                for c2, y2 in claims:
                    if c1 != c2 and y1 != y2:
                        yield c1, c2, n, ex, ex
        for claims in by_year.values():
            yield from _pairs_of_exchanges(n, claims, claims, v)
        for k1, claims1 in by_scope.items():
            for k2, claims2 in by_scope.items():
                if k1 == "" or k2 == "" or k1 == k2 or k1.split(":", 1)[0] != k2.split(":", 1)[0]:
                    yield from _pairs_of_exchanges(n, claims1, claims2, v)


def _pairs_of_exchanges(n, claims1, claims2, v: View):
    for c1, ex1 in claims1:
        for c2, ex2 in claims2:
            if c1 != c2 and ex1 != ex2:
                v.iri(ex1, ex2)
                yield c1, c2, n, ex1, ex2


def exchanged_for_sole_pair(v: View):
    in_exchange, person, state, released = (v.c(t) for t in ("sg:inExchange", "sg:releasedPerson",
                                                             "sg:releasingState", "sg:released"))
    releases = defaultdict(list)
    for r, ex in v.pairs(in_exchange):
        releases[ex].append(r)
    for ex, rs in releases.items():
        others = defaultdict(set)  # state -> the releases of something by it in this exchange (?other)
        for r in rs:
            if v.objects(r, released):
                for s in v.objects(r, state):
                    others[s].add(r)
        sole = {s for s, found in others.items() if len(found) == 1}
        if len(sole) < 2:
            continue
        persons = [(r, p, s) for r in rs for s in v.objects(r, state) if s in sole for p in v.objects(r, person)]
        for r1, p1, s1 in persons:
            for r2, p2, s2 in persons:
                if s1 != s2 and p1 != p2:
                    v.iri(s1, s2, p1, p2)
                    yield p1, p2, r1, r2, s1, s2, ex


def member_release(v: View):
    a, release_class, status, done = v.c("a"), v.c("sg:Release"), v.c("sg:status"), v.c("sg:done")
    member, group_of, in_exchange = v.c("sg:memberOf"), v.c("sg:releasedGroup"), v.c("sg:inExchange")
    receiving, releasing = v.c("sg:receivingState"), v.c("sg:releasingState")
    for release in v.subjects(a, release_class):
        if not v.has(release, status, done):
            continue
        states = v.objects(release, releasing)
        if len(states) > 1:
            v.iri(*states)
        for group in v.objects(release, group_of):
            for person in v.subjects(member, group):
                for ex in v.objects(release, in_exchange):
                    for to in v.objects(release, receiving):
                        for by in states:
                            yield person, group, release, ex, to, by, by if len(states) == 1 else None


def sum_of_legs(v: View):
    a, leg_class, claim_class, part_of = v.c("a"), v.c("sg:ExchangeLeg"), v.c("sg:CountClaim"), v.c("sg:partOf")
    about, side, count, approximate, true = (v.c(t) for t in ("sg:aboutExchange", "sg:side", "sg:count",
                                                              "sg:approximate", TRUE))
    leg_max: dict[tuple, int] = {}  # (whole, side, leg) -> the largest exact count claimed
    for leg in v.subjects(a, leg_class):
        for whole in v.objects(leg, part_of):
            for lc in v.subjects(about, leg):
                if not v.has(lc, a, claim_class) or v.has(lc, approximate, true):
                    continue
                for s in v.objects(lc, side):
                    for n in v.objects(lc, count):
                        key, value = (whole, s, leg), v.number(n)
                        leg_max[key] = max(leg_max.get(key, value), value)
    sums = defaultdict(int)
    for (whole, s, _), value in leg_max.items():
        sums[whole, s] += value
    for (whole, s), total in sums.items():
        if v.objects(whole, part_of):
            continue
        for claim in v.subjects(about, whole):
            if v.has(claim, a, claim_class) and s in v.objects(claim, side):
                counts = v.objects(claim, count)  # the query joins each of the claim's counts: one row each
                if counts:
                    yield claim, whole, s, f'"{total * len(counts)}"^^{INTEGER}'


# rule id -> (its query's variables, the evaluation, the SHA-1 of the query it was written against:
# a rule file whose query changed runs as SPARQL again until this form is brought up to date; tested)
COMPILED = {
    "sg-categorised-differently": (("whole", "part", "group", "subgroup", "wholeCategory", "partCategory"),
                                   categorised_differently, "bfb07417dc7b"),
    "sg-conflicting-count-claims": (("c1", "c2", "ex", "side", "category", "n1", "n2"),
                                    conflicting_count_claims, "3035298f3595"),
    "sg-conflicting-ordinal-claims": (("c1", "c2", "n", "ex1", "ex2"), conflicting_ordinal_claims, "03a684a01194"),
    "sg-exchanged-for-sole-pair": (("a", "b", "r1", "r2", "s1", "s2", "ex"), exchanged_for_sole_pair, "c8aa1a5adfab"),
    "sg-member-release": (("person", "group", "release", "exchange", "to", "by", "sole"), member_release, "17bc3dafcc39"),
    "sg-sum-of-legs": (("claim", "whole", "side", "sum"), sum_of_legs, "e082a04abc42"),
}


def query_hash(query: str) -> str:
    return hashlib.sha1(query.encode("utf-8")).hexdigest()[:12]


def compiled(rule):
    """The in-memory form of a rule written against its current query, or None."""
    found = COMPILED.get(rule.id)
    return found if found is not None and found[2] == query_hash(rule.query) else None


def solutions(rule, facts, codes) -> tuple[tuple, list]:
    """The variables and the rows (N-Triples texts, None where unbound) of the rule's query on the facts;
    Unsupported where a term would need SPARQL's own comparison."""
    variables, evaluate, _ = COMPILED[rule.id]
    view = View(facts, codes)
    terms = codes.terms
    rows = [[x if x is None or x.__class__ is str else terms[x] for x in row] for row in evaluate(view)]
    return variables, rows

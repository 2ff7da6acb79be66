"""Why a triple holds: its evidence when asserted, its rule and premises (recursively) when inferred."""

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, XSD
from rdflib.term import Node

from graph.rules import Pattern, Rule, load_rules
from vocab.terms import statement_iri, to_ox, to_rdflib
from vocab import ALIGNED_PREFIXES, ID, PREFIXES, RULE, SG, SPARQL_PREFIXES, Graphs, expand_iri

DOCUMENTS = Path(__file__).resolve().parents[1] / "corpus/documents"
RULES = Path(__file__).resolve().parents[1] / "ontology/rules"  # whose premise patterns find a record's premises
MAX_PREMISE_ROWS = 5000  # matches of a rule's premise patterns read to find one derivation's premises
MAX_DEPTH = 12
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
MAX_STATEMENTS = 2000  # statements fetched for one explanation at most
KNOWN_PREFIXES = {**PREFIXES, **ALIGNED_PREFIXES}  # for CURIEs shown and literals parsed
LOOKS_LIKE_IRI = re.compile(r"^(<|[A-Za-z][A-Za-z0-9+.\-]*://)")
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)

# What a fact is, by the graph that holds it, strongest first.
KINDS = (
    (str(Graphs.ASSERTED), "asserted"),
    (str(Graphs.INFERRED), "inferred"),
    (str(Graphs.ENTITIES), "registry"),
    (str(Graphs.ONTOLOGY), "axiom"),
    (str(Graphs.PROVENANCE), "provenance"),
)
KIND_TEXT = {
    "asserted": "stated by a document",
    "inferred": "inferred by a rule",
    "registry": "from the entity registry",
    "axiom": "an ontology axiom",
    "provenance": "provenance record",
    "unknown": "held, of unknown origin",
}


def fact_kind(graphs: Iterable[str]) -> str:
    """What a fact held in `graphs` is (KINDS, strongest first); 'does-not-hold' when in none."""
    graphs = set(graphs)
    if not graphs:
        return "does-not-hold"
    return next((kind for graph, kind in KINDS if graph in graphs), "unknown")


class Source(Protocol):
    """Anything that answers SPARQL SELECT with rows of rdflib terms: a store here, the executor in api/."""

    def select(self, query: str) -> list[dict[str, Node]]:
        """Rows of a SELECT query (prefixes of vocab.PREFIXES declared), union default graph."""


class OxigraphSource:
    """A pyoxigraph store as a `Source`."""

    def __init__(self, store):
        self.store = store

    def select(self, query: str) -> list[dict[str, Node]]:
        solutions = self.store.query(SPARQL_PREFIXES + query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = to_rdflib(term)
            rows.append(row)
        return rows


def sparql_json_rows(body: bytes) -> list[dict[str, Node]]:
    """SPARQL 1.1 JSON results to rows of rdflib terms."""
    rows = []
    for binding in json.loads(body)["results"]["bindings"]:
        row = {}
        for name, value in binding.items():
            kind = value["type"]
            if kind == "uri":
                row[name] = URIRef(value["value"])
            elif kind == "bnode":
                row[name] = BNode(value["value"])
            elif "xml:lang" in value:
                row[name] = Literal(value["value"], lang=value["xml:lang"])
            else:
                row[name] = Literal(value["value"], datatype=URIRef(value.get("datatype", str(XSD.string))))
        rows.append(row)
    return rows


def writable_iri(iri: str) -> bool:
    """Whether `<iri>` can be written in a query or N-Triples as it is (vocab's check)."""
    return expand_iri(f"<{iri}>") == iri


def nt(term: Node) -> str:
    """A term as SPARQL/N-Triples text; IRIs are checked so that user input cannot break a query."""
    if isinstance(term, URIRef):
        if not writable_iri(str(term)):
            raise ValueError(f"not a valid IRI: {str(term)!r}")
        return f"<{term}>"
    if isinstance(term, Literal):
        # the datatype and language come from user text too (o="x"^^<...>): checked like any IRI
        if term.datatype is not None and not writable_iri(str(term.datatype)):
            raise ValueError(f"not a valid datatype IRI: {str(term.datatype)!r}")
        if term.language is not None and not LANGUAGE_TAG.fullmatch(term.language):
            raise ValueError(f"not a valid language tag: {term.language!r}")
        return term.n3()
    raise ValueError(f"cannot write {term!r} in a query")


def values(name: str, terms: Iterable[Node]) -> str:
    return f"VALUES ?{name} {{ {' '.join(nt(t) for t in terms)} }}"


def curie(iri: str) -> str:
    """The shortest prefixed name for an IRI, or the IRI itself."""
    best = None
    for prefix, ns in KNOWN_PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            local = iri[len(ns):]
            if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", local) and (best is None or len(local) < len(best[1])):
                best = (prefix, local)
    return f"{best[0]}:{best[1]}" if best else iri


# --- labels and term resolution -------------------------------------------------------------------


def labels(source: Source, terms: Iterable[Node]) -> dict[str, str]:
    """rdfs:label of each IRI that has one (one label per IRI, English first)."""
    iris = sorted({t for t in terms if isinstance(t, URIRef)})
    found: dict[str, str] = {}
    for start in range(0, len(iris), 400):
        chunk = iris[start:start + 400]
        rows = source.select(f"SELECT ?x ?l WHERE {{ {values('x', chunk)} ?x rdfs:label ?l }}")
        for row in rows:
            key = str(row["x"])
            lang = getattr(row["l"], "language", None)
            if key not in found or lang == "en":
                found[key] = str(row["l"])
    return found


@dataclass
class Candidate:
    iri: str
    label: str

    def as_json(self) -> dict:
        return {"iri": self.iri, "label": self.label}


class Unresolved(Exception):
    """A term given as text matched no IRI (unknown) or several (ambiguous)."""

    def __init__(self, role: str, text: str, reason: str, candidates: list[Candidate]):
        self.role, self.text, self.reason, self.candidates = role, text, reason, candidates
        if reason == "ambiguous":
            message = f"{role}={text!r} names {len(candidates)} things: give one of their IRIs"
        elif reason == "invalid":
            message = f"{role}={text!r} is not a valid IRI"
        else:
            message = f"{role}={text!r} matches no IRI, CURIE or label"
            if candidates:
                message += "; similar labels are listed"
        super().__init__(message)


def _escape_string(text: str) -> str:
    return Literal(text).n3()


def _label_matches(source: Source, text: str) -> list[Candidate]:
    rows = source.select(
        "SELECT DISTINCT ?x ?l WHERE { ?x rdfs:label|skos:altLabel ?l "
        f"FILTER(isIRI(?x) && LCASE(STR(?l)) = LCASE({_escape_string(text)})) }}"
    )
    seen: dict[str, Candidate] = {}
    for row in rows:
        seen.setdefault(str(row["x"]), Candidate(str(row["x"]), str(row["l"])))
    return list(seen.values())


def _similar(source: Source, text: str, limit: int = 20) -> list[Candidate]:
    words = [w for w in re.split(r"\W+", text.lower()) if len(w) > 2] or [text.lower()]
    tests = " || ".join(f"CONTAINS(LCASE(STR(?l)), {_escape_string(w)})" for w in words[:5])
    rows = source.select(
        f"SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{ ?x rdfs:label|skos:altLabel ?l FILTER(isIRI(?x) && ({tests})) }} "
        f"GROUP BY ?x ORDER BY ?label LIMIT {limit}"
    )
    return [Candidate(str(r["x"]), str(r["label"])) for r in rows]


def _properties(source: Source, candidates: list[Candidate]) -> list[Candidate]:
    if not candidates:
        return candidates
    rows = source.select(
        f"SELECT DISTINCT ?x WHERE {{ {values('x', [URIRef(c.iri) for c in candidates])} "
        f"{{ ?x a ?t {values('t', [URIRef(t) for t in PROPERTY_TYPES])} }} UNION {{ ?s ?x ?o }} }}"
    )
    keep = {str(r["x"]) for r in rows}
    return [c for c in candidates if c.iri in keep]


def resolve(source: Source, text: str, role: str, *, subject: Node | None = None,
            predicate: Node | None = None) -> Node:
    """The term `text` names in position `role` ('s', 'p' or 'o').

    `text` is an IRI (`<...>` or absolute), a CURIE of a vocab prefix (`sg:releasedTo`,
    `person:evan-gershkovich`) or a label (rdfs:label / skos:altLabel, case-insensitive); for the
    object, anything else is a literal. Raises `Unresolved`: unknown or ambiguous (with candidates),
    or invalid (an IRI that cannot be written in a query).
    """
    text = (text or "").strip()
    if not text:
        raise Unresolved(role, text, "unknown", [])
    iri = expand_iri(text)
    if iri is not None:
        return URIRef(iri)
    if LOOKS_LIKE_IRI.match(text):
        raise Unresolved(role, text, "invalid", [])
    if role == "p" and text.lower() in ("a", "type", "rdf:type"):
        return RDF.type
    if role == "o" and text.startswith('"'):
        literal = _literal(text)
        try:
            nt(literal)
        except ValueError:
            raise Unresolved(role, text, "invalid", []) from None
        return literal
    matches = _label_matches(source, text)
    if role == "p":
        if len(matches) > 1:
            matches = _properties(source, matches) or matches
        if not matches and text in SG.__annotations__:
            return SG[text]
    if len(matches) == 1:
        return URIRef(matches[0].iri)
    if len(matches) > 1:
        raise Unresolved(role, text, "ambiguous", sorted(matches, key=lambda c: c.iri))
    if role == "o":
        return _object_literal(source, text, subject, predicate)
    raise Unresolved(role, text, "unknown", _similar(source, text))


def _literal(text: str) -> Literal:
    from rdflib.util import from_n3
    from rdflib.namespace import NamespaceManager
    from rdflib import Graph

    manager = NamespaceManager(Graph(bind_namespaces="none"))
    for prefix, ns in KNOWN_PREFIXES.items():
        manager.bind(prefix, ns)
    try:
        term = from_n3(text, nsm=manager)
    except Exception:
        term = None
    return term if isinstance(term, Literal) else Literal(text.strip('"'))


def _object_literal(source: Source, text: str, subject: Node | None, predicate: Node | None) -> Literal:
    """A literal the subject has for the predicate whose text is `text` (typed as stored); else a string."""
    if isinstance(subject, URIRef) and isinstance(predicate, URIRef):
        rows = source.select(
            f"SELECT ?o WHERE {{ {nt(subject)} {nt(predicate)} ?o "
            f"FILTER(isLiteral(?o) && LCASE(STR(?o)) = LCASE({_escape_string(text)})) }}"
        )
        exact = [r["o"] for r in rows if str(r["o"]) == text]
        if exact or rows:
            return (exact or [rows[0]["o"]])[0]
    return Literal(text)


# --- explanations ---------------------------------------------------------------------------------


def term_json(term: Node, names: dict[str, str]) -> dict:
    if isinstance(term, URIRef):
        out = {"iri": str(term), "curie": curie(str(term))}
        if str(term) in names:
            out["label"] = names[str(term)]
        return out
    if isinstance(term, BNode):
        return {"bnode": str(term)}
    out = {"value": str(term)}
    if term.language:
        out["language"] = term.language
    elif term.datatype and str(term.datatype) != str(XSD.string):
        out["datatype"] = str(term.datatype)
    return out


@dataclass
class Evidence:
    iri: str
    document: str
    quote: str
    start: int
    end: int
    file_name: str | None = None
    title: str | None = None

    def as_json(self) -> dict:
        return {
            "iri": self.iri,
            "document": {"iri": self.document, "title": self.title, "fileName": self.file_name},
            "quote": self.quote,
            "startOffset": self.start,
            "endOffset": self.end,
        }


@dataclass
class Derivation:
    iri: str
    rule: str
    rule_label: str | None
    premises: list["Explanation"] = field(default_factory=list)

    @property
    def rule_id(self) -> str:
        return self.rule[len(str(RULE)):] if self.rule.startswith(str(RULE)) else self.rule

    def as_json(self, names: dict[str, str]) -> dict:
        return {
            "iri": self.iri,
            "rule": {"id": self.rule_id, "iri": self.rule, "label": self.rule_label},
            "premises": [p.as_json(names) for p in self.premises],
        }


@dataclass
class Explanation:
    """Why (subject, predicate, object) holds: a tree following the provenance graph.

    Each fact has a reified `rdf:Statement`; an asserted one has `sg:evidence` spans, an inferred one
    `sg:derivation`s with `sg:rule` and `sg:premise` statements, explained in turn down to evidence,
    the entity registry or ontology axioms. A statement met again on its own path is marked `cycle`;
    past `max_depth` levels a node is marked `truncated`. `holds` is false when the triple is in no
    graph; `as_json()` is the JSON form.
    """

    subject: Node
    predicate: Node
    object: Node
    graphs: list[str] = field(default_factory=list)
    statement: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    derivations: list[Derivation] = field(default_factory=list)
    cycle: bool = False
    truncated: bool = False

    @property
    def holds(self) -> bool:
        return bool(self.graphs)

    @property
    def kind(self) -> str:
        return fact_kind(self.graphs)

    def terms(self) -> set[Node]:
        found = {self.subject, self.predicate, self.object}
        for derivation in self.derivations:
            found.add(URIRef(derivation.rule))
            for premise in derivation.premises:
                found |= premise.terms()
        return found

    def as_json(self, names: dict[str, str] | None = None) -> dict:
        names = names or {}
        out = {
            "subject": term_json(self.subject, names),
            "predicate": term_json(self.predicate, names),
            "object": term_json(self.object, names),
            "holds": self.holds,
            "kind": self.kind,
            "graphs": self.graphs,
        }
        if self.statement:
            out["statement"] = self.statement
        if self.evidence:
            out["evidence"] = [e.as_json() for e in self.evidence]
        if self.derivations:
            out["derivations"] = [d.as_json(names) for d in self.derivations]
        if self.cycle:
            out["cycle"] = True
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass
class _Record:
    """What the provenance graph says about one statement node."""

    triple: tuple[Node, Node, Node]
    graphs: list[str]
    evidence: list[Evidence]
    derivations: list[tuple[str, str, str | None, list[str]]]  # iri, rule, rule label, premise statements


def _graphs_of(source: Source, s: Node, p: Node, o: Node) -> list[str]:
    rows = source.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {nt(s)} {nt(p)} {nt(o)} }} }}")
    return _ordered_graphs(str(r["g"]) for r in rows)


def _ordered_graphs(graphs: Iterable[str]) -> list[str]:
    order = [g for g, _ in KINDS]
    return sorted(set(graphs), key=lambda g: (order.index(g) if g in order else len(order), g))


def _statements_of(source: Source, s: Node, p: Node, o: Node) -> list[str]:
    """The triple's statement: reified (asserted facts, premises), else its IRI computed from the triple."""
    rows = source.select(
        f"SELECT DISTINCT ?st WHERE {{ ?st rdf:subject {nt(s)} ; rdf:predicate {nt(p)} ; rdf:object {nt(o)} }}"
    )
    return sorted({str(r["st"]) for r in rows} | {statement_of((s, p, o))})


def statement_of(triple: tuple[Node, Node, Node]) -> str:
    """The statement IRI of a triple (vocab.terms.statement_iri, the hash the build and the rules use)."""
    return statement_iri(*(to_ox(t) for t in triple)).value


@functools.cache
def _rules(folder: Path = RULES) -> dict[str, Rule]:
    return {rule.id: rule for rule in load_rules(folder)}


def _fetch(source: Source, statements: dict[str, tuple | None]) -> tuple[dict[str, _Record], dict[str, tuple]]:
    """The records of `statements` (statement -> (triple, graphs) when known, else read from its
    reification), and (triple, graphs) of the premises they name."""
    refs = [URIRef(s) for s in statements]
    records: dict[str, _Record] = {}
    for key, known in statements.items():
        if known is not None:
            records[key] = _Record(known[0], list(known[1]), [], [])
    _read_graphs(source, {key: record for key, record in records.items() if not record.graphs})
    rows = source.select(
        f"SELECT ?st ?s ?p ?o ?g WHERE {{ {values('st', refs)} "
        "?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . OPTIONAL { GRAPH ?g { ?s ?p ?o } } }"
    )
    for row in rows:
        key = str(row["st"])
        record = records.setdefault(key, _Record((row["s"], row["p"], row["o"]), [], [], []))
        if "g" in row:
            record.graphs = _ordered_graphs([*record.graphs, str(row["g"])])
    rows = source.select(
        f"SELECT ?st ?ev ?quote ?start ?end ?doc ?file ?title WHERE {{ {values('st', refs)} "
        "?st sg:evidence ?ev . ?ev sg:quote ?quote ; sg:startOffset ?start ; sg:endOffset ?end ; sg:document ?doc . "
        "OPTIONAL { ?doc sg:fileName ?file } OPTIONAL { ?doc sg:title ?title } } ORDER BY ?st ?doc ?start"
    )
    for row in rows:
        record = records.get(str(row["st"]))
        if record is None:
            continue
        record.evidence.append(Evidence(
            iri=str(row["ev"]), document=str(row["doc"]), quote=str(row["quote"]),
            start=int(row["start"]), end=int(row["end"]),
            file_name=str(row["file"]) if "file" in row else None,
            title=str(row["title"]) if "title" in row else None,
        ))
    rows = source.select(
        f"SELECT ?st ?d ?rule ?ruleLabel ?premise WHERE {{ {values('st', refs)} "
        "?st sg:derivation ?d . ?d sg:rule ?rule . OPTIONAL { ?rule rdfs:label ?ruleLabel } "
        "OPTIONAL { ?d sg:premise ?premise } } ORDER BY ?st ?d ?premise"
    )
    for row in rows:
        record = records.get(str(row["st"]))
        if record is None:
            continue
        iri = str(row["d"])
        entry = next((d for d in record.derivations if d[0] == iri), None)
        if entry is None:
            entry = (iri, str(row["rule"]), str(row["ruleLabel"]) if "ruleLabel" in row else None, [])
            record.derivations.append(entry)
        if "premise" in row and str(row["premise"]) not in entry[3]:
            entry[3].append(str(row["premise"]))
    return records, _read_derivation_records(source, records, refs)


def _read_graphs(source: Source, records: dict[str, _Record]) -> None:
    """The graphs that hold each known triple (statements not reified are found by their triple)."""
    rows = [f"({nt(URIRef(st))} {' '.join(nt(t) for t in record.triple)})" for st, record in records.items()
            if not any(isinstance(t, BNode) for t in record.triple)]
    for start in range(0, len(rows), 200):
        found = source.select("SELECT ?st ?g WHERE { VALUES (?st ?s ?p ?o) { " + " ".join(rows[start:start + 200])
                              + " } GRAPH ?g { ?s ?p ?o } }")
        for row in found:
            record = records[str(row["st"])]
            record.graphs = _ordered_graphs([*record.graphs, str(row["g"])])


def _read_derivation_records(source: Source, records: dict[str, _Record], refs: list[URIRef]) -> dict[str, tuple]:
    """The compact derivations (sg:derivationRecord) of the statements; returns the premises' triples."""
    rows = source.select(f"SELECT ?st ?record WHERE {{ {values('st', refs)} ?st sg:derivationRecord ?record }} "
                         "ORDER BY ?st ?record")
    rules, premises = _rules(), {}
    labels_of = _rule_labels(source, {str(row["record"]).split()[0] for row in rows})
    for row in rows:
        record = records.get(str(row["st"]))
        if record is None:
            continue
        rule_id, *ids = str(row["record"]).split()
        found = _premises(source, rules[rule_id], record.triple, ids) if rule_id in rules else {}
        named = [str(ID) + "statement/" + i for i in ids]
        premises.update({st: found[st] for st in named if st in found})
        record.derivations.append((str(row["st"]), str(RULE[rule_id]), labels_of.get(rule_id), named))
    return premises


def _rule_labels(source: Source, rule_ids: set[str]) -> dict[str, str]:
    if not rule_ids:
        return {}
    rows = source.select(f"SELECT ?rule ?label WHERE {{ {values('rule', [RULE[i] for i in sorted(rule_ids)])} "
                         "?rule rdfs:label ?label }")
    return {str(row["rule"])[len(str(RULE)):]: str(row["label"]) for row in rows}


def _premises(source: Source, rule: Rule, triple: tuple, ids: list[str]) -> dict[str, tuple]:
    """(triple, graphs) of the statements `ids`: matches of the rule's premise patterns, with the
    variables of a conclusion that gives `triple` bound, kept where their hash is named."""
    wanted, found = {str(ID) + "statement/" + i for i in ids}, {}
    for conclusion in rule.conclusions:
        binding = _unify_terms(conclusion, triple)
        if binding is None:
            continue
        # each premise in a GRAPH of its own: a premise with a blank node cannot be looked up again
        where = " ".join(f"GRAPH ?_g{i} {{ {_pattern_text(p, binding)} }}" for i, p in enumerate(rule.premises))
        for row in source.select(f"SELECT * WHERE {{ {where} }} LIMIT {MAX_PREMISE_ROWS}"):
            full = binding | row
            for i, pattern in enumerate(rule.premises):
                premise = tuple(_pattern_term(t, full) for t in (pattern.subject, pattern.predicate, pattern.object))
                if None in premise or any(isinstance(t, BNode) for t in premise):
                    continue  # reified by the engine: read back from its statement
                if (statement := statement_of(premise)) in wanted:
                    _, graphs = found.setdefault(statement, (premise, set()))
                    graphs.add(str(row[f"_g{i}"]))
        if len(found) == len(wanted):
            break
    return {statement: (premise, _ordered_graphs(graphs)) for statement, (premise, graphs) in found.items()}


def _pattern_term(token: str, binding: dict) -> Node | None:
    if token.startswith("?"):
        return binding.get(token[1:])
    return RDF.type if token == "a" else URIRef(expand_iri(token))


def _unify_terms(pattern: Pattern, triple: tuple) -> dict | None:
    binding: dict[str, Node] = {}
    for token, value in zip((pattern.subject, pattern.predicate, pattern.object), triple):
        if token.startswith("?"):
            if binding.setdefault(token[1:], value) != value:
                return None
        elif _pattern_term(token, {}) != value:
            return None
    return binding


def _pattern_text(pattern: Pattern, binding: dict) -> str:
    """A premise pattern as SPARQL, its bound variables written as terms (blank nodes stay variables)."""
    tokens = []
    for token in (pattern.subject, pattern.predicate, pattern.object):
        value = binding.get(token[1:]) if token.startswith("?") else None
        tokens.append(nt(value) if value is not None and not isinstance(value, BNode) else token)
    return " ".join(tokens) + " ."


def _collect(source: Source, roots: dict[str, tuple | None], max_depth: int) -> dict[str, _Record]:
    """Every statement reachable from the roots through premises, level by level."""
    records: dict[str, _Record] = {}
    level, depth = dict(roots), 0
    while level and depth <= max_depth and len(records) < MAX_STATEMENTS:
        fetched, triples = _fetch(source, dict(list(level.items())[: MAX_STATEMENTS - len(records)]))
        records.update(fetched)
        following: dict[str, tuple | None] = {}
        for record in fetched.values():
            for _, _, _, premises in record.derivations:
                following.update({p: triples.get(p) for p in premises if p not in records and p not in following})
        level, depth = following, depth + 1
    return records


_KIND_ORDER = {"asserted": 0, "inferred": 1, "registry": 2, "axiom": 3, "provenance": 4}


def _tree(statement: str, records: dict[str, _Record], path: frozenset[str], depth: int, max_depth: int) -> Explanation:
    record = records.get(statement)
    if record is None:  # beyond the fetch limits
        return Explanation(URIRef(statement), RDF.type, RDF.Statement, statement=statement, truncated=True)
    s, p, o = record.triple
    node = Explanation(s, p, o, graphs=list(record.graphs), statement=statement, evidence=list(record.evidence))
    if not node.graphs and (record.evidence or record.derivations):
        node.graphs = [str(Graphs.ASSERTED if record.evidence else Graphs.INFERRED)]
    if statement in path:
        node.cycle = True
        return node
    if depth >= max_depth and record.derivations:
        node.truncated = True
        return node
    for iri, rule, rule_label, premises in record.derivations:
        children = [_tree(p, records, path | {statement}, depth + 1, max_depth) for p in premises]
        children.sort(key=lambda c: (_KIND_ORDER.get(c.kind, 9), str(c.predicate), str(c.subject), str(c.object)))
        node.derivations.append(Derivation(iri, rule, rule_label, children))
    return node


def explain(source: Source, s: Node, p: Node, o: Node, *, max_depth: int = MAX_DEPTH) -> Explanation:
    """Whether (s, p, o) holds in any named graph, and why (see `Explanation`)."""
    graphs = _graphs_of(source, s, p, o)
    if not graphs:
        return Explanation(s, p, o)
    statements = _statements_of(source, s, p, o)
    if not statements:
        return Explanation(s, p, o, graphs=graphs)
    computed = statement_of((s, p, o))
    records = _collect(source, {st: ((s, p, o), graphs) if st == computed else None for st in statements}, max_depth)
    roots = [_tree(st, records, frozenset(), 0, max_depth) for st in statements]
    top = roots[0]
    for other in roots[1:]:  # one triple, one statement normally; merge if the build made more
        top.evidence += other.evidence
        top.derivations += other.derivations
    top.graphs = graphs
    return top


# --- document texts and sentences -----------------------------------------------------------------

CLOSERS = "\"'”’)]"
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "lt", "col", "sgt", "capt", "gov", "sen", "rep", "pres",
    "no", "vs", "inc", "co", "ltd", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "approx", "e.g", "i.e", "cf", "fig", "p",
}


def _sentence_end(text: str, i: int) -> int | None:
    """Where the sentence ending with text[i] stops (after closing quotes), or None if it does not end there."""
    char = text[i]
    if char == "\n":
        return i
    if char not in ".!?":
        return None
    j = i + 1
    while j < len(text) and text[j] in CLOSERS:
        j += 1
    if j < len(text) and not text[j].isspace():
        return None
    if char == ".":
        word = re.search(r"(\S+)$", text[max(0, i - 24):i])
        token = word.group(1).lower().lstrip("(\"'“‘") if word else ""
        if token in ABBREVIATIONS or re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", token):
            return None
        k = j
        while k < len(text) and text[k] in " \t":
            k += 1
        if k < len(text) and (text[k].islower() or text[k] in ",;:"):
            return None
    return j

class DocumentTexts:
    """The texts of the source documents by file name, read once; offsets are code points."""

    def __init__(self, folder: Path = DOCUMENTS):
        self.folder = folder
        self._texts: dict[str, str | None] = {}

    def text(self, file_name: str | None) -> str | None:
        if not file_name or "/" in file_name or "\\" in file_name:
            return None
        if file_name not in self._texts:
            path = self.folder / file_name
            self._texts[file_name] = path.read_text(encoding="utf-8") if path.is_file() else None
        return self._texts[file_name]

    def sentence(self, file_name: str | None, start: int, end: int, quote: str | None = None,
                 limit: int = 400) -> tuple[str, str, str] | None:
        """(before, quote, after): the sentence(s) holding text[start:end], cut at `limit` characters
        each side; None when the text is missing or does not hold the quote at those offsets."""
        text = self.text(file_name)
        if text is None or not 0 <= start <= end <= len(text):
            return None
        if quote is not None and text[start:end] != quote:
            return None
        return sentence_around(text, start, end, limit)


def sentence_around(text: str, start: int, end: int, limit: int = 400) -> tuple[str, str, str]:
    """(before, quote, after) where before/after complete the sentence(s) around text[start:end]."""
    begin, prefix = None, ""
    for i in range(start - 1, max(-1, start - limit - 1), -1):
        stop = _sentence_end(text, i)
        if stop is not None and stop <= start:
            begin = stop
            break
    if begin is None:
        if start <= limit:
            begin = 0
        else:
            begin = text.find(" ", start - limit, start) + 1 or start - limit
            prefix = "… "
    while begin < start and text[begin].isspace():
        begin += 1
    finish, suffix = None, ""
    for i in range(max(start, end - 1), min(len(text), end + limit)):
        stop = _sentence_end(text, i)
        if stop is not None and stop >= end:
            finish = stop
            break
    if finish is None:
        finish = min(len(text), end + limit)
        if finish < len(text):
            finish = text.rfind(" ", end, finish) if text.rfind(" ", end, finish) > end else finish
            suffix = " …"
    return prefix + text[begin:start], text[start:end], text[end:finish].rstrip() + suffix

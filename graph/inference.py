"""The inference engine: runs the rule files on the store to a fixpoint and records why each fact holds."""

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.namespace import RDF, RDFS

from graph.rules import Pattern, Rule
from graph.terms import PROVENANCE, reification
from graph.vocab import ID, RULE, SG, Graphs, expand_iri

RDF_TYPE = ox.NamedNode(str(RDF.type))
RDFS_LABEL = ox.NamedNode(str(RDFS.label))
RDFS_COMMENT = ox.NamedNode(str(RDFS.comment))
# The rules read the domain graphs only: provenance (evidence, statements) is about facts, not a fact.
SOURCE_GRAPHS = [ox.NamedNode(str(g)) for g in (Graphs.ONTOLOGY, Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED)]
INFERRED = ox.NamedNode(str(Graphs.INFERRED))


def _ox(iri) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


class InferenceError(Exception):
    """The rules did not reach a fixpoint within the round limit."""


@dataclass
class InferenceReport:
    inferred: int = 0
    rounds: int = 0
    per_rule: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def _term(token: str, binding: dict):
    if token.startswith("?"):
        return binding.get(token[1:])
    if token == "a":
        return RDF_TYPE
    return ox.NamedNode(expand_iri(token))


def _instantiate(pattern: Pattern, binding: dict):
    return tuple(_term(t, binding) for t in (pattern.subject, pattern.predicate, pattern.object))


def _valid_triple(triple) -> bool:
    s, p, o = triple
    return (isinstance(s, (ox.NamedNode, ox.BlankNode)) and isinstance(p, ox.NamedNode)
            and o is not None)


class Engine:
    """Forward chaining, stratified: OWL 2 RL rules to a fixpoint, then the SPARQL rules, again until stable."""

    def __init__(self, store: ox.Store, rules: list[Rule]):
        self.store = store
        self.owl_rules = [r for r in rules if r.is_owl_rl]
        self.sparql_rules = [r for r in rules if not r.is_owl_rl]
        self.rules = rules
        self.known = {(q.subject, q.predicate, q.object)
                      for g in SOURCE_GRAPHS for q in store.quads_for_pattern(None, None, None, g)}
        self.report = InferenceReport()

    def run(self, max_rounds: int = 100) -> InferenceReport:
        started = time.perf_counter()
        self._describe_rules()
        while True:
            added = self._to_fixpoint(self.owl_rules, max_rounds)
            added += sum(self._apply(rule) for rule in self.sparql_rules)
            if not added:
                break
            if self.report.rounds >= max_rounds:
                raise InferenceError(f"no fixpoint after {max_rounds} rounds: the rules keep adding facts")
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _to_fixpoint(self, rules: list[Rule], max_rounds: int) -> int:
        total = 0
        while self.report.rounds < max_rounds:
            self.report.rounds += 1
            added = sum(self._apply(rule) for rule in rules)
            total += added
            if not added:
                break
        return total

    def _apply(self, rule: Rule) -> int:
        new: dict[tuple, dict] = {}
        for binding in _bindings(self.store.query(rule.query, default_graph=SOURCE_GRAPHS)):
            for pattern in rule.conclusions:
                triple = _instantiate(pattern, binding)
                if _valid_triple(triple) and triple not in self.known and triple not in new:
                    new[triple] = binding
        for triple, binding in new.items():
            self.known.add(triple)
            self.store.add(ox.Quad(*triple, INFERRED))
            self._record(rule, triple, self._premises(rule, binding))
        self.report.per_rule[rule.id] += len(new)
        self.report.inferred += len(new)
        return len(new)

    def _premises(self, rule: Rule, binding: dict) -> list[tuple]:
        patterns = [_instantiate(p, binding) for p in rule.premises]
        if all(None not in t for t in patterns):
            return patterns
        # Aggregate rules leave premise variables open: every match of the premise pattern counts.
        where = " ".join(self._sparql_pattern(p, binding) for p in rule.premises)
        premises = []
        for match in _bindings(self.store.query(f"SELECT * WHERE {{ {where} }}", default_graph=SOURCE_GRAPHS)):
            full = dict(binding) | match
            premises += [t for t in (_instantiate(p, full) for p in rule.premises) if t not in premises]
        return premises

    @staticmethod
    def _sparql_pattern(pattern: Pattern, binding: dict) -> str:
        terms = []
        for token in (pattern.subject, pattern.predicate, pattern.object):
            value = _term(token, binding)
            terms.append(str(value) if value is not None else token)
        return " ".join(terms) + " ."

    def _record(self, rule: Rule, triple: tuple, premises: list[tuple]):
        statement = self._statement(triple)
        digest = hashlib.sha1(f"{rule.id} {statement.value}".encode()).hexdigest()[:20]
        derivation = ox.NamedNode(str(ID) + "derivation/" + digest)
        quads = [
            ox.Quad(statement, _ox(SG.derivation), derivation, PROVENANCE),
            ox.Quad(derivation, RDF_TYPE, _ox(SG.Derivation), PROVENANCE),
            ox.Quad(derivation, _ox(SG.rule), _ox(RULE[rule.id]), PROVENANCE),
        ]
        quads += [ox.Quad(derivation, _ox(SG.premise), self._statement(p), PROVENANCE) for p in premises]
        self.store.extend(quads)

    def _statement(self, triple: tuple) -> ox.NamedNode:
        statement, quads = reification(triple)
        self.store.extend(quads)
        return statement

    def _describe_rules(self):
        for rule in self.rules:
            node = _ox(RULE[rule.id])
            self.store.extend([
                ox.Quad(node, RDF_TYPE, _ox(SG.Rule), PROVENANCE),
                ox.Quad(node, RDFS_LABEL, ox.Literal(rule.label), PROVENANCE),
                ox.Quad(node, _ox(SG.ruleSource), ox.Literal(rule.source), PROVENANCE),
            ] + ([ox.Quad(node, RDFS_COMMENT, ox.Literal(rule.description), PROVENANCE)] if rule.description else []))


def _bindings(solutions):
    variables = solutions.variables
    for solution in solutions:
        yield {v.value: solution[v] for v in variables if solution[v] is not None}


def run_inference(store: ox.Store, rules: list[Rule], max_rounds: int = 100) -> InferenceReport:
    return Engine(store, rules).run(max_rounds)

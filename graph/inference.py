"""The inference engine: runs the rule files on the store to a fixpoint and records why each fact holds.

Rules given as premise patterns only (the OWL 2 RL rules, and any rule file without a query body)
are evaluated in memory, semi-naively: each round joins only the facts that are new since the round
before with the indexed facts, so a round costs what it adds, not the size of the graph. Rules with
a SPARQL body run as queries on the store once the pattern rules are at their fixpoint; what they
add starts a new round of the pattern rules. Every inferred triple gets one derivation (the first
found in a fixed order: the on-disk store's index order, then insertion order, so that two builds of
the same input record the same), written to the provenance graph in bulk at the end as one quad: the
rule and the premises by statement id (graph/explain.py reads it).
"""

import gc
import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS

from graph.rules import Pattern, Rule
from vocab.terms import PROVENANCE, reification
from vocab import ID, RULE, SG, Graphs, expand_iri

RDF_TYPE = ox.NamedNode(str(RDF.type))
RDFS_LABEL = ox.NamedNode(str(RDFS.label))
RDFS_COMMENT = ox.NamedNode(str(RDFS.comment))
# The rules read the domain graphs only: provenance (evidence, statements) is about facts, not a fact.
SOURCE_GRAPHS = [ox.NamedNode(str(g)) for g in (Graphs.ONTOLOGY, Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED)]
INFERRED = ox.NamedNode(str(Graphs.INFERRED))
DERIVATION_RECORD = ox.NamedNode(str(SG.derivationRecord))
STATEMENT = str(ID) + "statement/"
BATCH = 200_000  # quads per bulk write
RECENT_ROUNDS = 4  # a budget error names the rules that added facts in these last rounds
# owlrl adds `x owl:sameAs x` and `x a owl:Thing` for every individual: true, trivial, not stored.
TRIVIAL = {(OWL.sameAs, None), (RDF.type, OWL.Thing)}


class InferenceError(Exception):
    """The rules did not reach a fixpoint within the round or size budget."""


@dataclass
class InferenceReport:
    inferred: int = 0
    rounds: int = 0
    per_rule: Counter = field(default_factory=Counter)
    # (predicate IRI, rule IRI) -> inferred triples: the pages' "derived by" counts, which the compact
    # records (premises by statement id) no longer let a query group by predicate
    per_predicate_rule: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    provenance_quads: int = 0


def domain_facts(triples) -> set:
    """The facts about entities (id: subjects) in rdflib triples, without owlrl's trivial ones."""
    return {
        (s, p, o) for s, p, o in triples
        if isinstance(s, URIRef) and str(s).startswith(str(ID))
        and (p, None) not in TRIVIAL and (p, o) not in TRIVIAL
    }


def term(token: str, binding: dict):
    if token.startswith("?"):
        return binding.get(token[1:])
    if token == "a":
        return RDF_TYPE
    return ox.NamedNode(expand_iri(token))


def instantiate(pattern: Pattern, binding: dict) -> tuple:
    return tuple(term(t, binding) for t in (pattern.subject, pattern.predicate, pattern.object))


def bindings(solutions):
    variables = solutions.variables
    for solution in solutions:
        yield {v.value: solution[v] for v in variables if solution[v] is not None}


def _valid_triple(triple) -> bool:
    s, p, o = triple
    return (isinstance(s, (ox.NamedNode, ox.BlankNode)) and isinstance(p, ox.NamedNode)
            and o is not None)


class Codes:
    """Terms as small integers: the joins hash and compare ints, not store terms (hashed in Rust each time)."""

    def __init__(self):
        self.code: dict = {}
        self.terms: list = []
        self.texts: dict[int, str] = {}
        self.kinds: list[int] = []  # 0 literal, 1 IRI, 2 blank node: what may be a subject or predicate

    def encode(self, term) -> int:
        found = self.code.get(term)
        if found is None:
            found = self.code[term] = len(self.terms)
            self.terms.append(term)
            self.kinds.append(1 if isinstance(term, ox.NamedNode) else 2 if isinstance(term, ox.BlankNode) else 0)
        return found

    def triple(self, triple: tuple) -> tuple[int, int, int]:
        return self.encode(triple[0]), self.encode(triple[1]), self.encode(triple[2])

    def decode(self, triple: tuple[int, int, int]) -> tuple:
        terms = self.terms
        return terms[triple[0]], terms[triple[1]], terms[triple[2]]

    def nt(self, code: int) -> str:
        """The term in N-Triples, as statement IRIs hash it; kept, since a term is in many triples."""
        found = self.texts.get(code)
        if found is None:
            found = self.texts[code] = str(self.terms[code])
        return found

    def valid(self, triple: tuple[int, int, int]) -> bool:
        return self.kinds[triple[0]] != 0 and self.kinds[triple[1]] == 1


class Facts:
    """Triples (of term codes) indexed by predicate, by (subject, predicate) and by (predicate, object); insertion-ordered."""

    def __init__(self):
        self.all: dict[tuple, None] = {}
        self.by_p: dict = defaultdict(dict)
        self.by_sp: dict = defaultdict(dict)
        self.by_po: dict = defaultdict(dict)

    def __contains__(self, triple) -> bool:
        return triple in self.all

    def __len__(self) -> int:
        return len(self.all)

    def add(self, triple: tuple) -> None:
        s, p, o = triple
        self.all[triple] = None
        self.by_p[p][(s, o)] = None
        self.by_sp[(s, p)][o] = None
        self.by_po[(p, o)][s] = None

    def match(self, s, p, o):
        """Triples matching a pattern whose unbound positions are None."""
        if p is not None:
            if s is not None:
                if o is not None:
                    return [(s, p, o)] if (s, p, o) in self.all else []
                return [(s, p, x) for x in self.by_sp.get((s, p), ())]
            if o is not None:
                return [(x, p, o) for x in self.by_po.get((p, o), ())]
            return [(x, p, y) for x, y in self.by_p.get(p, ())]
        return [t for t in self.all if (s is None or t[0] == s) and (o is None or t[2] == o)]


class PatternRule:
    """A rule of premise patterns, compiled for semi-naive joins: for each premise taken first (from the
    new facts), the others joined in turn through the indexes, as generated Python loops with the
    variables as local names (a binding dictionary per match cost most of the time)."""

    def __init__(self, rule: Rule, codes: Codes):
        self.rule, self.codes = rule, codes
        self.premises = [(p.subject, p.predicate, p.object) for p in rule.premises]
        self.conclusions = [(c.subject, c.predicate, c.object) for c in rule.conclusions]
        self.constants: dict = {}  # term -> the name it has in the generated code
        self.derive = self._compile()

    def _plan(self, first: int) -> list[int]:
        """After premise `first`, the others in turn, each time the one with the most positions bound."""
        bound, order = {t for t in self.premises[first] if t.startswith("?")}, [first]
        while len(order) < len(self.premises):
            rest = [i for i in range(len(self.premises)) if i not in order]
            best = max(rest, key=lambda i: (sum(1 for t in self.premises[i] if not t.startswith("?") or t in bound), -i))
            order.append(best)
            bound |= {t for t in self.premises[best] if t.startswith("?")}
        return order

    def _name(self, token: str) -> str:
        if token.startswith("?"):
            return "v_" + token[1:].replace("-", "_")
        return self.constants.setdefault(term(token, {}), f"K{len(self.constants)}")

    def _compile(self):
        """derive(facts, delta, new, found): calls found(triple, premises) for every conclusion not in
        facts or new from a match that uses at least one triple of `delta`."""
        lines = ["def derive(facts, delta, new, found):", " known, fresh = facts.all, new.all"]
        for first in range(len(self.premises)):
            lines += self._plan_code(self._plan(first))
        namespace = {name: self.codes.encode(value) for value, name in self.constants.items()} | {"_scan": _scan}
        exec(compile("\n".join(lines), f"<rule {self.rule.id}>", "exec"), namespace)
        return namespace["derive"]

    def _plan_code(self, plan: list[int]) -> list[str]:
        lines, bound, depth = [], set(), 1
        for step, index in enumerate(plan):
            source = "delta" if step == 0 else "facts"
            loop, checks = self._lookup(self.premises[index], bound, source)
            if step == 0 and self.premises[index][1].startswith("?") and len(plan) > 1:
                loop = self._filtered_by_predicate(self.premises[index], plan[1])
            lines.append(" " * depth + loop)
            depth += 1
            lines += [" " * depth + f"if {check}: continue" for check in checks]
            bound |= {t for t in self.premises[index] if t.startswith("?")}
        premises = "(" + "".join(f"({', '.join(self._name(t) for t in p)}), " for p in self.premises) + ")"
        for conclusion in self.conclusions:
            triple = "(" + ", ".join(self._name(t) for t in conclusion) + ")"
            lines += [" " * depth + f"t = {triple}",
                      " " * depth + f"if t not in known and t not in fresh: found(t, {premises})"]
        return lines

    def _lookup(self, pattern: tuple, bound: set, source: str) -> tuple[str, list[str]]:
        """A loop header matching `pattern` in `source` given the bound variables, and the equality
        checks for a variable repeated within the pattern."""
        known = [not t.startswith("?") or t in bound for t in pattern]
        names = [self._name(t) for t in pattern]
        fresh, checks, seen = [], [], {}
        for position, (token, is_known) in enumerate(zip(pattern, known)):
            if is_known:
                continue
            if token in seen:  # ?x ?p ?x: the second position gets a name of its own, then compared
                alias = f"r{position}_{names[position]}"
                checks.append(f"{alias} != {names[position]}")
                names[position] = alias
            seen[token] = position
            fresh.append(position)
        s, p, o = names
        if known[1]:
            if known[0] and known[2]:
                return f"for _ in (() if ({s}, {p}, {o}) not in {source}.all else (None,)):", checks
            if known[0]:
                return f"for {o} in {source}.by_sp.get(({s}, {p}), ()):", checks
            if known[2]:
                return f"for {s} in {source}.by_po.get(({p}, {o}), ()):", checks
            return f"for {s}, {o} in {source}.by_p.get({p}, ()):", checks
        args = ", ".join(n if k else "None" for n, k in zip(names, known))
        return f"for {s}, {p}, {o} in _scan({source}, {args}):", checks

    def _filtered_by_predicate(self, pattern: tuple, following: int) -> str:
        """A delta loop over a variable predicate (`?x ?p ?y`), only for the predicates that the next
        premise of the plan (`?p rdfs:domain ?c`) matches at all."""
        s, p, o = (self._name(t) for t in pattern)
        probe = ", ".join("q" if t == pattern[1] else ("None" if t.startswith("?") else self._name(t))
                          for t in self.premises[following])
        if not pattern[0].startswith("?") or not pattern[2].startswith("?") or pattern[0] == pattern[2]:
            return f"for {s}, {p}, {o} in _scan(delta, None, None, None):"
        return (f"for {s}, {p}, {o} in ((x, q, y) for q, pairs in delta.by_p.items() "
                f"if _scan(facts, {probe}) for x, y in pairs):")


def _scan(facts: "Facts", s, p, o):
    """Triples matching a pattern whose unbound positions are None (the generic, slower lookup)."""
    return facts.match(s, p, o)


class Engine:
    """Pattern rules semi-naively in memory to a fixpoint, then the SPARQL rules on the store; until stable."""

    def __init__(self, store: ox.Store, rules: list[Rule]):
        self.store = store
        self.rules = rules
        self.codes = Codes()
        self.pattern_rules = [PatternRule(r, self.codes) for r in rules if not r.has_body]
        self.sparql_rules = [r for r in rules if r.has_body]
        self.facts = Facts()
        encode, add = self.codes.encode, self.facts.add
        for graph in SOURCE_GRAPHS:
            for quad in store.quads_for_pattern(None, None, None, graph):
                add((encode(quad.subject), encode(quad.predicate), encode(quad.object)))
        self.derivations: dict[tuple, tuple[Rule, list]] = {}  # inferred triple -> (rule, premises)
        self.inferred: list[tuple] = []  # in the order found
        self.evaluated: dict[str, int] = {}  # SPARQL rule -> how many inferred triples its last run saw
        self.reads = {r.id: None if r.reads() is None else {self.codes.encode(ox.NamedNode(i)) for i in r.reads()}
                      for r in self.sparql_rules}
        self.rdf_type = self.codes.encode(RDF_TYPE)
        self.report = InferenceReport()
        self.history: list[Counter] = []  # per-rule counts at each round, to name the rules still adding

    def run(self, max_rounds: int = 100, max_inferred: int | None = None) -> InferenceReport:
        started = time.perf_counter()
        delta = self.facts
        while True:
            while len(delta):
                self._guard(max_rounds, max_inferred)
                delta = self._pattern_round(delta)
            delta = self._sparql_round()
            if not len(delta):
                break
            self._guard(max_rounds, max_inferred)
        self._write_provenance()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _guard(self, max_rounds: int, max_inferred: int | None):
        self.report.rounds += 1
        self.history.append(Counter(self.report.per_rule))
        recent = self.report.per_rule - self.history[max(0, len(self.history) - 1 - RECENT_ROUNDS)]
        adding = ", ".join(f"{rule} +{n}" for rule, n in sorted(recent.items()))
        if self.report.rounds > max_rounds:
            raise InferenceError(f"no fixpoint after {max_rounds} rounds: the rules keep adding facts "
                                 f"({self.report.inferred} inferred; in the last {RECENT_ROUNDS} rounds: {adding})")
        if max_inferred is not None and self.report.inferred > max_inferred:
            raise InferenceError(f"the rules inferred {self.report.inferred} triples, over the budget of "
                                 f"{max_inferred} (in the last {RECENT_ROUNDS} rounds: {adding}): a rule may be minting new nodes")

    def _pattern_round(self, delta: Facts) -> Facts:
        new = Facts()
        for compiled in self.pattern_rules:
            def found(triple, premises, rule=compiled.rule):
                if self.codes.valid(triple):
                    new.add(triple)
                    self._derived(rule, triple, list(premises))
            compiled.derive(self.facts, delta, new, found)
        for triple in new.all:
            self.facts.add(triple)
        self._store_inferred(new)
        return new

    def _sparql_round(self) -> Facts:
        new, seen = Facts(), len(self.inferred)
        for rule in self.sparql_rules:
            if not self._may_change(rule):
                continue
            self.evaluated[rule.id] = seen
            found: dict[tuple, list] = {}
            for binding in bindings(self.store.query(rule.query, default_graph=SOURCE_GRAPHS)):
                for pattern in rule.conclusions:
                    triple = instantiate(pattern, binding)
                    if _valid_triple(triple):
                        found.setdefault(triple, []).append(binding)
            for triple in sorted(found, key=lambda t: tuple(map(str, t))):  # query order may vary
                coded = self.codes.triple(triple)
                if coded in self.facts or coded in new:
                    continue
                # Several matches may conclude the same triple; the smallest premises win, every run.
                premises = min((self._premises(rule, b) for b in found[triple]), key=lambda ps: sorted(map(str, ps)))
                new.add(coded)
                self._derived(rule, coded, [self.codes.triple(p) for p in premises])
        for triple in new.all:
            self.facts.add(triple)
        self._store_inferred(new)
        return new

    def _may_change(self, rule: Rule) -> bool:
        """Whether facts inferred since the rule's last run could change its answers (see Rule.reads)."""
        if rule.id not in self.evaluated:
            return True
        reads = self.reads[rule.id]
        return any(reads is None or (p in reads and (p != self.rdf_type or o in reads))
                   for _, p, o in self.inferred[self.evaluated[rule.id]:])

    def _derived(self, rule: Rule, triple: tuple, premises: list):
        self.derivations[triple] = (rule, premises)
        self.inferred.append(triple)
        self.report.per_rule[rule.id] += 1
        self.report.inferred += 1

    def _store_inferred(self, new: Facts):
        terms = self.codes.terms
        quads = [ox.Quad(terms[s], terms[p], terms[o], INFERRED) for s, p, o in new.all]
        for start in range(0, len(quads), BATCH):
            self.store.extend(quads[start:start + BATCH])

    def _premises(self, rule: Rule, binding: dict) -> list[tuple]:
        patterns = [instantiate(p, binding) for p in rule.premises]
        if all(None not in t for t in patterns):
            return patterns
        # Aggregate rules leave premise variables open: every match of the premise pattern counts.
        where = " ".join(self._sparql_pattern(p, binding) for p in rule.premises)
        premises = []
        for match in bindings(self.store.query(f"SELECT * WHERE {{ {where} }}", default_graph=SOURCE_GRAPHS)):
            full = dict(binding) | match
            premises += [t for t in (instantiate(p, full) for p in rule.premises) if t not in premises]
        return sorted(premises, key=lambda t: tuple(map(str, t)))

    @staticmethod
    def _sparql_pattern(pattern: Pattern, binding: dict) -> str:
        terms = []
        for token in (pattern.subject, pattern.predicate, pattern.object):
            value = term(token, binding)
            terms.append(str(value) if value is not None else token)
        return " ".join(terms) + " ."

    def _write_provenance(self):
        """One quad per inferred triple, in bulk: on its statement, the rule and the premises' statement ids.

        Premises are named by statement id only (the hash of the triple): /explain finds the premise
        triples again by matching the rule's premise patterns and keeping those whose hash is named;
        the few premises with a blank node are reified instead.
        """
        quads = self._rule_descriptions()
        ids: dict[tuple, str] = {}  # a premise used by many derivations (an axiom) is hashed once
        reified: set[tuple] = set()
        for triple, (rule, premises) in self.derivations.items():
            self.report.per_predicate_rule[self.codes.terms[triple[1]].value, str(RULE[rule.id])] += 1
            record = " ".join([rule.id, *(self._statement_id(p, ids) for p in premises)])
            for premise in premises:
                if premise not in reified and 2 in (self.codes.kinds[premise[0]], self.codes.kinds[premise[2]]):
                    # A blank node's label is not kept across queries: such a premise (a property chain's
                    # list) has its subject, predicate and object on its statement, once, for /explain to
                    # read back (untyped: a typed rdf:Statement must carry evidence for the shapes).
                    reified.add(premise)
                    quads += [q for q in reification(self.codes.decode(premise))[1] if q.predicate != RDF_TYPE]
            statement = ox.NamedNode(STATEMENT + self._statement_id(triple, ids))
            quads.append(ox.Quad(statement, DERIVATION_RECORD, ox.Literal(record), PROVENANCE))
            if len(quads) >= BATCH:
                self._flush(quads)
        self._flush(quads)

    def _statement_id(self, triple: tuple, ids: dict) -> str:
        """The hash ending the triple's statement IRI (vocab.terms.statement_iri: the tests compare the two)."""
        found = ids.get(triple)
        if found is None:
            nt = self.codes.nt
            key = f"{nt(triple[0])} {nt(triple[1])} {nt(triple[2])}".encode("utf-8")
            found = ids[triple] = hashlib.sha1(key).hexdigest()[:20]
        return found

    def _flush(self, quads: list):
        self.report.provenance_quads += len(quads)
        self.store.extend(quads)
        quads.clear()

    def _rule_descriptions(self) -> list:
        quads = []
        for rule in self.rules:
            node = ox.NamedNode(str(RULE[rule.id]))
            quads += [
                ox.Quad(node, RDF_TYPE, ox.NamedNode(str(SG.Rule)), PROVENANCE),
                ox.Quad(node, RDFS_LABEL, ox.Literal(rule.label), PROVENANCE),
                ox.Quad(node, ox.NamedNode(str(SG.ruleSource)), ox.Literal(rule.source), PROVENANCE),
            ] + ([ox.Quad(node, RDFS_COMMENT, ox.Literal(rule.description), PROVENANCE)] if rule.description else [])
        return quads


def run_inference(store: ox.Store, rules: list[Rule], max_rounds: int = 100,
                  max_inferred: int | None = None) -> InferenceReport:
    # Millions of small tuples and no cycles among them: the cyclic collector would rescan them all
    # again and again (a third of the time at 100k).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Engine(store, rules).run(max_rounds, max_inferred)
    finally:
        if collecting:
            gc.enable()

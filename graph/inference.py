"""The inference engine: runs the rule files on the store to a fixpoint and records why each fact holds.

Terms are handled as their N-Triples text, read from the store in one dump per graph and coded as
small integers: the joins hash and compare ints, the statement ids hash the text the store wrote, and
what the engine writes goes back to the store as N-Quads text in one load per round (no store term
object per triple either way). Rules given as premise patterns only (the OWL 2 RL rules, and any rule
file without a query body) are evaluated in memory, semi-naively: each round joins only the facts
that are new since the round before with the indexed facts, so a round costs what it adds, not the
size of the graph. Rules with a SPARQL body run once the pattern rules are at their fixpoint, each
only when facts it reads were inferred since its last run, on the same in-memory facts in the form
graph/sparql_rules.py gives them (the same solutions as their queries; the query on the store where a
rule has no such form); what they add starts a new round of the pattern rules. Every inferred
triple gets one derivation (the first found in a fixed order: the on-disk store's index order, then
insertion order, so that two builds of the same input record the same), written to the provenance graph as one quad: the rule and the premises by
statement id (graph/explain.py reads it). A derivation is final once found, so each round's records
are written with that round's triples; the store loads run on a writer thread of their own (Oxigraph
loads without the interpreter lock), beside the next rounds' joins, and are waited for before the
engine returns (and before a rule query reads the store). update_inference runs the same engine on
the asserted graphs without writing and then writes only what differs from the store's inferences.
"""

import functools
import gc
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS

from graph import sparql_rules
from graph.rules import Pattern, Rule
from vocab.terms import PROVENANCE, reification, statement_id
from vocab import ID, RULE, SG, Graphs, expand_iri

RDF_TYPE = ox.NamedNode(str(RDF.type))
RDFS_LABEL = ox.NamedNode(str(RDFS.label))
RDFS_COMMENT = ox.NamedNode(str(RDFS.comment))
# The rules read the domain graphs only: provenance (evidence, statements) is about facts, not a fact.
SOURCE_GRAPHS = [ox.NamedNode(str(g)) for g in (Graphs.ONTOLOGY, Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED)]
INFERRED = ox.NamedNode(str(Graphs.INFERRED))
STATEMENT = str(ID) + "statement/"
RECENT_ROUNDS = 4  # a budget error names the rules that added facts in these last rounds
# owlrl adds `x owl:sameAs x` and `x a owl:Thing` for every individual: true, trivial, not stored.
TRIVIAL = {(OWL.sameAs, None), (RDF.type, OWL.Thing)}
LITERAL, IRI, BLANK = 0, 1, 2  # what kind of term a code is: only IRIs are predicates, no literal a subject


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
    steps: dict = field(default_factory=dict)  # step (read, pattern rounds, ...) -> CPU seconds, for the benchmark
    store_changes: int = 0  # update_inference: inferred and record quads it added or removed


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
    return _constant_term(token)


@functools.cache
def _constant_term(token: str) -> ox.NamedNode:
    return RDF_TYPE if token == "a" else ox.NamedNode(expand_iri(token))


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


@functools.cache
def constant(token: str) -> str:
    """A rule's constant (`a`, a CURIE or an IRI) in N-Triples (cached: the SPARQL rules' premises
    are written out for every match)."""
    return f"<{RDF.type}>" if token == "a" else f"<{expand_iri(token)}>"


def ox_term(text: str):
    """A store term from its N-Triples text (for the few quads written as objects: blank nodes)."""
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    return next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {text} .", format=ox.RdfFormat.N_TRIPLES))).object


def _template(pattern: Pattern, columns: dict[str, int]) -> tuple:
    """A pattern as a template over a query's rows: a variable as its column (None when the query does
    not select it), a constant as its N-Triples text."""
    return tuple(columns.get(t[1:]) if t.startswith("?") else constant(t)
                 for t in (pattern.subject, pattern.predicate, pattern.object))


def _escaped(text: str) -> str:
    """A string as it stands between the quotes of an N-Triples literal (the records' rule ids)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def kind_of(text: str) -> int:
    return IRI if text[0] == "<" else BLANK if text[0] == "_" else LITERAL


class Codes:
    """Terms (N-Triples text) as small integers."""

    def __init__(self):
        self.code: dict[str, int] = {}
        self.terms: list[str] = []
        self.kinds: list[int] = []

    def encode(self, text: str) -> int:
        found = self.code.get(text)
        if found is None:
            found = self.code[text] = len(self.terms)
            self.terms.append(text)
            self.kinds.append(kind_of(text))
        return found

    def triple(self, triple: tuple) -> tuple[int, int, int]:
        return self.encode(triple[0]), self.encode(triple[1]), self.encode(triple[2])

    def text(self, triple: tuple[int, int, int]) -> tuple[str, str, str]:
        terms = self.terms
        return terms[triple[0]], terms[triple[1]], terms[triple[2]]

    def valid(self, triple: tuple[int, int, int]) -> bool:
        return self.kinds[triple[0]] != LITERAL and self.kinds[triple[1]] == IRI


class Facts:
    """Triples (of term codes) indexed by predicate, by (subject, predicate) and by (predicate, object);
    insertion-ordered. The indexes are built when first asked for (a round's new facts need few)."""

    def __init__(self, triples=()):
        self.all: dict[tuple, None] = dict.fromkeys(triples)
        self._by_p = self._by_sp = self._by_po = None

    def __contains__(self, triple) -> bool:
        return triple in self.all

    def __len__(self) -> int:
        return len(self.all)

    @property
    def by_p(self) -> dict:
        if self._by_p is None:
            self._by_p = index = defaultdict(dict)
            for s, p, o in self.all:
                index[p][(s, o)] = None
        return self._by_p

    @property
    def by_sp(self) -> dict:
        if self._by_sp is None:
            self._by_sp = index = defaultdict(dict)
            for s, p, o in self.all:
                index[(s, p)][o] = None
        return self._by_sp

    @property
    def by_po(self) -> dict:
        if self._by_po is None:
            self._by_po = index = defaultdict(dict)
            for s, p, o in self.all:
                index[(p, o)][s] = None
        return self._by_po

    def extend(self, triples) -> None:
        known, by_p, by_sp, by_po = self.all, self._by_p, self._by_sp, self._by_po
        for triple in triples:
            if triple in known:
                continue
            known[triple] = None
            s, p, o = triple
            if by_p is not None:
                by_p[p][(s, o)] = None
            if by_sp is not None:
                by_sp[(s, p)][o] = None
            if by_po is not None:
                by_po[(p, o)][s] = None

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
        self.indexes: set[str] = set()  # the indexes the generated code reads, fetched once at its start
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
        return self.constants.setdefault(constant(token), f"K{len(self.constants)}")

    def _index(self, source: str, kind: str) -> str:
        name = f"{source[0]}_{kind}"
        self.indexes.add(f" {name} = {source}.{'all' if kind == 'all' else 'by_' + kind}")
        return name

    def _compile(self):
        """derive(facts, delta, fresh, kinds, rule): adds to `fresh` (triple -> (rule, premises)) every
        valid conclusion not in facts or fresh from a match that uses at least one triple of `delta`;
        derive_all the same when `delta` is all the facts."""
        body = []
        for first in range(len(self.premises)):
            body += self._plan_code(self._plan(first))
        # When every fact is new (the first round), one plan finds every match: the others would again.
        whole = self._plan_code(self._plan(0))
        start = [" known = facts.all", *sorted(self.indexes)]
        lines = ["def derive(facts, delta, fresh, kinds, rule):", *start, *body,
                 "def derive_all(facts, delta, fresh, kinds, rule):", *start, *whole]
        namespace = {name: self.codes.encode(value) for value, name in self.constants.items()} | {"_scan": _scan}
        exec(compile("\n".join(lines), f"<rule {self.rule.id}>", "exec"), namespace)
        self.derive_all = namespace["derive_all"]
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
            s, p, o = (self._name(t) for t in conclusion)
            valid = f"kinds[{s}]" + (f" and kinds[{p}] == {IRI}" if conclusion[1].startswith("?") else "")
            lines += [" " * depth + f"t = ({s}, {p}, {o})",
                      " " * depth + f"if t not in known and t not in fresh and {valid}: fresh[t] = (rule, {premises})"]
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
                return f"for _ in (() if ({s}, {p}, {o}) not in {self._index(source, 'all')} else (None,)):", checks
            if known[0]:
                return f"for {o} in {self._index(source, 'sp')}.get(({s}, {p}), ()):", checks
            if known[2]:
                return f"for {s} in {self._index(source, 'po')}.get(({p}, {o}), ()):", checks
            return f"for {s}, {o} in {self._index(source, 'p')}.get({p}, ()):", checks
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
        return (f"for {s}, {p}, {o} in ((x, q, y) for q, pairs in {self._index('delta', 'p')}.items() "
                f"if _scan(facts, {probe}) for x, y in pairs):")


def _scan(facts: "Facts", s, p, o):
    """Triples matching a pattern whose unbound positions are None (the generic, slower lookup)."""
    return facts.match(s, p, o)


class StoreWriter:
    """Store loads on one thread of their own, in the order given: Oxigraph parses and inserts without
    the interpreter lock, so a round's writes run on the second core while the next pattern round (which
    reads the in-memory facts, not the store) or the records are computed. `wait()` before anything reads
    the store. The CPU seconds the loads took are counted per step on the writer thread itself
    (time.thread_time) and added to the engine's steps at `close()`, so that the steps still add up to
    the engine's CPU time."""

    def __init__(self, steps: dict):
        self.steps = steps
        self.seconds: dict[str, float] = {}  # written by the writer thread only
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference-store-writer")
        self.pending = []

    def submit(self, step: str, load, *args) -> None:
        self.pending.append(self.pool.submit(self._timed, step, load, *args))

    def _timed(self, step: str, load, *args) -> None:
        started = time.thread_time()
        load(*args)
        self.seconds[step] = self.seconds.get(step, 0.0) + time.thread_time() - started

    def wait(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()  # a load's error is raised here, in the engine's thread

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)
            for step, seconds in self.seconds.items():
                self.steps[step] = self.steps.get(step, 0.0) + seconds


class StatementIds(dict):
    """Triple (codes) -> the hash ending its statement IRI (vocab.terms.statement_id), computed when
    first asked for; a premise asked for here first and holding a blank node is noted in `blank` (it
    is reified at the end: _reified_blank). The engine enters the inferred triples itself."""

    def __init__(self, codes: Codes, blank: set):
        super().__init__()
        self.terms, self.kinds, self.blank = codes.terms, codes.kinds, blank

    def __missing__(self, triple: tuple) -> str:
        terms, kinds = self.terms, self.kinds
        found = self[triple] = statement_id(terms[triple[0]], terms[triple[1]], terms[triple[2]])
        if kinds[triple[0]] == BLANK or kinds[triple[2]] == BLANK:
            self.blank.add(triple)
        return found


class Engine:
    """Pattern rules semi-naively in memory to a fixpoint, then the SPARQL rules on the store; until stable."""

    def __init__(self, store: ox.Store, rules: list[Rule], graphs: list = SOURCE_GRAPHS):
        self.store = store
        self.rules = rules
        self.codes = Codes()
        self.pattern_rules = [PatternRule(r, self.codes) for r in rules if not r.has_body]
        self.sparql_rules = [r for r in rules if r.has_body]
        self.report = InferenceReport()
        self.steps = self.report.steps
        self.writer = StoreWriter(self.steps)
        self.facts = Facts()
        started, wall_started = time.thread_time(), time.perf_counter()
        for graph in graphs:
            self.facts.extend(self._read(graph))
        self._took("read", started)
        self.read_seconds = time.perf_counter() - wall_started
        self.blank_premises: set[tuple] = set()  # premises with a blank node: reified at the end
        self.ids = StatementIds(self.codes, self.blank_premises)  # triple -> its statement id, hashed once
        self.blank_inferred: set[tuple] = set()  # inferred triples with a blank node (a premise later, maybe)
        self.record_head, self.record_tail = f"<{STATEMENT}", f"\" <{Graphs.PROVENANCE}> .\n"
        self.record_middle = f"> <{SG.derivationRecord}> \""
        self.rule_ids = {rule.id: _escaped(rule.id) for rule in rules}
        self.inferred: list[tuple] = []  # in the order found
        self.evaluated: dict[str, int] = {}  # SPARQL rule -> how many inferred triples its last run saw
        self.reads = {r.id: None if r.reads() is None else {self.codes.encode(f"<{i}>") for i in r.reads()}
                      for r in self.sparql_rules}
        self.rdf_type = self.codes.encode(constant("a"))
        self.history: list[Counter] = []  # per-rule counts at each round, to name the rules still adding

    def _took(self, step: str, started: float) -> None:
        """Adds this thread's CPU seconds since `started` (time.thread_time) to the step's (the store
        writer's are added by StoreWriter)."""
        self.steps[step] = self.steps.get(step, 0.0) + time.thread_time() - started

    def _read(self, graph: ox.NamedNode) -> list[tuple]:
        """The graph's triples, coded, in the store's order: one dump, split (a subject and a predicate
        hold no space; the line ends with ` .`)."""
        code, terms, kinds = self.codes.code, self.codes.terms, self.codes.kinds
        triples = []
        for line in self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode("utf-8").split("\n"):
            if not line:
                continue
            coded = []
            for text in line[:-2].split(" ", 2):
                found = code.get(text)
                if found is None:
                    found = code[text] = len(terms)
                    terms.append(text)
                    kinds.append(kind_of(text))
                coded.append(found)
            triples.append(tuple(coded))
        return triples

    def run(self, max_rounds: int = 100, max_inferred: int | None = None) -> InferenceReport:
        started = time.perf_counter()
        try:
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
        finally:
            self.writer.close()
        self.report.seconds = time.perf_counter() - started + self.read_seconds
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
        started = time.thread_time()
        fresh: dict[tuple, tuple] = {}
        for compiled in self.pattern_rules:
            derive = compiled.derive_all if delta is self.facts else compiled.derive
            derive(self.facts, delta, fresh, self.codes.kinds, compiled.rule)
        self._took("pattern rounds", started)
        return self._add(fresh)

    def _add(self, fresh: dict) -> Facts:
        """The round's new facts into the facts, the store and their derivation records (a triple's
        derivation is final once found: it is never derived again); they are the next delta."""
        started = time.thread_time()
        self.inferred += fresh
        self.report.per_rule.update(rule.id for rule, _ in fresh.values())
        self.report.inferred += len(fresh)
        self.facts.extend(fresh)
        self._took("index", started)
        started = time.thread_time()
        self._store_inferred(fresh)
        self._took("store writes", started)
        started = time.thread_time()
        self._write_records(fresh)
        self._took("records", started)
        return Facts(fresh)

    def _sparql_round(self) -> Facts:
        started = time.thread_time()
        fresh: dict[tuple, tuple] = {}
        seen = len(self.inferred)
        for rule in self.sparql_rules:
            if not self._may_change(rule):
                continue
            self.evaluated[rule.id] = seen
            variables, rows = self._solutions(rule)
            columns = {name: i for i, name in enumerate(variables)}
            conclusions = [_template(c, columns) for c in rule.conclusions]
            found: dict[tuple, list] = {}
            for row in rows:
                for template in conclusions:
                    s, p, o = (row[x] if x.__class__ is int else x for x in template)
                    # a subject that is no literal, an IRI as predicate, an object (see _valid_triple)
                    if s is not None and s[0] != '"' and p is not None and p[0] == "<" and o is not None:
                        found.setdefault((s, p, o), []).append(row)
            premises_of = [_template(p, columns) for p in rule.premises]
            for triple in sorted(found):  # query order may vary
                coded = self.codes.triple(triple)
                if coded in self.facts or coded in fresh:
                    continue
                # Several matches may conclude the same triple; the smallest premises win, every run.
                premises = min((self._premises(rule, premises_of, columns, row) for row in found[triple]), key=sorted)
                fresh[coded] = (rule, tuple(self.codes.triple(p) for p in premises))
        self._took("sparql rounds", started)
        return self._add(fresh)

    def _solutions(self, rule: Rule) -> tuple[list, list]:
        """The rule query's variables and rows (N-Triples texts): from its in-memory form on the facts
        where it has one (graph/sparql_rules.py: the same solutions, without waiting for the store
        writes or reading the store), else from the store."""
        if sparql_rules.compiled(rule) is not None:
            try:
                return sparql_rules.solutions(rule, self.facts, self.codes)
            except sparql_rules.Unsupported:
                pass
        return self._query_store(rule)

    def _query_store(self, rule: Rule) -> tuple[list, list]:
        self.writer.wait()  # the query reads the store: every inferred triple in it first
        solutions = self.store.query(rule.query, default_graph=SOURCE_GRAPHS)
        return ([v.value for v in solutions.variables],
                [[None if value is None else str(value) for value in solution] for solution in solutions])

    def _may_change(self, rule: Rule) -> bool:
        """Whether facts inferred since the rule's last run could change its answers (see Rule.reads)."""
        if rule.id not in self.evaluated:
            return True
        reads = self.reads[rule.id]
        return any(reads is None or (p in reads and (p != self.rdf_type or o in reads))
                   for _, p, o in islice(self.inferred, self.evaluated[rule.id], None))

    def _store_inferred(self, triples) -> None:
        """The triples into the inferred graph, by the store writer: N-Quads text in one load; those
        with a blank node as objects (loading text would rename the node)."""
        self._write(triples, f"<{Graphs.INFERRED}>", INFERRED)

    def _write(self, triples, graph_text: str, graph: ox.NamedNode) -> None:
        terms, kinds = self.codes.terms, self.codes.kinds
        lines, blank = [], []
        for s, p, o in triples:
            if kinds[s] == BLANK or kinds[o] == BLANK:
                blank.append(ox.Quad(ox_term(terms[s]), ox_term(terms[p]), ox_term(terms[o]), graph))
            else:
                lines.append(f"{terms[s]} {terms[p]} {terms[o]} {graph_text} .\n")
        if lines:
            self.writer.submit("store writes", self._load, "".join(lines).encode("utf-8"))
        if blank:
            self.writer.submit("store writes", self.store.bulk_extend, blank)

    def _load(self, text: bytes) -> None:
        self.store.bulk_load(text, format=ox.RdfFormat.N_QUADS, lenient=True)

    def _premises(self, rule: Rule, templates: list[tuple], columns: dict, row: list) -> list[tuple]:
        """The premises (N-Triples triples) of one match of a SPARQL rule: its premise patterns with the
        match's terms; where an aggregate leaves premise variables open, every match of the patterns."""
        premises = [tuple(row[x] if x.__class__ is int else x for x in t) for t in templates]
        if all(None not in t for t in premises):
            return premises
        code = self.codes.code
        coded = {name: code.get(row[i], -1) for name, i in columns.items() if row[i] is not None}
        matched = {}
        for full in self._matches(list(rule.premises), coded):
            for pattern in rule.premises:
                matched[tuple(full[t[1:]] if t.startswith("?") else code.get(constant(t), -1)
                              for t in (pattern.subject, pattern.predicate, pattern.object))] = None
        return sorted(self.codes.text(t) for t in matched)

    def _matches(self, patterns: list[Pattern], binding: dict):
        """Every extension of `binding` (variable -> code) matching all `patterns` in the facts."""
        if not patterns:
            yield binding
            return
        pattern, rest = patterns[0], patterns[1:]
        tokens = (pattern.subject, pattern.predicate, pattern.object)
        code = self.codes.code
        lookup = [binding.get(t[1:]) if t.startswith("?") else code.get(constant(t), -1) for t in tokens]
        for triple in self.facts.match(*lookup):
            extended = dict(binding)
            if all(extended.setdefault(t[1:], value) == value for t, value in zip(tokens, triple) if t.startswith("?")):
                yield from self._matches(rest, extended)

    def _write_records(self, fresh: dict) -> None:
        """One quad per inferred triple, by the store writer: on its statement, the rule and the
        premises' statement ids.

        Premises are named by statement id only (the hash of the triple): /explain finds the premise
        triples again by matching the rule's premise patterns and keeping those whose hash is named;
        the few premises with a blank node are reified instead (at the end, _write_provenance).
        """
        ids, kinds = self.ids, self.codes.kinds
        if self.blank_inferred:
            self.blank_premises.update(p for _, used in fresh.values() for p in used if p in self.blank_inferred)
        # The round's triples hashed here; a premise when the record first names it (StatementIds):
        # no set of the round's premises built and looked up first (a third of the step at 1M).
        terms = self.codes.terms
        ids.update({t: statement_id(terms[t[0]], terms[t[1]], terms[t[2]]) for t in fresh})
        self.blank_inferred.update(t for t in fresh if kinds[t[0]] == BLANK or kinds[t[2]] == BLANK)
        head, middle, tail, rule_ids = self.record_head, self.record_middle, self.record_tail, self.rule_ids
        text = "".join([f"{head}{ids[triple]}{middle}{rule_ids[rule.id]} {' '.join([ids[p] for p in used])}{tail}"
                        for triple, (rule, used) in fresh.items()])
        self._submit_records(text)
        self.report.provenance_quads += len(fresh)
        terms, per_predicate_rule = self.codes.terms, self.report.per_predicate_rule
        for (predicate, rule), n in Counter((t[1], r.id) for t, (r, _) in fresh.items()).items():
            per_predicate_rule[terms[predicate][1:-1], str(RULE[rule])] += n

    def _submit_records(self, text: str) -> None:
        self.writer.submit("record writes", self._load, text.encode("utf-8"))

    def _write_provenance(self):
        """The rules' descriptions and the reified premises with a blank node, once, by the store writer."""
        started = time.thread_time()
        quads = self._rule_descriptions() + self._reified_blank(self.blank_premises)
        self.writer.submit("record writes", self.store.bulk_extend, quads)
        self.report.provenance_quads += len(quads)
        self._took("records", started)

    def _reified_blank(self, premises: set) -> list:
        """A blank node's label is not kept across queries: a premise with one (a property chain's list)
        has its subject, predicate and object on its statement, once, for /explain to read back
        (untyped: a typed rdf:Statement must carry evidence for the shapes)."""
        terms = self.codes.terms
        return [q for premise in sorted(premises) for q in reification(tuple(ox_term(terms[t]) for t in premise))[1]
                if q.predicate != RDF_TYPE]

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
    return _without_collector(lambda: Engine(store, rules).run(max_rounds, max_inferred))


class NeedsStore(Exception):
    """A rule could only be evaluated by a query on the store, which still holds the previous inferences."""


class Recompute(Engine):
    """The engine on the asserted graphs alone, writing nothing while it runs: update_inference then
    compares what it found with the store's inferred graph and records and writes the difference."""

    def __init__(self, store: ox.Store, rules: list[Rule]):
        super().__init__(store, rules, [g for g in SOURCE_GRAPHS if g != INFERRED])
        self.record_lines: set[str] = set()

    def _store_inferred(self, triples) -> None:
        pass  # written at the end, where the store's inferred graph lacks them

    def _submit_records(self, text: str) -> None:
        self.record_lines.update(text.splitlines(keepends=True))

    def _query_store(self, rule: Rule):
        raise NeedsStore(rule.id)

    def write_difference(self) -> int:
        """The inferred triples and records the store lacks added, those it holds beyond them removed;
        returns how many quads changed."""
        started = time.thread_time()
        old = set(self._read(INFERRED))
        new = dict.fromkeys(self.inferred)
        gone = [t for t in old if t not in new]
        terms = self.codes.terms
        self.writer = StoreWriter(self.steps)  # run() closed the one it had
        for s, p, o in gone:
            self.store.remove(ox.Quad(ox_term(terms[s]), ox_term(terms[p]), ox_term(terms[o]), INFERRED))
        missing = [t for t in new if t not in old]
        self._write(missing, f"<{Graphs.INFERRED}>", INFERRED)
        record = ox.NamedNode(str(SG.derivationRecord))
        middle, tail = self.record_middle, self.record_tail
        stored = {f"<{q.subject.value}{middle}{_escaped(q.object.value)}{tail}": q
                  for q in self.store.quads_for_pattern(None, record, None, PROVENANCE)}
        stale = [q for line, q in stored.items() if line not in self.record_lines]
        for quad in stale:
            self.store.remove(quad)
        added = [line for line in self.record_lines if line not in stored]
        if added:
            self.writer.submit("record writes", self._load, "".join(sorted(added)).encode("utf-8"))
        self.writer.close()
        self._took("difference", started)
        return len(gone) + len(missing) + len(stale) + len(added)


def _without_collector(work):
    """Millions of small tuples and no cycles among them: the cyclic collector would rescan them all
    again and again (a third of the time at 100k)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return work()
    finally:
        if collecting:
            gc.enable()


def update_inference(store: ox.Store, rules: list[Rule], added=(), removed=(), max_rounds: int = 100,
                     max_inferred: int | None = None) -> InferenceReport:
    """After asserted triples `added` and `removed` (applied to the asserted graph here, if not yet), the inferred graph and records exactly as run_inference would make them, changing only what differs."""
    # Why a recomputation and not DRed over the records: a triple's record is the first derivation
    # found in the engine's fixed order (the store's order, then the rounds'); an added or removed
    # fact moves what comes first for triples far from it, so an update from the delta alone would
    # keep records that a full run no longer chooses. The evaluation is in memory and its cost is the
    # joins; the store, whose writes cost as much again, sees only the difference. `added` and
    # `removed` are triples of pyoxigraph terms (tuples or ox.Triple); inserting or removing them
    # again is harmless, so the caller may have applied them already (with their reification).
    asserted = ox.NamedNode(str(Graphs.ASSERTED))
    for triple in removed:
        store.remove(ox.Quad(*_terms(triple), asserted))
    store.extend(ox.Quad(*_terms(triple), asserted) for triple in added)

    def recompute() -> InferenceReport:
        started = time.perf_counter()
        engine = Recompute(store, rules)
        try:
            report = engine.run(max_rounds, max_inferred)
        except NeedsStore:
            return None
        report.store_changes = engine.write_difference()
        report.seconds = time.perf_counter() - started
        return report

    report = _without_collector(recompute)
    if report is None:  # a rule only SPARQL on the store can evaluate: from an empty inferred graph
        _clear_inferences(store)
        report = run_inference(store, rules, max_rounds, max_inferred)
    return report


def _terms(triple) -> tuple:
    return (triple.subject, triple.predicate, triple.object) if isinstance(triple, ox.Triple) else tuple(triple)


def _clear_inferences(store: ox.Store) -> None:
    store.clear_graph(INFERRED)
    record = ox.NamedNode(str(SG.derivationRecord))
    for quad in list(store.quads_for_pattern(None, record, None, PROVENANCE)):
        store.remove(quad)

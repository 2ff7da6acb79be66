"""SHACL shapes compiled to SPARQL queries that run on the store: validation that scales with the data.

Each constraint of each shape becomes one query returning its violations (`?this`, and `?value`
where SHACL reports one), evaluated by Oxigraph over the data graphs: no copy of the store into
rdflib, no per-focus-node loop. The SHACL Core parts our shapes use are compiled (targets; predicate,
inverse, alternative and sequence paths; class, datatype, nodeKind, value ranges, lengths, patterns,
in, node, not, and, or, xone, min/max counts, qualified counts, disjoint, equals, lessThan) and
SHACL-SPARQL constraints run as written. A shape using anything else raises `Unsupported`, and the
build validates with pySHACL instead; tests compare both on planted errors. The store is validated
after inference, where every instance carries its superclasses' types (rule cax-sco), so SHACL's
instance test (rdf:type/rdfs:subClassOf*) is a plain `?x a C`, which the store answers from its index.

How the queries are written, from profiles of Oxigraph at 100k asserted triples (README, "Validation at scale"):
- each triple pattern is a sub-SELECT of its own: the on-disk store joins sub-SELECTs by hashing, the
  patterns of one basic graph pattern by an index lookup per row (about 8x slower there on the
  provenance shapes; on the in-memory store a build validates, both cost about the same);
- a constraint on a path's values (class, datatype, max counts, ...) does not depend on which shape
  targets the node, so its query reads the path alone, without the targets; its few candidate rows
  are then kept for the nodes the shape targets (`Check.target`, a lookup per candidate). Only
  minimum counts and node shapes read the targets;
- sh:class and a qualified shape of one sh:class (or its sh:not) are a hash join or MINUS against the
  class's instances, not an EXISTS per value;
- most checks carry a `Proof` (counts showing there is nothing to find); the proofs of all the
  shapes with the same targets are one query that reads each pattern once (`proof_query`), and a
  check's own query runs only when its proof fails.
"""

import itertools
from dataclasses import dataclass

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from vocab import SPARQL_PREFIXES

IGNORED = {RDF.type, SH.name, SH.message, SH.description, SH.order, SH.group, SH.severity, SH.deactivated,
           URIRef("http://www.w3.org/2000/01/rdf-schema#comment"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
           SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property, SH.path,
           SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.flags}
RANGES = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
              SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
              SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))"}


class Unsupported(Exception):
    """A shape uses a SHACL feature this compiler does not handle."""


@dataclass(frozen=True)
class Check:
    """One constraint of one shape as a query whose rows are its violations.

    With `target` (a group pattern binding ?this to the shape's focus nodes), the query ignores the
    targets and its rows are violations only for the focus nodes among them. With `value_is_focus`,
    each violation is reported on its value (the nested shape of sh:node). With `proof`, a query of
    a `Proof` from counts: when it holds the check has no violation and `query` is not run.
    `focus` is the shape's focus nodes as a group pattern: when it matches nothing, the check is not run.
    Compiled for given focus nodes (`compile_shapes(..., focus=...)`), every pattern the query reads is
    restricted to them by a VALUES block, and no check has a proof (there is little to read)."""

    shape: Node  # the shape that holds the constraint (a property shape may be a blank node)
    path: Node | None
    query: str
    message: str | None
    target: str | None = None
    value_is_focus: bool = False
    proof: "Proof | None" = None
    focus: str | None = None
    per_node: bool = False  # SHACL-SPARQL compiled for focus nodes: run once per targeted node, $this pre-bound


@dataclass(frozen=True)
class Proof:
    """Counts that show a check has no violation, made by the store without grouping (3 to 6 times
    cheaper than the check at 100k). `covered`: every focus node of `targets` has a row in `values`
    (the nodes of targets-or-values are as many as those of values); `single`: no node has two rows
    in `values` (as many rows as nodes); `empty`: `values` has no row. The proofs of the checks of
    one shape's targets are made by one query (`proof_query`), which reads each pattern once."""

    kind: str
    values: str
    targets: str | None = None


@dataclass(frozen=True)
class Targets:
    """A shape's focus nodes as a pattern to scan (hash-joined) and as one to look candidates up in."""

    scan: str
    lookup: str


class Compiler:
    def __init__(self, shapes: Graph, focus: list[str] | None = None):
        self.shapes = shapes
        self.names = itertools.count()
        self.focus = None if focus is None else " ".join(URIRef(iri).n3() for iri in focus)

    def restrict(self, variable: str) -> str:
        """A VALUES block binding `variable` to the focus nodes, when compiled for some."""
        return "" if self.focus is None else f"VALUES {variable} {{ {self.focus} }} "

    def var(self, stem: str) -> str:
        return f"?{stem}{next(self.names)}"

    # --- shapes and targets ---

    def checks(self) -> list[Check]:
        found = []
        for shape in sorted(self._shapes(), key=str):
            if self.shapes.value(shape, SH.deactivated) == Literal(True):
                continue
            targets = self.targets(shape)
            if targets is None:
                continue
            found += self.shape_checks(shape, targets)
            for prop in sorted(self.shapes.objects(shape, SH.property), key=str):
                if self.shapes.value(prop, SH.deactivated) != Literal(True):
                    found += self.shape_checks(prop, targets)
        return found

    def _shapes(self) -> set:
        return set(self.shapes.subjects(RDF.type, SH.NodeShape)) | set(self.shapes.subjects(RDF.type, SH.PropertyShape))

    def targets(self, shape: Node) -> Targets | None:
        parts = []
        for cls in self.shapes.objects(shape, SH.targetClass):
            parts.append(f"?this a {_n3(cls)} .")
        # Fixed names (each part is a branch of its own): two shapes with the same targets get the same
        # pattern, so their proofs are made by one query.
        for prop in self.shapes.objects(shape, SH.targetSubjectsOf):
            parts.append(f"?this {_n3(prop)} ?targetObject .")
        for prop in self.shapes.objects(shape, SH.targetObjectsOf):
            parts.append(f"?targetSubject {_n3(prop)} ?this .")
        for node in self.shapes.objects(shape, SH.targetNode):
            parts.append(f"VALUES ?this {{ {_n3(node)} }}")
        if not parts:
            return None
        union = " UNION ".join(f"{{ {p} }}" for p in sorted(parts))
        # No DISTINCT: each query's own DISTINCT or COUNT(DISTINCT) makes a node targeted twice count once.
        return Targets(scan=f"{{ SELECT ?this WHERE {{ {self.restrict('?this')}{union} }} }}", lookup=f"{{ {union} }}")

    def path(self, path: Node) -> str:
        """A SHACL path as a SPARQL property path."""
        if isinstance(path, URIRef):
            return _n3(path)
        inverse = self.shapes.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + self.path(inverse)
        alternatives = self.shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(self.shapes, alternatives)) + ")"
        if self.shapes.value(path, RDF.first) is not None:
            return "(" + "/".join(self.path(p) for p in Collection(self.shapes, path)) + ")"
        raise Unsupported(f"path {path}")

    def rows(self, path: Node, subject: str = "?this", obj: str = "?value", bound: str = "?this") -> str:
        """A group pattern of the path's (subject, object) pairs, each predicate in a sub-SELECT of its own;
        compiled for focus nodes, `bound` (?this, or ?value for a nested shape's focus) is one of them."""
        if isinstance(path, URIRef):
            return f"{{ SELECT {subject} {obj} WHERE {{ {self.restrict(bound)}{subject} {_n3(path)} {obj} }} }}"
        inverse = self.shapes.value(path, SH.inversePath)
        if inverse is not None:
            return self.rows(inverse, obj, subject, bound)
        alternatives = self.shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return "{ " + " UNION ".join(self.rows(p, subject, obj, bound) for p in Collection(self.shapes, alternatives)) + " }"
        return f"{{ SELECT {subject} {obj} WHERE {{ {self.restrict(bound)}{subject} {self.path(path)} {obj} }} }}"

    def shape_checks(self, shape: Node, targets: Targets) -> list[Check]:
        path = self.shapes.value(shape, SH.path)
        message = " ".join(sorted(str(m) for m in self.shapes.objects(shape, SH.message))) or None
        report_path = path if isinstance(path, URIRef) else None
        # A property shape's values are read without the targets (kept for the focus nodes afterwards);
        # a node shape's value is the focus node itself, so its targets are scanned.
        values = self.rows(path) if path is not None else f"{targets.scan} BIND (?this AS ?value)"
        target = targets.lookup if path is not None else None
        checks = []

        def add(query: str, filtered: bool = True, proof: Proof | None = None):
            checks.append(Check(shape, report_path, SPARQL_PREFIXES + query, message, target if filtered else None,
                                proof=proof if self.focus is None else None, focus=targets.lookup))

        constraints = sorted(self.shapes.predicate_objects(shape), key=lambda po: (str(po[0]), str(po[1])))
        # The shape's tests of single values, all in one filter: when no value fails it, none of them
        # fails (one read of the values for all of them, within the targets' proof query).
        tests = [self.value_test(predicate, obj, "?value", shape) for predicate, obj in constraints
                 if predicate not in IGNORED and not self._whole_path_constraint(predicate, path)]
        all_pass = Proof("empty", f"{{ {values} FILTER (!({' && '.join(f'COALESCE({t}, false)' for t in tests)})) }}") \
            if tests else None
        for predicate, obj in constraints:
            if predicate in IGNORED:
                continue
            if predicate in (SH.minCount, SH.maxCount) and path is not None:
                add(*self.count_query(targets, values, predicate, int(obj)))
            elif predicate == SH.qualifiedValueShape and path is not None:
                add(*self.qualified_query(shape, targets, values, obj))
            elif predicate in (SH.disjoint, SH.equals, SH.lessThan, SH.lessThanOrEquals) and path is not None:
                add(self.pair_query(values, predicate, obj))
            elif predicate == SH.sparql:
                checks.append(self.sparql_check(shape, obj, targets, report_path, message))
            elif predicate == SH.node:
                # pySHACL reports the nested shape's own failure too, with the value as its focus.
                failing = "SELECT DISTINCT ?this ?value WHERE {{ {{ {} FILTER (!COALESCE({}, false)) }} }}"
                add(failing.format(values, self.conforms(obj, '?value')), proof=all_pass)
                # The nested shape's focus nodes are the values: compiled for focus nodes, those are restricted.
                nested = self.rows(path, bound="?value") if path is not None and self.focus is not None else values
                checks.append(Check(obj, None, SPARQL_PREFIXES + failing.format(nested, self.conforms(obj, '?value')),
                                    " ".join(sorted(str(m) for m in self.shapes.objects(obj, SH.message))) or None,
                                    target, value_is_focus=True, proof=all_pass if self.focus is None else None,
                                    focus=targets.lookup))
            elif predicate == SH["class"]:
                # MINUS reads all the class's instances even when there is no value to test: prove that first
                # (a node shape's values are its focus nodes, which exist: they were asked for).
                add(f"SELECT DISTINCT ?this ?value WHERE {{ {self.not_instances(values, obj)} }}",
                    proof=Proof("empty", values) if path is not None else None)
            else:
                test = self.value_test(predicate, obj, "?value", shape)
                add(f"SELECT DISTINCT ?this ?value WHERE {{ {{ {values} FILTER (!COALESCE({test}, false)) }} }}",
                    proof=all_pass)
        return checks

    @staticmethod
    def _whole_path_constraint(predicate: Node, path: Node | None) -> bool:
        """A constraint on all of a node's values together (counts, pairs, SPARQL, class), not a test of one value."""
        return (predicate in (SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.disjoint, SH.equals, SH.lessThan,
                              SH.lessThanOrEquals) and path is not None) or predicate in (SH.sparql, SH["class"])

    @staticmethod
    def instances(cls: Node) -> str:
        return f"{{ SELECT ?value WHERE {{ ?value a {_n3(cls)} }} }}"

    def of_class(self, values: str, cls: Node) -> str:
        """The rows of `values` whose ?value is an instance of `cls`: a hash join with all of them, or for
        focus nodes (few values) a lookup per value."""
        if self.focus is not None:
            return f"{{ {values} FILTER EXISTS {{ ?value a {_n3(cls)} }} }}"
        return f"{{ {values} {self.instances(cls)} }}"

    def not_instances(self, values: str, cls: Node) -> str:
        """The rows of `values` whose ?value is not an instance of `cls` (MINUS, or a lookup per value)."""
        if self.focus is not None:
            return f"{{ {values} FILTER NOT EXISTS {{ ?value a {_n3(cls)} }} }}"
        return f"{{ {values} MINUS {self.instances(cls)} }}"

    # --- constraint components ---

    def count_query(self, targets: Targets, values: str, predicate: Node, limit: int) -> tuple:
        """(query, whether its rows are filtered by the targets, proof): a minimum needs the targets."""
        if predicate == SH.minCount and limit == 1:
            return (f"SELECT DISTINCT ?this WHERE {{ {targets.scan} MINUS {{ {values} }} }}", False,
                    Proof("covered", values, targets.lookup))
        if predicate == SH.minCount:
            return (f"SELECT ?this WHERE {{ {targets.scan} OPTIONAL {{ {values} }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {limit})"), False, None
        return (f"SELECT ?this WHERE {{ {values} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {limit})", True,
                Proof("single", values) if limit >= 1 else None)

    def qualified_query(self, shape: Node, targets: Targets, values: str, qualified: Node) -> tuple:
        if self.shapes.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
            raise Unsupported("sh:qualifiedValueShapesDisjoint")
        low, high = self.shapes.value(shape, SH.qualifiedMinCount), self.shapes.value(shape, SH.qualifiedMaxCount)
        having = " || ".join(([f"COUNT(DISTINCT ?value) < {int(low)}"] if low is not None else [])
                             + ([f"COUNT(DISTINCT ?value) > {int(high)}"] if high is not None else []))
        if not having:
            raise Unsupported("sh:qualifiedValueShape without a count")
        conforming = self.conforming(qualified, values)
        if low is not None:  # a node with no conforming value at all fails: the targets are needed
            return (f"SELECT ?this WHERE {{ {targets.scan} OPTIONAL {conforming} }} "
                    f"GROUP BY ?this HAVING ({having})"), False, None
        return (f"SELECT ?this WHERE {conforming} GROUP BY ?this HAVING ({having})", True,
                Proof("single", conforming) if int(high) >= 1 else None)

    def conforming(self, shape: Node, values: str) -> str:
        """The rows of `values` whose ?value conforms to `shape`: a join for one sh:class, MINUS for its sh:not."""
        only = self._sole_constraint(shape)
        if only is not None and only[0] == SH["class"]:
            return self.of_class(values, only[1])
        if only is not None and only[0] == SH["not"]:
            inner = self._sole_constraint(only[1])
            if inner is not None and inner[0] == SH["class"]:
                return self.not_instances(values, inner[1])
        return f"{{ {values} FILTER (COALESCE({self.conforms(shape, '?value')}, false)) }}"

    def _sole_constraint(self, shape: Node) -> tuple[Node, Node] | None:
        constraints = [(p, o) for p, o in self.shapes.predicate_objects(shape) if p not in IGNORED]
        return constraints[0] if len(constraints) == 1 else None

    def pair_query(self, values: str, predicate: Node, other: Node) -> str:
        o = self.var("other")
        if predicate == SH.disjoint:
            return f"SELECT DISTINCT ?this ?value WHERE {{ {values} {self.rows(other)} }}"
        if predicate == SH.equals:
            return (f"SELECT DISTINCT ?this ?value WHERE {{ {{ {values} MINUS {self.rows(other)} }}"
                    f" UNION {{ {self.rows(other)} MINUS {{ {values} }} }} }}")
        op = "<" if predicate == SH.lessThan else "<="
        return (f"SELECT DISTINCT ?this ?value WHERE {{ {values} {self.rows(other, obj=o)} "
                f"FILTER (!COALESCE(?value {op} {o}, false)) }}")

    def sparql_check(self, shape: Node, constraint: Node, targets: Targets, path: Node | None,
                     message: str | None) -> Check:
        select = self.shapes.value(constraint, SH.select)
        if select is None:
            raise Unsupported("SHACL-SPARQL without sh:select")
        own = " ".join(sorted(str(m) for m in self.shapes.objects(constraint, SH.message)))
        query = str(select).replace("$this", "?this")
        if "$" in query:
            raise Unsupported("SHACL-SPARQL with pre-bound variables other than $this")
        return Check(shape, path, SPARQL_PREFIXES + self._declared_prefixes(constraint) + query, own or message,
                     target=targets.lookup, focus=targets.lookup, per_node=self.focus is not None)

    def _declared_prefixes(self, constraint: Node) -> str:
        lines = []
        for holder in self.shapes.objects(constraint, SH.prefixes):
            for declaration in self.shapes.objects(holder, SH.declare):
                prefix, namespace = self.shapes.value(declaration, SH.prefix), self.shapes.value(declaration, SH.namespace)
                if f"PREFIX {prefix}:" not in SPARQL_PREFIXES:
                    lines.append(f"PREFIX {prefix}: <{namespace}>\n")
        return "".join(lines)

    def value_test(self, predicate: Node, obj: Node, v: str, shape: Node) -> str:
        """A SPARQL expression true when value `v` satisfies the constraint (predicate obj) of `shape`."""
        if predicate == SH["class"]:
            return f"EXISTS {{ {v} a {_n3(obj)} }}"
        if predicate == SH.datatype:
            return f"(isLiteral({v}) && DATATYPE({v}) = {_n3(obj)})"
        if predicate == SH.nodeKind:
            return NODE_KINDS[obj].format(v=v)
        if predicate in RANGES:
            return f"({v} {RANGES[predicate]} {_n3(obj)})"
        if predicate == SH.minLength:
            return f"(!isBlank({v}) && STRLEN(STR({v})) >= {int(obj)})"
        if predicate == SH.maxLength:
            return f"(!isBlank({v}) && STRLEN(STR({v})) <= {int(obj)})"
        if predicate == SH.pattern:
            flags = self.shapes.value(shape, SH.flags)  # the flags of the same shape only
            return f"(!isBlank({v}) && REGEX(STR({v}), {_n3(obj)}{', ' + _n3(flags) if flags else ''}))"
        if predicate == SH["in"]:
            return f"({v} IN ({', '.join(_n3(x) for x in Collection(self.shapes, obj))}))"
        if predicate == SH.hasValue:
            return f"({v} = {_n3(obj)})"
        if predicate == SH.node:
            return self.conforms(obj, v)
        if predicate == SH["not"]:
            return f"!{self.conforms(obj, v)}"
        if predicate in (SH["and"], SH["or"]):
            joined = (" && " if predicate == SH["and"] else " || ").join(
                self.conforms(s, v) for s in Collection(self.shapes, obj))
            return f"({joined})"
        if predicate == SH.xone:
            return "((" + " + ".join(f"IF({self.conforms(s, v)}, 1, 0)" for s in Collection(self.shapes, obj)) + ") = 1)"
        raise Unsupported(f"constraint {predicate}")

    def conforms(self, shape: Node, v: str) -> str:
        """A SPARQL expression true when `v` conforms to a shape of value-level constraints only."""
        tests = []
        for predicate, obj in sorted(self.shapes.predicate_objects(shape), key=lambda po: (str(po[0]), str(po[1]))):
            if predicate in IGNORED and predicate not in (SH.property, SH.path):
                continue
            if predicate in (SH.property, SH.path, SH.sparql):
                raise Unsupported("a nested shape with properties, paths or SPARQL")
            tests.append(f"COALESCE({self.value_test(predicate, obj, v, shape)}, false)")
        return "(" + (" && ".join(tests) or "true") + ")"


def _n3(term: Node) -> str:
    if isinstance(term, BNode):
        raise Unsupported("a blank node where a term is expected")
    return term.n3()


def proof_query(proofs: list[Proof]):
    """One query making the counts of all `proofs`, and a function from its one row (variable name ->
    int) to whether each proof holds. Each targets and values pattern is one branch of a UNION, read
    once: a values branch binds ?vN to its node (for its row and node counts) and ?uN of each
    covered proof on it; a targets branch binds the ?uN of its covered proofs."""
    values = sorted({p.values for p in proofs})
    targets = sorted({p.targets for p in proofs if p.kind == "covered"})
    v = {pattern: f"?v{n}" for n, pattern in enumerate(values)}
    u = {proof: f"?u{n}" for n, proof in enumerate(sorted({p for p in proofs if p.kind == "covered"}, key=str))}

    def binds(variables) -> str:
        return " ".join(f"BIND (?this AS {name})" for name in variables)

    branches = [f"{{ {pattern} {binds([v[pattern]] + [u[p] for p in u if p.values == pattern])} }}" for pattern in values]
    branches += [f"{{ {pattern} {binds(u[p] for p in u if p.targets == pattern)} }}" for pattern in targets]
    distinct = {p.values for p in proofs if p.kind != "empty"}
    counts = [f"(COUNT({name}) AS {name}r)" + (f" (COUNT(DISTINCT {name}) AS {name}n)" if pattern in distinct else "")
              for pattern, name in v.items()]
    counts += [f"(COUNT(DISTINCT {name}) AS {name}n)" for name in u.values()]
    query = f"SELECT {' '.join(counts)} WHERE {{ {' UNION '.join(branches)} }}"

    def holds(row: dict) -> list[bool]:
        def n(name: str) -> int:
            return row[name[1:]]
        return [n(v[p.values] + "n") == n(u[p] + "n") if p.kind == "covered"
                else n(v[p.values] + "r") == n(v[p.values] + "n") if p.kind == "single"
                else n(v[p.values] + "r") == 0 for p in proofs]
    return SPARQL_PREFIXES + query, holds


def compile_shapes(shapes: Graph, focus: list[str] | None = None) -> list[Check]:
    """Every active constraint of the shapes as a SPARQL query, for every focus node or only for those
    of `focus` (IRIs); raises Unsupported."""
    return Compiler(shapes, focus).checks()

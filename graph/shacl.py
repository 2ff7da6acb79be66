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
"""

import itertools
from dataclasses import dataclass

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from vocab import SPARQL_PREFIXES

PATH_KEYS = {SH.path}
IGNORED = {RDF.type, SH.name, SH.message, SH.description, SH.order, SH.group, SH.severity, SH.deactivated,
           URIRef("http://www.w3.org/2000/01/rdf-schema#comment"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
           SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property, SH.path,
           SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint}
RANGES = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
              SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
              SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))"}


class Unsupported(Exception):
    """A shape uses a SHACL feature this compiler does not handle."""


@dataclass(frozen=True)
class Check:
    """One constraint of one shape as a query whose rows are its violations."""

    shape: Node  # the shape that holds the constraint (a property shape may be a blank node)
    path: Node | None
    query: str
    message: str | None
    focus_query: str | None = None  # for SHACL-SPARQL: the focus nodes, when the query runs unbound


class Compiler:
    def __init__(self, shapes: Graph):
        self.shapes = shapes
        self.names = itertools.count()

    def var(self, stem: str) -> str:
        return f"?{stem}{next(self.names)}"

    # --- shapes and targets ---

    def checks(self) -> list[Check]:
        found = []
        for shape in sorted(self._shapes(), key=str):
            if self.shapes.value(shape, SH.deactivated) == Literal(True):
                continue
            target = self.target(shape)
            if target is None:
                continue
            found += self.shape_checks(shape, target)
            for prop in sorted(self.shapes.objects(shape, SH.property), key=str):
                if self.shapes.value(prop, SH.deactivated) != Literal(True):
                    found += self.shape_checks(prop, target)
        return found

    def _shapes(self) -> set:
        return set(self.shapes.subjects(RDF.type, SH.NodeShape)) | set(self.shapes.subjects(RDF.type, SH.PropertyShape))

    def target(self, shape: Node) -> str | None:
        parts = []
        for cls in self.shapes.objects(shape, SH.targetClass):
            parts.append(f"?this a {_n3(cls)} .")
        for prop in self.shapes.objects(shape, SH.targetSubjectsOf):
            parts.append(f"?this {_n3(prop)} {self.var('o')} .")
        for prop in self.shapes.objects(shape, SH.targetObjectsOf):
            parts.append(f"{self.var('s')} {_n3(prop)} ?this .")
        for node in self.shapes.objects(shape, SH.targetNode):
            parts.append(f"VALUES ?this {{ {_n3(node)} }}")
        if not parts:
            return None
        # A group pattern, not a sub-SELECT: the store joins sub-SELECTs with a loop, patterns by index.
        return "{ " + " UNION ".join(f"{{ {p} }}" for p in parts) + " }"

    def path(self, path: Node) -> str:
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

    def shape_checks(self, shape: Node, target: str) -> list[Check]:
        path = self.shapes.value(shape, SH.path)
        message = " ".join(sorted(str(m) for m in self.shapes.objects(shape, SH.message))) or None
        report_path = path if isinstance(path, URIRef) else None
        if path is None:
            values = "BIND (?this AS ?value)"
        else:
            values = f"?this {self.path(path)} ?value ."
        checks = []

        def add(query: str):
            checks.append(Check(shape, report_path, SPARQL_PREFIXES + query, message))

        for predicate, obj in sorted(self.shapes.predicate_objects(shape), key=lambda po: (str(po[0]), str(po[1]))):
            if predicate in IGNORED:
                continue
            if predicate in (SH.minCount, SH.maxCount) and path is not None:
                add(self.count_query(target, values, predicate, int(obj)))
            elif predicate == SH.qualifiedValueShape and path is not None:
                add(self.qualified_query(shape, target, values, obj))
            elif predicate in (SH.disjoint, SH.equals, SH.lessThan, SH.lessThanOrEquals) and path is not None:
                add(self.pair_query(target, values, predicate, obj))
            elif predicate == SH.sparql:
                checks.append(self.sparql_check(shape, obj, target, report_path, message))
            elif predicate == SH.node:
                # pySHACL reports the nested shape's own failure too, with the value as its focus.
                test = self.conforms(obj, "?value")
                add(f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} FILTER (!COALESCE({test}, false)) }}")
                checks.append(Check(obj, None, SPARQL_PREFIXES + f"SELECT ?this ?value WHERE {{ {{ SELECT DISTINCT ?value "
                                    f"WHERE {{ {target} {values} FILTER (!COALESCE({test}, false)) }} }} BIND (?value AS ?this) }}",
                                    " ".join(sorted(str(m) for m in self.shapes.objects(obj, SH.message))) or None))
            else:
                test = self.value_test(predicate, obj, "?value")
                add(f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} FILTER (!COALESCE({test}, false)) }}")
        return checks

    # --- constraint components ---

    def count_query(self, target: str, values: str, predicate: Node, limit: int) -> str:
        # The usual counts (at least one, at most one) as an anti-join and a self-join: the store runs
        # them by index lookups, where grouping every focus node by its values costs a sort of them all.
        if predicate == SH.minCount and limit == 1:
            return f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ {values} }} }}"
        if predicate == SH.maxCount and limit == 1:
            second = values.replace("?value", "?other")
            return (f"SELECT DISTINCT ?this WHERE {{ {target} {values} {second} "
                    f"FILTER (!sameTerm(?value, ?other)) }}")
        if predicate == SH.minCount:
            return (f"SELECT ?this WHERE {{ {target} OPTIONAL {{ {values} }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {limit})")
        return f"SELECT ?this WHERE {{ {target} {values} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {limit})"

    def qualified_query(self, shape: Node, target: str, values: str, qualified: Node) -> str:
        if self.shapes.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
            raise Unsupported("sh:qualifiedValueShapesDisjoint")
        test = self.conforms(qualified, "?value")
        low, high = self.shapes.value(shape, SH.qualifiedMinCount), self.shapes.value(shape, SH.qualifiedMaxCount)
        having = " || ".join(([f"COUNT(DISTINCT ?value) < {int(low)}"] if low is not None else [])
                             + ([f"COUNT(DISTINCT ?value) > {int(high)}"] if high is not None else []))
        if not having:
            raise Unsupported("sh:qualifiedValueShape without a count")
        return (f"SELECT ?this WHERE {{ {target} OPTIONAL {{ {values} FILTER (COALESCE({test}, false)) }} }} "
                f"GROUP BY ?this HAVING ({having})")

    def pair_query(self, target: str, values: str, predicate: Node, other: Node) -> str:
        o = self.var("other")
        if predicate == SH.disjoint:
            return f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} ?this {_n3(other)} ?value . }}"
        if predicate == SH.equals:
            return (f"SELECT DISTINCT ?this ?value WHERE {{ {target} {{ {values} FILTER NOT EXISTS {{ ?this {_n3(other)} ?value }} }}"
                    f" UNION {{ ?this {_n3(other)} ?value FILTER NOT EXISTS {{ {values} }} }} }}")
        op = "<" if predicate == SH.lessThan else "<="
        return (f"SELECT DISTINCT ?this ?value WHERE {{ {target} {values} ?this {_n3(other)} {o} . "
                f"FILTER (!COALESCE(?value {op} {o}, false)) }}")

    def sparql_check(self, shape: Node, constraint: Node, target: str, path: Node | None, message: str | None) -> Check:
        select = self.shapes.value(constraint, SH.select)
        if select is None:
            raise Unsupported("SHACL-SPARQL without sh:select")
        own = " ".join(sorted(str(m) for m in self.shapes.objects(constraint, SH.message)))
        query = str(select).replace("$this", "?this")
        if "$" in query:
            raise Unsupported("SHACL-SPARQL with pre-bound variables other than $this")
        return Check(shape, path, SPARQL_PREFIXES + self._declared_prefixes(constraint) + query, own or message,
                     focus_query=SPARQL_PREFIXES + f"SELECT ?this WHERE {{ {target} }}")

    def _declared_prefixes(self, constraint: Node) -> str:
        lines = []
        for holder in self.shapes.objects(constraint, SH.prefixes):
            for declaration in self.shapes.objects(holder, SH.declare):
                prefix, namespace = self.shapes.value(declaration, SH.prefix), self.shapes.value(declaration, SH.namespace)
                if f"PREFIX {prefix}:" not in SPARQL_PREFIXES:
                    lines.append(f"PREFIX {prefix}: <{namespace}>\n")
        return "".join(lines)

    def value_test(self, predicate: Node, obj: Node, v: str) -> str:
        """A SPARQL expression true when value `v` satisfies the constraint (predicate obj)."""
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
            flags = self.shapes.value(None, SH.flags)
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
            tests.append(f"COALESCE({self.value_test(predicate, obj, v)}, false)")
        return "(" + (" && ".join(tests) or "true") + ")"


def _n3(term: Node) -> str:
    if isinstance(term, BNode):
        raise Unsupported("a blank node where a term is expected")
    return term.n3()


def compile_shapes(shapes: Graph) -> list[Check]:
    """Every active constraint of the shapes as a SPARQL query; raises Unsupported."""
    return Compiler(shapes).checks()

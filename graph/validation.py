"""SHACL validation of a build (ontology/shapes.ttl) and the check that every asserted fact has evidence."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pyshacl
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.graph import ConjunctiveGraph, Dataset
from rdflib.namespace import SH, NamespaceManager
from rdflib.term import Node

from vocab import PREFIXES, SG, SPARQL_PREFIXES, Graphs

SHAPES_PATH = Path(__file__).resolve().parent.parent / "ontology" / "shapes.ttl"
SGSH = Namespace("https://w3id.org/swapgraph/shapes#")
ASSERTED_EVIDENCE_SHAPE = SGSH.AssertedFactEvidenceShape
PREMISE_DEPTH = 3  # how far to follow derivations back to asserted quotes for an inferred-only node
QUERY_THREADS = 2  # the store evaluates queries without holding the GIL: two checks at a time on two cores
INFERRED_EXPLAINED = 5  # inferred triples about an inferred-only node whose derivations are followed
QUOTES_SHOWN = 3  # quotes per violation in the text report (all of them are in Violation.evidence)


@dataclass(frozen=True)
class Violation:
    """One failed constraint: on which node, by which shape, and the quotes behind that node."""

    focus: Node
    shape: Node
    path: Node | None
    message: str
    value: Node | None = None
    shape_name: str | None = None
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (document file name or IRI, quote)


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation]
    seconds: float = 0.0
    namespaces: NamespaceManager | None = field(default=None, repr=False)

    def text(self) -> str:
        """A readable report: one block per violation with node, shape, message, document and quote."""
        if self.conforms:
            return f"Validation: conforms (no violations, {self.seconds:.3f} s)"
        names = self.namespaces or _namespaces()
        count = len(self.violations)
        lines = [f"Validation: {count} violation{'s' if count != 1 else ''} ({self.seconds:.3f} s)"]
        for number, v in enumerate(self.violations, 1):
            shape = _short(v.shape, names) + (f' "{v.shape_name}"' if v.shape_name else "")
            lines += ["", f"{number}. {_short(v.focus, names)}", f"   shape:    {shape}"]
            if v.path is not None:
                lines.append(f"   path:     {_short(v.path, names)}")
            if v.value is not None:
                lines.append(f"   value:    {_short(v.value, names)}")
            lines.append(f"   message:  {v.message}")
            if not v.evidence:
                lines.append("   evidence: (no quote found for this node)")
            for document, quote in v.evidence[:QUOTES_SHOWN]:
                lines.append(f'   evidence: {document}: "{quote}"')
            if len(v.evidence) > QUOTES_SHOWN:
                lines.append(f"   evidence: (+{len(v.evidence) - QUOTES_SHOWN} more)")
        return "\n".join(lines)


@lru_cache(maxsize=4)
def load_shapes(path: Path = SHAPES_PATH) -> Graph:
    """The shapes graph, parsed once per process (treat it as read-only)."""
    return Graph().parse(path, format="turtle")


def validate(data: Graph, ontology: Graph | None = None, asserted: Graph | None = None,
             shapes: Graph | None = None, store=None) -> ValidationReport:
    """Check `data` (the union of the store's entities, asserted, inferred and provenance graphs).

    Our own inference has already run, so pyshacl runs with inference "none"; the ontology, when
    given, only contributes its rdfs:subClassOf axioms (so that a leg counts as an Exchange for
    sh:class). Each violation carries the quotes behind its focus node, so a failed build says which
    sentence of which document led to the bad fact. With `asserted` (the asserted named graph), also
    check that each of its triples has a reified statement with sg:evidence in `data`. With `store`
    (the Oxigraph store `data` was read from), a node without quotes of its own gets those of the
    premises of its inferred triples, from the store's derivation records.
    """
    started = time.perf_counter()
    shapes = shapes if shapes is not None else load_shapes()
    data = _union(data)
    target = data
    missing = _missing_hierarchy(data, ontology) if ontology is not None else []
    if missing:
        # A private copy with the class hierarchy mixed in; pyshacl then runs in place on it.
        target = Graph()
        target += data
        for triple in missing:
            target.add(triple)
    # inplace: the shapes hold no sh:rule and inference is off, so pyshacl writes nothing to the graph.
    conforms, results, _ = pyshacl.validate(target, shacl_graph=shapes, inference="none", advanced=True,
                                            inplace=True, allow_warnings=False)
    source = _source(store)
    violations = _read_results(results, data, shapes, source)
    if asserted is not None:
        violations += _unsupported_asserted(asserted, data, shapes, source)
    violations.sort(key=lambda v: (str(v.shape), str(v.focus), str(v.path), str(v.value)))
    return ValidationReport(conforms=not violations, violations=violations,
                            seconds=time.perf_counter() - started, namespaces=_namespaces())


DATA_GRAPHS = (Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED, Graphs.PROVENANCE)
SUPPORTED = f"GRAPH <{Graphs.PROVENANCE}> {{ ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; sg:evidence ?e }}"
# MINUS, not FILTER NOT EXISTS: the store evaluates it as one anti-join instead of a lookup per triple.
UNSUPPORTED_ASSERTED = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{Graphs.ASSERTED}> {{ ?s ?p ?o }} MINUS {{ {SUPPORTED} }} }}"
# With focus nodes: both sides of the anti-join start from them (FILTER NOT EXISTS let the store scan
# the statements of an object for each triple: 5 s at 100k for a document's 212 nodes).
UNSUPPORTED_FOCUS = f"""SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ NODES }} GRAPH <{Graphs.ASSERTED}> {{ ?s ?p ?o }}
  MINUS {{ VALUES ?s {{ NODES }} {SUPPORTED} }} }}"""
EVIDENCE = """SELECT DISTINCT ?file ?doc ?quote WHERE {{ ?st rdf:subject {node} ; sg:evidence ?e . ?e sg:quote ?quote . OPTIONAL {{ ?e sg:document ?doc OPTIONAL {{ ?doc sg:fileName ?file }} }}
}} ORDER BY ?file ?quote LIMIT 20"""


def validate_store(store, shapes: Graph | None = None, focus=None) -> ValidationReport:
    """Check the store's data graphs with the shapes compiled to SPARQL (graph.shacl), run by the store.

    The same report as `validate` (pySHACL): one Violation per focus node, constraint and value, with
    the quotes behind the focus node. With `focus` (IRIs: the subjects an incremental change touched),
    only those nodes are validated, as focus nodes of every shape that targets them: the violations
    of a full run whose focus node is one of them, from queries restricted to them. Raises
    graph.shacl.Unsupported for shapes it cannot compile.
    """
    import pyoxigraph as ox

    from graph.shacl import compile_shapes
    from vocab.terms import to_rdflib

    started = time.perf_counter()
    shapes = shapes if shapes is not None else load_shapes()
    data = [ox.NamedNode(str(g)) for g in DATA_GRAPHS]
    # IRIs as str, rdflib URIRef or pyoxigraph NamedNode (whose str() is its N-Triples form)
    nodes = None if focus is None else sorted({getattr(node, "value", None) or str(node) for node in focus})

    def rows(query: str, **options):
        solutions = store.query(query, default_graph=data, **options)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            yield {n: to_rdflib(solution[n]) for n in names if solution[n] is not None}

    checks = compile_shapes(shapes, focus=nodes) if nodes != [] else []
    names = {check.shape: _named_shape(shapes, check.shape) for check in checks}  # rdflib read in one thread
    with ThreadPoolExecutor(QUERY_THREADS) as pool:
        if nodes is None:
            unsupported = pool.submit(lambda: list(rows(SPARQL_PREFIXES + UNSUPPORTED_ASSERTED))).result
            checks = _unproved(rows, _with_focus_nodes(store, data, checks, pool), pool)
        else:
            query = UNSUPPORTED_FOCUS.replace("NODES", " ".join(URIRef(n).n3() for n in nodes))
            unsupported = pool.submit(lambda: list(rows(SPARQL_PREFIXES + query)) if nodes else []).result
        focus_nodes = None if nodes is None else {URIRef(n) for n in nodes}
        violations = [v for found in pool.map(lambda check: _violations(rows, check, *names[check.shape],
                                                                        focus=focus_nodes), checks)
                      for v in found]
        unsupported = unsupported()
    message = str(shapes.value(ASSERTED_EVIDENCE_SHAPE, SH.message) or "asserted triple without evidence")
    name = shapes.value(ASSERTED_EVIDENCE_SHAPE, SH.name)
    violations += [Violation(focus=row["s"], shape=ASSERTED_EVIDENCE_SHAPE, path=row["p"], value=row["o"],
                             message=message, shape_name=str(name) if name is not None else None)
                   for row in unsupported]
    if focus_nodes is not None:  # a nested shape's or a pair's violations may fall on other nodes
        violations = [v for v in violations if v.focus in focus_nodes]
    unique = {(v.shape, v.focus, v.path, v.value, v.message): v for v in violations}
    source = _source(store)
    violations = [replace(v, evidence=_store_evidence(rows, source, v))
                  for _, v in sorted(unique.items(), key=lambda kv: tuple(map(str, kv[0])))]
    return ValidationReport(conforms=not violations, violations=violations,
                            seconds=time.perf_counter() - started, namespaces=_namespaces())


def _with_focus_nodes(store, data, checks, pool) -> list:
    """The checks whose shape has a focus node: a shape that targets nothing has no violation
    (shapes for kinds of record a corpus does not hold: rankings, positions, ...), one ASK per target."""
    patterns = sorted({check.focus for check in checks if check.focus is not None})
    found = dict(zip(patterns, pool.map(lambda p: bool(store.query(f"ASK {{ {p} }}", default_graph=data)), patterns)))
    return [check for check in checks if check.focus is None or found[check.focus]]


def _unproved(rows, checks, pool) -> list:
    """The checks whose proof (graph.shacl.Proof) does not hold: one query per shape's targets."""
    from graph.shacl import proof_query

    groups = {}
    for check in checks:
        if check.proof is not None:
            groups.setdefault(check.focus, []).append(check)

    def proved(group) -> list:
        query, holds = proof_query([check.proof for check in group])
        row = {name: int(value) for name, value in next(rows(query)).items()}
        return [check for check, ok in zip(group, holds(row)) if ok]

    done = {id(check) for found in pool.map(proved, groups.values()) for check in found}
    return [check for check in checks if id(check) not in done]


def _violations(rows, check, shape: Node, shape_name: str | None, focus: set | None = None) -> list[Violation]:
    """The violations of one compiled check (graph.shacl.Check); `focus`: the nodes it was compiled for."""
    if check.per_node:  # SHACL-SPARQL: $this pre-bound to each focus node the shape targets
        import pyoxigraph as ox

        found = [{"this": node, **row} for node in sorted(_focus_nodes(rows, check.target, focus), key=str)
                 for row in rows(check.query, substitutions={ox.Variable("this"): ox.NamedNode(str(node))})]
    else:
        found = list(rows(check.query))
    if check.target is not None and found:
        targeted = _focus_nodes(rows, check.target, {row["this"] for row in found})
        found = [row for row in found if row["this"] in targeted]
    violations = []
    for row in found:
        if check.value_is_focus:
            row = {**row, "this": row["value"]}
        message = check.message or "constraint not satisfied"
        for name, value in row.items():
            message = message.replace("{?" + name + "}", str(value)).replace("{$" + name + "}", str(value))
        violations.append(Violation(focus=row["this"], shape=shape, path=check.path, message=message,
                                    value=row.get("value"), shape_name=shape_name))
    return violations


FOCUS_CHUNK = 500  # candidate nodes per lookup query


def _focus_nodes(rows, target: str, candidates: set[Node]) -> set[Node]:
    """Those of `candidates` that `target` (a pattern binding ?this) matches: a lookup per candidate.
    Blank nodes cannot be written in a query, so the target's blank nodes are read instead."""
    named = sorted((c for c in candidates if not isinstance(c, BNode)), key=str)
    found = set()
    for start in range(0, len(named), FOCUS_CHUNK):
        chunk = " ".join(c.n3() for c in named[start:start + FOCUS_CHUNK])
        found |= {row["this"] for row in rows(f"SELECT DISTINCT ?this WHERE {{ VALUES ?this {{ {chunk} }} {target} }}")}
    if len(named) < len(candidates):
        found |= {row["this"] for row in rows(f"SELECT DISTINCT ?this WHERE {{ {target} FILTER (isBlank(?this)) }}")}
    return found & candidates


def _store_evidence(rows, source, v: Violation) -> list[tuple[str, str]]:
    """Quotes behind the violation's focus node: its own statements', else those of its derivations."""
    if not isinstance(v.focus, URIRef):
        return []
    found = [(str(row.get("file", row.get("doc", "?"))), str(row["quote"]))
             for row in rows(SPARQL_PREFIXES + EVIDENCE.format(node=f"<{v.focus}>"))]
    return found or derived_evidence(source, v.focus)


def _source(store):
    from graph.explain import OxigraphSource

    return OxigraphSource(store) if store is not None else None


def derived_evidence(source, node: Node) -> list[tuple[str, str]]:
    """(document, quote) pairs behind a node that no document quotes itself (a registry entity, a node
    only inferred): those of the premises of its inferred triples, down to PREMISE_DEPTH derivations.

    The derivations are the build's compact records (sg:derivationRecord), read as /explain reads
    them: graph.explain.explain on `source` (a graph.explain.Source over the store).
    """
    from graph.explain import explain, nt

    if source is None or not isinstance(node, URIRef):
        return []
    triples = source.select(f"SELECT ?p ?o WHERE {{ GRAPH <{Graphs.INFERRED}> {{ {nt(node)} ?p ?o }} }} "
                            f"ORDER BY ?p ?o LIMIT {INFERRED_EXPLAINED}")
    found: list[tuple[str, str]] = []
    for row in triples:
        for pair in _quotes(explain(source, node, row["p"], row["o"], max_depth=PREMISE_DEPTH)):
            if pair not in found:
                found.append(pair)
    return found


def _quotes(explanation) -> list[tuple[str, str]]:
    """The (document, quote) pairs of an explanation tree: its own evidence, then its premises'."""
    found = [(e.file_name or e.document, e.quote) for e in explanation.evidence]
    for derivation in explanation.derivations:
        for premise in derivation.premises:
            found += _quotes(premise)
    return found


def _missing_hierarchy(data: Graph, ontology: Graph) -> list[tuple]:
    """The ontology's rdfs:subClassOf axioms, if some typed node lacks a superclass type (inference not run).

    After our inference every node carries its superclass types and nothing needs copying; a graph that
    was not inferred (a test fixture, a partial build) gets the axioms so that sh:class sees a leg as an
    Exchange.
    """
    axioms = [(c, RDFS.subClassOf, d) for c, d in ontology.subject_objects(RDFS.subClassOf)
              if isinstance(c, URIRef) and str(d).startswith(str(SG._NS)) and c != d]  # shapes use sg: classes only
    for sub, _, sup in axioms:
        for node in data.subjects(RDF.type, sub):
            if (node, RDF.type, sup) not in data:
                return axioms
    return []


def evidence_for(data: Graph, node: Node, prefer: Node | None = None, source=None) -> list[tuple[str, str]]:
    """(document, quote) pairs of the statements about `node`; without any, those of its derivations
    when `source` (a graph.explain.Source over the store) is given (`derived_evidence`).

    Statements whose predicate is `prefer` (the violation's path) come first.
    """
    statements = sorted(data.subjects(RDF.subject, node),
                        key=lambda st: (data.value(st, RDF.predicate) != prefer, str(st)))
    found: list[tuple[str, str]] = []
    for statement in statements:
        for evidence in data.objects(statement, SG.evidence):
            pair = _evidence_pair(data, evidence)
            if pair and pair not in found:
                found.append(pair)
    return found or derived_evidence(source, node)


def _evidence_pair(data: Graph, evidence: Node) -> tuple[str, str] | None:
    quote = data.value(evidence, SG.quote)
    if quote is None:
        return None
    document = data.value(evidence, SG.document)
    name = data.value(document, SG.fileName) if document is not None else None
    return (str(name if name is not None else document if document is not None else "?"), str(quote))


def _read_results(results: Graph, data: Graph, shapes: Graph, source) -> list[Violation]:
    violations = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        shape = results.value(result, SH.sourceShape)
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        if isinstance(path, BNode):
            path = None  # a complex path; our shapes use only predicate paths
        shape_node, shape_name = _named_shape(shapes, shape)
        violations.append(Violation(
            focus=focus, shape=shape_node, path=path, message=" ".join(messages) or "constraint not satisfied",
            value=value, shape_name=shape_name, evidence=_evidence_of(data, focus, value, path, source),
        ))
    return violations


def _evidence_of(data: Graph, focus: Node, value: Node | None, path: Node | None,
                 source) -> list[tuple[str, str]]:
    found = evidence_for(data, focus, prefer=path, source=source)
    if isinstance(value, URIRef) and value != focus:  # e.g. the whole exchange's claim in LegCountsShape
        found += [pair for pair in evidence_for(data, value, source=source) if pair not in found]
    return found


def _named_shape(shapes: Graph, shape: Node) -> tuple[Node, str | None]:
    """A blank-node property shape is reported as its named parent shape plus its path."""
    name = shapes.value(shape, SH.name)
    if isinstance(shape, BNode):
        parent = shapes.value(None, SH.property, shape)
        path = shapes.value(shape, SH.path)
        if isinstance(parent, URIRef):
            parent_name = shapes.value(parent, SH.name)
            local = str(path).rpartition("#")[2] if path is not None else "property"
            return parent, f"{parent_name or ''} ({local})".strip()
    return shape, str(name) if name is not None else None


def _unsupported_asserted(asserted: Graph, data: Graph, shapes: Graph, source) -> list[Violation]:
    """Asserted triples without an rdf:Statement carrying sg:evidence in `data`."""
    subjects, predicates, objects = {}, {}, {}
    for index, prop in ((subjects, RDF.subject), (predicates, RDF.predicate), (objects, RDF.object)):
        for statement, node in data.subject_objects(prop):
            index[statement] = node
    supported = {
        (subjects.get(st), predicates.get(st), objects.get(st))
        for st in set(data.subjects(SG.evidence, None))
        if st in subjects and st in predicates and st in objects
    }
    message = str(shapes.value(ASSERTED_EVIDENCE_SHAPE, SH.message) or "asserted triple without evidence")
    name = shapes.value(ASSERTED_EVIDENCE_SHAPE, SH.name)
    return [
        Violation(focus=s, shape=ASSERTED_EVIDENCE_SHAPE, path=p, value=o, message=message,
                  shape_name=str(name) if name is not None else None, evidence=evidence_for(data, s, prefer=p, source=source))
        for s, p, o in asserted
        if (s, p, o) not in supported
    ]


def _union(data: Graph) -> Graph:
    """pyshacl validates each named graph of a dataset on its own; we want their union."""
    if isinstance(data, (Dataset, ConjunctiveGraph)):
        union = Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            union.add((s, p, o))
        return union
    return data


def _namespaces() -> NamespaceManager:
    manager = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, iri in PREFIXES.items():
        manager.bind(prefix, iri)
    manager.bind("sgsh", str(SGSH))
    return manager


def _short(node: Node, names: NamespaceManager) -> str:
    if isinstance(node, URIRef):
        try:
            return names.normalizeUri(node)
        except Exception:  # not expressible as a prefixed name
            return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3(names)
    return str(node)

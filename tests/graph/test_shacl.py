"""The shapes compiled to SPARQL find exactly what pySHACL (the oracle) finds, on planted errors."""

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from graph.build import SourcePaths, build_store, read_turtle, store_graph
from graph.inference import run_inference
from graph.rules import load_rules
from graph.shacl import Unsupported, compile_shapes
from graph.validation import DATA_GRAPHS, validate, validate_store
from vocab import TURTLE_PREFIXES, Graphs

PATHS = SourcePaths()
# Each line breaks one or more shapes; none of it has evidence, which the asserted-fact check reports.
PLANTED = """
release:empty a sg:Release .
release:wrong a sg:Release ; sg:releasedPerson state:US ; sg:releasingState state:US ; sg:receivingState state:US ;
    sg:inExchange exchange:2022-12-griner-bout , exchange:2022-04-reed-yaroshenko .
exchange:undated a sg:Exchange ; sg:date "soon" .
exchange:leg-a a sg:ExchangeLeg ; sg:partOf exchange:undated ; sg:startDate "2020"^^xsd:gYear .
claim:negative a sg:CountClaim ; sg:count -3 ; sg:side state:US , state:RU .
claim:whole a sg:CountClaim ; sg:aboutExchange exchange:undated ; sg:side state:US ; sg:count 5 .
claim:part a sg:CountClaim ; sg:aboutExchange exchange:leg-a ; sg:side state:US ; sg:count 9 .
claim:zeroth a sg:OrdinalClaim ; sg:ordinal 0 ; sg:aboutExchange exchange:undated .
role:nobody a sg:Mediator .
claim:whole sg:categorisedDifferently exchange:undated ; sg:countedGroup state:US .
exchange:undated sg:status sg:maybe .
claim:negative sg:approximate "yes" .
"""
PLANTED_PROVENANCE = f"""
<https://w3id.org/swapgraph/id/evidence/bad> a sg:Evidence ; sg:quote "" ; sg:startOffset 10 ; sg:endOffset 5 .
<https://w3id.org/swapgraph/id/statement/bare> a rdf:Statement ; rdf:subject release:empty ; rdf:predicate rdf:type .
<https://w3id.org/swapgraph/id/statement/literal> a rdf:Statement ; rdf:subject release:empty ; rdf:predicate "type" ;
    rdf:object sg:Release .
<https://w3id.org/swapgraph/id/statement/badrecord> sg:derivationRecord "no-such-rule st:1" , "prp-symp 000000000000000000b4" .
"""


def load(store: ox.Store, turtle: str, graph) -> None:
    data = Graph().parse(data=TURTLE_PREFIXES + turtle, format="turtle").serialize(format="nt", encoding="utf-8")
    store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph)))


@pytest.fixture(scope="module")
def planted():
    import graph.validation

    store = ox.Store()
    original = graph.validation.validate
    graph.validation.validate = lambda *a, **k: graph.validation.ValidationReport(True, [])
    try:
        build_store(store, PATHS)  # the real corpus, inferred, with its validation left out here
    finally:
        graph.validation.validate = original
    load(store, PLANTED, Graphs.ASSERTED)
    load(store, PLANTED_PROVENANCE, Graphs.PROVENANCE)
    run_inference(store, load_rules(PATHS.rules))  # as a build validates: after inference
    return store


def keys(report) -> set:
    return {(str(v.shape), str(v.focus), str(v.path), str(v.value)) for v in report.violations}


def test_compiled_shapes_find_what_pyshacl_finds(planted):
    shapes = read_turtle(PATHS.shapes)
    asserted = Graph()
    for quad in planted.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.ASSERTED))):
        asserted.add(tuple(store_graph.__globals__["to_rdflib"](t) for t in (quad.subject, quad.predicate, quad.object)))
    oracle = validate(store_graph(planted, DATA_GRAPHS), ontology=read_turtle(PATHS.ontology), asserted=asserted,
                      shapes=shapes)
    compiled = validate_store(planted, shapes)
    assert keys(compiled) == keys(oracle)
    shapes_hit = {v.shape for v in compiled.violations}
    assert len(shapes_hit) >= 15  # the planted errors reach most shapes: the comparison is not vacuous


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
NOT_PARAMETERS = {*TARGETS, SH.path, SH.message, SH.name, SH.property, SH.deactivated, SH.severity,
                  SH.qualifiedValueShape, SH.qualifiedValueShapesDisjoint}


def constraint_components(shapes: Graph) -> set:
    """The constraint components of the targeted shapes' constraints, as SHACL names them in results."""
    found = set()
    for shape in {s for target in TARGETS for s in shapes.subjects(target)}:
        for parameter in set(shapes.predicates(shape)) - NOT_PARAMETERS:
            if str(parameter).startswith(str(SH)):
                name = str(parameter).removeprefix(str(SH))
                found.add(SH.SPARQLConstraintComponent if parameter == SH.sparql
                          else SH[name[0].upper() + name[1:] + "ConstraintComponent"])
    return found


def test_the_planted_errors_reach_every_constraint_kind_the_shapes_use(planted):
    shapes = read_turtle(PATHS.shapes)
    _, results, _ = pyshacl.validate(store_graph(planted, DATA_GRAPHS), shacl_graph=shapes, inference="none",
                                     advanced=True)
    used = constraint_components(shapes)
    assert len(used) >= 10
    assert used - set(results.objects(None, SH.sourceConstraintComponent)) == set()


def test_compiled_shapes_conform_on_the_corpus():
    store = ox.Store()
    build_store(store, PATHS)  # validates with the compiled shapes
    assert validate_store(store, read_turtle(PATHS.shapes)).conforms


def test_violations_carry_the_quotes_of_their_focus(planted):
    report = validate_store(planted, read_turtle(PATHS.shapes))
    wrong = [v for v in report.violations if str(v.focus).endswith("2022-12-griner-bout")]
    assert all(v.evidence for v in wrong)


def test_an_unsupported_constraint_is_refused():
    shapes = Graph().parse(data=TURTLE_PREFIXES + """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass sg:Release ; sh:closed true .""", format="turtle")
    with pytest.raises(Unsupported):
        compile_shapes(shapes)



def test_a_pattern_takes_the_flags_of_its_own_shape():
    shapes = Graph().parse(data=TURTLE_PREFIXES + """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:a> a sh:PropertyShape ; sh:targetClass sg:Release ; sh:path rdfs:label ; sh:pattern "^x" ; sh:flags "i" .
        <urn:b> a sh:PropertyShape ; sh:targetClass sg:Release ; sh:path rdfs:comment ; sh:pattern "^y" .""",
                             format="turtle")
    queries = {str(check.shape): check.query for check in compile_shapes(shapes)}
    assert '"^x", "i")' in queries["urn:a"] and '"^y"))' in queries["urn:b"]


def _store(turtle: str) -> ox.Store:
    store = ox.Store()
    load(store, turtle, Graphs.ASSERTED)
    return store


def _proofs_hold(store: ox.Store, proofs) -> list[bool]:
    from graph.shacl import proof_query

    query, holds = proof_query(proofs)
    solutions = store.query(query, default_graph=[ox.NamedNode(str(g)) for g in DATA_GRAPHS])
    names = [variable.value for variable in solutions.variables]
    solution = next(iter(solutions))
    return holds({name: int(solution[name].value) for name in names})


def test_the_proofs_of_one_query_hold_only_when_their_check_finds_nothing():
    from graph.shacl import Proof

    targets = "{ ?this a sg:Release }"
    states = "{ SELECT ?this ?value WHERE { ?this sg:releasingState ?value } }"
    people = "{ SELECT ?this ?value WHERE { ?this sg:releasedPerson ?value } }"
    literal = f"{{ {people} FILTER (isLiteral(?value)) }}"
    proofs = [Proof("covered", states, targets), Proof("single", states), Proof("covered", people, targets),
              Proof("single", people), Proof("empty", literal)]
    good = "release:a a sg:Release ; sg:releasingState state:US ; sg:releasedPerson person:a ."
    assert _proofs_hold(_store(good), proofs) == [True] * 5
    found = _proofs_hold(_store(good + ' release:b a sg:Release ; sg:releasedPerson person:b , "Bob" .'), proofs)
    assert found == [False, True, True, False, False]


def test_shapes_that_target_nothing_are_not_checked():
    from concurrent.futures import ThreadPoolExecutor

    from graph.validation import _with_focus_nodes

    store = _store("release:a a sg:Release ; sg:releasingState state:US .")
    checks = compile_shapes(read_turtle(PATHS.shapes))
    with ThreadPoolExecutor(1) as pool:
        kept = _with_focus_nodes(store, [ox.NamedNode(str(g)) for g in DATA_GRAPHS], checks, pool)
    shapes = {str(check.shape).rpartition("#")[2] for check in kept}
    assert "ReleaseReleasingStateShape" in shapes and "RankingEventShape" not in shapes
    assert "RankingEventShape" in {str(check.shape).rpartition("#")[2] for check in checks}


# Planted nodes with errors inside the focus; release:empty, claim:part, claim:whole and the two planted
# statements stay outside, with errors of their own, as do all the corpus's nodes but one exchange.
INSIDE = ["release/wrong", "claim/negative", "exchange/undated", "exchange/leg-a", "role/nobody", "evidence/bad",
          "exchange/2022-12-griner-bout"]


def test_focus_nodes_get_exactly_the_full_runs_violations_on_them(planted):
    from vocab import PREFIXES

    shapes = read_turtle(PATHS.shapes)
    report = validate_store(planted, shapes)
    full = {(*key, v.message) for key, v in zip(keys_of(report), report.violations)}
    focus = {URIRef(PREFIXES["id"] + node) for node in INSIDE}
    part = validate_store(planted, shapes, focus=focus)
    found = {(*key, v.message) for key, v in zip(keys_of(part), part.violations)}
    assert found == {key for key in full if URIRef(key[1]) in focus}
    assert {URIRef(key[1]) for key in found} == focus - {URIRef(PREFIXES["id"] + "exchange/2022-12-griner-bout")}
    shapes_hit = {key[0].rpartition("#")[2] for key in found}
    assert {"LegCountsShape", "AssertedFactEvidenceShape", "NotReleasedToReleaserShape", "EvidenceQuoteShape",
            "MediatorAgentShape", "CountValueShape"} <= shapes_hit
    assert {URIRef(key[1]) for key in full} - focus  # errors outside the focus were there to be left out
    assert validate_store(planted, shapes, focus=set()).conforms
    as_terms = validate_store(planted, shapes, focus={ox.NamedNode(str(node)) for node in focus})
    assert keys_of(as_terms) == keys_of(part)


def keys_of(report) -> list:
    return [(str(v.shape), str(v.focus), str(v.path), str(v.value)) for v in report.violations]

"""One test per inference rule, named after it: a few lines of Turtle in, an ASK on the inferred graph."""

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from graph.build import load_graph
from graph.inference import run_inference
from graph.rules import RuleError, load_rules, parse_rule
from vocab import SG, SPARQL_PREFIXES, TURTLE_PREFIXES, Graphs, expand_iri
from vocab.terms import statement_iri

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "ontology/rules")
SOURCES = [ox.NamedNode(str(g)) for g in (Graphs.ONTOLOGY, Graphs.ASSERTED, Graphs.INFERRED)]
ONTOLOGY = Graph().parse(ROOT / "ontology/swapgraph.ttl")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def infer(turtle: str) -> ox.Store:
    store = ox.Store()
    load_graph(store, ONTOLOGY, Graphs.ONTOLOGY)
    load_graph(store, Graph().parse(data=TURTLE_PREFIXES + turtle, format="turtle"), Graphs.ASSERTED)
    run_inference(store, RULES)
    return store


def inferred(store: ox.Store, pattern: str) -> bool:
    return bool(store.query(SPARQL_PREFIXES + f"ASK {{ GRAPH <{Graphs.INFERRED}> {{ {pattern} }} }}"))


def derivation_record(store: ox.Store, pattern: str) -> list[str]:
    """The rule id and premise statement ids recorded for the inferred triple `s p o` (CURIEs or literals)."""
    triple = [ox.NamedNode(expand_iri(t)) if expand_iri(t) else ox.Literal(t, datatype=XSD_INTEGER)
              for t in pattern.rstrip(" .").split()]
    records = [q.object.value for q in store.quads_for_pattern(
        statement_iri(*triple), ox.NamedNode(str(SG.derivationRecord)), None, ox.NamedNode(str(Graphs.PROVENANCE)))]
    assert len(records) <= 1, records  # one derivation per inferred triple
    return records[0].split() if records else []


def derived_by(store: ox.Store, pattern: str, rule: str) -> bool:
    """The fact is inferred and its derivation names the rule and at least one premise."""
    record = derivation_record(store, pattern)
    return inferred(store, pattern) and record[:1] == [rule] and len(record) > 1


def test_cax_sco():
    store = infer("person:x a sg:Detainee .")
    assert inferred(store, "person:x a sg:Person")
    assert inferred(store, "person:x a sg:Agent")
    assert derived_by(store, "person:x rdf:type sg:Person", "cax-sco")


def test_prp_dom():
    store = infer("release:r sg:releasedPerson person:x .")
    assert derived_by(store, "release:r rdf:type sg:Release", "prp-dom")


def test_prp_rng():
    store = infer("release:r sg:releasedPerson person:x .")
    assert derived_by(store, "person:x rdf:type sg:Detainee", "prp-rng")
    assert not inferred(store, "person:x a sg:DetaineeGroup")


def test_prp_symp():
    store = infer("person:a sg:exchangedFor person:b .")
    assert derived_by(store, "person:b sg:exchangedFor person:a", "prp-symp")


def test_prp_trp():
    store = infer("place:a sg:locatedIn place:b . place:b sg:locatedIn state:TR .")
    assert derived_by(store, "place:a sg:locatedIn state:TR", "prp-trp")


def test_prp_spo1():
    store = infer("release:r sg:releasedGroup group:g .")
    assert derived_by(store, "release:r sg:released group:g", "prp-spo1")


def test_prp_spo2():
    store = infer("""release:r sg:releasedPerson person:x ; sg:releasingState state:RU ;
                     sg:receivingState state:US ; sg:inExchange exchange:e .""")
    assert derived_by(store, "person:x sg:releasedBy state:RU", "prp-spo2")
    assert derived_by(store, "person:x sg:releasedTo state:US", "prp-spo2")
    assert derived_by(store, "person:x sg:releasedIn exchange:e", "prp-spo2")
    assert not inferred(store, "person:x sg:releasedTo state:RU")


def test_prp_inv1():
    store = infer("state:TR sg:actsAsMediator role:m .")
    assert derived_by(store, "role:m sg:mediatorAgent state:TR", "prp-inv1")


def test_prp_inv2():
    store = infer("exchange:leg sg:partOf exchange:whole .")
    assert derived_by(store, "exchange:whole sg:hasPart exchange:leg", "prp-inv2")


def test_mediation_is_per_exchange():
    store = infer("""role:m a sg:Mediator ; sg:mediatorAgent state:TR ; sg:mediatedExchange exchange:a .
                     exchange:b a sg:Exchange .""")
    assert inferred(store, "state:TR sg:mediated exchange:a")
    assert inferred(store, "exchange:a sg:mediatedBy state:TR")
    assert not inferred(store, "state:TR sg:mediated exchange:b")


def test_leg_facts_roll_up_to_the_whole_exchange():
    store = infer("""exchange:leg sg:partOf exchange:whole .
        release:r sg:releasedGroup group:g ; sg:releasingState state:RU ; sg:receivingState state:UA ;
            sg:inExchange exchange:leg .""")
    assert inferred(store, "release:r sg:inExchange exchange:whole")
    assert inferred(store, "group:g sg:releasedIn exchange:whole")
    assert inferred(store, "exchange:whole sg:party state:UA")
    assert inferred(store, "exchange:leg sg:releasingParty state:RU")


def test_sg_exchanged_for_sole_pair():
    store = infer("""
        release:a sg:releasedPerson person:a ; sg:releasingState state:RU ; sg:inExchange exchange:e .
        release:b sg:releasedPerson person:b ; sg:releasingState state:US ; sg:inExchange exchange:e .""")
    assert derived_by(store, "person:a sg:exchangedFor person:b", "sg-exchanged-for-sole-pair")
    assert inferred(store, "person:b sg:exchangedFor person:a")


def test_sg_exchanged_for_sole_pair_needs_one_person_per_side():
    store = infer("""
        release:a sg:releasedPerson person:a ; sg:releasingState state:RU ; sg:inExchange exchange:e .
        release:c sg:releasedPerson person:c ; sg:releasingState state:RU ; sg:inExchange exchange:e .
        release:b sg:releasedPerson person:b ; sg:releasingState state:US ; sg:inExchange exchange:e .""")
    assert not inferred(store, "person:a sg:exchangedFor ?anyone")


# The rule's earlier form, with negation as failure: the reference its GROUP BY form must agree with.
SOLE_PAIR_BY_NEGATION = SPARQL_PREFIXES + """SELECT ?a ?b WHERE {
  ?r1 sg:releasedPerson ?a ; sg:releasingState ?s1 ; sg:inExchange ?ex .
  ?r2 sg:releasedPerson ?b ; sg:releasingState ?s2 ; sg:inExchange ?ex .
  FILTER (?s1 != ?s2 && ?a != ?b)
  FILTER NOT EXISTS { ?other1 sg:released ?x1 ; sg:releasingState ?s1 ; sg:inExchange ?ex . FILTER (?other1 != ?r1) }
  FILTER NOT EXISTS { ?other2 sg:released ?x2 ; sg:releasingState ?s2 ; sg:inExchange ?ex . FILTER (?other2 != ?r2) }
}"""


def test_sg_exchanged_for_sole_pair_same_facts_as_negation():
    store = infer("""
        release:a sg:releasedPerson person:a ; sg:releasingState state:RU ; sg:inExchange exchange:e .
        release:b sg:releasedPerson person:b ; sg:releasingState state:US ; sg:inExchange exchange:e .
        release:c sg:releasedPerson person:c ; sg:releasingState state:RU ; sg:inExchange exchange:f .
        release:g sg:releasedGroup group:g ; sg:releasingState state:RU ; sg:inExchange exchange:f .
        release:d sg:releasedPerson person:d ; sg:releasingState state:US ; sg:inExchange exchange:f .
        release:h sg:releasedPerson person:h ; sg:releasingState state:UA ; sg:inExchange exchange:k .
        release:i sg:releasedPerson person:i , person:j ; sg:releasingState state:RU ; sg:inExchange exchange:k .""")
    expected = {(row["a"], row["b"]) for row in store.query(SOLE_PAIR_BY_NEGATION, default_graph=SOURCES)}
    rule = next(r for r in RULES if r.id == "sg-exchanged-for-sole-pair")
    found = {(row["a"], row["b"]) for row in store.query(rule.query, default_graph=SOURCES)}
    assert found == expected
    assert len(expected) == 6  # a-b both ways, and h with each of i and j both ways; nothing from f


def test_sg_conflicting_count_claims():
    store = infer("""
        claim:1 a sg:CountClaim ; sg:aboutExchange exchange:e ; sg:side state:UA ; sg:category "men" ; sg:count 387 .
        claim:2 a sg:CountClaim ; sg:aboutExchange exchange:e ; sg:side state:UA ; sg:category "men" ; sg:count 390 .
        claim:3 a sg:CountClaim ; sg:aboutExchange exchange:e ; sg:side state:UA ; sg:category "women" ; sg:count 3 .""")
    assert derived_by(store, "claim:1 sg:conflictsWith claim:2", "sg-conflicting-count-claims")
    assert not inferred(store, "claim:1 sg:conflictsWith claim:3")


def test_sg_conflicting_ordinal_claims():
    store = infer("""
        claim:a a sg:OrdinalClaim ; sg:aboutExchange exchange:may23 ; sg:ordinal 64 .
        claim:b a sg:OrdinalClaim ; sg:aboutExchange exchange:may7 ; sg:ordinal 64 .
        claim:c a sg:OrdinalClaim ; sg:aboutExchange exchange:may7 ; sg:ordinal 5 ; sg:inYear "2025"^^xsd:gYear .
        claim:d a sg:OrdinalClaim ; sg:aboutExchange exchange:may7 ; sg:ordinal 5 ; sg:inYear "2024"^^xsd:gYear .""")
    assert derived_by(store, "claim:a sg:conflictsWith claim:b", "sg-conflicting-ordinal-claims")
    assert derived_by(store, "claim:c sg:conflictsWith claim:d", "sg-conflicting-ordinal-claims")
    assert not inferred(store, "claim:a sg:conflictsWith claim:c")


def test_sg_conflicting_ordinal_claims_compares_the_same_scope_only():
    store = infer("""
        claim:first23 a sg:OrdinalClaim ; sg:aboutExchange exchange:jan23 ; sg:ordinal 1 ; sg:scope "of 2023" .
        claim:first24 a sg:OrdinalClaim ; sg:aboutExchange exchange:feb24 ; sg:ordinal 1 ; sg:scope "of 2024" .
        claim:y23 a sg:OrdinalClaim ; sg:aboutExchange exchange:mar23 ; sg:ordinal 2 ; sg:inYear "2023"^^xsd:gYear .
        claim:y24 a sg:OrdinalClaim ; sg:aboutExchange exchange:apr24 ; sg:ordinal 2 ; sg:inYear "2024"^^xsd:gYear .
        claim:also23 a sg:OrdinalClaim ; sg:aboutExchange exchange:may23 ; sg:ordinal 1 ; sg:scope "of 2023" .
        claim:words a sg:OrdinalClaim ; sg:aboutExchange exchange:may23 ; sg:ordinal 64 ; sg:scope "since the invasion" .
        claim:since a sg:OrdinalClaim ; sg:aboutExchange exchange:may7 ; sg:ordinal 64 ;
            sg:scope "since March 2022" ; sg:since "2022-03"^^xsd:gYearMonth .""")
    assert not inferred(store, "claim:first23 sg:conflictsWith claim:first24")
    assert not inferred(store, "claim:y23 sg:conflictsWith claim:y24")
    assert derived_by(store, "claim:first23 sg:conflictsWith claim:also23", "sg-conflicting-ordinal-claims")
    # Scope in words against a start date: the same period may be meant, so the claims are compared.
    assert derived_by(store, "claim:words sg:conflictsWith claim:since", "sg-conflicting-ordinal-claims")


def test_sg_conflicting_ordinal_claims_a_year_is_compared_with_the_same_year_only():
    store = infer("""
        claim:y19 a sg:OrdinalClaim ; sg:aboutExchange exchange:jun19 ; sg:ordinal 1 ;
            sg:scope "of the year 2019" ; sg:inYear "2019"^^xsd:gYear .
        claim:w20 a sg:OrdinalClaim ; sg:aboutExchange exchange:jun20 ; sg:ordinal 1 ; sg:scope "of the year 2020" .
        claim:none a sg:OrdinalClaim ; sg:aboutExchange exchange:jul20 ; sg:ordinal 1 .
        claim:also19 a sg:OrdinalClaim ; sg:aboutExchange exchange:aug19 ; sg:ordinal 1 ; sg:inYear "2019"^^xsd:gYear .""")
    assert not inferred(store, "claim:y19 sg:conflictsWith claim:w20")
    assert not inferred(store, "claim:w20 sg:conflictsWith claim:y19")
    assert not inferred(store, "claim:y19 sg:conflictsWith claim:none")
    assert derived_by(store, "claim:y19 sg:conflictsWith claim:also19", "sg-conflicting-ordinal-claims")
    assert derived_by(store, "claim:w20 sg:conflictsWith claim:none", "sg-conflicting-ordinal-claims")


def test_sg_sum_of_legs():
    store = infer("""
        exchange:d1 a sg:ExchangeLeg ; sg:partOf exchange:w .
        exchange:d2 a sg:ExchangeLeg ; sg:partOf exchange:w .
        claim:w a sg:CountClaim ; sg:aboutExchange exchange:w ; sg:side state:UA ; sg:count 697 .
        claim:d1 a sg:CountClaim ; sg:aboutExchange exchange:d1 ; sg:side state:UA ; sg:count 390 .
        claim:d2 a sg:CountClaim ; sg:aboutExchange exchange:d2 ; sg:side state:UA ; sg:count 307 .""")
    assert derived_by(store, "claim:w sg:sumOfLegs 697", "sg-sum-of-legs")
    premises = derivation_record(store, "claim:w sg:sumOfLegs 697")[1:]
    for leg_claim, count in (("claim:d1", 390), ("claim:d2", 307)):  # both legs' counts are premises
        leg = statement_iri(ox.NamedNode(expand_iri(leg_claim)), ox.NamedNode(str(SG.count)),
                            ox.Literal(str(count), datatype=XSD_INTEGER))
        assert leg.value.rsplit("/", 1)[1] in premises


def test_sg_member_release():
    store = infer("""
        person:a sg:memberOf group:small .
        person:b sg:memberOf group:shared .
        group:small sg:subgroupOf group:big .
        release:small a sg:Release ; sg:status sg:done ; sg:releasedGroup group:small ;
            sg:releasingState state:RU ; sg:receivingState state:US ; sg:inExchange exchange:e .
        release:shared a sg:Release ; sg:status sg:done ; sg:releasedGroup group:shared ;
            sg:releasingState state:US , state:DE ; sg:receivingState state:RU ; sg:inExchange exchange:e .
        release:planned a sg:Release ; sg:status sg:agreed ; sg:releasedGroup group:small ;
            sg:releasingState state:BY ; sg:receivingState state:DE ; sg:inExchange exchange:later .""")
    assert derived_by(store, "person:a sg:releasedTo state:US", "sg-member-release")
    assert derived_by(store, "person:a sg:releasedBy state:RU", "sg-member-release")
    assert derived_by(store, "person:a sg:releasedIn exchange:e", "sg-member-release")
    assert inferred(store, "person:a sg:memberOf group:big")  # a member of a subgroup is a member of the group
    assert derived_by(store, "person:b sg:releasedTo state:RU", "sg-member-release")
    # released collectively by two states: the text does not say which let this member go
    assert not inferred(store, "person:b sg:releasedBy ?state")
    # an agreed release is not a release
    assert not inferred(store, "person:a sg:releasedIn exchange:later")
    assert not inferred(store, "person:a sg:releasedTo state:DE")


def test_sg_categorised_differently():
    store = infer("""
        group:part sg:subgroupOf group:all .
        claim:all a sg:CountClaim ; sg:countedGroup group:all ; sg:category "prisoners of war" ;
            sg:aboutExchange exchange:e ; sg:side state:RU ; sg:count 390 .
        claim:civilians a sg:CountClaim ; sg:countedGroup group:part ; sg:category "civilians" ;
            sg:aboutExchange exchange:e ; sg:side state:RU ; sg:count 120 .
        claim:same-words a sg:CountClaim ; sg:countedGroup group:part ; sg:category "Prisoners of war" ;
            sg:aboutExchange exchange:e ; sg:side state:RU ; sg:count 120 .
        claim:other-side a sg:CountClaim ; sg:countedGroup group:part ; sg:category "civilians" ;
            sg:aboutExchange exchange:e ; sg:side state:UA ; sg:count 120 .""")
    assert derived_by(store, "claim:all sg:categorisedDifferently claim:civilians", "sg-categorised-differently")
    assert inferred(store, "claim:civilians sg:categorisedDifferently claim:all")
    assert not inferred(store, "claim:all sg:categorisedDifferently claim:same-words")
    assert not inferred(store, "claim:all sg:categorisedDifferently claim:other-side")


def test_every_rule_file_has_a_test_named_after_it():
    names = {name for name in globals() if name.startswith("test_")}
    missing = [r.id for r in RULES if "test_" + r.id.replace("-", "_") not in names]
    assert not missing


def test_a_rule_file_without_premises_is_refused(tmp_path):
    bad = tmp_path / "broken.rq"
    bad.write_text("# id: broken\n# conclusion: ?x a sg:Thing\n")
    with pytest.raises(RuleError, match="broken.rq:1"):
        parse_rule(bad)


def test_a_rule_set_without_fixpoint_is_an_error(tmp_path):
    from graph.inference import InferenceError

    counting = tmp_path / "sg-count-up.rq"
    counting.write_text("# id: sg-count-up\n# premise: ?x sg:count ?n\n# conclusion: ?x sg:count ?next\n"
                        "SELECT ?x ?n ?next WHERE { ?x sg:count ?n BIND(?n + 1 AS ?next) }\n")
    store = ox.Store()
    load_graph(store, Graph().parse(data=TURTLE_PREFIXES + "group:g sg:count 1 .", format="turtle"), Graphs.ASSERTED)
    with pytest.raises(InferenceError, match="no fixpoint"):
        run_inference(store, load_rules(tmp_path), max_rounds=5)


PROVENANCE_DIGEST = """
import hashlib, sys, tempfile
import pyoxigraph as ox
from graph.build import build_store
from vocab import Graphs
store = ox.Store(tempfile.mkdtemp())  # on disk, as a build is: its iteration order is its index order
build_store(store)
lines = sorted(str(q) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.PROVENANCE))))
print(len(lines), hashlib.sha256("\\n".join(lines).encode()).hexdigest())
"""


def test_derivations_are_the_same_on_every_run():
    """Two builds of the same corpus, in processes with different string hashing, record the same provenance."""
    import os
    import subprocess
    import sys

    runs = {subprocess.run([sys.executable, "-c", PROVENANCE_DIGEST], capture_output=True, text=True, check=True,
                           env=os.environ | {"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1, runs
    assert int(next(iter(runs)).split()[0]) > 0


def test_store_writer_loads_in_order_and_raises_a_load_error_in_the_engine_thread():
    """The engine's store loads run on a thread of their own; what they write is there after wait(),
    and a load that fails raises there, not silently on the writer thread."""
    from graph.inference import StoreWriter

    store, steps = ox.Store(), {}
    writer = StoreWriter(steps)

    def load(text: str):
        store.load(text.encode(), format=ox.RdfFormat.N_QUADS)

    writer.submit("store writes", load, "<urn:x:a> <urn:x:p> <urn:x:b> <urn:x:g> .\n")
    writer.submit("store writes", store.remove, ox.Quad(ox.NamedNode("urn:x:a"), ox.NamedNode("urn:x:p"),
                                                        ox.NamedNode("urn:x:b"), ox.NamedNode("urn:x:g")))
    writer.submit("store writes", load, "<urn:x:c> <urn:x:p> <urn:x:d> <urn:x:g> .\n")
    writer.wait()
    assert [str(q.subject) for q in store] == ["<urn:x:c>"]  # in the order submitted: the remove after the first load
    writer.submit("record writes", load, "<urn:x:e> <urn:x:p> not a term .\n")
    with pytest.raises(SyntaxError):
        writer.close()
    assert steps["store writes"] > 0  # the writer's CPU seconds, added to the engine's steps


def test_every_inferred_triple_has_one_derivation_record_after_the_writer_is_done():
    """Records are written round by round on the writer thread: when run_inference returns, every
    inferred triple of every round has its record in the store."""
    from graph.build import build_store

    store = ox.Store()
    report = build_store(store)
    inferred = [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.INFERRED)))]
    records = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(str(SG.derivationRecord)), None,
                                                            ox.NamedNode(str(Graphs.PROVENANCE)))}
    assert len(inferred) == report.inference.inferred > 0
    assert {statement_iri(*t) for t in inferred} == records


def _corpus_by_document():
    """The real corpus, its ontology and, per document, the asserted triples only it states."""
    from graph.build import SourcePaths, canonical, read_turtle
    from loaders.corpus import load_corpus

    paths = SourcePaths()
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    stated_by = {triple: {span.value.rsplit("/", 2)[1] for span in spans} for triple, spans in corpus.evidence.items()}
    own: dict[str, list] = {}
    for triple, documents in stated_by.items():
        if len(documents) == 1:
            own.setdefault(next(iter(documents)), []).append(triple)
    return corpus, canonical(read_turtle(paths.ontology)), own


def _filled(path: Path, corpus, ontology, without: list) -> ox.Store:
    from graph.build import load_table

    store = ox.Store(str(path))  # on disk, as a build is: its order depends on its content only
    load_graph(store, ontology, Graphs.ONTOLOGY, keep_blank_nodes=True)
    load_table(store, (t for t in corpus.entity_table if t not in corpus.asserted_table), Graphs.ENTITIES)
    left_out = set(without)
    load_table(store, (t for t in corpus.asserted_table if t not in left_out), Graphs.ASSERTED)
    return store


def _inferences(store: ox.Store) -> tuple[set, set]:
    inferred = {str(q) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.INFERRED)))}
    records = {str(q) for q in store.quads_for_pattern(None, ox.NamedNode(str(SG.derivationRecord)), None,
                                                         ox.NamedNode(str(Graphs.PROVENANCE)))}
    return inferred, records


def test_update_inference_equals_a_full_run_after_one_document_is_replaced_by_another(tmp_path):
    """One document's own triples removed, another's added: the inferred graph and the derivation
    records are those of a full run on the final asserted data, and only the difference was written."""
    from graph.inference import update_inference

    corpus, ontology, own = _corpus_by_document()
    removed_document, added_document = sorted(own, key=lambda d: (-len(own[d]), d))[:2]
    updated = _filled(tmp_path / "updated", corpus, ontology, own[added_document])
    run_inference(updated, RULES)
    before = _inferences(updated)
    report = update_inference(updated, RULES, added=own[added_document], removed=own[removed_document])

    fresh = _filled(tmp_path / "fresh", corpus, ontology, own[removed_document])
    full = run_inference(fresh, RULES)
    after = _inferences(updated)
    assert after == _inferences(fresh)
    assert after != before  # the change reached the inferences: the comparison is not vacuous
    assert report.inferred == full.inferred and report.per_rule == full.per_rule
    changed = sum(len(a ^ b) for a, b in zip(before, after))
    assert report.store_changes == changed < sum(len(a) for a in after)


def test_update_inference_without_a_change_writes_nothing():
    from graph.inference import update_inference

    store = infer("""release:r sg:releasedPerson person:x ; sg:releasingState state:RU ; sg:inExchange exchange:e .""")
    before = _inferences(store)
    assert update_inference(store, RULES).store_changes == 0
    assert _inferences(store) == before


def test_update_inference_with_a_rule_only_sparql_evaluates_equals_a_full_run(tmp_path):
    """A rule without an in-memory form would query the store, which holds the earlier inferences:
    the update then starts from an empty inferred graph, with the same result as a full run."""
    from graph.inference import update_inference

    rule = tmp_path / "sg-counted.rq"
    rule.write_text("# id: sg-counted\n# premise: ?x sg:count ?n\n# conclusion: ?x sg:side state:UA\n"
                    "SELECT ?x ?n WHERE { ?x sg:count ?n FILTER(?n > 2) }\n")
    rules = load_rules(tmp_path)
    claim = lambda name, n: (ox.NamedNode(expand_iri(f"claim:{name}")), ox.NamedNode(str(SG.count)),
                             ox.Literal(str(n), datatype=XSD_INTEGER))
    updated, fresh = ox.Store(), ox.Store()
    updated.add(ox.Quad(*claim("a", 3), ox.NamedNode(str(Graphs.ASSERTED))))
    run_inference(updated, rules)
    update_inference(updated, rules, added=[claim("b", 5)], removed=[claim("a", 3)])
    fresh.add(ox.Quad(*claim("b", 5), ox.NamedNode(str(Graphs.ASSERTED))))
    run_inference(fresh, rules)
    assert _inferences(updated) == _inferences(fresh)
    assert inferred(updated, "claim:b sg:side state:UA") and not inferred(updated, "claim:a sg:side state:UA")

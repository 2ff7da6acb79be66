"""SHACL validation: the synthetic valid fixture conforms; one planted error per shape, named after the shape.

Fixture: tests/fixtures/validation/valid.trig (synthetic, hand-written; see its header). Each test plants
one error with a few lines of inline Turtle (added to, or removed from, the union data graph) and checks
that the report names the shape, the focus node and, where the node has one, its quote.
"""

from functools import lru_cache
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef

from graph.validation import SGSH, ValidationReport, Violation, evidence_for, validate
from vocab import GRAPH, PREFIXES, Graphs

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/validation/valid.trig"
EXTRA_PREFIXES = {
    "ev": PREFIXES["id"] + "evidence/synthetic/",
    "st": PREFIXES["id"] + "statement/synthetic-",
    "sgsh": str(SGSH),
}
HEADER = "".join(f"@prefix {k}: <{v}> .\n" for k, v in (PREFIXES | EXTRA_PREFIXES).items())

# The quotes of the fixture's evidence spans.
Q1 = "Freedonia and Sylvania exchanged prisoners on 1 and 2 March 2030, mediated by Caledonia; Freedonia got 20 of its people back"
Q2 = "On 1 March, Freedonia released Ann Example to Sylvania, and eight Freedonians came home."
Q3 = "On 2 March, Sylvania freed ten Freedonians, nearly thirty by some accounts."
Q4 = "Freedonia recovered 15 of its citizens, and at least five Sylvanians went home."


def iri(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    return URIRef((PREFIXES | EXTRA_PREFIXES)[prefix] + local)


@lru_cache(maxsize=1)
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology/swapgraph.ttl", format="turtle")


@lru_cache(maxsize=1)
def fixture() -> tuple[Graph, Graph]:
    dataset = Dataset()
    dataset.parse(FIXTURE, format="trig")
    union = Graph()
    for name in (Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED, Graphs.PROVENANCE):
        union += dataset.graph(name)
    asserted = Graph()
    asserted += dataset.graph(Graphs.ASSERTED)
    return union, asserted


def turtle(text: str) -> Graph:
    return Graph().parse(data=HEADER + text, format="turtle")


def check(add: str = "", remove: str = "", add_asserted: str = "") -> ValidationReport:
    """Validate the fixture with triples removed (from every graph) and added (to the union data only,
    or with add_asserted also to the asserted graph, without a statement)."""
    base, base_asserted = fixture()
    data, asserted = Graph(), Graph()
    data += base
    asserted += base_asserted
    for triple in turtle(remove):
        data.remove(triple)
        asserted.remove(triple)
    data += turtle(add)
    data += turtle(add_asserted)
    asserted += turtle(add_asserted)
    return validate(data, ontology(), asserted)


def caught(report: ValidationReport, shape: str, focus: str, quote: str | None = None) -> Violation:
    """The violation of `shape` on `focus`; the report text names both, and the quote if given."""
    assert not report.conforms
    matches = [v for v in report.violations if v.shape == SGSH[shape] and v.focus == iri(focus)]
    assert matches, f"{shape} on {focus} not reported; got:\n{report.text()}"
    violation = matches[0]
    text = report.text()
    assert f"sgsh:{shape}" in text and report.namespaces.normalizeUri(iri(focus)) in text
    assert violation.message and violation.message in text
    if quote is not None:
        assert quote in [q for _, q in violation.evidence]
        assert quote in text
    return violation


def shapes_of(report: ValidationReport) -> set[str]:
    return {str(v.shape).removeprefix(str(SGSH)) for v in report.violations}


def test_valid_fixture_conforms():
    report = check()
    assert report.conforms, report.text()
    assert report.violations == []
    assert report.text().startswith("Validation: conforms")


def test_dataset_input_is_validated_as_its_union():
    dataset = Dataset()
    dataset.parse(FIXTURE, format="trig")
    assert validate(dataset, ontology(), fixture()[1]).conforms


# ---------- releases ----------

def test_ReleaseSubjectShape():
    report = check(add="release:2030-03-01-ann sg:releasedGroup group:2030-03-02-ten .")
    caught(report, "ReleaseSubjectShape", "release:2030-03-01-ann", Q2)
    report = check(remove="release:2030-03-01-ann sg:releasedPerson person:ann-example .")
    caught(report, "ReleaseSubjectShape", "release:2030-03-01-ann", Q2)


def test_ReleasedPersonShape():
    report = check(remove="release:2030-03-01-ann sg:releasedPerson person:ann-example .",
                   add="release:2030-03-01-ann sg:releasedPerson state:XC .")
    caught(report, "ReleasedPersonShape", "release:2030-03-01-ann", Q2)


def test_ReleasedGroupShape():
    report = check(remove="release:2030-03-02-ten sg:releasedGroup group:2030-03-02-ten .",
                   add="release:2030-03-02-ten sg:releasedGroup exchange:2030-03 .")
    caught(report, "ReleasedGroupShape", "release:2030-03-02-ten", Q3)


def test_ReleaseReleasingStateShape():
    report = check(remove="release:2030-03-01-ann sg:releasingState state:XA .")
    violation = caught(report, "ReleaseReleasingStateShape", "release:2030-03-01-ann", Q2)
    assert violation.path == iri("sg:releasingState")


def test_ReleaseReceivingStateShape():
    report = check(add="release:2030-03-01-ann sg:receivingState person:ann-example .")
    caught(report, "ReleaseReceivingStateShape", "release:2030-03-01-ann", Q2)


def test_ReleaseFromCustodyShape():
    report = check(add="release:2030-03-01-ann sg:fromCustodyOf group:2030-03-02-ten .")
    caught(report, "ReleaseFromCustodyShape", "release:2030-03-01-ann", Q2)


def test_NotReleasedToReleaserShape():
    report = check(add="release:2030-03-01-ann sg:receivingState state:XA .")
    violation = caught(report, "NotReleasedToReleaserShape", "release:2030-03-01-ann", Q2)
    assert violation.value == iri("state:XA")
    assert shapes_of(report) == {"NotReleasedToReleaserShape"}
    # The quote stating the receiving state comes first.
    assert violation.evidence[0] == ("synthetic-1.txt", Q2)


def test_ReleaseExchangeShape():
    report = check(remove="""release:2030-03-01-ann sg:inExchange exchange:2030-03-01 , exchange:2030-03 .""")
    caught(report, "ReleaseExchangeShape", "release:2030-03-01-ann", Q2)


def test_ReleaseSingleExchangeShape():
    report = check(add="""exchange:2010-07 a sg:Exchange ; sg:status sg:done ; sg:date "2010"^^xsd:gYear .
                          release:2030-03-01-ann sg:inExchange exchange:2010-07 .""")
    caught(report, "ReleaseSingleExchangeShape", "release:2030-03-01-ann", Q2)
    assert shapes_of(report) == {"ReleaseSingleExchangeShape"}


def test_ReleaseSingleLegShape():
    report = check(add="release:2030-03-01-ann sg:inExchange exchange:2030-03-02 .")
    caught(report, "ReleaseSingleLegShape", "release:2030-03-01-ann", Q2)


# ---------- exchanges and dates ----------

def test_ExchangeDateShape():
    report = check(remove='exchange:2030-03 sg:startDate "2030-03-01"^^xsd:date .')
    caught(report, "ExchangeDateShape", "exchange:2030-03", Q1)
    # A leg is an exchange too.
    report = check(remove='exchange:2030-03-01 sg:date "2030-03-01"^^xsd:date .')
    caught(report, "ExchangeDateShape", "exchange:2030-03-01", Q2)


def test_DateValueShape():
    report = check(remove='exchange:2030-03-01 sg:date "2030-03-01"^^xsd:date .',
                   add='exchange:2030-03-01 sg:date "1 March 2030" .')
    caught(report, "DateValueShape", "exchange:2030-03-01", Q2)


def test_StartDateValueShape():
    report = check(add='exchange:2030-03 sg:startDate "2030-03-01T10:00:00"^^xsd:dateTime .')
    caught(report, "StartDateValueShape", "exchange:2030-03", Q1)


def test_EndDateValueShape():
    report = check(add='exchange:2030-03 sg:endDate 2030 .')
    caught(report, "EndDateValueShape", "exchange:2030-03", Q1)


# ---------- legs' counts ----------

def test_LegCountsShape():
    # Without the recorded conflict, legs summing to 18 exceed the 15 that document 2 claims for the whole.
    report = check(remove="""claim:2-whole-xa sg:conflictsWith claim:1-day1-xa .
                             claim:1-day1-xa sg:conflictsWith claim:2-whole-xa .""")
    violation = caught(report, "LegCountsShape", "exchange:2030-03", Q1)
    assert violation.value == iri("claim:2-whole-xa")
    assert "18" in violation.message and "15" in violation.message
    assert ("synthetic-2.txt", Q4) in violation.evidence  # the quote of the whole's claim
    assert shapes_of(report) == {"LegCountsShape"}


def test_LegCountsShape_ignores_approximate_counts_and_other_sides():
    # "Nearly 30" on day 2 is approximate: not summed, so 8 + 10 = 18 stays within the 20 of claim 1.
    report = check(add="""claim:x-day1-xb a sg:CountClaim ; sg:status sg:done ; sg:aboutExchange exchange:2030-03-01 ;
                              sg:side state:XB ; sg:count 400 .""")
    assert report.conforms, report.text()


def test_LegCountsShape_takes_the_modest_reading_of_a_contested_leg():
    # Day 1: 8 against a conflicting 13 (recorded) counts as 8, so the sum stays 18 <= 20.
    contested = """claim:x-day1-xa a sg:CountClaim ; sg:status sg:done ; sg:aboutExchange exchange:2030-03-01 ;
                       sg:side state:XA ; sg:count 13 ."""
    assert check(add=contested + " claim:x-day1-xa sg:conflictsWith claim:1-day1-xa .").conforms
    # Unrecorded, the larger count is taken: 13 + 10 = 23 > 20.
    caught(check(add=contested), "LegCountsShape", "exchange:2030-03")


# ---------- claims and counts ----------

def test_CountClaimNumberShape():
    report = check(remove="claim:2-whole-xb sg:minimumCount 5 .")
    caught(report, "CountClaimNumberShape", "claim:2-whole-xb", Q4)


def test_CountClaimExchangeShape():
    report = check(remove="claim:2-whole-xb sg:aboutExchange exchange:2030-03 .")
    caught(report, "CountClaimExchangeShape", "claim:2-whole-xb", Q4)
    report = check(add="claim:2-whole-xb sg:aboutExchange state:XB .")
    caught(report, "CountClaimExchangeShape", "claim:2-whole-xb", Q4)


def test_CountClaimSideShape():
    report = check(add="claim:2-whole-xb sg:side state:XA .")
    caught(report, "CountClaimSideShape", "claim:2-whole-xb", Q4)


def test_CountClaimApproximateShape():
    report = check(add='claim:2-whole-xb sg:approximate "nearly" .')
    caught(report, "CountClaimApproximateShape", "claim:2-whole-xb", Q4)


def test_CountValueShape():
    report = check(remove="group:2030-03-02-ten sg:count 10 .", add="group:2030-03-02-ten sg:count -10 .")
    caught(report, "CountValueShape", "group:2030-03-02-ten", Q3)
    report = check(add='group:2030-03-02-ten sg:count "ten" .')
    caught(report, "CountValueShape", "group:2030-03-02-ten", Q3)


def test_MinimumCountValueShape():
    report = check(remove="claim:2-whole-xb sg:minimumCount 5 .", add="claim:2-whole-xb sg:minimumCount 4.5 .")
    caught(report, "MinimumCountValueShape", "claim:2-whole-xb", Q4)


def test_OrdinalValueShape():
    report = check(add="claim:2-whole-xb sg:ordinal 0 .")
    caught(report, "OrdinalValueShape", "claim:2-whole-xb", Q4)


def test_ConflictShape():
    report = check(add="claim:1-whole-xa sg:conflictsWith exchange:2030-03 .")
    caught(report, "ConflictShape", "claim:1-whole-xa", Q1)


# ---------- roles ----------

def test_MediatorAgentShape():
    report = check(remove="role:2030-03-mediator-xc sg:mediatorAgent state:XC .")
    caught(report, "MediatorAgentShape", "role:2030-03-mediator-xc", Q1)


def test_MediatedExchangeShape():
    report = check(add="role:2030-03-mediator-xc sg:mediatedExchange exchange:2030-03-01 .")
    caught(report, "MediatedExchangeShape", "role:2030-03-mediator-xc", Q1)
    report = check(remove="role:2030-03-mediator-xc sg:mediatedExchange exchange:2030-03 .")
    caught(report, "MediatedExchangeShape", "role:2030-03-mediator-xc", Q1)


# ---------- provenance ----------

def test_StatementSupportShape():
    report = check(remove="st:42 sg:evidence ev:q2 .")
    caught(report, "StatementSupportShape", "st:42")
    # The asserted triple behind it has lost its evidence as well.
    violation = caught(report, "AssertedFactEvidenceShape", "release:2030-03-01-ann", Q2)
    assert violation.path == iri("sg:releasingState") and violation.value == iri("state:XA")


def test_StatementSupportShape_is_not_met_by_a_derivation_record():
    # Inferred triples are never typed rdf:Statement; one that is typed needs evidence all the same.
    report = check(add="st:i1 a rdf:Statement ; rdf:subject release:2030-03-01-ann ; rdf:predicate sg:inExchange ; "
                       "rdf:object exchange:2030-03 .")
    caught(report, "StatementSupportShape", "st:i1")


def test_StatementSubjectShape():
    report = check(add="st:01 rdf:subject claim:1-day2-xa .")
    caught(report, "StatementSubjectShape", "st:01")


def test_StatementPredicateShape():
    report = check(remove="st:01 rdf:predicate rdf:type .", add='st:01 rdf:predicate "type" .')
    caught(report, "StatementPredicateShape", "st:01")


def test_StatementObjectShape():
    report = check(remove="st:01 rdf:object sg:CountClaim .")
    caught(report, "StatementObjectShape", "st:01")


def test_EvidenceTypeShape():
    report = check(remove="ev:q1 a sg:Evidence .")
    caught(report, "EvidenceTypeShape", "ev:q1")


def test_EvidenceDocumentShape():
    report = check(remove="ev:q1 sg:document doc:synthetic-1 .")
    caught(report, "EvidenceDocumentShape", "ev:q1")


def test_EvidenceQuoteShape():
    report = check(add='ev:q4 sg:quote "" .')
    caught(report, "EvidenceQuoteShape", "ev:q4")


def test_EvidenceStartOffsetShape():
    report = check(remove="ev:q2 sg:startOffset 125 .", add="ev:q2 sg:startOffset -1 .")
    caught(report, "EvidenceStartOffsetShape", "ev:q2")


def test_EvidenceEndOffsetShape():
    report = check(remove="ev:q2 sg:endOffset 212 .")
    caught(report, "EvidenceEndOffsetShape", "ev:q2")


def test_EvidenceOffsetOrderShape():
    report = check(remove="ev:q3 sg:startOffset 213 .", add="ev:q3 sg:startOffset 300 .")
    caught(report, "EvidenceOffsetOrderShape", "ev:q3")
    assert shapes_of(report) == {"EvidenceOffsetOrderShape"}


def test_DerivationRecordShape():
    report = check(remove='st:i5 sg:derivationRecord "prp-symp 000000000000000000b4" .',
                   add='st:i5 sg:derivationRecord "prp-symp" .')  # no premise
    caught(report, "DerivationRecordShape", "st:i5")
    assert shapes_of(report) == {"DerivationRecordShape"}
    report = check(add='st:i5 sg:derivationRecord "prp-spo2 00000000000000000039 00000000000000000031" .')  # two
    caught(report, "DerivationRecordShape", "st:i5")
    report = check(remove='st:i5 sg:derivationRecord "prp-symp 000000000000000000b4" .',
                   add='st:i5 sg:derivationRecord "prp-symp st:i4" .')  # a premise that is no statement id
    caught(report, "DerivationRecordShape", "st:i5")
    report = check(remove='st:i5 sg:derivationRecord "prp-symp 000000000000000000b4" .',
                   add='st:i5 sg:derivationRecord rule:prp-symp .')  # not a literal
    caught(report, "DerivationRecordShape", "st:i5")


def test_AssertedFactEvidenceShape():
    report = check(add_asserted="exchange:2030-03 sg:announcedBy state:XC .")
    violation = caught(report, "AssertedFactEvidenceShape", "exchange:2030-03", Q1)
    assert violation.path == iri("sg:announcedBy") and violation.value == iri("state:XC")
    assert shapes_of(report) == {"AssertedFactEvidenceShape"}


# ---------- the report ----------

def test_report_text_names_node_shape_message_document_and_quote():
    report = check(add="release:2030-03-01-ann sg:receivingState state:XA .")
    text = report.text()
    assert text.splitlines()[0].startswith("Validation: 1 violation ")
    for expected in ("release:2030-03-01-ann", "sgsh:NotReleasedToReleaserShape",
                     '"not released to the releasing state"', "sg:receivingState", "state:XA",
                     "nobody is released to the state that released them",
                     f'synthetic-1.txt: "{Q2}"'):
        assert expected in text


def test_evidence_of_a_node_is_the_quotes_of_its_own_statements():
    # Through derivation records (sg:derivationRecord) for a node without its own: test_validation_evidence.py.
    data, _ = fixture()
    assert evidence_for(data, iri("release:2030-03-01-ann"), prefer=iri("sg:releasedPerson"))[0] == ("synthetic-1.txt", Q2)
    assert evidence_for(data, iri("person:ann-example")) == []  # a registry entry: no document quotes it


def test_shapes_have_names_and_messages():
    from graph.validation import load_shapes
    from rdflib.namespace import SH

    shapes = load_shapes()
    named = {s for s in shapes.subjects() if isinstance(s, URIRef) and str(s).startswith(str(SGSH)) and s != SGSH[""]}
    assert len(named) >= 30
    for shape in named:
        assert shapes.value(shape, SH.name) is not None, shape
        if shape != SGSH.DateLiteralShape:  # used through sh:node; the caller's message is reported
            constraint = shapes.value(shape, SH.sparql)
            assert (shapes.value(shape, SH.message) or shapes.value(constraint, SH.message)) is not None, shape


@pytest.mark.parametrize("graph_name", [Graphs.ENTITIES, Graphs.ASSERTED, Graphs.INFERRED, Graphs.PROVENANCE])
def test_fixture_has_every_store_graph(graph_name):
    dataset = Dataset()
    dataset.parse(FIXTURE, format="trig")
    assert len(dataset.graph(graph_name)) > 0 and str(graph_name).startswith(str(GRAPH))


def test_StatusShape():
    report = check(remove="claim:1-day1-xa sg:status sg:done .")
    caught(report, "StatusShape", "claim:1-day1-xa")
    report = check(add="group:2030-03-02-ten sg:status sg:agreed .")
    caught(report, "StatusShape", "group:2030-03-02-ten")


def test_StatusValueShape():
    report = check(add="release:2030-03-01-ann sg:status sg:Release .", remove="release:2030-03-01-ann sg:status sg:done .")
    caught(report, "StatusValueShape", "release:2030-03-01-ann")


def test_MemberOfShape():
    report = check(add="person:ann-example sg:memberOf release:2030-03-02-ten .")
    caught(report, "MemberOfShape", "person:ann-example")
    report = check(add="group:2030-03-02-ten sg:memberOf group:2030-03-02-ten .")
    caught(report, "MemberSubjectShape", "group:2030-03-02-ten")


def test_SubgroupShape():
    report = check(add="group:2030-03-02-ten sg:subgroupOf person:ann-example .")
    caught(report, "SubgroupShape", "group:2030-03-02-ten")
    report = check(add="person:ann-example sg:sameCohortAs group:2030-03-02-ten .")
    caught(report, "SubgroupSubjectShape", "person:ann-example")

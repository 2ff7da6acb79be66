"""graph.explain over a pyoxigraph store: term resolution, explanation trees, cycles, depth, sentences."""

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from graph.build import build_store
from graph.explain import (
    DocumentTexts,
    OxigraphSource,
    Unresolved,
    explain,
    resolve,
    sentence_around,
)
from vocab import ID, RULE, SG, Graphs

EX = "https://w3id.org/swapgraph/id/test/"


@pytest.fixture(scope="module")
def source():
    store = ox.Store()
    build_store(store)
    return OxigraphSource(store)


# --- resolution -----------------------------------------------------------------------------------


def test_resolve_iri_curie_and_label(source):
    evan = URIRef(ID + "person/evan-gershkovich")
    assert resolve(source, str(evan), "s") == evan
    assert resolve(source, f"<{evan}>", "s") == evan
    assert resolve(source, "person:evan-gershkovich", "s") == evan
    assert resolve(source, "EVAN GERSHKOVICH", "s") == evan
    assert resolve(source, "released to", "p") == SG.releasedTo
    assert resolve(source, "releasedTo", "p") == SG.releasedTo
    assert resolve(source, "a", "p") == RDF.type
    assert resolve(source, "Türkiye", "o") == URIRef(ID + "state/TR")  # alternative label


def test_resolve_prefers_a_property_for_the_predicate(source):
    assert resolve(source, "venue", "p") == SG.venue
    with pytest.raises(Unresolved) as caught:
        resolve(source, "venue", "s")
    assert caught.value.reason == "ambiguous"
    assert {c.iri for c in caught.value.candidates} == {str(SG.venue), str(SG.Venue)}


def test_resolve_unknown(source):
    with pytest.raises(Unresolved) as caught:
        resolve(source, "Kara", "s")
    assert caught.value.reason == "unknown"
    assert str(ID) + "person/vladimir-kara-murza" in {c.iri for c in caught.value.candidates}
    with pytest.raises(Unresolved):
        resolve(source, "<https://bad iri>", "s")


def test_resolve_literal_object_takes_the_stored_datatype(source):
    claim = URIRef(ID + "claim/002-64th")
    value = resolve(source, "64", "o", subject=claim, predicate=SG.ordinal)
    assert value == Literal("64", datatype=XSD.integer)
    assert resolve(source, "no such thing", "o") == Literal("no such thing")


# --- explanations ---------------------------------------------------------------------------------


def test_asserted(source):
    node = explain(source, URIRef(ID + "person/vladimir-kara-murza"), RDF.type, SG.Detainee)
    assert node.holds and node.kind in ("asserted", "inferred")
    node = explain(source, URIRef(ID + "release/2024-ankara-kara-murza"), SG.receivingState, URIRef(ID + "state/DE"))
    assert node.kind == "asserted"
    assert [e.quote for e in node.evidence] == ["They were flown to Germany after being released"]
    assert node.evidence[0].document == str(ID) + "document/000_866c1bb2713c0bfc"


def test_inferred_by_prp_spo2_down_to_evidence(source):
    node = explain(source, URIRef(ID + "person/vladimir-kara-murza"), SG.releasedTo, URIRef(ID + "state/DE"))
    assert node.kind == "inferred"
    assert node.derivations[0].rule_id == "prp-spo2"

    def ends(n):
        if not n.derivations:
            yield n
        for d in n.derivations:
            for p in d.premises:
                yield from ends(p)

    leaves = list(ends(node))
    assert {leaf.kind for leaf in leaves} <= {"asserted", "registry", "axiom"}
    assert all(leaf.evidence for leaf in leaves if leaf.kind == "asserted")
    assert node.as_json()["derivations"][0]["rule"]["id"] == "prp-spo2"


def test_does_not_hold(source):
    node = explain(source, URIRef(ID + "person/evan-gershkovich"), SG.releasedBy, URIRef(ID + "state/US"))
    assert not node.holds and node.kind == "does-not-hold"


def test_registry_and_axiom_facts(source):
    assert explain(source, URIRef(ID + "state/DE"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
                   Literal("Germany")).kind == "registry"
    assert explain(source, SG.ExchangeLeg, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                   SG.Exchange).kind == "axiom"


def _cyclic_store() -> OxigraphSource:
    """a p b is derived from b p a and b p a from a p b: a cycle the explainer must stop."""
    st, d = EX + "st/", EX + "d/"
    prov, inferred = f"<{Graphs.PROVENANCE}>", f"<{Graphs.INFERRED}>"
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    lines = [
        f"<{EX}a> <{SG.conflictsWith}> <{EX}b> {inferred} .",
        f"<{EX}b> <{SG.conflictsWith}> <{EX}a> {inferred} .",
    ]
    for name, s, o, other in (("ab", "a", "b", "ba"), ("ba", "b", "a", "ab")):
        lines += [
            f"<{st}{name}> <{rdf}subject> <{EX}{s}> {prov} .",
            f"<{st}{name}> <{rdf}predicate> <{SG.conflictsWith}> {prov} .",
            f"<{st}{name}> <{rdf}object> <{EX}{o}> {prov} .",
            f"<{st}{name}> <{SG.derivation}> <{d}{name}> {prov} .",
            f"<{d}{name}> <{SG.rule}> <{RULE}prp-symp> {prov} .",
            f"<{d}{name}> <{SG.premise}> <{st}{other}> {prov} .",
        ]
    store = ox.Store()
    store.load("\n".join(lines).encode(), format=ox.RdfFormat.N_QUADS)
    return OxigraphSource(store)


def test_cycles_are_cut():
    node = explain(_cyclic_store(), URIRef(EX + "a"), SG.conflictsWith, URIRef(EX + "b"))
    premise = node.derivations[0].premises[0]
    assert str(premise.subject) == EX + "b"
    again = premise.derivations[0].premises[0]
    assert again.cycle and not again.derivations
    assert again.as_json()["cycle"] is True


def test_depth_is_capped(source):
    node = explain(source, URIRef(ID + "person/vladimir-kara-murza"), SG.releasedTo, URIRef(ID + "state/DE"),
                   max_depth=1)
    inferred = [p for p in node.derivations[0].premises if p.kind == "inferred"]
    assert inferred and all(p.truncated and not p.derivations for p in inferred)


# --- sentences ------------------------------------------------------------------------------------


def test_sentence_around_a_quote():
    text = "First one. The U.S. Marine was freed in Ankara. Then more."
    start = text.index("was freed")
    before, quote, after = sentence_around(text, start, start + len("was freed"))
    assert (before, quote, after) == ("The U.S. Marine ", "was freed", " in Ankara.")


def test_sentence_in_a_document():
    texts = DocumentTexts()
    quote = "They were flown to Germany after being released"
    found = texts.sentence("000_866c1bb2713c0bfc.txt", 12124, 12171, quote)
    assert found is not None and found[1] == quote and found[2].endswith(".")
    assert texts.sentence("000_866c1bb2713c0bfc.txt", 0, 5, quote) is None  # offsets not matching the quote
    assert texts.sentence("../etc/passwd", 0, 1) is None

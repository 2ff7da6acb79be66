"""The rule-based extractor: candidates with quotes, offsets, Turtle in the ontology, confidence, rule, modality."""

import datetime
import json
import re
from pathlib import Path

import pytest

from graph.build import SourcePaths
from loaders.annotations import CandidateAnnotations, EntityDecl, read_registry
from loaders.candidates import dump_candidates
from loaders.corpus import check_triple, locate, parse_fact_turtle
from loaders.dates import find_dates
from loaders.documents import read_document
from loaders.extraction import PATTERNS, VERSION, RuleExtractor, known_entities, load_pipeline, parse_number
from loaders.linking import Linker, fold

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures/extraction/invented.txt"
DOCUMENT_DATE = datetime.date(2021, 3, 8)  # a Monday


def decl(curie, kind, label, *alt, iso=None):
    return EntityDecl(curie, kind, label, tuple(alt), iso, FIXTURE, 1)


DECLS = [decl("state:XF", "State", "Freedonia", iso="XF"), decl("state:XS", "State", "Sylvania", iso="XS"),
         decl("state:US", "State", "United States", "U.S.", "America", iso="US"),
         decl("state:TR", "State", "Turkey", "Türkiye", iso="TR")]


@pytest.fixture(scope="module", params=["model", "blank"])
def extractor(request):
    nlp = load_pipeline(use_model=request.param == "model")
    assert ("ner" in nlp.pipe_names) == (request.param == "model")
    return RuleExtractor(DECLS, nlp, {FIXTURE.name: DOCUMENT_DATE})


@pytest.fixture(scope="module")
def extraction(extractor):
    return extractor.extract(read_document(FIXTURE))


def turtles(extraction, rule=None):
    return "\n".join(f.turtle for f in extraction.facts if rule is None or f.rule == rule)


def test_every_candidate_has_quote_offsets_fields_and_valid_turtle(extraction):
    text = extraction.document.text
    assert extraction.facts
    for fact in extraction.facts:
        start, end = locate(fact)
        assert text[start:end] == fact.quote
        assert fact.status == "candidate" and 0 < fact.confidence <= 1 and fact.rule and fact.kind
        assert fact.modality in ("done", "agreed", "expected", "announced")
        for triple in parse_fact_turtle(fact):
            assert check_triple(*triple) is None, (fact.rule, triple)


def test_releases_by_a_state_with_count_and_receiver(extraction):
    released = turtles(extraction, "group-released-by-agent")
    assert "sg:count 12" in released and "sg:releasingState state:XF" in released
    assert "sg:receivingState state:XS" in released


def test_named_people_released_and_linked_by_surname(extraction):
    people = turtles(extraction, "people-released-by-agent")
    assert "sg:releasedPerson person:anna-kovacs" in people and "sg:releasingState state:XS" in people
    assert 'person:anna-kovacs sg:sentence "six years in prison"' in turtles(extraction, "sentenced-to")


def test_alternative_labels_and_diacritics_link_to_known_states(extraction):
    assert "sg:mediatorAgent state:TR" in turtles(extraction, "mediated-by")  # Türkiye
    assert "sg:releasingState state:US" in turtles(extraction, "group-released-passive")  # the U.S.


def test_exchange_date_parties_and_venue(extraction):
    assert 'sg:date "2021-03-03"^^xsd:date' in turtles(extraction, "exchange-date")
    parties = "\n".join(f.turtle for f in extraction.facts if f.kind == "party")
    assert "sg:party state:XF" in parties and "sg:party state:XS" in parties
    assert "place:rivertown-airport a sg:Venue" in turtles(extraction, "exchange-venue")


def test_modality_agreed_is_not_done(extraction):
    later = [f for f in extraction.facts if "sg:count 30" in f.turtle]
    assert later and all(f.modality == "agreed" for f in later)
    assert all(f.modality == "done" for f in extraction.facts if "sg:count 12" in f.turtle)


def test_occupation_and_employer(extractor, extraction):
    occupation = turtles(extraction, "person-occupation-employer")
    assert 'person:anna-kovacs sg:occupation "journalist"' in occupation
    assert "sg:employer org:daily-planet" in occupation


def test_relative_dates_only_against_the_document_date():
    assert [(d.value, d.datatype) for d in find_dates("on Friday", DOCUMENT_DATE)] == [("2021-03-05", "date")]
    unresolved = find_dates("on Friday", None)
    assert unresolved[0].datatype == "unresolved" and "no date" in unresolved[0].flag
    assert find_dates("On 27 November, talks", None)[0].value == "--11-27"  # partial, flagged
    assert find_dates("On 27 November, talks", None)[0].flag


def test_linking_folds_case_diacritics_and_uses_iso_countries():
    linker = Linker(DECLS)
    assert linker.link("TURKIYE", "State").curie == "state:TR"
    assert linker.link("u.s.", "State").curie == "state:US"
    assert linker.link("Qatar", "State").curie == "state:QA"  # ISO 3166 through pycountry
    full = linker.link("Anna Kovács", "Person")
    assert linker.link("Kovacs", "Person") == full


def test_numbers_in_words_and_digits():
    assert [parse_number(t) for t in ("1,150", "twenty-six", "three hundred", "12")] == [1150, 26, 300, 12]


def test_candidate_file_round_trip(tmp_path, extractor, extraction):
    (tmp_path / FIXTURE.name).write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    document = read_document(tmp_path / FIXTURE.name)
    extraction = extractor.extract(document)
    (tmp_path / f"{document.stem}.yaml").write_text(dump_candidates(extraction, VERSION), encoding="utf-8")
    read = CandidateAnnotations(tmp_path).extract(document)
    assert read.extractor == VERSION
    assert [(f.quote, f.turtle, f.rule, f.confidence) for f in read.facts] == [
        (f.quote, f.turtle, f.rule, f.confidence) for f in extraction.facts]


def test_no_rule_or_lexicon_names_a_corpus_person_or_exchange():
    """The patterns are general: none names a person or an exchange of the corpus, or one of its counts."""
    paths = SourcePaths()
    decls, _ = known_entities(paths.registry, paths.annotations, paths.documents)
    names = {fold(name) for d in decls if d.type in ("Person", "Exchange", "ExchangeLeg")
             for name in (d.label, *d.alt_labels)}
    data = " ".join(fold(path.read_text(encoding="utf-8")) for path in PATTERNS.glob("*.json"))
    assert not [name for name in names if re.search(rf"\b{re.escape(name)}\b", data)]
    numbers = set(re.findall(r"\b\d{2,}\b", data))  # rule quantifiers like {0,120} are lengths, not counts
    rules = json.loads((PATTERNS / "rules.json").read_text(encoding="utf-8"))["rules"]
    assert all(not re.search(r"(?<![{,\d])\d{2,}(?![\d,}])", rule["pattern"]) for rule in rules), numbers


# --- rules added for exchanged-for pairs, people left out, mediators, talks, counts (invented sentences) -----

def extract_text(extractor, tmp_path, text, name="901_invented.txt"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return extractor.extract(read_document(tmp_path / name))


def test_person_exchanged_for_person(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Marta Olsen, a Freedonian engineer held for two years, was "
                              "exchanged last month for the convicted Sylvanian spy Ivo Petrak.")
    pairs = turtles(extraction, "person-exchanged-for-person")
    assert "person:marta-olsen a sg:Detainee ; sg:exchangedFor person:ivo-petrak" in pairs
    assert "sg:releasedPerson person:ivo-petrak" in pairs and "sg:releasedPerson person:marta-olsen" in pairs
    quote = next(f.quote for f in extraction.facts if f.rule == "person-exchanged-for-person")
    assert quote.startswith("Marta Olsen") and quote.endswith("Ivo Petrak")


def test_people_said_to_be_left_out(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Olaf Brandt and Lena Vogt were not included in the swap.")
    left_out = turtles(extraction, "people-not-included")
    assert "person:olaf-brandt sg:excludedFrom" in left_out and "person:lena-vogt sg:excludedFrom" in left_out


def test_state_that_served_as_mediator(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "The handover took place in Sylvania, whose government "
                              "served as a mediator between the parties.")
    assert "sg:mediatorAgent state:XS" in turtles(extraction, "served-as-mediator")


def test_talks_in_a_gazetteer_place_make_a_negotiation(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "The exchange followed talks between Freedonian and Danish "
                              "delegations in Oslo on 4 June 2020. Talks in Bigbadtown went nowhere.")
    talks = turtles(extraction, "talks-in-place")
    assert "a sg:Negotiation ;\n    sg:venue place:oslo" in talks and "sg:participant state:DK" in talks
    assert 'sg:date "2020-06-04"^^xsd:date' in talks and "sg:aboutExchange" in talks
    assert "bigbadtown" not in talks  # not a place of the gazetteer


def test_counts_of_people_in_sentences_about_a_release(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Nearly 300 prisoners of war returned home. More than 40 "
                              "civilians were brought home from each side. The attack killed 90 soldiers. "
                              "The report counted 70 soldiers in the region.")
    counts = turtles(extraction, "count-of-people")
    assert "sg:count 300" in counts and "sg:approximate true" in counts
    assert "sg:minimumCount 40" in counts
    assert "sg:count 90" not in counts and "sg:count 70" not in counts  # the dead; a sentence about no release
    assert any(f.note and "each side" in f.note for f in extraction.facts if "sg:minimumCount 40" in f.turtle)


def test_second_group_of_an_active_release(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Freedonia released 12 soldiers and three civilians.")
    released = turtles(extraction, "group-released-by-agent")
    assert "sg:count 12" in released and "sg:count 3 " in released
    assert released.count("sg:releasingState state:XF") == 2


def test_people_listed_after_those_released_and_a_colon(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Among those released were two Freedonian citizens: "
                              "Karl Moe, a teacher, and Ida Holm.")
    people = turtles(extraction, "people-released-by-agent")
    assert "sg:releasedPerson person:karl-moe" in people and "sg:releasedPerson person:ida-holm" in people


def test_a_date_after_since_or_an_invasion_is_not_the_exchange_date(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "It was the largest swap since the war broke out in "
                              "February 2019. The exchange took place on 3 May 2020.")
    dates = turtles(extraction, "exchange-date")
    assert '"2020-05-03"^^xsd:date' in dates and "2019" not in dates


def test_who_held_a_group_or_a_person_releases_them(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Twelve of the prisoners held by Freedonia and Sylvania were "
                              "released to the U.S. on Monday. Karl Moe, a teacher jailed in Sylvania, was freed.")
    group = turtles(extraction, "group-released-passive")
    assert "sg:releasingState state:XF, state:XS" in group and "sg:receivingState state:US" in group
    person = turtles(extraction, "person-was-released")
    assert "sg:releasedPerson person:karl-moe" in person and "sg:releasingState state:XS" in person


def test_a_homecoming_is_a_release_to_the_state_the_group_is_named_after(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "On Friday, 300 Ukrainians returned home. "
                              "Forty soldiers were seen at the border after the swap.")
    released = turtles(extraction)  # the count rule, or the dependency pattern where the model parses it
    assert "sg:releasedGroup group:" in released and "sg:receivingState state:UA" in released
    assert "sg:count 300" in released
    counted = turtles(extraction, "count-of-people")
    assert "sg:count 40 " in counted and "claim:" in counted  # no homecoming: a count claim only


def test_people_who_met_or_joined_the_talks_are_participants(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Olaf Lund met with Karin Berg and Danish prime minister "
                              "Henrik Dahl in Oslo. Aksel Vikberg headed the Danish side of the talks.")
    met = turtles(extraction, "people-met")
    assert "sg:participant person:olaf-lund, person:karin-berg, person:henrik-dahl" in met
    joined = turtles(extraction, "joined-negotiations")
    assert "a sg:Negotiation" in joined and "state:DK" in joined


def test_the_two_sides_of_talks_by_name_or_adjective(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Before the Denmark–Norway talks in Bergen, Danish and "
                              "Norwegian representatives agreed that the swap would go ahead.")
    sides = turtles(extraction, "sides-in-talks")
    assert "sg:venue place:bergen" in sides and "sg:participant state:DK, state:NO" in sides
    assert "sg:aboutExchange" in sides


def test_a_year_alone_is_a_gyear_and_a_day_without_year_is_no_exchange_date(extractor, tmp_path):
    assert [(d.value, d.datatype) for d in find_dates("the swap occurred in 2010", None)] == [("2010", "gYear")]
    assert find_dates("in 1,000 cases", None) == []
    extraction = extract_text(extractor, tmp_path, "The previous exchange occurred in 2010. The May 24 swap "
                              "was the largest.")
    dates = turtles(extraction, "exchange-date")
    assert '"2010"^^xsd:gYear' in dates and "--05-24" not in dates


def test_people_returned_to_a_named_state_and_a_country_is_no_venue(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "The 120 civilians returned to Sylvania after the swap. "
                              "250 Danish military personnel and 20 civilians were repatriated. "
                              "The talks in Sylvania and a meeting in Norway went on.")
    released = turtles(extraction)  # a count rule or a passive release rule, whichever quotes it best
    assert "sg:count 120" in released and "sg:receivingState state:XS" in released
    assert "sg:count 250" in released and "sg:receivingState state:DK" in released
    assert "sg:venue" not in turtles(extraction, "talks-in-place")  # states, not venues


def test_the_other_of_two_parties_releases_and_both_sides_release(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Denmark and Norway swapped prisoners on 2 May 2020. "
                              "On Friday, 300 Danish soldiers returned home. The day before, both countries released 40 "
                              "of their soldiers.")
    home = "\n".join(f.turtle for f in extraction.facts if "sg:count 300" in f.turtle)  # whichever rule said it
    assert "sg:receivingState state:DK" in home and "sg:releasingState state:NO" in home
    both = turtles(extraction, "both-sides-released")
    assert "sg:count 40" in both and "state:DK" in both and "state:NO" in both


def test_a_capital_stands_for_its_state_as_a_party(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "The exchange between Oslo and Copenhagen took place on "
                              "2 May 2020.")
    parties = "\n".join(f.turtle for f in extraction.facts if f.kind == "party")
    assert "sg:party state:NO" in parties and "sg:party state:DK" in parties


def test_a_demonym_before_a_list_in_brackets_gives_citizenship(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Sylvania freed 40 men in exchange for three Danish "
                              "prisoners (Karl Moe, Ida Holm, Per Vik).")
    people = turtles(extraction, "exchanged-for-people")
    assert "person:karl-moe a sg:Detainee ; sg:citizenship state:DK" in people


def test_who_announced_who_held_and_the_charge(extractor, tmp_path):
    extraction = extract_text(extractor, tmp_path, "Karl Moe, a Danish pilot imprisoned in Sylvania for drug "
                              "smuggling, was freed in the swap. Freedonian President Ida Holm announced the "
                              "exchange on Friday. The weather was announced as fine.")
    assert "person:karl-moe sg:heldBy state:XS" in turtles(extraction, "person-held-by")
    assert 'person:karl-moe sg:charge "drug smuggling"' in turtles(extraction, "convicted-of")
    announced = [f for f in extraction.facts if f.rule == "agent-announced"]
    assert [f.modality for f in announced] == ["announced"]
    assert "sg:announcedBy person:ida-holm" in announced[0].turtle

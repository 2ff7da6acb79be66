"""Sentences, charges, custody, occupations and employers: general trigger words on invented sentences."""

import pytest

from loaders.documents import read_document
from loaders.extraction import RuleExtractor, load_pipeline

from tests.loaders.test_extraction import DECLS


@pytest.fixture(scope="module", params=["model", "blank"])
def extractor(request):
    return RuleExtractor(DECLS, load_pipeline(use_model=request.param == "model"))


def turtle(extractor, tmp_path, text, rule=None):
    (tmp_path / "905_invented.txt").write_text(text, encoding="utf-8")
    facts = extractor.extract(read_document(tmp_path / "905_invented.txt")).facts
    return "\n".join(f.turtle for f in facts if rule is None or f.rule == rule)


def test_people_who_each_received_sentences_for_a_charge(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "Karl Moe and Ida Holm had each received ten-year sentences for espionage.")
    for person in ("karl-moe", "ida-holm"):
        assert f'person:{person} sg:sentence "ten-year sentence"' in said
        assert f'person:{person} sg:charge "espionage"' in said


def test_a_sentence_to_life_imprisonment_keeps_its_words_and_gives_who_held(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "Peter Novak, who had been sentenced to life imprisonment in Sylvania, "
                  "was freed. Karl Moe was sentenced to 13 years imprisonment.")
    assert 'person:peter-novak sg:sentence "life imprisonment"' in said
    assert "person:peter-novak sg:heldBy state:XS" in said
    assert 'person:karl-moe sg:sentence "13 years imprisonment"' in said


def test_arrested_in_a_state_for_a_charge_and_a_national_prison(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "Karl Moe was arrested in Freedonia in 2019 allegedly for attacking a police "
                  "officer. Peter Novak spent a year in a Danish prison. Ida Holm was jailed for two years.")
    assert "person:karl-moe sg:heldBy state:XF" in said
    assert 'person:karl-moe sg:charge "attacking a police officer"' in said
    assert "person:peter-novak sg:heldBy state:DK" in said
    assert "sg:charge \"two years\"" not in said  # a duration is no charge


def test_a_charge_of_an_investigation_and_of_people_included(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "The prosecutor started an investigation of Peter Novak for planning a bombing "
                  "in Sylvania. Many have been prosecuted under this law for criticizing the Freedonian war, "
                  "including opposition politician Karl Moe and artist Ida Holm.")
    assert 'person:peter-novak sg:charge "planning a bombing in Sylvania"' in said
    assert 'person:karl-moe sg:charge "criticizing the Freedonian war"' in said
    assert 'person:ida-holm sg:occupation "artist"' in said
    assert 'person:karl-moe sg:occupation "opposition politician"' in said


def test_held_by_a_state_including_people(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "Several Danes held by Sylvania, including the pilot Karl Moe and the "
                  "teacher Ida Holm, were not freed.", "held-by-including")
    if extractor.uses_model:  # the names after the trigger are the model's person spans
        assert "person:karl-moe sg:heldBy state:XS" in said and "person:ida-holm sg:heldBy state:XS" in said
    else:
        assert "sg:heldBy state:XS" in said


def test_a_plural_occupation_before_names_an_acronym_and_a_slashed_employer(extractor, tmp_path):
    said = turtle(extractor, tmp_path, "After the swap, the opposition figures, Karl Moe, Ida Holm and Peter Novak, "
                  "spoke. Anna Lind, a suspected KGB agent, was freed. Olaf Lund, a journalist for Radio "
                  "Free Europe/Radio Liberty, was freed.")
    for person in ("karl-moe", "ida-holm", "peter-novak"):
        assert f'person:{person} sg:occupation "opposition figure"' in said
    assert 'person:anna-lind sg:occupation "suspected KGB agent"' in said
    assert "sg:employer org:radio-free-europe-radio-liberty" in said

"""The model path's dependency patterns (dependencies.json) and the states filled for releases (invented text)."""

import pytest

from loaders.documents import read_document
from loaders.extraction import RuleExtractor, load_pipeline

from tests.loaders.test_extraction import DECLS


@pytest.fixture(scope="module", params=["model", "blank"])
def extractor(request):
    return RuleExtractor(DECLS, load_pipeline(use_model=request.param == "model"))


def extract(extractor, tmp_path, text):
    (tmp_path / "904_invented.txt").write_text(text, encoding="utf-8")
    return extractor.extract(read_document(tmp_path / "904_invented.txt"))


def facts(extraction, prefix=""):
    return [f for f in extraction.facts if f.rule.startswith(prefix)]


def test_the_blank_pipeline_has_no_parser_and_no_dependency_candidates(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "Freed as part of a prisoner swap, the opposition figures, Olaf "
                         "Brandt and Karin Berg, had mixed feelings.")
    if extractor.uses_model:
        assert extractor.dependencies is not None
        released = "\n".join(f.turtle for f in facts(extraction, "dep-released-fronted-participle"))
        assert "sg:releasedPerson person:olaf-brandt" in released and "sg:releasedPerson person:karin-berg" in released
    else:
        assert extractor.dependencies is None and not facts(extraction, "dep-")


def test_passive_release_with_agent_and_receiver(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "Karl Moe was released by Sylvania to the United States on Monday.")
    release = "\n".join(f.turtle for f in extraction.facts if "sg:releasedPerson person:karl-moe" in f.turtle)
    assert "sg:releasingState state:XS" in release and "sg:receivingState state:US" in release


def test_coordinated_groups_share_the_homecoming_and_an_ellipsis_keeps_its_receiver(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "The ministry said that 270 Danish military personnel and 120 "
                         "civilians were repatriated. Thirteen of the prisoners held by Freedonia were released to "
                         "Sylvania and three to the United States.")
    if not extractor.uses_model:
        return  # the regular expressions find the first groups only; checked in test_extraction
    by_count = {n: "\n".join(f.turtle for f in extraction.facts if f"sg:count {n} " in f.turtle and "sg:Release" in f.turtle)
                for n in (270, 120, 3)}
    assert "sg:receivingState state:DK" in by_count[270] and "sg:receivingState state:DK" in by_count[120]
    assert "sg:releasingState state:XF" in by_count[3] and "sg:receivingState state:US" in by_count[3]
    assert [f.rule for f in extraction.facts if "sg:count 3 " in f.turtle] == ["dep-elliptic-group"]


def test_a_participle_after_a_description_and_another_release_keeps_the_releasing_state(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "Among the prisoners released by Sylvania was Karl Moe. Another "
                         "prisoner released was Ida Holm. Jon Lind, a Danish pilot convicted of espionage and "
                         "released as part of the deal, went home.")
    ida = [f for f in extraction.facts if "sg:releasedPerson person:ida-holm" in f.turtle]
    assert ida and all("sg:releasingState state:XS" in f.turtle for f in ida)
    assert any("release before" in (f.note or "") for f in ida)
    if extractor.uses_model:
        assert any("sg:releasedPerson person:jon-lind" in f.turtle for f in facts(extraction, "dep-"))


def test_the_other_of_two_parties_receives_what_one_releases(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "The exchange between Freedonia and Sylvania took place on 3 May "
                         "2020. Karl Moe was released by Freedonia.")
    release = [f for f in extraction.facts if "sg:releasedPerson person:karl-moe" in f.turtle]
    assert release and all("sg:receivingState state:XS" in f.turtle for f in release)
    assert all("receiving state: the other" in f.note for f in release)


def test_mediated_by_from_the_parse_or_the_pattern(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "The swap, which was brokered by Turkey, freed 12 soldiers.")
    assert any("sg:mediatorAgent state:TR" in f.turtle for f in extraction.facts)


def test_one_candidate_per_release_the_one_that_says_more(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "Karl Moe was released by Sylvania to the United States.")
    releases = [f for f in extraction.facts if "release:" in f.turtle and "person:karl-moe" in f.turtle]
    assert len(releases) == 1


def test_one_for_one_each_released_by_the_state_of_the_others_nationality(extractor, tmp_path):
    extraction = extract(extractor, tmp_path, "Danish engineer Marta Olsen, who had been arrested in May, was "
                         "exchanged last month for the convicted Norwegian spy Ivo Petrak.")
    pair = next(f for f in extraction.facts if f.rule == "person-exchanged-for-person")
    assert pair.quote.startswith("Danish engineer Marta Olsen")
    assert "sg:releasedPerson person:marta-olsen ;\n    sg:releasingState state:NO" in pair.turtle
    assert "sg:releasedPerson person:ivo-petrak ;\n    sg:releasingState state:DK" in pair.turtle
    assert "one for one" in pair.note

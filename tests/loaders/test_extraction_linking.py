"""Linking a document's exchange and its releases to reviewed exchanges by day or range and parties (invented)."""

import pytest

from loaders.documents import read_document
from loaders.extraction import RuleExtractor, load_pipeline
from loaders.linking import KnownExchange, link_exchange

from tests.loaders.test_extraction import DECLS

ONE_DAY = KnownExchange("exchange:freedonia-sylvania-swap", "2021-03-03", "2021-03-03",
                        frozenset({"state:XF", "state:XS"}), one_day=True)
OTHER_DAY = KnownExchange("exchange:second-day", "2021-03-04", "2021-03-04",
                          frozenset({"state:XF", "state:XS"}), one_day=True)
RANGE = KnownExchange("exchange:the-whole-truce", "2021-03-01", "2021-03-09", frozenset({"state:XF", "state:XS"}))
ELSEWHERE = KnownExchange("exchange:us-turkey", "2021-03-03", "2021-03-03", frozenset({"state:US", "state:TR"}),
                          one_day=True)


def test_a_day_links_to_the_one_day_exchange_before_the_range_and_parties_must_agree():
    known = [ONE_DAY, RANGE, ELSEWHERE]
    assert link_exchange(known, ["2021-03-03"], {"state:XF"}) == ONE_DAY
    assert link_exchange(known, ["2021-03-05"], {"state:XF", "state:XS"}) == RANGE
    assert link_exchange(known, ["2021-03-03"], {"state:US"}) == ELSEWHERE
    assert link_exchange(known, ["2021-03-03"], {"state:XF", "state:US"}) is None  # no exchange has both
    assert link_exchange(known, ["2021-03-03"], set()) is None  # two one-day exchanges that day: ambiguous
    assert link_exchange(known, ["2020-01-01"], {"state:XF"}) is None


def test_a_day_without_a_year_needs_exactly_the_same_parties():
    known = [ONE_DAY, OTHER_DAY]
    assert link_exchange(known, ["--03-04"], {"state:XF", "state:XS"}) == OTHER_DAY
    assert link_exchange(known, ["--03-04"], {"state:XF"}) is None
    assert link_exchange([RANGE], ["--03-04"], {"state:XF", "state:XS"}) is None


@pytest.fixture(scope="module", params=["model", "blank"])
def nlp(request):
    return load_pipeline(use_model=request.param == "model")


def extract(nlp, tmp_path, text, known):
    (tmp_path / "902_invented.txt").write_text(text, encoding="utf-8")
    return RuleExtractor(DECLS, nlp, exchanges=known).extract(read_document(tmp_path / "902_invented.txt"))


def test_the_documents_exchange_is_the_reviewed_one_with_its_day_and_parties(nlp, tmp_path):
    extraction = extract(nlp, tmp_path, "The exchange between Freedonia and Sylvania took place on 3 March 2021. "
                         "Freedonia released 12 soldiers to Sylvania.", [ONE_DAY, RANGE, ELSEWHERE])
    turtle = "\n".join(f.turtle for f in extraction.facts)
    assert "sg:inExchange exchange:freedonia-sylvania-swap" in turtle
    assert "exchange:2021-03-03" not in turtle
    assert "exchange:2021-03-03" not in {e.curie for e in extraction.entities}  # no new exchange proposed
    assert any(f.note and "linked to the reviewed exchange" in f.note for f in extraction.facts if f.kind == "date")


def test_each_days_releases_go_to_that_days_leg(nlp, tmp_path):
    extraction = extract(nlp, tmp_path, "The exchange between Freedonia and Sylvania took place on 3 March 2021. "
                         "On 4 March 2021, Freedonia released 40 soldiers to Sylvania.", [ONE_DAY, OTHER_DAY])
    released = "\n".join(f.turtle for f in extraction.facts if "sg:count 40" in f.turtle and "sg:Release" in f.turtle)
    assert "sg:inExchange exchange:second-day" in released


def test_no_match_keeps_the_proposed_exchange(nlp, tmp_path):
    extraction = extract(nlp, tmp_path, "The exchange between Freedonia and Sylvania took place on 3 March 2021.",
                         [ELSEWHERE])
    assert "exchange:2021-03-03" in {e.curie for e in extraction.entities}

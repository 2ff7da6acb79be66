"""Coverage: every sentence of every document is cited by a fact or has a recorded reason."""

import shutil
from pathlib import Path

import pytest

from graph.build import SourcePaths
from swapgraph.cli import main
from graph.coverage import Reason, corpus_coverage, document_coverage, read_reasons, split_sentences, totals
from loaders.corpus import load_corpus
from loaders.errors import LoadError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus():
    paths = SourcePaths()
    return load_corpus(paths.documents, paths.annotations, paths.registry)


def test_sentences_keep_their_offsets(corpus):
    for document in corpus.documents:
        found = split_sentences(document.text)
        assert found
        for sentence in found:
            assert document.text[sentence.start:sentence.end] == sentence.text


def test_abbreviations_do_not_end_a_sentence():
    texts = [s.text for s in split_sentences('The U.S. and Russia met. "Fine," he said. Next.\nA heading')]
    assert texts == ["The U.S. and Russia met.", '"Fine," he said.', "Next.", "A heading"]


def test_cited_explained_and_unexplained_sentences():
    text = "One is cited. Two has a reason. Three has none.\n== Heading =="
    result = document_coverage("x.txt", text, [(0, 3)], [Reason("Two has a reason.", "navigation", 7),
                                                         Reason("Not in the text.", "navigation", 9)])
    assert (result.sentences, result.cited) == (4, 1)
    assert [(s.text, r) for s, r in result.explained] == [("Two has a reason.", "navigation"),
                                                          ("== Heading ==", "heading")]
    assert [s.text for s in result.unexplained] == ["Three has none."]
    assert [r.line for r in result.stale] == [9]


def test_every_sentence_of_the_corpus_is_cited_or_explained(corpus):
    results = corpus_coverage(corpus, SourcePaths().annotations)
    summary = totals(results)
    assert summary["sentences"] == summary["cited"] + summary["explained"]
    assert summary["unexplained"] == 0 and summary["staleReasons"] == 0
    assert summary["documents"] == len(corpus.documents)


def test_a_malformed_reason_names_file_and_line(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("document: x.txt\nuncited:\n  - sentence: only a sentence\n", encoding="utf-8")
    with pytest.raises(LoadError, match="x.yaml:3"):
        read_reasons(bad)


def test_coverage_command_flags_a_sentence_without_reason(tmp_path, capsys):
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    assert main(["coverage", "--sources", str(tmp_path), "--strict"]) == 0
    annotation = next((tmp_path / "corpus/annotations").glob("004_*.yaml"))
    text = annotation.read_text(encoding="utf-8")
    # The reason no longer matches its sentence: the sentence is unexplained and the reason stale.
    annotation.write_text(text.replace("- sentence: The exchange comes amid", "- sentence: An exchange comes amid"),
                          encoding="utf-8")
    capsys.readouterr()
    assert main(["coverage", "--sources", str(tmp_path), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "[NO REASON]" in out and "The exchange comes amid" in out
    assert f"{annotation}:" in out and "cited or not in the document" in out
    assert main(["coverage", "--sources", str(tmp_path), "--format", "json"]) == 0

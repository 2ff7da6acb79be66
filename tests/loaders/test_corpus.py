"""The loader: quotes found at the right offsets, and bad annotations named by file and line."""

import shutil
from pathlib import Path

import pytest
from rdflib import RDF, Literal

from graph.build import SourcePaths
from vocab import SG
from loaders.corpus import load_corpus
from loaders.errors import LoadError

PATHS = SourcePaths()
DOC = "004_409f0621a82c9acc"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(PATHS.documents, PATHS.annotations, PATHS.registry)


def test_every_quote_is_at_its_offsets(corpus):
    texts = {doc.stem: doc.text for doc in corpus.documents}
    evidence_nodes = list(corpus.provenance.subjects(RDF.type, SG.Evidence))
    assert len(evidence_nodes) == corpus.fact_count
    for node in evidence_nodes:
        stem = str(corpus.provenance.value(node, SG.document)).rsplit("/", 1)[-1]
        start = corpus.provenance.value(node, SG.startOffset).toPython()
        end = corpus.provenance.value(node, SG.endOffset).toPython()
        assert texts[stem][start:end] == str(corpus.provenance.value(node, SG.quote))


def test_every_asserted_triple_has_evidence(corpus):
    assert set(corpus.asserted_table) == set(corpus.evidence)


def test_every_document_is_annotated(corpus):
    assert {str(o) for o in corpus.provenance.objects(predicate=SG.fileName)} == {
        p.name for p in PATHS.documents.glob("*.txt")}


def annotated_copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "annotations"
    shutil.copytree(PATHS.annotations, folder)
    path = folder / f"{DOC}.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def load_error(folder: Path) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load_corpus(PATHS.documents, folder, PATHS.registry)
    return caught.value


def append_fact(quote: str, turtle: str):
    return lambda text: text.rstrip("\n") + f"\n  - quote: {quote!r}\n    turtle: |\n      {turtle}\n"


def line_count(folder: Path) -> int:
    return len((folder / f"{DOC}.yaml").read_text(encoding="utf-8").splitlines())


def test_a_quote_not_in_the_text_is_an_error_at_its_line(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Russia and Ukraine swapped a million", "exchange:x a sg:Exchange ."))
    error = load_error(folder)
    [issue] = error.issues
    assert issue.path.name == f"{DOC}.yaml" and issue.line == line_count(folder) - 2
    assert "not found verbatim" in issue.message


def test_a_turtle_syntax_error_names_the_snippet_line(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Truth Social", "exchange:x a sg:Exchange sg:date ."))
    [issue] = load_error(folder).issues
    assert issue.line == line_count(folder) and "Turtle" in issue.message


def test_an_unknown_term_is_an_error(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Truth Social", "exchange:x sg:releasedTooo state:UA ."))
    [issue] = load_error(folder).issues
    assert "not a term of the ontology" in issue.message and issue.line == line_count(folder)


def test_a_derived_property_cannot_be_asserted(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Truth Social", "person:vladimir-putin sg:releasedTo state:UA ."))
    [issue] = load_error(folder).issues
    assert "derived by the rules" in issue.message


def test_an_undeclared_entity_is_an_error(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Truth Social", "exchange:2025-05-07 sg:venue place:nowhere ."))
    [issue] = load_error(folder).issues
    assert "place/nowhere" in issue.message


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    folder = annotated_copy(tmp_path, lambda text: text + "\n  - quote: [unclosed\n")
    [issue] = load_error(folder).issues
    assert issue.path.name == f"{DOC}.yaml" and issue.line >= line_count(folder) - 1


def test_an_ambiguous_quote_needs_an_occurrence(tmp_path):
    folder = annotated_copy(tmp_path, append_fact("Russia", "exchange:2025-05-07 a sg:Exchange ."))
    [issue] = load_error(folder).issues
    assert "add occurrence" in issue.message


def test_a_label_found_in_no_document_is_an_error(tmp_path):
    registry = tmp_path / "entities.yaml"
    registry.write_text(PATHS.registry.read_text(encoding="utf-8") + "person:nobody:\n  type: Person\n  label: Nobody Atall\n")
    with pytest.raises(LoadError) as caught:
        load_corpus(PATHS.documents, PATHS.annotations, registry)
    assert any("Nobody Atall" in i.message and i.path == registry for i in caught.value.issues)


def test_labels_and_iso_codes_come_from_the_registry(corpus):
    from vocab import ID

    turkey = ID["state/TR"]
    assert (turkey, SG.isoCode, Literal("TR")) in corpus.entities
    assert Literal("Türkiye") in set(corpus.entities.objects(turkey))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("facts:\n", "facts: none\nold_facts:\n", "facts: must be a list"),
    ("entities:\n", "entities: [a, b]\nold_entities:\n", "entities: must be a mapping"),
    ("metadata:\n", "metadata:\n  date: last Friday\nold_metadata:\n", "not a YYYY-MM-DD date"),
])
def test_a_section_of_the_wrong_shape_is_an_error(tmp_path, old, new, message):
    folder = annotated_copy(tmp_path, lambda text: text.replace(old, new, 1))
    issues = load_error(folder).issues
    assert any(message in i.message and i.path.name == f"{DOC}.yaml" for i in issues), issues


def test_a_literal_over_the_store_limit_is_an_error_at_its_line(tmp_path):
    big = "x" * 3000
    quote = "The exchange began Friday, following direct talks between Kyiv and Moscow"
    folder = annotated_copy(tmp_path, append_fact(quote, f'negotiation:x a sg:Negotiation ; sg:duration "{big}" .'))
    with pytest.raises(LoadError) as caught:
        load_corpus(PATHS.documents, folder, PATHS.registry, max_literal_bytes=2000)
    [issue] = caught.value.issues
    assert issue.path.name == f"{DOC}.yaml" and issue.line == line_count(folder)
    assert issue.message.startswith("literal too large: 3000 bytes")
    assert str(caught.value).count("literal too large") == 1

"""add-document: the stable file name, a metadata record with nothing invented, an empty annotation file."""

import shutil
from pathlib import Path

import pytest

from graph.build import SourcePaths
from swapgraph.cli import main
from loaders.corpus import load_corpus
from loaders.errors import LoadError
from loaders.intake import add_document, stable_name

WIKI = "https://en.wikipedia.org/wiki/Example_swap"
TEXT = "source: " + WIKI + "\n\n= Example swap =\n\nFreedonia released four prisoners.\n"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in ("corpus", "ontology"):
        shutil.copytree(SourcePaths().documents.parent.parent / name, tmp_path / name)
    return tmp_path


def text_file(tmp_path: Path, text: str = TEXT) -> Path:
    path = tmp_path / "incoming.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_name_is_the_next_number_and_the_text_hash(project):
    documents = project / "corpus/documents"
    expected = stable_name(TEXT, documents)
    highest = max(int(p.name.split("_")[0]) for p in documents.glob("*.txt"))
    assert expected.startswith(f"{highest + 1:03d}_") and expected.endswith(".txt")
    added = add_document(text_file(project), project / "corpus", WIKI, licence="CC-BY-SA-4.0")
    assert added.document.name == expected
    assert added.document.read_text(encoding="utf-8") == TEXT  # copied as it is, source line kept


def test_metadata_has_only_what_is_given_or_fixed(project):
    added = add_document(text_file(project), project / "corpus", WIKI, licence="CC-BY-SA-4.0")
    assert added.metadata == {"source": WIKI, "licence": "CC-BY-SA-4.0", "attribution": "Wikipedia contributors",
                              "title": "Example swap", "kind": "encyclopedia", "language": "en"}
    other = add_document(text_file(project, "Freedonia freed a pilot.\n"), project / "corpus",
                         "https://news.example.org/a")
    assert other.metadata == {"source": "https://news.example.org/a"}  # no kind, language, date or title guessed


def test_the_added_document_loads_and_carries_its_licence(project):
    from rdflib import URIRef
    from rdflib.namespace import DCTERMS

    added = add_document(text_file(project), project / "corpus", WIKI, licence="CC-BY-SA-4.0")
    paths = SourcePaths.under(project)
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    assert len(corpus.documents) == len(list(paths.documents.glob("*.txt")))
    node = next(s for s, o in corpus.provenance.subject_objects(DCTERMS.source) if o == URIRef(WIKI))
    assert node.endswith(added.document.stem)
    assert corpus.provenance.value(node, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by-sa/4.0/")


@pytest.mark.parametrize("args, message", [
    (["--source", "not an address"], "is not an http(s) address"),
    (["--source", WIKI, "--licence", "whatever"], "--licence must be"),
    (["--source", WIKI, "--title", "A title not in the text"], "does not appear in the text"),
    (["--source", WIKI, "--date", "May 2024"], "is not YYYY-MM-DD"),
])
def test_bad_requests_are_named_and_change_nothing(project, capsys, args, message):
    before = sorted(p.name for p in (project / "corpus/documents").iterdir())
    assert main(["add-document", str(text_file(project)), "--sources", str(project), *args]) == 1
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in (project / "corpus/documents").iterdir()) == before


def test_the_same_text_is_not_added_twice(project):
    add_document(text_file(project), project / "corpus", WIKI)
    with pytest.raises(LoadError, match="already in the corpus"):
        add_document(text_file(project), project / "corpus", WIKI)

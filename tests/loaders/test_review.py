"""swapgraph review: accepted facts land in the reviewed file and validate; rejected ones are kept as negatives."""

import shutil
from pathlib import Path

import pytest
import yaml

from graph.build import SourcePaths
from swapgraph.cli import main
from loaders.corpus import load_corpus

ROOT = SourcePaths().documents.parent.parent
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures/extraction/invented.txt"


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, str]:
    for name in ("corpus", "ontology"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.rmtree(tmp_path / "corpus/candidates", ignore_errors=True)
    with (tmp_path / "corpus/entities.yaml").open("a", encoding="utf-8") as registry:  # the fixture's made-up states
        registry.write("\nstate:XF:\n  type: State\n  label: Freedonia\nstate:XS:\n  type: State\n  label: Sylvania\n")
    assert main(["add-document", str(FIXTURE), "--source", "https://news.example.org/invented",
                 "--sources", str(tmp_path)]) == 0
    stem = max(p.stem for p in (tmp_path / "corpus/documents").glob("*.txt"))
    assert main(["extract", stem, "--blank", "--sources", str(tmp_path)]) == 0
    return tmp_path, stem


def candidates(root: Path, stem: str) -> list[dict]:
    return yaml.safe_load((root / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"]


def number_of(facts: list[dict], rule: str) -> int:
    return next(n for n, fact in enumerate(facts, start=1) if fact["rule"] == rule)


def test_accept_and_reject(project, capsys):
    root, stem = project
    facts = candidates(root, stem)
    accept, reject = number_of(facts, "group-released-by-agent"), number_of(facts, "exchange-venue")
    date = number_of(facts, "exchange-date")  # a release needs its exchange's date to validate
    assert main(["review", stem, "--accept", f"{accept},{date}", "--reject", str(reject), "--reason", "not the venue",
                 "--sources", str(root)]) == 0
    paths = SourcePaths.under(root)
    corpus = load_corpus(paths.documents, paths.annotations, paths.registry)
    assert any(fact_quote == facts[accept - 1]["quote"] for fact_quote in
               (str(q) for q in corpus.provenance.objects(None, None) if str(q) == facts[accept - 1]["quote"]))
    rejected = yaml.safe_load((root / f"corpus/candidates/rejected/{stem}.yaml").read_text(encoding="utf-8"))
    assert [(r["quote"], r["reason"]) for r in rejected["rejected"]] == [(facts[reject - 1]["quote"], "not the venue")]
    left = candidates(root, stem)
    assert len(left) == len(facts) - 3 and facts[accept - 1] not in left
    assert {fact["number"] for fact in left} == set(range(1, len(facts) + 1)) - {accept, date, reject}  # kept


def test_an_edit_that_does_not_validate_changes_nothing(project, tmp_path, capsys):
    root, stem = project
    annotation = root / f"corpus/annotations/{stem}.yaml"
    before = annotation.read_text(encoding="utf-8")
    edit = tmp_path / "edit.yaml"
    edit.write_text(yaml.safe_dump({"quote": "a sentence the text does not have",
                                    "turtle": "state:XF a sg:State .\n"}), encoding="utf-8")
    assert main(["review", stem, "--edit", f"1={edit}", "--sources", str(root)]) == 1
    assert "quote not found verbatim" in capsys.readouterr().err
    assert annotation.read_text(encoding="utf-8") == before
    assert len(candidates(root, stem)) == len(yaml.safe_load(
        (root / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"])


def test_listing_shows_the_quote_in_its_sentence_and_the_turtle_in_words(project, capsys):
    root, stem = project
    assert main(["review", stem, "--list", "--sources", str(root)]) == 0
    out = capsys.readouterr().out
    assert "[[Freedonia released 12 prisoners to Sylvania]]" in out
    assert "— releasingState — Freedonia" in out


def test_accepted_entities_join_a_curated_file_whose_entities_are_not_right_before_its_facts():
    """Curated files keep `uncited:` (with its comment) between `entities:` and `facts:`."""
    from loaders.review import append_reviewed

    curated = ("document: d.txt\nentities:\n  person:a:\n    type: Person\n    label: A\n\n"
               "# Sentences no fact cites.\nuncited:\n- sentence: S.\n  reason: r\nfacts:\n"
               "  - quote: \"A\"\n    turtle: |\n      person:a a sg:Person .\n")
    added = append_reviewed(curated, [{"quote": "B", "turtle": "person:b a sg:Person ."}],
                            {"person:b": {"type": "Person", "label": "B"}}, "A and B")
    data = yaml.safe_load(added)
    assert list(data["entities"]) == ["person:a", "person:b"]
    assert data["uncited"] == [{"sentence": "S.", "reason": "r"}]
    assert [fact["quote"] for fact in data["facts"]] == ["A", "B"]
    assert "# Sentences no fact cites.\nuncited:" in added

"""Every kind of candidate the extractor makes passes review: accepted as it is, it validates (SHACL) and builds."""

import shutil
from pathlib import Path

import yaml

from graph.build import SourcePaths
from loaders.extraction import NO_RELEASING_STATE
from swapgraph.cli import main

ROOT = SourcePaths().documents.parent.parent
FIXTURE = ROOT / "tests/fixtures/extraction/invented-kinds.txt"  # made-up sentences, one per kind of rule


def test_accepting_every_candidate_of_every_kind_validates(tmp_path: Path):
    for name in ("corpus", "ontology"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.rmtree(tmp_path / "corpus/candidates", ignore_errors=True)
    with (tmp_path / "corpus/entities.yaml").open("a", encoding="utf-8") as registry:  # the made-up states
        registry.write("\nstate:XF:\n  type: State\n  label: Freedonia\nstate:XS:\n  type: State\n  label: Sylvania\n")
    assert main(["add-document", str(FIXTURE), "--source", "https://news.example.org/kinds",
                 "--sources", str(tmp_path)]) == 0
    stem = max(p.stem for p in (tmp_path / "corpus/documents").glob("*.txt"))
    assert main(["extract", stem, "--sources", str(tmp_path)]) == 0
    facts = yaml.safe_load((tmp_path / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"]
    kinds = {fact["kind"] for fact in facts}
    assert {"negotiation", "meeting", "exchanged-for", "excluded", "held", "charge", "announced", "mediator",
            "release", "count"} <= kinds, kinds
    # A release whose text names no releasing state is flagged for an edit (the shapes want one); the rest as is.
    flagged = [n for n, fact in enumerate(facts, start=1) if NO_RELEASING_STATE in (fact.get("note") or "")]
    assert all(facts[n - 1]["turtle"].count("a sg:Release ;") > facts[n - 1]["turtle"].count("sg:releasingState")
               for n in flagged)
    as_is = ",".join(str(n) for n in range(1, len(facts) + 1) if n not in flagged)
    assert main(["review", stem, "--accept", as_is, "--sources", str(tmp_path)]) == 0
    left = yaml.safe_load((tmp_path / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"]
    assert len(left) == len(flagged)
    assert main(["--data-dir", str(tmp_path / "data"), "build", "--sources", str(tmp_path)]) == 0

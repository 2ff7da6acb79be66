"""The summary benchmark's smoke run: the real corpus's build against this checkout itself, every file compared."""

import json
from pathlib import Path

from bench import summary as bench
from graph.build import SourcePaths, build
from graph.store import StoreLayout

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_against_itself_writes_the_same_files(tmp_path, capsys):
    layout = StoreLayout(tmp_path / "data")
    build(layout, SourcePaths())
    bench.main(["--build", str(layout.current_build()), "--compare", str(ROOT), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    verdicts = [line.split() for line in out.splitlines() if line.startswith("  ")]
    written = sorted(p.name for p in (tmp_path / "out" / "after").iterdir())
    assert [v[0] for v in verdicts] == written and "summary.json" in written
    assert all(v[1:] == ["identical"] for v in verdicts), out
    assert "after/before: cpu" in out


def test_files_differing_only_in_the_order_of_keys_are_told_apart_from_different_ones(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir(), after.mkdir()
    (before / "a.json").write_text(json.dumps({"x": 1, "y": [{"p": 1, "q": 2}]}))
    (after / "a.json").write_text(json.dumps({"y": [{"q": 2, "p": 1}], "x": 1}))
    (before / "b.json").write_text(json.dumps({"x": [1, 2]}))
    (after / "b.json").write_text(json.dumps({"x": [2, 1]}))
    (before / "b2.json").write_text(json.dumps({"x": [1, 2]}))
    (after / "b2.json").write_text(json.dumps({"x": [1, 3]}))
    (before / "c.jsonl").write_text("same\n")
    (after / "c.jsonl").write_text("same\n")
    (after / "d.json").write_text("{}")
    assert [line.split(None, 1) for line in bench.compare(before, after)] == [
        ["a.json", "same but for the order of keys"], ["b.json", "same but for the order of keys and of list items"],
        ["b2.json", "DIFFERENT"], ["c.jsonl", "identical"],
        ["d.json", "only after"]]

"""The build benchmark's smoke run: a small generated corpus through the driver, every step in its table."""

from bench import build as bench


def test_the_smoke_run_prints_every_step_and_the_incremental_row(tmp_path, capsys):
    assert bench.main(["--sizes", "3000", "--work", str(tmp_path), "--engines", "swapgraph"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| asserted |"))
    for step in ("parse", "checks", "store", "inference", "provenance", "validation", "summary", "switch"):
        assert f"| {step} |" in header
    rows = [line for line in out.splitlines() if line.startswith("| 3000")]
    assert [row.split("|")[1].strip() for row in rows] == ["3000", "3000 incremental"]
    columns = header.count("|") - 1
    assert all(row.count("|") - 1 == columns and " / " in row for row in rows)
    assert "swapgraph" in out.split("Inference engines at 3000")[1]

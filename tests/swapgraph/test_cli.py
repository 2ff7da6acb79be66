"""The `swapgraph` console script end to end on the five documents."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "swapgraph"


def swapgraph(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("cli-data")
    result = swapgraph("--data-dir", str(data), "build")
    assert result.returncode == 0, result.stderr
    assert re.search(r"asserted \d+, inferred \d+", result.stdout)
    assert "build time:" in result.stdout and "inference" in result.stderr  # progress on stderr
    return data


def test_stats_counts_instances(data_dir):
    result = swapgraph("--data-dir", str(data_dir), "stats", "--format", "json")
    stats = json.loads(result.stdout)
    counted = swapgraph("--data-dir", str(data_dir), "query",
                        "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a sg:Exchange }", "--format", "json")
    assert stats["instances"]["Exchange"] == int(json.loads(counted.stdout)[0]["n"]) > 0
    assert stats["triples"]["inferred"] > 0


def test_query_sparql_as_json(data_dir):
    query = "SELECT ?who WHERE { ?who sg:releasedTo state:DE } ORDER BY ?who"
    result = swapgraph("--data-dir", str(data_dir), "query", query, "--format", "json")
    assert result.returncode == 0, result.stderr
    people = {row["who"].rsplit("/", 1)[-1] for row in json.loads(result.stdout)}
    assert {"vladimir-kara-murza", "ilya-yashin", "andrei-pivovarov"} <= people


def test_query_csv_has_a_header(data_dir):
    result = swapgraph("--data-dir", str(data_dir), "query", "SELECT ?s WHERE { ?s a sg:State }", "--format", "csv")
    lines = result.stdout.splitlines()
    count = swapgraph("--data-dir", str(data_dir), "query", "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a sg:State }",
                      "--format", "csv").stdout.splitlines()[1]
    assert lines[0] == "s" and len(lines) == 1 + int(count) > 1


def test_a_bad_query_file_exits_non_zero_naming_file_and_line(data_dir, tmp_path):
    query = tmp_path / "broken.rq"
    query.write_text("SELECT ?s\nWHERE {\n  ?s sg:releasedTo\n}\n")
    result = swapgraph("--data-dir", str(data_dir), "query", str(query))
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(query))}:4: column \d+: ", result.stderr), result.stderr


def test_a_bad_setting_exits_non_zero_without_a_traceback(tmp_path):
    import os

    env = dict(os.environ, SWAPGRAPH_WORKERS="many")
    result = subprocess.run([str(SCRIPT), "stats"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1 and "SWAPGRAPH_WORKERS" in result.stderr and "Traceback" not in result.stderr


def test_export_trig_keeps_named_graphs(data_dir, tmp_path):
    out = tmp_path / "dump.trig"
    result = swapgraph("--data-dir", str(data_dir), "export", "--format", "trig", "-o", str(out))
    assert result.returncode == 0, result.stderr
    dataset = Dataset()
    dataset.parse(out, format="trig")
    names = {str(g.identifier) for g in dataset.graphs()}
    assert "https://w3id.org/swapgraph/graph/asserted" in names and "https://w3id.org/swapgraph/graph/inferred" in names


def test_export_jsonld_keeps_named_graphs(data_dir, tmp_path):
    out = tmp_path / "dump.jsonld"
    assert swapgraph("--data-dir", str(data_dir), "export", "--format", "jsonld", "-o", str(out)).returncode == 0
    dataset = Dataset()
    dataset.parse(out, format="json-ld")
    inferred = dataset.graph(URIRef("https://w3id.org/swapgraph/graph/inferred"))
    assert (URIRef("https://w3id.org/swapgraph/id/person/vladimir-kara-murza"),
            URIRef("https://w3id.org/swapgraph/ontology#releasedTo"),
            URIRef("https://w3id.org/swapgraph/id/state/DE")) in inferred


def test_bad_annotation_exits_non_zero_naming_file_and_line(tmp_path):
    project = tmp_path / "project"
    for part in ("corpus", "ontology"):
        shutil.copytree(ROOT / part, project / part)
    annotation = next((project / "corpus/annotations").glob("002_*.yaml"))
    text = annotation.read_text(encoding="utf-8").replace("quote: ", "quote: NOWHERE ", 1)
    annotation.write_text(text, encoding="utf-8")
    result = swapgraph("--data-dir", str(tmp_path / "data"), "build", "--sources", str(project))
    assert result.returncode == 1
    assert re.search(r"002_2dffcf02efa1d4ff\.yaml:\d+: quote not found verbatim", result.stderr)
    assert not (tmp_path / "data/current").exists()


def test_query_a_canned_question_with_a_label_parameter(data_dir):
    result = swapgraph("--data-dir", str(data_dir), "query", "releases", "--param", "releasedTo=Germany",
                       "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {row["releasedToLabel"] for row in rows} == {"Germany"}


def test_a_canned_question_with_an_unknown_value_exits_non_zero(data_dir):
    result = swapgraph("--data-dir", str(data_dir), "query", "releases", "--param", "releasedTo=Atlantis")
    assert result.returncode == 1 and "Atlantis" in result.stderr


def test_export_gzip_nquads(data_dir, tmp_path):
    import gzip

    out = tmp_path / "dump.nq.gz"
    assert swapgraph("--data-dir", str(data_dir), "export", "--format", "nquads", "-o", str(out)).returncode == 0
    dataset = Dataset()
    dataset.parse(data=gzip.decompress(out.read_bytes()).decode("utf-8"), format="nquads")
    assert len(dataset) > 1000


def project_with_a_broken_line(tmp_path: Path, relative: str, line: int) -> Path:
    """A copy of corpus/ and ontology/ where one line of one Turtle file no longer parses."""
    project = tmp_path / "project"
    for part in ("corpus", "ontology"):
        shutil.copytree(ROOT / part, project / part)
    broken = project / relative
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines[line - 1] += " this is not turtle"
    broken.write_text("\n".join(lines), encoding="utf-8")
    return project


@pytest.mark.parametrize(("relative", "line"), [("ontology/swapgraph.ttl", 41), ("ontology/shapes.ttl", 31)])
def test_a_broken_turtle_file_exits_non_zero_naming_file_and_line(tmp_path, relative, line):
    project = project_with_a_broken_line(tmp_path, relative, line)
    result = swapgraph("validate", "--sources", str(project))
    assert result.returncode == 1
    assert re.search(rf"{re.escape(Path(relative).name)}:{line}: Turtle syntax", result.stderr), result.stderr

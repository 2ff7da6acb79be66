"""The /review pages: off by default, loopback only, accept/reject through a real uvicorn; candidates hidden."""

import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from api.app import create_app
from api.executor import Executor
from graph.build import SourcePaths
from swapgraph.cli import main
from tests.api.conftest import SWAP, ThreadedServer, make_settings

ROOT = SourcePaths().documents.parent.parent
FIXTURE = ROOT / "tests/fixtures/extraction/invented.txt"
CANDIDATE = "https://w3id.org/swapgraph/id/candidate/x"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("review")
    for name in ("corpus", "ontology"):
        shutil.copytree(ROOT / name, root / name)
    shutil.rmtree(root / "corpus/candidates", ignore_errors=True)
    with (root / "corpus/entities.yaml").open("a", encoding="utf-8") as registry:  # the fixture's made-up states
        registry.write("\nstate:XF:\n  type: State\n  label: Freedonia\nstate:XS:\n  type: State\n  label: Sylvania\n")
    assert main(["add-document", str(FIXTURE), "--source", "https://news.example.org/x", "--sources", str(root)]) == 0
    stem = max(p.stem for p in (root / "corpus/documents").glob("*.txt"))
    assert main(["extract", stem, "--blank", "--sources", str(root)]) == 0
    return root, stem


@pytest.fixture(scope="module")
def executor():
    quad = f"<{CANDIDATE}> <urn:p> <urn:o> <{SWAP}candidates> .\n<urn:s> <urn:p> <urn:o> <{SWAP}asserted> .\n"
    with Executor.from_nquads(quad.encode(), workers=1, queue_wait=5.0) as running:
        yield running


@pytest.fixture(scope="module")
def server(project, executor):
    app = create_app(make_settings(review=True), executor=executor)
    app.state.review_sources = SourcePaths.under(project[0])
    with ThreadedServer(app) as running:
        yield running


def test_review_is_off_by_default_and_refused_off_loopback(executor):
    with ThreadedServer(create_app(make_settings(), executor=executor)) as plain:
        assert httpx.get(plain.url + "/review").status_code == 404
    with pytest.raises(ValueError, match="loopback"):
        create_app(make_settings(review=True, host="0.0.0.0"), executor=executor)


def test_the_page_lists_candidates_with_marked_quotes(server, project):
    _, stem = project
    assert stem in httpx.get(server.url + "/review").text
    page = httpx.get(f"{server.url}/review/{stem}").text
    assert "<mark>Freedonia released 12 prisoners to Sylvania</mark>" in page
    assert "releasingState — Freedonia" in page


def test_accept_writes_the_reviewed_file_and_a_bad_edit_writes_nothing(server, project):
    root, stem = project
    annotation = root / f"corpus/annotations/{stem}.yaml"
    before = annotation.read_text(encoding="utf-8")
    bad = httpx.post(f"{server.url}/review/{stem}/1", data={"action": "accept", "quote": "not in the text"},
                     timeout=60)  # accepting validates the whole build: slow on a loaded machine
    assert bad.status_code == 200 and "not accepted" in bad.text and "quote not found verbatim" in bad.text
    assert annotation.read_text(encoding="utf-8") == before
    facts = yaml.safe_load((root / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"]
    number = next(n for n, fact in enumerate(facts, start=1) if fact["rule"] == "exchange-date")
    date = httpx.post(f"{server.url}/review/{stem}/{number}", data={"action": "accept"}, timeout=60)
    assert date.status_code == 303
    assert "sg:date" in annotation.read_text(encoding="utf-8")


def test_a_change_from_another_site_is_refused(server, project):
    _, stem = project
    response = httpx.post(f"{server.url}/review/{stem}/1", data={"action": "reject"},
                          headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 403 and response.json()["error"] == "review_foreign_origin"


def test_candidates_stay_out_of_the_default_graph_unless_named(executor):
    import json

    ask = f"ASK {{ <{CANDIDATE}> ?p ?o }}"
    named = f"ASK {{ GRAPH <{SWAP}candidates> {{ <{CANDIDATE}> ?p ?o }} }}"
    answer = lambda query: json.loads(executor.run(query, result_format=JSON, timeout=5).body)["boolean"]  # noqa
    assert not answer(ask)
    assert answer(named)
    assert answer("ASK { <urn:s> ?p ?o }")  # the reviewed graphs are still the default graph

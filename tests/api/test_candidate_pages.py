"""Pages show the extractor's unreviewed candidates only with ?candidates=1, marked; through a real uvicorn."""

import shutil

import httpx
import pytest
import yaml

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.store import StoreLayout
from swapgraph.cli import main
from tests.api.conftest import ThreadedServer

ROOT = SourcePaths().documents.parent.parent
FIXTURE = ROOT / "tests/fixtures/extraction/invented.txt"
MARK = "candidate, unreviewed"
HTML = {"Accept": "text/html"}


def get(server, path: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=HTML)


def date_number(root, stem) -> int:
    facts = yaml.safe_load((root / f"corpus/candidates/{stem}.yaml").read_text(encoding="utf-8"))["facts"]
    return next(n for n, fact in enumerate(facts, start=1) if fact["rule"] == "exchange-date")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A project with the invented document extracted and its first candidate (the exchange's date) accepted."""
    root = tmp_path_factory.mktemp("candidate-pages")
    for name in ("corpus", "ontology"):
        shutil.copytree(ROOT / name, root / name)
    shutil.rmtree(root / "corpus/candidates", ignore_errors=True)
    with (root / "corpus/entities.yaml").open("a", encoding="utf-8") as registry:  # the fixture's made-up states
        registry.write("\nstate:XF:\n  type: State\n  label: Freedonia\nstate:XS:\n  type: State\n  label: Sylvania\n")
    assert main(["add-document", str(FIXTURE), "--source", "https://news.example.org/x", "--sources", str(root)]) == 0
    stem = max(p.stem for p in (root / "corpus/documents").glob("*.txt"))
    assert main(["extract", stem, "--blank", "--sources", str(root)]) == 0
    assert main(["review", stem, "--accept", str(date_number(root, stem)), "--sources", str(root)]) == 0
    data = root / "data"
    report = build(StoreLayout(data), SourcePaths.under(root))
    assert report.candidates > 0
    with ThreadedServer(create_app(Settings(data_dir=data, workers=1))) as running:
        yield running


def test_an_entity_known_only_from_candidates_is_shown_only_when_asked(server):
    assert get(server, "/id/person/anna-kovacs").status_code == 404
    page = get(server, "/id/person/anna-kovacs?candidates=1")
    assert page.status_code == 200 and MARK in page.text and "Candidate facts" in page.text
    assert "journalist" in page.text  # the candidate occupation, with its value


def test_a_reviewed_exchange_page_lists_candidates_only_when_asked(server):
    plain = get(server, "/exchanges/2021-03-03")
    assert plain.status_code == 200 and MARK not in plain.text and "Candidate facts" not in plain.text
    asked = get(server, "/exchanges/2021-03-03?candidates=1")
    assert asked.status_code == 200 and MARK in asked.text
    assert "Freedonia" in asked.text and "Sylvania" in asked.text  # the candidate parties, by label
    linked = get(server, "/id/exchange/2021-03-03")
    assert linked.status_code == 200 and MARK not in linked.text  # the reviewed date, no candidate row
    assert MARK in get(server, "/id/exchange/2021-03-03?candidates=1").text


def test_the_candidates_stay_out_of_the_default_graph_but_are_in_their_named_graph(server):
    query = "SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/swapgraph/id/person/anna-kovacs> ?p ?o }"
    named = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/swapgraph/graph/candidates> "
             "{ <https://w3id.org/swapgraph/id/person/anna-kovacs> ?p ?o } }")
    count = lambda q: int(httpx.get(server.url + "/sparql", params={"query": q},  # noqa: E731
                                    headers={"Accept": "application/sparql-results+json"}).json()
                          ["results"]["bindings"][0]["n"]["value"])
    assert count(query) == 0 and count(named) > 0

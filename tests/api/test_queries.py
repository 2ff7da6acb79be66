"""The canned questions over HTTP, in-process, on the synthetic fixture served by the real executor."""

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.executor import Executor
from api.settings import Settings
from tests.api.conftest import CountingExecutor

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "canned.trig"
ID = "https://w3id.org/swapgraph/id/"


@pytest.fixture(scope="module")
def counting():
    store = ox.Store()
    store.load(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
    executor = Executor.from_nquads(store.dump(format=ox.RdfFormat.N_QUADS), workers=1).start()
    try:
        yield CountingExecutor(executor)
    finally:
        executor.close()


@pytest.fixture(scope="module")
def client(counting):
    with TestClient(create_app(Settings(), executor=counting)) as c:
        yield c


def test_catalogue_json_and_html(client):
    body = client.get("/queries").json()
    names = {q["name"] for q in body["queries"]}
    assert {"who-mediated-which-swaps", "releases", "exchanges", "exchanged-for", "detainee", "exchange-legs",
            "excluded", "conflicts"} <= names
    page = client.get("/queries", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "Who mediated which swaps" in page.text


def test_json_rows_with_labels_beside_iris(client):
    body = client.get("/queries/who-mediated-which-swaps", params={"mediator": "Türkiye"}).json()
    assert body["parameters"] == {"mediator": ID + "state/TR"}
    assert body["truncated"] is False
    [row] = body["rows"]
    assert row["mediator"] == ID + "state/TR" and row["mediatorLabel"] == "Turkey"
    assert row["roleLabel"] is None  # an added label column for an IRI column without one
    link = urlparse(body["sparql"])
    assert link.path == "/sparql" and "VALUES (?mediator)" in parse_qs(link.query)["query"][0]


def test_unknown_query_404(client):
    response = client.get("/queries/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_query" and response.json()["status"] == 404


def test_unknown_value_422_lists_allowed(client):
    response = client.get("/queries/exchanges", params={"state": "Atlantis"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unknown_value" and body["status"] == 422 and "Atlantis" in body["message"]
    assert {"value": ID + "state/TR", "label": "Turkey"} in body["allowed"]


def test_missing_required_422(client):
    response = client.get("/queries/detainee")
    assert response.status_code == 422 and response.json()["error"] == "missing_parameter"


def test_csv(client):
    response = client.get("/queries/releases", params={"releasedTo": "United States", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["personLabel"], r["releasedByLabel"]) for r in rows] == [("Alice Example", "Russia")]


def test_sparql_json_by_accept(client):
    response = client.get("/queries/excluded", headers={"Accept": "application/sparql-results+json"})
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    [binding] = response.json()["results"]["bindings"]
    assert binding["person"]["value"] == ID + "person/carl-test"


def test_html_page_with_form_and_links(client):
    page = client.get("/queries/releases?releasedBy=Russia", headers={"Accept": "text/html"}).text
    assert "<form" in page and re.search(r"<select [^>]*name=\"releasedBy\"", page)
    assert "open in the SPARQL editor" in page and "format=csv" in page and "Alice Example" in page


def test_evidence(client):
    body = client.get("/queries/releases", params={"person": "Alice Example", "evidence": "true"}).json()
    [row] = body["rows"]
    quotes = {(e["document"], e["quote"]) for e in row["evidence"]}
    assert (ID + "document/901", "Alice Example was freed by Russia and flown to the U.S.") in quotes


def test_evidence_for_every_row_is_one_query(client, counting):
    client.get("/queries/releases", params={"evidence": "true"})  # labels and allowed values, read once
    counting.queries.clear()
    body = client.get("/queries/releases", params={"evidence": "true"}).json()
    assert len(counting.queries) == 2  # the question, then the evidence of all its rows
    assert "VALUES ?subject" in counting.queries[1]
    assert body["evidence_truncated"] is False
    assert all(isinstance(row["evidence"], list) for row in body["rows"])
    assert any(row["evidence"] for row in body["rows"])


def test_evidence_past_the_cap_is_flagged(client, monkeypatch):
    from api import queries

    monkeypatch.setattr(queries, "MAX_EVIDENCE_ROWS", 1)
    response = client.get("/queries/releases", params={"evidence": "true"})
    body = response.json()
    assert len(body["rows"]) > 1 and body["evidence_truncated"] is True
    assert response.headers["X-Swapgraph-Evidence-Truncated"] == "true"
    assert isinstance(body["rows"][0]["evidence"], list)
    assert all(row["evidence"] is None for row in body["rows"][1:])
    csv_rows = list(csv.DictReader(io.StringIO(client.get(
        "/queries/releases", params={"evidence": "true", "format": "csv"}).text)))
    assert len(csv_rows) == len(body["rows"]) and csv_rows[-1]["evidence"] == ""


def test_a_repeated_parameter_is_422(client):
    response = client.get("/queries/releases?releasedBy=Russia&releasedBy=Germany")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "repeated_parameter" and body["status"] == 422 and body["parameter"] == "releasedBy"
    assert "releasedBy" in body["message"]
    page = client.get("/queries/releases?releasedBy=Russia&releasedBy=Germany", headers={"Accept": "text/html"})
    assert page.status_code == 422 and "more than once" in page.text


def test_an_unknown_format_is_406_like_everywhere_else(client):
    response = client.get("/queries/exchanges", params={"format": "xlsx"})
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable" and response.json()["status"] == 406

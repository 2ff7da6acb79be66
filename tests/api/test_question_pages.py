"""Canned-question pages on the graph built from the corpus: every `sparql` and `editor` link runs, tables."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from api.settings import Settings
from graph.catalog import Catalog

SPARQL_JSON = "application/sparql-results+json"
QUESTIONS = Catalog.load(Settings().queries_dir)


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


def _example(query) -> str:
    return f"/queries/{query.name}" + (f"?{query.example}&format=json" if query.example else "?format=json")


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.text[:500]
    return response.json()["results"]["bindings"]


@pytest.mark.parametrize("query", list(QUESTIONS), ids=lambda q: q.name)
def test_the_sparql_link_runs_and_answers_what_the_question_answers(client, query):
    answer = client.get(_example(query))
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    rows = _rows(client.get(body["sparql"], headers={"Accept": SPARQL_JSON}))
    assert len(rows) == len(body["rows"])
    if query.params and body["parameters"]:
        # the bound parameter restricts the rows: every row carries the bound value
        name, value = next(iter(body["parameters"].items()))
        assert all(row[name]["value"] == value for row in rows if name in row)


@pytest.mark.parametrize("query", list(QUESTIONS), ids=lambda q: q.name)
def test_the_editor_link_opens_the_bound_query_and_it_runs(client, query):
    body = client.get(_example(query)).json()
    editor = client.get(body["editor"], headers={"Accept": "text/html"})
    assert editor.status_code == 200
    sent = parse_qs(urlsplit(body["editor"]).query)["query"][0]
    config = editor.text.split('<script type="application/json" id="editor-config">', 1)[1].split("</script>", 1)[0]
    assert json.loads(config)["query"] == sent
    rows = _rows(client.post("/sparql", data={"query": sent}, headers={"Accept": SPARQL_JSON}))
    assert len(rows) == len(body["rows"])


def test_the_parameterised_questions_have_examples_to_run():
    """The two tests above bind a parameter only through a question's example: most questions have one."""
    with_params = [q for q in QUESTIONS if q.params]
    assert with_params and all(q.example for q in with_params if any(p.required for p in q.params))


def test_a_label_column_is_shown_when_its_iri_column_is_an_unbound_parameter(client):
    """exchanges.rq projects ?venue (a parameter, unbound here) and ?venueLabel (the venues' names)."""
    listed = client.get("/queries/exchanges?format=json").json()
    venues = {row["venueLabel"] for row in listed["rows"] if row["venueLabel"]}
    assert venues and all(row["venue"] is None for row in listed["rows"])
    html = client.get("/queries/exchanges", headers={"Accept": "text/html"}).text
    headings = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "venueLabel" in headings or "Venue" in headings, headings
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert venues <= {unescape(cell) for cell in cells}


@pytest.mark.parametrize("query", list(QUESTIONS), ids=lambda q: q.name)
def test_question_tables_link_to_this_servers_pages(client, query):
    page = client.get(_example(query).replace("format=json", "format=html"))
    assert page.status_code == 200
    hrefs = re.findall(r"href='([^']*)'", page.text) + re.findall(r'href="([^"]*)"', page.text)
    assert not [h for h in hrefs if h.startswith("https://w3id.org/")], query.name
    for href in hrefs:
        if href.startswith("/id/"):
            assert client.get(unescape(href), headers={"Accept": "text/html"}).status_code == 200, href


def test_a_question_of_counts_has_a_bar_per_row(client):
    listed = client.get("/queries/states-by-releases?format=json").json()
    html = client.get("/queries/states-by-releases", headers={"Accept": "text/html"}).text
    svg = re.search(r'<svg[^>]*class="chart bar-chart".*?</svg>', html, re.S)
    assert svg, "no bar chart"
    assert svg.group(0).count("<rect") == len([r for r in listed["rows"] if any(isinstance(v, int) for v in r.values())])

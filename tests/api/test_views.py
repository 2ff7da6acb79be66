"""The result views of the SPARQL editor (POST /views/{kind}): SPARQL JSON results in, a figure out, drawn
by the question pages' code; results a view cannot draw get a stable error saying why."""

import re

import pytest

SG = "PREFIX sg: <https://w3id.org/swapgraph/ontology#> "
SVG_JSON = {"Content-Type": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


def results(client, query: str) -> dict:
    response = client.get("/sparql", params={"query": SG + query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:300]
    return response.json()


def view(client, kind: str, body: dict) -> tuple[int, str]:
    response = client.post(f"/views/{kind}", json=body)
    return response.status_code, response.text


def test_the_timeline_view_draws_one_mark_per_dated_row(client):
    data = results(client, "SELECT ?exchange ?date WHERE { ?exchange a sg:Exchange ; sg:date ?date }")
    status, html = view(client, "timeline", data)
    assert status == 200 and 'class="chart timeline-chart"' in html
    rows = {b["exchange"]["value"] for b in data["results"]["bindings"]}
    assert len(re.findall(r'<a href="/id/exchange/', html)) == len(rows) > 1


def test_the_map_view_places_venues_states_and_the_results_own_points(client):
    data = results(client, "SELECT DISTINCT ?place WHERE { { [] sg:venue ?place } UNION { ?place a sg:State } }")
    data["head"]["vars"].append("where")
    data["results"]["bindings"].append({"where": {"type": "literal", "value": "Point(2.35 48.86)",
                                                  "datatype": "http://www.opengis.net/ont/geosparql#wktLiteral"}})
    status, html = view(client, "map", data)
    assert status == 200
    drawn = set(re.findall(r'data-iri="([^"]*)"', html))
    asked = {b["place"]["value"] for b in data["results"]["bindings"] if "place" in b}
    caption = html[html.find("<figcaption"):]
    for iri in asked:  # drawn, or listed under the map with the reason
        assert iri in drawn or f'href="/{iri.split("/swapgraph/", 1)[1]}"' in caption, iri
    assert 'data-lat="48.86" data-lon="2.35"' in html  # a WKT point: longitude first


def test_the_bar_chart_view_names_its_axes(client):
    data = results(client, "SELECT ?state (COUNT(DISTINCT ?r) AS ?releases) WHERE { ?r a sg:Release ; "
                           "sg:releasingState ?state } GROUP BY ?state")
    status, html = view(client, "bars", data)
    assert status == 200 and "Releases by state" in html and "Releases →" in html
    assert html.count("<rect") == len(data["results"]["bindings"])


@pytest.mark.parametrize("kind, body, status, code", [
    ("bars", {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "a"}}]}},
     422, "nothing_to_draw"),
    ("timeline", {"head": {"vars": ["x"]}, "results": {"bindings": []}}, 422, "nothing_to_draw"),
    ("map", b"not json", 400, "bad_results"),
    ("map", {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": "no term"}]}}, 400, "bad_results"),
    ("pie", {"head": {"vars": []}, "results": {"bindings": []}}, 404, "unknown_view"),
])
def test_what_a_view_cannot_draw_gets_a_clear_error(client, kind, body, status, code):
    response = client.post(f"/views/{kind}", json=body) if not isinstance(body, bytes) else \
        client.post(f"/views/{kind}", content=body, headers=SVG_JSON)
    assert response.status_code == status and response.json()["error"] == code, response.text


def test_a_view_refuses_a_body_over_the_size_limit(client):
    limit = client.app.state.settings.max_body_bytes
    response = client.post("/views/map", content=b" " * (limit + 1), headers=SVG_JSON)
    assert response.status_code == 413

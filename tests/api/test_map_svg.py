"""The map of venues and states: places found in the gazetteer, drawn where their coordinates say, on the
exchanges page and the exchanges question; what cannot be placed is listed, not guessed."""

import re
from html import unescape

import pytest

from api import map_svg

PLACE = re.compile(r'<a href="([^"]*)" class="place (venue|state)" data-iri="([^"]*)" data-lat="([^"]*)" '
                   r'data-lon="([^"]*)"><title>[^<]*</title>(?:<circle cx="([\d.]+)" cy="([\d.]+)"|<rect x="([\d.]+)" y="([\d.]+)")')


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


def select(client, query: str) -> list[dict]:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:300]
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def drawn(html: str) -> dict[str, dict]:
    places = {}
    for href, kind, iri, lat, lon, cx, cy, rx, ry in PLACE.findall(html):
        x, y = (float(cx), float(cy)) if cx else (float(rx) + 5, float(ry) + 5)
        places[unescape(iri)] = {"kind": kind, "href": href, "lat": float(lat), "lon": float(lon), "x": x, "y": y}
    return places


def test_venue_labels_name_their_city():
    assert map_svg.locate_venue("Ankara Esenboğa Airport")["countrycode"] == "TR"  # not a US town "Airport"
    assert map_svg.locate_venue("Kursk region")["name"] == "Kursk"
    assert map_svg.locate_venue("Belarus-Ukrainian border") is None
    assert map_svg.locate_state("DE")["name"] == "Berlin" and map_svg.locate_state("XX") is None


def test_exchanges_page_draws_every_venue_and_state(client):
    html = client.get("/exchanges").text
    places = drawn(html)
    venues = {r["v"] for r in select(client, "PREFIX sg: <https://w3id.org/swapgraph/ontology#> "
                                             "SELECT DISTINCT ?v WHERE { ?x a sg:Exchange ; sg:venue ?v }")}
    states = {r["s"] for r in select(client, "PREFIX sg: <https://w3id.org/swapgraph/ontology#> "
                                             "SELECT DISTINCT ?s WHERE { ?x a sg:Exchange ; sg:party ?s . ?s sg:isoCode ?iso }")}
    assert venues and states
    caption = html[html.find('class="picture map-figure"'):]
    caption = caption[:caption.find("</figure>")]
    for venue in venues:
        assert venue in places or f'href="/{venue.split("/swapgraph/", 1)[1]}"' in caption.split("Not on the map", 1)[-1]
    assert any(places.get(v, {}).get("kind") == "venue" for v in venues)
    assert states <= {iri for iri, p in places.items() if p["kind"] == "state"}
    # drawn where the coordinates say: east is right, north is up
    ordered = sorted(places.values(), key=lambda p: p["lon"])
    assert [p["x"] for p in ordered] == sorted(p["x"] for p in ordered)
    ordered = sorted(places.values(), key=lambda p: -p["lat"])
    assert [p["y"] for p in ordered] == sorted(p["y"] for p in ordered)
    assert all(p["href"].startswith("/id/") for p in places.values())


def test_exchanges_question_has_the_map_of_its_rows(client):
    html = client.get("/queries/exchanges", headers={"Accept": "text/html"}).text
    assert "Where the exchanges in this table took place" in html
    assert any(p["kind"] == "venue" for p in drawn(html).values())

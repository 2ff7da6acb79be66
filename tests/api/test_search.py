"""Search and the index pages, on the graph built from the corpus: names, alternative names, quotes."""

import re

import pytest


SPARQL_JSON = {"Accept": "application/sparql-results+json"}
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


def _select(client, query: str) -> list[dict]:
    response = client.get("/sparql", params={"query": query}, headers=SPARQL_JSON)
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def _results(client, text: str) -> dict[str, list[dict]]:
    body = client.get("/search", params={"q": text, "format": "json"}).json()
    return {group["type"]: group["results"] for group in body["groups"]}


def test_an_alternative_label_finds_its_entity_grouped_by_type(client):
    rows = _select(client, "SELECT ?x ?alt ?label WHERE { ?x skos:altLabel ?alt ; rdfs:label ?label ; a sg:Person }")
    assert rows, "no person has an alternative label in the corpus"
    for row in rows[:5]:
        found = _results(client, row["alt"])
        people = [r["iri"] for name in ("People", "Detainees") for r in found.get(name, [])]
        assert row["x"] in people, (row["alt"], found.keys())


def test_a_quote_is_found_by_its_words_with_its_document(client):
    quote = _select(client, "SELECT ?ev ?q WHERE { ?ev a sg:Evidence ; sg:quote ?q } ORDER BY ?ev LIMIT 1")[0]
    words = " ".join(quote["q"].split()[1:5])
    found = _results(client, words)
    assert quote["ev"] in [r["iri"] for r in found["Quotes"]]
    html = client.get("/search", params={"q": words}, headers=HTML).text
    assert "<mark>" in html and 'href="/id/document/' in html


def test_the_search_text_is_bound_never_pasted(client):
    for text in ['") } SELECT * WHERE { ?s ?p ?o } #', "}} DROP ALL", "\\u0022", "'", "<script>alert(1)</script>"]:
        response = client.get("/search", params={"q": text}, headers=HTML)
        assert response.status_code == 200, (text, response.text[:200])
        assert "<script>alert(1)</script>" not in response.text
        found = client.get("/search", params={"q": text, "format": "json"}).json()["groups"]
        matches = [m["text"] for g in found for r in g["results"] for m in r["matches"]]
        assert all(text.lower() in m.lower() for m in matches), (text, matches[:3])  # matched as text, not syntax


def test_a_too_long_search_is_a_422(client):
    response = client.get("/search", params={"q": "x" * 500, "format": "json"})
    assert response.status_code == 422 and response.json()["error"] == "search_too_long"


def test_every_page_has_the_search_box(client):
    for path in ("/", "/exchanges", "/queries", "/sparql", "/ontology", "/void", "/id/person/evan-gershkovich", "/id/"):
        html = client.get(path, headers=HTML).text
        assert re.search(r'<form class="search" role="search" action="/search"', html), path
        assert '<label for="site-search"' in html, path


def test_the_index_pages_list_every_entity_of_their_kind(client):
    kinds = client.get("/id/", params={"format": "json"}).json()["kinds"]
    assert {"person", "exchange", "state"} <= {k["kind"] for k in kinds}
    for kind in ("person", "exchange", "state", "document"):
        expected = {r["x"] for r in _select(client, f'SELECT DISTINCT ?x WHERE {{ ?x ?p ?o FILTER(STRSTARTS(STR(?x), '
                                                   f'"https://w3id.org/swapgraph/id/{kind}/")) }}')}
        listed = client.get(f"/id/{kind}/", params={"format": "json"}).json()["entities"]
        assert {e["iri"] for e in listed} == expected, kind
        html = client.get(f"/id/{kind}/", headers=HTML).text
        assert all(f'href="{e["href"]}"' in html for e in listed)
    assert client.get("/id/nothing-like-this/", headers=HTML).status_code == 404

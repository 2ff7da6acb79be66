"""/explain on the real graph: asserted and inferred facts, facts that do not hold, label resolution."""

from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.executor import Executor
from api.settings import Settings
from graph.build import build
from graph.store import StoreLayout
from vocab import ID, SG

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
KARA_MURZA = str(ID) + "person/vladimir-kara-murza"
FLOWN_TO_GERMANY = "They were flown to Germany after being released"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    layout = StoreLayout(tmp_path_factory.mktemp("explain"))
    build(layout)
    with Executor.from_path(layout.current_build(), workers=2) as executor:
        with TestClient(create_app(Settings(workers=2), executor=executor), raise_server_exceptions=False) as client:
            yield client


def ask(web, s, p, o, accept="application/json", **extra):
    return web.get("/explain?" + urlencode({"s": s, "p": p, "o": o, **extra}), headers={"Accept": accept})


def leaves(node):
    """Every node of the tree without derivations (where an explanation bottoms out)."""
    if not node.get("derivations"):
        yield node
    for derivation in node.get("derivations", []):
        for premise in derivation["premises"]:
            yield from leaves(premise)


def test_asserted_fact_with_its_quote(web):
    response = ask(web, "person:evan-gershkovich", "sg:employer", "org:wall-street-journal")
    assert response.status_code == 200
    body = response.json()
    assert body["holds"] is True and body["kind"] == "asserted"
    evidence = body["evidence"][0]
    assert evidence["quote"] == "Evan Gershkovich, a reporter for The Wall Street Journal"
    assert evidence["document"]["fileName"] == "000_866c1bb2713c0bfc.txt"
    assert evidence["endOffset"] - evidence["startOffset"] == len(evidence["quote"])


def test_inferred_fact_down_to_the_quotes(web):
    response = ask(web, "Vladimir Kara-Murza", "released to", "Germany")
    assert response.status_code == 200
    body = response.json()
    assert body["holds"] is True and body["kind"] == "inferred"
    assert body["subject"]["iri"] == KARA_MURZA
    derivation = body["derivations"][0]
    assert derivation["rule"]["id"] == "prp-spo2"
    assert derivation["rule"]["label"]
    premises = {(p["predicate"]["curie"], p["kind"]) for p in derivation["premises"]}
    assert ("sg:receivingState", "asserted") in premises
    assert ("sg:releaseOf", "inferred") in premises
    assert ("owl:propertyChainAxiom", "axiom") in premises
    # recursively: every branch ends in evidence, the registry or an ontology axiom
    ends = list(leaves(body))
    assert all(leaf["kind"] in ("asserted", "registry", "axiom") for leaf in ends)
    assert all(leaf.get("evidence") for leaf in ends if leaf["kind"] == "asserted")
    quotes = {e["quote"] for leaf in ends for e in leaf.get("evidence", [])}
    assert FLOWN_TO_GERMANY in quotes


def test_explanation_as_html_nested_lists_with_quotes(web):
    response = ask(web, KARA_MURZA, str(SG.releasedTo), str(ID) + "state/DE", accept=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f"<mark>{FLOWN_TO_GERMANY}</mark>" in html
    assert 'href="/rule/prp-spo2"' in html and "<ul>" in html
    assert ask(web, KARA_MURZA, "sg:releasedTo", "state:DE", format="html").headers["content-type"].startswith("text/html")


def test_a_fact_that_does_not_hold_is_404(web):
    response = ask(web, "Evan Gershkovich", "released by", "United States")
    assert response.status_code == 404
    body = response.json()
    assert body["holds"] is False and body["error"] == "does_not_hold"
    assert body["subject"]["iri"] == str(ID) + "person/evan-gershkovich"
    assert body["object"]["iri"] == str(ID) + "state/US"
    html = ask(web, "Evan Gershkovich", "released by", "United States", accept=BROWSER)
    assert html.status_code == 404 and "Does not hold" in html.text


def test_labels_resolve_case_insensitively_and_by_alternative_label(web):
    assert ask(web, "evan gershkovich", "RELEASED BY", "russia").status_code == 200
    body = ask(web, "Gershkovich", "released in", "exchange:2024-08-01-ankara").json()  # skos:altLabel
    assert body["subject"]["iri"] == str(ID) + "person/evan-gershkovich"


def test_literal_object(web):
    body = ask(web, "Evan Gershkovich", "sg:charge", "espionage").json()
    assert body["holds"] is True and body["object"] == {"value": "espionage"}


def test_ambiguous_label_is_422_with_candidates(web):
    response = ask(web, "venue", "rdfs:label", "venue")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ambiguous_term" and body["parameter"] == "s"
    assert {c["iri"] for c in body["candidates"]} == {str(SG.venue), str(SG.Venue)}


def test_unknown_label_is_422_with_similar_labels(web):
    response = ask(web, "Evan", "released by", "Russia")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unknown_term" and body["parameter"] == "s"
    assert str(ID) + "person/evan-gershkovich" in {c["iri"] for c in body["candidates"]}
    html = ask(web, "Evan", "released by", "Russia", accept=BROWSER)
    assert html.status_code == 422 and "Evan Gershkovich" in html.text


def test_missing_parameters(web):
    assert web.get("/explain", headers={"Accept": "application/json"}).status_code == 422
    assert web.get("/explain?s=x", headers={"Accept": "application/json"}).status_code == 422
    form = web.get("/explain", headers={"Accept": BROWSER})
    assert form.status_code == 200 and '<label for="s">' in form.text

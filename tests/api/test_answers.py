"""Canned questions on the corpus: counts that agree with the pages, yes/no statements, the new questions."""

import re

import pytest

from tests.api.test_explain import leaves
from tests.api.test_site import client  # noqa: F401 - the app on a graph built from the corpus

BROWSER = {"Accept": "text/html"}


def answer(client, name: str, **params):
    return client.get(f"/queries/{name}", params={**params, "format": "json"})


def rows(client, name: str, **params) -> list[dict]:
    response = answer(client, name, **params)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def page_count(client, key: str) -> int | None:
    """The "Released" figure of an exchange's page (the timeline shows the same figure)."""
    html = client.get(f"/exchanges/{key}", headers=BROWSER).text
    found = re.search(r"<dt>Released</dt>\s*<dd>(\d+)", html)
    return int(found.group(1)) if found else None


def test_the_exchanges_question_and_the_exchange_pages_give_the_same_numbers(client):
    compared = 0
    for row in rows(client, "exchanges"):
        count, qualifier = row.get("releasedCount"), row.get("countQualifier")
        key = row["exchange"].rsplit("/", 1)[1]
        if count is None or qualifier:  # only a claimed lower bound: the pages draw releases
            continue
        assert page_count(client, key) == int(count), key
        compared += 1
    assert compared


def test_states_by_releases_counts_each_person_once(client):
    """No state released more people than all the exchanges it took part in released together."""
    per_exchange = {r["exchange"]: int(r["releasedCount"]) for r in rows(client, "exchanges")
                    if r.get("releasedCount") is not None and not r.get("partOf")}
    for row in rows(client, "states-by-releases"):
        state = row["state"]
        took_part = rows(client, "exchanges", state=state)
        ceiling = sum(per_exchange.get(r["exchange"], 0) for r in took_part)
        assert int(row["peopleReleased"]) <= ceiling, state
        assert int(row["peopleReleased"]) <= int(row["namedPeopleReleased"]) + int(
            row["peopleInGroupsReleased"])


def test_agreed_figures_are_asked_for_not_counted(client):
    done = rows(client, "count-claims")
    agreed = rows(client, "count-claims", status="sg:agreed")
    assert done and agreed
    assert all(r["status"].endswith("#done") for r in done)
    assert all(r["status"].endswith("#agreed") for r in agreed)
    assert not {r["claim"] for r in done} & {r["claim"] for r in agreed}


@pytest.mark.parametrize("name, person, statement", [
    ("releases", "Alexei Navalny", "no release of Alexei Navalny is recorded"),
    ("releases", "Marc Fogel", "no release of Marc Fogel is recorded"),
    ("detainee", "Vladimir Putin", "Vladimir Putin is not recorded as a detainee or as released"),
])
def test_a_known_person_without_rows_gets_a_plain_statement(client, name, person, statement):
    response = answer(client, name, person=person)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == [] and body["statement"] == statement
    html = client.get(f"/queries/{name}", params={"person": person}, headers={"Accept": "text/html"})
    assert html.status_code == 200 and statement in html.text


def test_an_unknown_value_is_still_a_422(client):
    response = answer(client, "releases", person="Nobody Whatsoever")
    assert response.status_code == 422


def test_a_released_person_has_rows_and_no_statement(client):
    body = answer(client, "releases", person="Evan Gershkovich").json()
    assert body["rows"] and "statement" not in body


def test_the_detainee_profile_has_employer_and_groups(client):
    [row] = answer(client, "detainee", person="Evan Gershkovich").json()["rows"]
    assert row["employer"] == "The Wall Street Journal"
    assert "three prisoners released to the U.S." in row["memberOf"]
    assert row["releasedToLabel"] == "United States"  # from the group he was one of


def test_the_exchange_profile(client):
    [row] = answer(client, "exchange", exchange="exchange:2024-08-01-ankara").json()["rows"]
    assert row["venueCountryLabels"] == "Turkey" and "Turkey" not in row["partyLabels"]
    assert "Turkey" in row["mediatorLabels"] and "Evan Gershkovich" in row["namedPeople"]
    assert "released by Belarus: 16" in row["releasedPerSide"]


def test_who_announced_and_who_initiated(client):
    announced = answer(client, "announcements", exchange="exchange:2025-05-23").json()["rows"]
    assert any(r["agentLabel"] == "Donald Trump" and r["timing"] for r in announced)
    initiated = answer(client, "initiated-by").json()["rows"]
    attributed = [r for r in initiated if r["event"].endswith("2025-05-1000-for-1000")]
    assert attributed and all(r["accordingTo"] for r in attributed)  # a claim, with who made it


@pytest.mark.parametrize("name, params", [
    ("statements", {"speaker": "Volodymyr Zelenskyy"}),
    ("rankings", {}),
    ("life-events", {"person": "Rico Krieger"}),
    ("movements", {}),
    ("considered-for", {}),
    ("people-by-role", {"role": "journalist"}),
    ("releases-by-citizenship", {"exchange": "exchange:2024-08-01-ankara"}),
    ("search", {"text": "marijuana"}),
    ("officials", {"person": "Donald Trump"}),
])
def test_the_new_questions_answer(client, name, params):
    response = answer(client, name, **params)
    assert response.status_code == 200, response.text
    assert response.json()["rows"]


def test_releases_by_citizenship_counts_each_person_once(client):
    rows = answer(client, "releases-by-citizenship", exchange="exchange:2024-08-01-ankara").json()["rows"]
    total = {r["exchange"]: r for r in answer(client, "exchanges").json()["rows"]}
    assert sum(int(r["people"]) for r in rows) == int(total[rows[0]["exchange"]]["releasedCount"])


RELEASED_BY_NAME = """
PREFIX sg: <https://w3id.org/swapgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?name (SAMPLE(?c) AS ?citizenship) WHERE {
  ?p a sg:Person ; rdfs:label ?name ; sg:releasedIn <https://w3id.org/swapgraph/id/exchange/2024-08-01-ankara> .
  OPTIONAL { ?p sg:citizenship ?c }
} GROUP BY ?name"""


def test_releases_by_citizenship_splits_a_group_by_its_named_members(client):
    rows_ = rows(client, "releases-by-citizenship", exchange="exchange:2024-08-01-ankara")
    named = [(name, r["citizenship"]) for r in rows_ for name in (r.get("named") or "").split("; ") if name]
    response = client.get("/sparql", params={"query": RELEASED_BY_NAME},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    released = {b["name"]["value"]: b.get("citizenship", {}).get("value") for b in response.json()["results"]["bindings"]}
    assert sorted(name for name, _ in named) == sorted(released)  # every named person, each once
    for name, citizenship in named:  # a named member counts under their own stated citizenship
        assert released[name] in (None, citizenship), name


def test_releases_give_a_named_member_the_receiving_state_of_their_group(client):
    listed = rows(client, "releases", releasedTo="state:US", exchange="exchange:2024-08-01-ankara")
    people = {r["personLabel"] for r in listed if r.get("groupSize") is None}
    response = client.get("/sparql", params={"query": RELEASED_TO_US_AS_MEMBERS},
                          headers={"Accept": "application/sparql-results+json"})
    members = {b["name"]["value"] for b in response.json()["results"]["bindings"]}
    assert members and members <= people


RELEASED_TO_US_AS_MEMBERS = """
PREFIX sg: <https://w3id.org/swapgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?name WHERE {
  ?p sg:memberOf ?g ; rdfs:label ?name . ?r sg:releasedGroup ?g ; sg:receivingState <https://w3id.org/swapgraph/id/state/US> ;
     sg:inExchange <https://w3id.org/swapgraph/id/exchange/2024-08-01-ankara> .
}"""


def test_explain_shows_a_membership_derived_destination_down_to_its_quotes(client):
    response = client.get("/explain", params={"s": "person:evan-gershkovich", "p": "sg:releasedTo", "o": "state:US"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["holds"] is True and body["kind"] == "inferred"
    [derivation] = [d for d in body["derivations"] if d["rule"]["id"] == "sg-member-release"]
    premises = {p["predicate"]["curie"]: p for p in derivation["premises"]}
    assert premises["sg:memberOf"]["kind"] == "asserted" and premises["sg:receivingState"]["kind"] == "asserted"
    quotes = {e["quote"] for leaf in leaves(body) for e in leaf.get("evidence", [])}
    assert "thirteen of the prisoners held by Russia and Belarus were released to Germany and three to the U.S." in quotes
    assert any("Among those released were three American citizens" in q for q in quotes)

"""Canned questions answer: yes/no statements for known values, 422 only for unknown ones, the new questions."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.store import StoreLayout


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("answers-data")
    build(StoreLayout(data), SourcePaths())
    with TestClient(create_app(Settings(data_dir=data, workers=1)), raise_server_exceptions=False) as test_client:
        yield test_client


def answer(client, name: str, **params):
    return client.get(f"/queries/{name}", params={**params, "format": "json"})


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

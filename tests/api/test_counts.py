"""Counts agree everywhere: the exchanges question, the timeline and states-by-releases count each person once."""

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.store import StoreLayout

BROWSER = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("counts-data")
    build(StoreLayout(data), SourcePaths())
    with TestClient(create_app(Settings(data_dir=data, workers=1)), raise_server_exceptions=False) as test_client:
        yield test_client


def rows(client, name: str, **params) -> list[dict]:
    response = client.get(f"/queries/{name}", params={**params, "format": "json"})
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def value(cell):
    return cell.get("value") if isinstance(cell, dict) else cell


def page_count(client, key: str) -> int | None:
    """The "Released" figure of an exchange's page (the timeline shows the same figure)."""
    html = client.get(f"/exchanges/{key}", headers=BROWSER).text
    found = re.search(r"<dt>Released</dt>\s*<dd>(\d+)", html)
    return int(found.group(1)) if found else None


def test_the_exchanges_question_and_the_exchange_pages_give_the_same_numbers(client):
    compared = 0
    for row in rows(client, "exchanges"):
        count, qualifier = value(row.get("releasedCount")), value(row.get("countQualifier"))
        key = value(row["exchange"]).rsplit("/", 1)[1]
        if count is None or qualifier:  # only a claimed lower bound: the pages draw releases
            continue
        assert page_count(client, key) == int(count), key
        compared += 1
    assert compared


def test_states_by_releases_counts_each_person_once(client):
    """No state released more people than all the exchanges it took part in released together."""
    per_exchange = {value(r["exchange"]): int(value(r["releasedCount"])) for r in rows(client, "exchanges")
                    if value(r.get("releasedCount")) is not None and not value(r.get("partOf"))}
    for row in rows(client, "states-by-releases"):
        state = value(row["state"])
        took_part = rows(client, "exchanges", state=state)
        ceiling = sum(per_exchange.get(value(r["exchange"]), 0) for r in took_part)
        assert int(value(row["peopleReleased"])) <= ceiling, state
        assert int(value(row["peopleReleased"])) <= int(value(row["namedPeopleReleased"])) + int(
            value(row["peopleInGroupsReleased"]))


def test_agreed_figures_are_asked_for_not_counted(client):
    done = rows(client, "count-claims")
    agreed = rows(client, "count-claims", status="sg:agreed")
    assert done and agreed
    assert all(value(r["status"]).endswith("#done") for r in done)
    assert all(value(r["status"]).endswith("#agreed") for r in agreed)
    assert not {value(r["claim"]) for r in done} & {value(r["claim"]) for r in agreed}

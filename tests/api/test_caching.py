"""Cacheable answers (api.caching) from a real `swapgraph serve` on the corpus: ETag, Last-Modified,
Cache-Control, 304s, new tags after a new build is served, errors never stored."""

import time
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from api.settings import Settings
from graph.build import SourcePaths, build
from graph.catalog import Catalog
from graph.store import StoreLayout
from tests.api.test_reload import start_server, stop

CACHE_CONTROL = "public, max-age=7"  # not the default, to show the setting is the one applied
ASK = "ASK { ?s ?p ?o }"
ONE_EXCHANGE = "SELECT ?x WHERE { ?x a <https://w3id.org/swapgraph/ontology#Exchange> } ORDER BY ?x LIMIT 1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("caching-data")
    build(StoreLayout(data), SourcePaths())
    process, url = start_server(data, "--workers", "2", env={
        "SWAPGRAPH_CACHE_CONTROL": CACHE_CONTROL, "SWAPGRAPH_RELOAD_INTERVAL": "0.3"})
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            yield data, http
    finally:
        stop(process)


def answers(http: httpx.Client) -> dict[str, tuple[str, dict]]:
    """One GET of each kind the service answers about the data: (path, params) by name."""
    exchange = http.get("/sparql", params={"query": ONE_EXCHANGE}, headers={"Accept": "text/csv"}).text.split()[1]
    canned = next(query.name for query in Catalog.load(Settings().queries_dir)
                  if not any(param.required for param in query.params))
    return {
        "sparql": ("/sparql", {"query": ASK}),
        "canned": (f"/queries/{canned}", {}),
        "home page": ("/", {}),
        "exchanges page": ("/exchanges", {}),
        "linked data": (exchange.removeprefix("https://w3id.org/swapgraph"), {}),
        "void": ("/void", {}),
        "dump": ("/dumps/swapgraph.nq.gz", {}),
    }


def built_at(http: httpx.Client) -> datetime:
    return datetime.fromisoformat(http.get("/version").json()["dataset"]["built_at"])


def test_every_get_answer_carries_validators_and_revalidates_to_304(served):
    _, http = served
    build_time = built_at(http)
    for kind, (path, params) in answers(http).items():
        first = http.get(path, params=params)
        assert first.status_code == 200, kind
        tag = first.headers["etag"]
        assert tag.startswith('W/"') and tag.endswith('"'), kind
        assert first.headers["cache-control"] == CACHE_CONTROL, kind
        assert parsedate_to_datetime(first.headers["last-modified"]) == build_time, kind
        assert "accept" in first.headers["vary"].lower(), kind
        assert http.get(path, params=params).headers["etag"] == tag, kind  # the same request, the same tag

        again = http.get(path, params=params, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"", kind
        assert again.headers["etag"] == tag and again.headers["cache-control"] == CACHE_CONTROL, kind
        since = http.get(path, params=params, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304 and since.content == b"", kind

        stale = http.get(path, params=params, headers={"If-None-Match": 'W/"not-this-one"'})
        assert stale.status_code == 200 and stale.content == first.content, kind
        earlier = http.get(path, params=params, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        assert earlier.status_code == 200 and earlier.content == first.content, kind


def test_the_tag_depends_on_the_request_and_the_negotiated_representation(served):
    _, http = served
    path, _ = answers(http)["linked data"]
    html = http.get(path, headers={"Accept": "text/html"})
    turtle = http.get(path, headers={"Accept": "text/turtle"})
    assert html.headers["content-type"].startswith("text/html")
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert html.headers["etag"] != turtle.headers["etag"]
    crossed = http.get(path, headers={"Accept": "text/html", "If-None-Match": turtle.headers["etag"]})
    assert crossed.status_code == 200 and crossed.headers["content-type"].startswith("text/html")
    other_query = http.get("/sparql", params={"query": ASK + " LIMIT 1"})
    assert other_query.headers["etag"] != http.get("/sparql", params={"query": ASK}).headers["etag"]


def test_errors_are_never_stored_nor_answered_304(served):
    _, http = served
    for path, params, status in (("/queries/no-such-question", {}, 404), ("/sparql", {"query": "SELEC nothing"}, 400),
                                 ("/id/exchange/no-such-exchange", {}, 404)):
        response = http.get(path, params=params, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        assert response.status_code == status, path
        assert response.headers["cache-control"] == "no-store", path
        assert "etag" not in response.headers and "last-modified" not in response.headers, path


def test_a_current_tag_for_a_url_that_is_not_found_gets_the_404(served):
    """Only an answer that would be a 200 is "not modified": the tag a 404 URL would carry, or `*`, is no 304."""
    from api.caching import entity_tag

    _, http = served
    version = http.get("/version").json()["dataset"]["build"]
    path = "/id/exchange/no-such-exchange"
    scope = {"method": "GET", "scheme": "http", "path": path, "query_string": b""}
    tag = entity_tag(version, scope, {b"host": http.base_url.netloc.decode(), b"accept": "*/*"})
    for if_none_match in (tag, "*"):
        response = http.get(path, headers={"If-None-Match": if_none_match, "Accept": "*/*"})
        assert response.status_code == 404, if_none_match
        assert response.headers["cache-control"] == "no-store"
    found = http.get("/void", headers={"Accept": "*/*"})
    assert http.get("/void", headers={"If-None-Match": "*", "Accept": "*/*"}).status_code == 304
    assert http.get("/void", headers={"If-None-Match": found.headers["etag"], "Accept": "*/*"}).status_code == 304


def test_answers_about_the_process_are_not_labelled(served):
    _, http = served
    for path in ("/health", "/version"):
        response = http.get(path)
        assert response.status_code == 200 and "etag" not in response.headers, path


def test_a_new_build_served_changes_every_tag(served):
    data, http = served
    before = {kind: http.get(path, params=params) for kind, (path, params) in answers(http).items()}
    served_build = http.get("/version").json()["dataset"]["build"]
    build(StoreLayout(data), SourcePaths())
    new_build = StoreLayout(data).current_build().name
    assert new_build != served_build
    wait_for_build(http, new_build)
    for kind, (path, params) in answers(http).items():
        old = before[kind]
        response = http.get(path, params=params, headers={"If-None-Match": old.headers["etag"]})
        assert response.status_code == 200, kind  # the old tag no longer matches: the whole answer again
        assert response.headers["etag"] != old.headers["etag"], kind
        assert parsedate_to_datetime(response.headers["last-modified"]) == built_at(http), kind


def wait_for_build(http: httpx.Client, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while http.get("/version").json()["dataset"]["build"] != name:
        assert time.monotonic() < deadline, f"build {name} not served within {seconds} s"
        time.sleep(0.1)

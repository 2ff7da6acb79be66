"""Two stateless copies of the service behind a real nginx (deploy/nginx/swapgraph.conf.template), on the
embedded store and on one remote Oxigraph server: the same answers from either copy, cache hits,
revalidation by ETag, a new build published under load with no failed request and every copy on it
within seconds, and the cache serving the new build after it."""

import re
import time
from contextlib import ExitStack

import httpx
import pytest

from bench.replicas import (EmbeddedStore, Nginx, RemoteStore, copies_of, copy_env, make_builds, mixed_load,
                            nginx_binary, publish_everywhere, workload)
from tests.backends import servers

pytestmark = pytest.mark.skipif(
    nginx_binary() is None,
    reason="nginx is not installed: tests/deploy/setup-nginx.sh installs the Debian package (as root; `make test` "
           "runs it)")

MAX_AGE = 1  # seconds an answer is fresh in the proxy: short, so that the test sees revalidation
STALE_AFTER = MAX_AGE + 1.1  # nginx counts whole seconds: an answer stored at t is fresh until t + max-age + 1
VOID = ("/void", {"Accept": "text/turtle"})
SWITCH_SECONDS = 60  # every copy on the new build within this (a bound for this loaded machine; see bench.replicas)


@pytest.fixture(scope="module", params=["embedded", "remote"])
def deployment(request, tmp_path_factory):
    """Two copies behind nginx serving the first of three builds; the tests publish the others.
    embedded: each copy on its own data directory (publish --to); remote: both copies on one Oxigraph
    server (SWAPGRAPH_STORE=remote), each build published once, to the server."""
    workdir = tmp_path_factory.mktemp(f"replicas-{request.param}")
    with ExitStack() as stack:
        store = EmbeddedStore()
        if request.param == "remote":
            if servers.oxigraph_binary() is None:
                pytest.skip("the oxigraph server is missing: pip install oxigraph (a test dependency)")
            engine = servers.start_oxigraph(workdir / "oxigraph")
            stack.callback(engine.stop)
            store = RemoteStore(engine.settings())
        first, *unpublished = make_builds(workdir, 3)
        nginx = Nginx(workdir / "nginx", [])
        env = copy_env(nginx.host, f"public, max-age={MAX_AGE}", 2)
        copies = stack.enter_context(copies_of(first, workdir, 2, env, store))
        nginx.upstreams = [copy.address for copy in copies]
        stack.enter_context(nginx)
        http = stack.enter_context(httpx.Client(base_url=nginx.url, timeout=60))
        yield {"nginx": nginx, "copies": copies, "http": http, "store": store, "unpublished": unpublished}


def publish_next(deployment) -> tuple[object, float]:
    """Publish the next build nobody has served yet: (its source, seconds until every copy serves it)."""
    source = deployment["unpublished"].pop(0)
    return source, publish_everywhere(source, deployment["copies"], SWITCH_SECONDS, deployment["store"])


def modified(body: str) -> str:
    """The build time VoID states (dcterms:modified)."""
    match = re.search(r'modified>?\s+"([^"]+)"', body)
    assert match, body[:500]
    return match.group(1)


def built_at(copy) -> str:
    return httpx.get(copy.url + "/version", timeout=5).json()["dataset"]["built_at"]


def test_either_copy_gives_the_same_answer_and_tag(deployment):
    nginx, copies = deployment["nginx"], deployment["copies"]
    for path, params, headers in workload(nginx.url):
        headers = {**headers, "Host": nginx.host}  # as nginx forwards it
        one, other = (httpx.get(copy.url + path, params=params, headers=headers, timeout=30) for copy in copies)
        assert one.status_code == other.status_code == 200, path
        assert one.headers["etag"] == other.headers["etag"], path
        assert one.content == other.content, path


def test_the_proxy_balances_caches_and_revalidates_by_etag(deployment):
    nginx, http = deployment["nginx"], deployment["http"]
    path, headers = VOID
    time.sleep(STALE_AFTER)  # whatever an earlier test left in the cache is stale now
    first = http.get(path, headers=headers)
    assert first.status_code == 200 and first.headers["x-cache-status"] in {"MISS", "EXPIRED", "REVALIDATED"}
    hit = http.get(path, headers=headers)
    assert hit.headers["x-cache-status"] == "HIT" and hit.content == first.content
    time.sleep(STALE_AFTER)
    revalidated = http.get(path, headers=headers)  # nginx asked a copy with If-None-Match: 304, kept its copy
    assert revalidated.headers["x-cache-status"] == "REVALIDATED" and revalidated.content == first.content
    for offset in range(4):  # answers not stored yet: round robin sends them to one copy, then the other
        query = f"SELECT ?s WHERE {{ ?s ?p ?o }} ORDER BY ?s LIMIT 1 OFFSET {1000 + offset}"
        assert http.get("/sparql", params={"query": query}).headers["x-cache-status"] == "MISS"
    answered_by = {address for address, count in nginx.upstreams_seen().items() if count and address != "-"}
    assert answered_by >= {copy.address for copy in deployment["copies"]}


def test_the_cache_serves_a_newly_published_build_within_max_age(deployment):
    copies, http = deployment["copies"], deployment["http"]
    path, headers = VOID
    old = http.get(path, headers=headers)
    assert modified(old.text) == built_at(copies[0])
    publish_next(deployment)
    new_time = built_at(copies[0])
    assert new_time != modified(old.text) and all(built_at(copy) == new_time for copy in copies)
    deadline = time.monotonic() + STALE_AFTER + 1
    while True:
        answer = http.get(path, headers=headers)
        if modified(answer.text) == new_time:
            break
        assert time.monotonic() < deadline, "the proxy still serves the previous build's answer"
        assert answer.headers["x-cache-status"] == "HIT"  # only a fresh stored answer may be the old one
        time.sleep(0.1)
    assert answer.headers["x-cache-status"] in {"EXPIRED", "MISS"}
    assert answer.headers["etag"] != old.headers["etag"]
    again = http.get(path, headers=headers)
    assert again.headers["x-cache-status"] == "HIT" and modified(again.text) == new_time


def test_a_build_published_under_mixed_load_fails_no_request(deployment):
    nginx, copies = deployment["nginx"], deployment["copies"]
    requests = workload(nginx.url)
    tally, elapsed, (source, switch) = mixed_load(nginx.url, requests, clients=8, seconds=12,
                                                  midway=lambda: publish_next(deployment))
    assert tally.failures == []
    assert len(tally.latencies) > 50  # the load did run: a few per second at the least, on a busy machine
    assert switch.served < SWITCH_SECONDS
    assert all(copy.build_served() == source.current_build().name for copy in copies)
    assert tally.cache.get("HIT", 0) > 0

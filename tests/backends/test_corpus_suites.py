"""The service on the real graph, on every backend: the canned questions' answers and pages
(tests/api/test_answers.py), /explain (tests/api/test_explain.py), and linked data
(tests/api/test_linked_data.py: negotiation, VoID counts, dumps, named graphs, and dereferencing a
sample of the graph's IRIs in every format). The embedded store of the same build is the reference."""

import re

import pytest

from tests.api.test_answers import *  # noqa: F401,F403 - the suites themselves, collected once per backend
from tests.api.test_explain import *  # noqa: F401,F403
from tests.api.test_linked_data import (  # noqa: F401
    BASE, BROWSER, FORMATS, ID, all_entity_iris, ox, test_accept_with_q_values_and_wildcards, test_context,
    test_document_page_marks_every_quote, test_dumps_decompress_and_parse_with_every_named_graph,
    test_entity_in_each_format_by_accept, test_entity_page_shows_each_sentence_once_with_all_its_facts,
    test_entity_page_shows_label_types_facts_evidence_and_inferred, test_head, test_named_graph,
    test_ontology_graph_by_negotiation, test_ontology_page_documents_every_term, test_rule_page,
    test_statement_evidence_and_derivation_pages, test_the_same_triples_in_every_format,
    test_unknown_entity_is_404_with_a_json_error_for_json_clients, test_unknown_graph_rule_and_dump_are_404,
    test_void_as_json_ld_and_html, test_void_counts_match_the_store)
from tests.backends.conftest import deploy, serve

SAMPLE_EVERY = 25  # one IRI in so many, spread over every kind (the embedded suite dereferences them all)


@pytest.fixture(scope="module")
def client(engines, backend, corpus_data):
    with serve(deploy(engines, backend, corpus_data, "corpus"), workers=3, query_timeout=30.0) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def web(client):
    return client


@pytest.fixture(scope="module")
def store(corpus_store):
    return corpus_store


def test_a_sample_of_iris_dereferences_in_every_format(web, store):
    iris = all_entity_iris(store)
    kinds = {}
    for iri in iris:
        kinds.setdefault(iri[len(ID):].split("/")[0], []).append(iri)
    sample = sorted({found[0] for found in kinds.values()} | set(iris[::SAMPLE_EVERY]))
    problems = []
    for iri in sample:
        path = iri[len(BASE) - 1:]
        for accept, (_, _, ox_format) in FORMATS.items():
            response = web.get(path, headers={"Accept": accept})
            if response.status_code != 200:
                problems.append(f"{iri} {accept}: {response.status_code}")
                continue
            triples = list(ox.parse(response.content, format=ox_format, base_iri=BASE))
            if not any(iri in (t.subject.value, getattr(t.object, "value", None)) for t in triples):
                problems.append(f"{iri} {accept}: the description does not mention it")
        page = web.get(path, headers={"Accept": BROWSER})
        if page.status_code != 200 or "<h1>" not in page.text:
            problems.append(f"{iri} html: {page.status_code}")
    assert len(sample) > 20 and problems == []


@pytest.fixture(scope="module")
def reference(corpus_data):
    """The service on the embedded store of the same build: what every backend's pages are held to."""
    with serve({"data_dir": corpus_data}, workers=1) as test_client:
        yield test_client


def derived_section(html: str) -> str:
    found = re.search(r"<h2>Facts it derived in this build</h2><ul>.*?</ul>", html, re.S)
    return found.group(0) if found else ""


def test_the_home_page_void_and_derived_counts_are_the_embedded_stores(client, reference):
    """The build's summary travels with the build (`swapgraph push`): a remote version's pages read the
    same counts, derivations per predicate included (only the summary holds those), as the embedded one."""
    summary = reference.app.state.dataset.summary
    assert summary["counts"]["derived"] and client.app.state.dataset.summary == summary
    assert client.get("/", headers={"Accept": BROWSER}).text == reference.get("/", headers={"Accept": BROWSER}).text
    void = [ox.Dataset(ox.parse(web.get("/void", headers={"Accept": "application/n-triples"}).content,
                                format=ox.RdfFormat.N_TRIPLES)) for web in (client, reference)]
    assert void[0] == void[1]
    rules = sorted({rule.rsplit("/", 1)[1] for per_rule in summary["counts"]["derived"].values() for rule in per_rule})
    for rule in rules:
        pages = [derived_section(web.get(f"/rule/{rule}", headers={"Accept": BROWSER}).text) for web in (client, reference)]
        assert pages[0] == pages[1] and "<li>none</li>" not in pages[0], rule

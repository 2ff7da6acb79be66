"""The SPARQL 1.1 Protocol acceptance checklist (shared/reference/sparql-protocol-checklist.md), as data.

Each case restates one test of the W3C protocol suite (w3c/rdf-tests, sparql/sparql11/protocol/
manifest.ttl) by its number and name; `expect` says what must come back.
"""

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from tests.api.conftest import FOAF_DOCUMENT, G, RDF_TYPE

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
BOTH = f"ASK {{ <{G}data1.rdf> a ?t . <{G}data2.rdf> a ?t }}"
NAMED = f"ASK {{ GRAPH ?g1 {{ <{G}data1.rdf> a ?t }} GRAPH ?g2 {{ <{G}data2.rdf> a ?t }} }}"
FULL = (
    f"ASK {{ <{G}data3.rdf> a ?t . GRAPH ?g1 {{ <{G}data1.rdf> a ?t }} GRAPH ?g2 {{ <{G}data2.rdf> a ?t }} "
    f"FILTER(?g1 != <{G}data3.rdf> && ?g2 != <{G}data3.rdf>) }}"
)
MULTIPLE = (
    f"ASK FROM <{G}data3.rdf> {{ GRAPH ?g1 {{ <{G}data1.rdf> a ?t }} GRAPH ?g2 {{ <{G}data2.rdf> a ?t }} "
    f"FILTER NOT EXISTS {{ <{G}data3.rdf> a ?t }} }}"
)


def q(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class Case:
    number: int
    name: str
    method: str
    url: str  # path and query string, already encoded
    expect: str  # boolean | tabular | rdf | a status code as text
    content_type: str | None = None
    body: bytes = b""
    headers: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.number:02d}-{self.name}"


EP = "/sparql"
D0, D1, D2, D3 = (q(f"{G}data{n}.rdf") for n in range(4))

QUERY_CASES = [
    Case(1, "query_post_form", "POST", f"{EP}?default-graph-uri={D0}", "boolean", FORM, b"query=ASK%20%7B%7D"),
    Case(2, "query_dataset_default_graphs_get", "GET",
         f"{EP}?query={q(BOTH)}&default-graph-uri={D1}&default-graph-uri={D2}", "boolean"),
    Case(3, "query_dataset_default_graphs_post", "POST",
         f"{EP}?default-graph-uri={D1}&default-graph-uri={D2}", "boolean", DIRECT, BOTH.encode()),
    Case(4, "query_dataset_named_graphs_post", "POST",
         f"{EP}?named-graph-uri={D1}&named-graph-uri={D2}", "boolean", DIRECT, NAMED.encode()),
    Case(5, "query_dataset_named_graphs_get", "GET",
         f"{EP}?query={q(NAMED)}&named-graph-uri={D1}&named-graph-uri={D2}", "boolean"),
    Case(6, "query_dataset_full", "POST",
         f"{EP}?default-graph-uri={D3}&named-graph-uri={D1}&named-graph-uri={D2}", "boolean", DIRECT, FULL.encode()),
    Case(7, "query_multiple_dataset", "POST",
         f"{EP}?named-graph-uri={D1}&named-graph-uri={D2}", "boolean", DIRECT, MULTIPLE.encode()),
    Case(8, "query_get", "GET", f"{EP}?query=ASK%20%7B%7D&default-graph-uri={D0}", "boolean"),
    Case(9, "query_content_type_select", "POST", EP, "tabular", DIRECT, b"SELECT (1 AS ?value) {}"),
    Case(10, "query_content_type_ask", "POST", EP, "boolean", DIRECT, b"ASK {}"),
    Case(11, "query_content_type_describe", "POST", EP, "rdf", DIRECT, b"DESCRIBE <http://example.org/>"),
    Case(12, "query_content_type_construct", "POST", EP, "rdf", DIRECT, b"CONSTRUCT { <s> <p> 1 } WHERE {}"),
    Case(20, "query_post_direct", "POST", EP, "boolean", DIRECT, b"ASK {}"),
]

# W3C's protocol tests send these Accept headers; every one must give a parsable, correctly typed body.
ACCEPTS = {
    "boolean": ["application/sparql-results+json", "application/sparql-results+xml", None,
                "application/sparql-results+xml, application/sparql-results+json;q=0.5"],
    "tabular": ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values", None],
    "rdf": ["text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json",
            "application/n-quads", "application/trig", None, "text/turtle;q=0.5, application/rdf+xml"],
}

REFUSAL_CASES = [
    Case(21, "bad_query_method", "PUT", f"{EP}?query=ASK%20%7B%7D", "405"),
    Case(22, "bad_multiple_queries", "GET", f"{EP}?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", "400"),
    Case(23, "bad_query_wrong_media_type", "POST", EP, "415", "text/plain", b"ASK {}"),
    Case(24, "bad_query_missing_form_type", "POST", EP, "415", None, b"query=ASK%20%7B%7D"),
    Case(25, "bad_query_missing_direct_type", "POST", EP, "415", None, b"ASK {}"),
    Case(26, "bad_query_non_utf8", "POST", EP, "415", f"{DIRECT}; charset=UTF-16", "ASK {}".encode("utf-16")),
    Case(27, "bad_query_syntax", "GET", f"{EP}?query=ASK%20%7B", "400"),
    Case(28, "bad_update_get", "GET", f"{EP}?update=CLEAR%20ALL", "403"),
    Case(29, "bad_multiple_updates", "POST", EP, "403", FORM, b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT"),
    Case(30, "bad_update_wrong_media_type", "POST", EP, "415", "text/plain", b"CLEAR NAMED"),
    Case(31, "bad_update_missing_form_type", "POST", EP, "415", None, b"update=CLEAR%20NAMED"),
    Case(32, "bad_update_non_utf8", "POST", EP, "403", f"{UPDATE}; charset=UTF-16", "CLEAR NAMED".encode("utf-16")),
    Case(33, "bad_update_syntax", "POST", EP, "403", FORM, b"update=CLEAR%20XYZ"),
    Case(34, "bad_update_dataset_conflict", "POST", f"{EP}?using-named-graph-uri={D1}", "403", FORM,
         ("update=" + q(f"WITH <{G}data1.rdf> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}")).encode()),
]

# Tests 13-19 are updates: the endpoint is read-only, so each is a 403 naming the reason.
INSERT = f"INSERT DATA {{ <{G}x> <{RDF_TYPE}> <{FOAF_DOCUMENT}> }}"
UPDATE_CASES = [
    Case(13, "update_dataset_default_graph", "POST", f"{EP}?using-graph-uri={D1}", "403", FORM,
         ("update=" + q(INSERT)).encode()),
    Case(14, "update_dataset_default_graphs", "POST", f"{EP}?using-graph-uri={D1}&using-graph-uri={D2}", "403",
         UPDATE, INSERT.encode()),
    Case(15, "update_dataset_named_graphs", "POST", f"{EP}?using-named-graph-uri={D1}", "403", UPDATE,
         INSERT.encode()),
    Case(16, "update_dataset_full", "POST", f"{EP}?using-graph-uri={D3}&using-named-graph-uri={D1}", "403",
         UPDATE, INSERT.encode()),
    Case(17, "update_post_form", "POST", EP, "403", FORM, ("update=" + q(INSERT)).encode()),
    Case(18, "update_post_direct", "POST", EP, "403", UPDATE, INSERT.encode()),
    Case(19, "update_base_uri", "POST", EP, "403", UPDATE, b"BASE <http://example.org/> INSERT DATA { <s> <p> <o> }"),
    Case(19, "update_as_query_parameter", "GET", f"{EP}?query={q(INSERT)}", "403"),
    Case(19, "load_as_query", "POST", EP, "403", DIRECT, b"LOAD <http://example.org/data.ttl>"),
]


def send(client, case: Case, accept: str | None = None):
    headers = dict(case.headers)
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if accept is not None:
        headers["Accept"] = accept
    return client.request(case.method, case.url, content=case.body or None, headers=headers)


def media_type(response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def solution_values(response) -> list[dict[str, str]]:
    """Rows as {variable: value}; CSV through the csv module (pyoxigraph does not read lossy CSV)."""
    kind = media_type(response)
    if kind == "text/csv":
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    parsed = ox.parse_query_results(response.content, format=RESULT_TYPES[kind])
    names = [v.value for v in parsed.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in parsed]


def boolean_of(response) -> bool:
    fmt = RESULT_TYPES[media_type(response)]
    return bool(ox.parse_query_results(response.content, format=fmt))


@pytest.mark.parametrize("case", QUERY_CASES, ids=str)
def test_query_succeeds(client, case: Case):
    for accept in ACCEPTS[case.expect]:
        response = send(client, case, accept)
        assert response.status_code == 200, (accept, response.text)
        assert "Accept" in response.headers["vary"]
        kind = media_type(response)
        if accept and "," not in accept:
            assert kind == accept
        if case.expect == "boolean":
            assert kind in RESULT_TYPES
            assert boolean_of(response) is True, accept
        elif case.expect == "tabular":
            assert kind in RESULT_TYPES
            assert solution_values(response) == [{"value": "1"}]
        else:
            assert kind in RDF_TYPES, "an RDF Content-Type, not a results type"
            list(ox.parse(response.content, format=RDF_TYPES[kind], base_iri="http://testserver/sparql"))


@pytest.mark.parametrize("case", REFUSAL_CASES + UPDATE_CASES, ids=str)
def test_request_refused(client, case: Case):
    response = send(client, case)
    assert response.status_code == int(case.expect), response.text
    body = response.json()
    assert set(body) == {"error", "message", "status"}
    assert body["status"] == response.status_code
    assert "Traceback" not in response.text
    if response.status_code == 405:
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == {"GET", "HEAD", "POST"}
    if response.status_code == 403:
        assert body["error"] == "update_refused"


def test_updates_leave_the_data_unchanged(client):
    for case in UPDATE_CASES:
        send(client, case)
    response = client.get(EP, params={"query": f"ASK {{ <{G}x> ?p ?o }}"})
    assert boolean_of(response) is False


def test_construct_relative_iris_resolve_against_the_endpoint(client):
    response = client.post(EP, content=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                           headers={"Content-Type": DIRECT, "Accept": "application/n-triples"})
    assert response.text.startswith("<http://testserver/s> <http://testserver/p>")


def test_protocol_dataset_overrides_the_querys_from(client):
    query = f"ASK FROM <{G}data3.rdf> {{ <{G}data3.rdf> a ?t }}"
    assert boolean_of(client.get(EP, params={"query": query})) is True
    overridden = client.get(EP, params={"query": query, "named-graph-uri": f"{G}data1.rdf"})
    assert boolean_of(overridden) is False


def test_a_graph_absent_from_the_store_is_empty(client):
    response = client.get(EP, params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": f"{G}data0.rdf"})
    assert boolean_of(response) is False


def test_default_graph_is_the_union_of_named_graphs(client):
    query = f"SELECT (COUNT(*) AS ?n) {{ ?s a <{FOAF_DOCUMENT}> }}"
    response = client.get(EP, params={"query": query, "format": "json"})
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "3"


def test_asserted_or_inferred_only_by_graph_name(client):
    query = "SELECT ?type { <https://w3id.org/swapgraph/id/a> a ?type }"
    types = {}
    for name in ("asserted", "inferred", None):
        params = {"query": query, "format": "json"}
        if name:
            params["default-graph-uri"] = f"https://w3id.org/swapgraph/graph/{name}"
        rows = client.get(EP, params=params).json()["results"]["bindings"]
        types[name] = {row["type"]["value"].rsplit("#", 1)[1] for row in rows}
    assert types == {"asserted": {"Exchange"}, "inferred": {"Event"}, None: {"Exchange", "Event"}}


# --- rules from the protocol text ----------------------------------------------------------------


def test_get_carries_no_body(client):
    response = client.request("GET", EP + "?query=ASK%20%7B%7D", content=b"ASK {}",
                              headers={"Content-Type": DIRECT})
    assert response.status_code == 400
    assert response.json()["error"] == "unexpected_body"


def test_form_post_with_utf8_charset_is_accepted(client):
    response = client.post(EP, content=b"query=ASK%20%7B%7D", headers={"Content-Type": FORM + "; charset=UTF-8"})
    assert response.status_code == 200


def test_non_utf8_bytes_are_a_400(client):
    response = client.post(EP, content=b"ASK { ?s ?p \"\xff\xfe\" }", headers={"Content-Type": DIRECT})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_encoding"


def test_form_post_without_query_is_a_400(client):
    response = client.post(EP, content=b"default-graph-uri=x", headers={"Content-Type": FORM})
    assert response.status_code == 400
    assert response.json()["error"] == "missing_query"


def test_syntax_error_names_the_problem(client):
    response = client.get(EP, params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert response.json()["error"] == "query_syntax"


def test_relative_graph_iri_is_a_400(client):
    response = client.get(EP, params={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_graph_iri"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*", "text/csv"),
        ("text/*;q=0.2, text/tab-separated-values", "text/tab-separated-values"),
        ("*/*", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("text/html, */*;q=0.1", "application/sparql-results+json"),
        ("text/csv;q=0, */*;q=0.5", "application/sparql-results+json"),
    ],
)
def test_negotiation_honours_q_values_and_wildcards(client, accept, expected):
    response = client.get(EP, params={"query": "SELECT (1 AS ?value) {}"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media_type(response) == expected


@pytest.mark.parametrize(
    ("query", "accept"),
    [("SELECT (1 AS ?value) {}", "text/turtle"), ("CONSTRUCT WHERE { ?s ?p ?o }", "text/csv"),
     ("ASK {}", "image/png"), ("ASK {}", "application/sparql-results+json;q=0")],
)
def test_nothing_acceptable_is_406(client, query, accept):
    response = client.get(EP, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable"


SELECT_FORMATS = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                  "csv": "text/csv", "tsv": "text/tab-separated-values"}
GRAPH_FORMATS = {"ttl": "text/turtle", "nt": "application/n-triples", "nq": "application/n-quads",
                 "trig": "application/trig", "rdfxml": "application/rdf+xml", "jsonld": "application/ld+json"}


@pytest.mark.parametrize(("name", "expected"), SELECT_FORMATS.items())
def test_format_override_for_select(client, name, expected):
    response = client.get(EP, params={"query": f"SELECT ?s {{ ?s a <{FOAF_DOCUMENT}> }}", "format": name},
                          headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert media_type(response) == expected
    assert len(solution_values(response)) == 3


@pytest.mark.parametrize(("name", "expected"), GRAPH_FORMATS.items())
def test_format_override_for_construct(client, name, expected):
    query = f"CONSTRUCT {{ ?s a ?t }} WHERE {{ ?s a <{FOAF_DOCUMENT}> . ?s a ?t }}"
    response = client.get(EP, params={"query": query, "format": name})
    assert response.status_code == 200
    assert media_type(response) == expected
    assert len(list(ox.parse(response.content, format=RDF_TYPES[expected]))) == 3


def test_format_override_must_fit_the_query_form(client):
    response = client.get(EP, params={"query": "ASK {}", "format": "ttl"})
    assert response.status_code == 406


def test_head_gives_the_headers_of_get_without_a_body(client):
    params = {"query": "SELECT (1 AS ?value) {}"}
    get = client.get(EP, params=params)
    head = client.head(EP, params=params)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))


# --- service description -------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


def description(client, accept="text/turtle"):
    response = client.get(EP, headers={"Accept": accept})
    assert response.status_code == 200
    assert "Accept" in response.headers["vary"]
    store = ox.Store()
    store.load(response.content, format=RDF_TYPES[media_type(response)])
    return store


def ask(store: ox.Store, where: str) -> bool:
    return bool(store.query(f"PREFIX sd: <{SD}> ASK {{ {where} }}"))


@pytest.mark.parametrize("accept", list(RDF_TYPES))
def test_service_description_is_negotiated_rdf(client, accept):
    store = description(client, accept)
    assert ask(store, "?s a sd:Service ; sd:endpoint <http://testserver/sparql>")


def test_service_description_says_what_the_service_offers(client):
    store = description(client)
    assert ask(store, "?s sd:supportedLanguage sd:SPARQL11Query")
    assert ask(store, "?s sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, "
                      "<http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/JSON-LD>")
    assert ask(store, "?s sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/OWL-RDF-Based> ; "
                      "sd:defaultSupportedEntailmentProfile <http://www.w3.org/ns/owl-profile/RL>")
    assert ask(store, "?s sd:feature sd:UnionDefaultGraph")
    for n in (1, 2, 3):
        assert ask(store, f"?s sd:defaultDataset/sd:namedGraph/sd:name <{G}data{n}.rdf>")
    assert ask(store, "?s sd:defaultDataset/sd:defaultGraph ?g . "
                      "?g <http://purl.org/dc/terms/description> ?d "
                      "FILTER(CONTAINS(?d, 'default-graph-uri=https://w3id.org/swapgraph/graph/asserted'))")


def test_a_browser_gets_the_query_page(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(EP, headers={"Accept": accept})
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "<form" in response.text and 'name="query"' in response.text


def test_curl_gets_turtle(client):
    response = client.get(EP, headers={"Accept": "*/*"})
    assert media_type(response) == "text/turtle"


def test_openapi_documents_the_sparql_parameters(client):
    spec = client.get("/openapi.json").json()
    get = {p["name"] for p in spec["paths"]["/sparql"]["get"]["parameters"]}
    post = spec["paths"]["/sparql"]["post"]
    assert {"query", "default-graph-uri", "named-graph-uri", "format"} <= get
    assert {"application/sparql-query", "application/x-www-form-urlencoded"} <= set(post["requestBody"]["content"])
    assert {"/health", "/version"} <= set(spec["paths"])

"""The clients people use, against a real uvicorn serving the corpus: SPARQLWrapper (every return format),
pandas (CSV of /sparql and of a canned question), rdflib (Turtle, JSON-LD, RDF/XML of a page) and pyld."""

import io
import json

import httpx
import pandas as pd
import pytest
from pyld import jsonld
from rdflib import Graph, URIRef
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, SPARQLWrapper, TSV, TURTLE, XML

from tests.browser.conftest import server  # noqa: F401  (the real uvicorn on the corpus, shared with the browser tests)

SELECT = """PREFIX sg: <https://w3id.org/swapgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?exchange ?label WHERE { ?exchange a sg:Exchange ; rdfs:label ?label } ORDER BY ?exchange"""
CONSTRUCT = """PREFIX sg: <https://w3id.org/swapgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?exchange rdfs:label ?label } WHERE { ?exchange a sg:Exchange ; rdfs:label ?label }"""
ASK = "PREFIX sg: <https://w3id.org/swapgraph/ontology#> ASK { ?x a sg:Exchange }"
RDF_FORMATS = (TURTLE, N3, RDF, RDFXML, JSONLD, XML, JSON)  # what SPARQLWrapper offers for CONSTRUCT
PARSE_AS = {TURTLE: "turtle", N3: "n3", RDF: "xml", RDFXML: "xml", JSONLD: "json-ld", XML: "xml", JSON: "json-ld"}


@pytest.fixture(scope="module")
def exchanges(server) -> list[tuple[str, str]]:
    """The exchanges and labels, read with plain HTTP: what every client below must agree with."""
    body = httpx.get(server + "/sparql", params={"query": SELECT},
                     headers={"Accept": "application/sparql-results+json"}).json()
    rows = [(b["exchange"]["value"], b["label"]["value"]) for b in body["results"]["bindings"]]
    assert rows
    return rows


def _wrapper(server: str, query: str, return_format: str, method: str = "GET") -> SPARQLWrapper:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(return_format)
    client.setMethod(method)
    return client


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_as_json(server, exchanges, method):
    result = _wrapper(server, SELECT, JSON, method).query().convert()
    assert [(b["exchange"]["value"], b["label"]["value"]) for b in result["results"]["bindings"]] == exchanges


def test_sparqlwrapper_select_as_xml(server, exchanges):
    document = _wrapper(server, SELECT, XML).query().convert()  # an xml.dom.minidom document
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [iri for iri, _ in exchanges]


@pytest.mark.parametrize("return_format, separator", [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_select_as_csv_and_tsv(server, exchanges, return_format, separator):
    body = _wrapper(server, SELECT, return_format).query().convert()
    frame = pd.read_csv(io.BytesIO(body), sep=separator)
    assert len(frame) == len(exchanges)
    if return_format == CSV:
        assert list(frame["exchange"]) == [iri for iri, _ in exchanges]
    else:  # TSV keeps N-Triples terms
        assert list(frame["?exchange"]) == [f"<{iri}>" for iri, _ in exchanges]


def test_sparqlwrapper_ask(server):
    assert _wrapper(server, ASK, JSON).query().convert()["boolean"] is True


@pytest.mark.parametrize("return_format", RDF_FORMATS)
def test_sparqlwrapper_construct_in_every_rdf_format(server, exchanges, return_format):
    response = _wrapper(server, CONSTRUCT, return_format).query()
    raw = response.response.read()
    graph = Graph().parse(data=raw, format=PARSE_AS[return_format])
    labels = {(str(s), str(o)) for s, _, o in graph}
    assert labels == set(exchanges), return_format


def test_repeated_format_values_that_disagree_are_one_clear_400(server):
    response = httpx.get(server + "/sparql", params=[("query", SELECT), ("format", "json"), ("output", "csv")])
    assert response.status_code == 400
    assert response.json()["error"] == "multiple_formats"


def test_output_and_results_are_format_aliases(server):
    for name in ("output", "results"):
        response = httpx.get(server + "/sparql", params={"query": SELECT, name: "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv"), name


def test_pandas_reads_a_canned_question_as_csv(server):
    frame = pd.read_csv(server + "/queries/exchanges?format=csv")
    listed = httpx.get(server + "/queries/exchanges?format=json").json()
    assert list(frame.columns) == listed["columns"]
    assert len(frame) == len(listed["rows"]) > 0


@pytest.mark.parametrize("accept, parse_as", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                              ("application/rdf+xml", "xml"), ("application/n-triples", "nt")])
def test_rdflib_reads_an_entity_page_in_each_format(server, exchanges, accept, parse_as):
    iri, label = exchanges[0]
    path = iri.split("https://w3id.org/swapgraph", 1)[1]
    graph = Graph().parse(data=httpx.get(server + path, headers={"Accept": accept}).content, format=parse_as)
    assert (URIRef(iri), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), None) in graph
    assert label in {str(o) for o in graph.objects(URIRef(iri))}


def test_pyld_expands_an_entity_page_to_the_full_iris(server, exchanges):
    iri, label = exchanges[0]
    path = iri.split("https://w3id.org/swapgraph", 1)[1]
    document = json.loads(httpx.get(server + path, headers={"Accept": "application/ld+json"}).content)
    expanded = jsonld.expand(document)
    node = next(n for n in expanded if n.get("@id") == iri)
    labels = node["http://www.w3.org/2000/01/rdf-schema#label"]
    assert label in {value["@value"] for value in labels}


def test_pyld_resolves_the_local_context_url(server, exchanges):
    """JSON-LD that references /context.jsonld expands, with pyld fetching the context from this server."""
    iri, label = exchanges[0]
    path = iri.split("https://w3id.org/swapgraph", 1)[1]
    document = httpx.get(server + path + "?context=url", headers={"Accept": "application/ld+json"}).json()
    assert document["@context"] == server + "/context.jsonld"
    fetched = []

    def loader(url, options=None):  # pyld's own loaders need `requests`; this one only reaches the server
        assert url.startswith(server), url
        fetched.append(url)
        return {"contextUrl": None, "documentUrl": url, "document": httpx.get(url).json()}

    expanded = jsonld.expand(document, {"documentLoader": loader})
    assert fetched == [server + "/context.jsonld"]
    inline = jsonld.expand(httpx.get(server + path, headers={"Accept": "application/ld+json"}).json())
    assert expanded == inline

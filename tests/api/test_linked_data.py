"""Linked data on the real graph: every IRI dereferences in every format, negotiation, 404/406/HEAD,
the ontology page, VoID counts, dumps, the JSON-LD context. The graph is built once for the module."""

import gzip
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest
from markupsafe import escape
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from api.app import create_app
from api.executor import Executor
from api.settings import Settings
from graph.build import build
from graph.store import StoreLayout
from vocab import BASE, ID, SG, Graphs
from tests.api.conftest import CountingExecutor

VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
EVAN = URIRef(ID + "person/evan-gershkovich")
KARA_MURZA = URIRef(ID + "person/vladimir-kara-murza")
US = URIRef(ID + "state/US")
RU = URIRef(ID + "state/RU")
DE = URIRef(ID + "state/DE")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORMATS = {  # Accept -> (?format= name, rdflib parser, pyoxigraph parser)
    "text/turtle": ("ttl", "turtle", ox.RdfFormat.TURTLE),
    "application/ld+json": ("jsonld", "json-ld", ox.RdfFormat.JSON_LD),
    "application/n-triples": ("nt", "nt", ox.RdfFormat.N_TRIPLES),
    "application/rdf+xml": ("rdfxml", "xml", ox.RdfFormat.RDF_XML),
}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    layout = StoreLayout(tmp_path_factory.mktemp("linked-data"))
    build(layout)
    return layout.current_build()


@pytest.fixture(scope="module")
def store(build_dir):
    return ox.Store.read_only(str(build_dir))


@pytest.fixture(scope="module")
def executor(build_dir):
    with Executor.from_path(build_dir, workers=3, queue_wait=30.0) as running:
        yield running


@pytest.fixture(scope="module")
def web(executor):
    app = create_app(Settings(workers=3, query_timeout=30.0), executor=executor)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def parse(response, accept: str) -> Graph:
    return Graph().parse(data=response.content, format=FORMATS[accept][1], publicID=BASE)


# --- content negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", FORMATS)
def test_entity_in_each_format_by_accept(web, accept):
    response = web.get("/id/person/evan-gershkovich", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert "Accept" in response.headers["vary"]
    g = parse(response, accept)
    assert (EVAN, RDFS.label, Literal("Evan Gershkovich")) in g
    assert (EVAN, RDF.type, SG.Person) in g
    assert (EVAN, SG.releasedBy, RU) in g  # inferred facts are part of the description
    assert any(g.triples((None, SG.releasedPerson, EVAN)))  # so are the triples it is the object of
    assert (RU, RDFS.label, Literal("Russia")) in g  # and the labels of linked nodes


@pytest.mark.parametrize("accept", FORMATS)
def test_entity_in_each_format_by_format_parameter(web, accept):
    name = FORMATS[accept][0]
    response = web.get(f"/id/person/vladimir-kara-murza?format={name}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert (KARA_MURZA, SG.releasedTo, DE) in parse(response, accept)


def test_the_same_triples_in_every_format(web):
    graphs = [parse(web.get("/id/state/DE", headers={"Accept": a}), a) for a in FORMATS]
    from rdflib.compare import isomorphic

    assert all(isomorphic(graphs[0], other) for other in graphs[1:])


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/ld+json;q=0.9, text/turtle;q=0.5", "application/ld+json"),
        ("application/rdf+xml, text/turtle;q=0.1", "application/rdf+xml"),
        ("application/*", "application/ld+json"),
        ("*/*", "text/turtle"),
        ("", "text/turtle"),
        (BROWSER, "text/html"),
        ("text/*;q=0.5, application/n-triples", "application/n-triples"),
        ("application/json", "application/ld+json"),
    ],
)
def test_accept_with_q_values_and_wildcards(web, accept, expected):
    response = web.get("/id/state/DE", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_json_ld_is_compacted_with_the_project_context(web):
    body = web.get("/id/person/evan-gershkovich", headers={"Accept": "application/ld+json"}).json()
    nodes = body.get("@graph", [body])
    evan = next(n for n in nodes if n["@id"] == str(EVAN))
    assert evan["label"] == "Evan Gershkovich"
    assert "Person" in evan["@type"]
    assert evan["releasedBy"] == str(RU)
    context = web.get("/context.jsonld").json()["@context"]
    assert body["@context"] == context


def test_not_acceptable(web):
    response = web.get("/id/person/evan-gershkovich", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable"
    assert web.get("/id/person/evan-gershkovich?format=pdf").status_code == 406
    assert web.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


def test_head(web):
    for accept in [*FORMATS, "text/html"]:
        got = web.get("/id/state/US", headers={"Accept": accept})
        head = web.head("/id/state/US", headers={"Accept": accept})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content)
    assert web.head("/id/person/nobody", headers={"Accept": "text/turtle"}).status_code == 404
    assert web.head("/ontology").status_code == 200
    assert web.head("/void").status_code == 200


# --- unknown IRIs: 404 in the negotiated format ---------------------------------------------------


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/rdf+xml"])
def test_unknown_entity_is_404_with_an_empty_graph_for_rdf_clients(web, accept):
    response = web.get("/id/person/nobody-at-all", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(accept)
    assert len(parse(response, accept)) == 0


@pytest.mark.parametrize("accept", ["application/json", "application/ld+json"])
def test_unknown_entity_is_404_with_a_json_error_for_json_clients(web, accept):
    response = web.get("/id/person/nobody-at-all", headers={"Accept": accept})
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found" and body["status"] == 404
    assert body["iri"] == str(ID) + "person/nobody-at-all"


def test_unknown_entity_is_a_404_page_for_browsers(web):
    response = web.get("/id/person/nobody-at-all", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "nobody-at-all" in response.text


def test_unknown_graph_rule_and_dump_are_404(web):
    assert web.get("/graph/nothing", headers={"Accept": "text/turtle"}).status_code == 404
    assert web.get("/rule/no-such-rule", headers={"Accept": "text/turtle"}).status_code == 404
    assert web.get("/dumps/swapgraph.zip").status_code == 404


# --- every IRI, every format ----------------------------------------------------------------------


def all_entity_iris(store) -> list[str]:
    query = (
        "SELECT DISTINCT ?x WHERE { GRAPH ?g { { ?x ?p ?o } UNION { ?s ?p ?x } } "
        f'FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{ID}")) }}'
    )
    return sorted(row["x"].value for row in store.query(query))


def test_every_iri_dereferences_in_every_format(web, store):
    iris = all_entity_iris(store)
    assert len(iris) > 500  # entities, documents, evidence, statements
    kinds = {iri[len(ID):].split("/")[0] for iri in iris}
    assert {"person", "state", "exchange", "release", "document", "evidence", "statement"} <= kinds
    started = time.monotonic()

    def check(iri: str) -> list[str]:
        problems = []
        path = iri[len(BASE) - 1:]
        for accept, (_, _, ox_format) in FORMATS.items():
            response = web.get(path, headers={"Accept": accept})
            if response.status_code != 200:
                problems.append(f"{iri} {accept}: {response.status_code}")
                continue
            triples = list(ox.parse(response.content, format=ox_format, base_iri=BASE))
            if not any(iri in (t.subject.value, getattr(t.object, "value", None)) for t in triples):
                problems.append(f"{iri} {accept}: the description does not mention it")
        response = web.get(path, headers={"Accept": BROWSER})
        if response.status_code != 200 or "<h1>" not in response.text or "<table>" not in response.text:
            problems.append(f"{iri} html: {response.status_code}")
        return problems

    with ThreadPoolExecutor(max_workers=3) as pool:
        problems = [p for found in pool.map(check, iris) for p in found]
    assert problems == []
    assert time.monotonic() - started < 300


# --- HTML pages -----------------------------------------------------------------------------------


def test_entity_page_shows_label_types_facts_evidence_and_inferred(web):
    html = web.get("/id/person/vladimir-kara-murza", headers={"Accept": BROWSER}).text
    assert "<h1>Vladimir Kara-Murza</h1>" in html
    assert 'href="/ontology#Person"' in html
    assert 'class="badge inferred">inferred' in html
    assert "/explain?s=https%3A%2F%2Fw3id.org%2Fswapgraph%2Fid%2Fperson%2Fvladimir-kara-murza" in html
    assert 'href="/id/state/DE">Germany</a>' in html
    evan = web.get("/id/person/evan-gershkovich", headers={"Accept": BROWSER}).text
    # a quote highlighted inside its sentence, with the document
    assert "<mark>Evan Gershkovich, a reporter for The Wall Street Journal</mark>" in evan
    assert "Among those released were three American citizens: " in evan
    assert 'href="/id/document/000_866c1bb2713c0bfc#ev-' in evan


def test_entity_page_shows_each_sentence_once_with_all_its_facts(web, store):
    iri = str(ID) + "person/evan-gershkovich"
    html = web.get("/id/person/evan-gershkovich", headers={"Accept": BROWSER}).text
    sentences = re.findall(r'<li id="sentence-(\d+)"><blockquote><p>(.*?)</p>', html, re.S)
    texts = [re.sub(r"</?mark>", "", text) for _, text in sentences]
    assert texts and len(texts) == len(set(texts)), "a sentence shown more than once"
    # every quote of the entity's asserted facts is inside one of the sentences shown (each shown once)
    quotes = {r[0].value for r in store.query(
        f"SELECT DISTINCT ?q WHERE {{ ?st <{RDF.subject}> <{iri}> ; <{SG.evidence}> ?e . ?e <{SG.quote}> ?q }}",
        use_default_graph_as_union=True)}
    assert quotes
    marked = "".join(sentences[i][1] for i in range(len(sentences)))
    for quote in quotes:
        assert str(escape(quote)) in re.sub(r"</?mark>", "", marked)
    assert len(re.findall(r"<blockquote>", html)) == len(sentences)  # the facts table links, not repeats
    numbers = {n for n, _ in sentences}
    links = set(re.findall(r'<a href="#sentence-(\d+)">sentence \d+</a>', html))
    assert links == numbers


def test_document_page_marks_every_quote(web, store):
    doc = str(ID) + "document/000_866c1bb2713c0bfc"
    spans = int(next(iter(store.query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ ?e <{SG.document}> <{doc}> }}", use_default_graph_as_union=True)))[0].value)
    html = web.get("/id/document/000_866c1bb2713c0bfc", headers={"Accept": BROWSER}).text
    assert html.count('<span id="ev-') == spans
    assert "<mark" in html and "Facts taken from it" in html


def test_statement_evidence_and_derivation_pages(web, store):
    # Derivations are compact records on the inferred triple's statement (sg:derivationRecord, read by
    # /explain), not nodes with pages; an asserted premise keeps its statement and evidence pages.
    row = next(iter(store.query(
        f"SELECT ?st ?ev WHERE {{ ?release <{SG.releasedPerson}> <{KARA_MURZA}> . ?st <{RDF.subject}> ?release ; "
        f"<{RDF.predicate}> <{SG.receivingState}> ; <{SG.evidence}> ?ev }} LIMIT 1",
        use_default_graph_as_union=True)))
    statement, evidence = (row[i].value[len(BASE) - 1:] for i in range(2))
    html = web.get(statement, headers={"Accept": BROWSER}).text
    assert "stated by a document" in html and "/explain?" in html
    html = web.get(evidence, headers={"Accept": BROWSER}).text
    assert "<mark>" in html


def test_rule_page(web):
    html = web.get("/rule/prp-spo2", headers={"Accept": BROWSER}).text
    assert "owl:propertyChainAxiom" in html and "/ontology#releasedTo" in html
    g = parse(web.get("/rule/prp-spo2", headers={"Accept": "text/turtle"}), "text/turtle")
    assert (URIRef(BASE + "rule/prp-spo2"), RDF.type, SG.Rule) in g


# --- ontology -------------------------------------------------------------------------------------


def test_ontology_page_documents_every_term(web, store):
    html = web.get("/ontology", headers={"Accept": BROWSER}).text
    terms = {row["t"].value for row in store.query(
        f"SELECT DISTINCT ?t WHERE {{ GRAPH <{Graphs.ONTOLOGY}> {{ ?t ?p ?o }} "
        f'FILTER(isIRI(?t) && STRSTARTS(STR(?t), "{SG._NS}")) }}')}
    assert len(terms) > 100
    missing = [t for t in terms if f'<section id="{t[len(str(SG._NS)):]}"' not in html]
    assert missing == []
    # definitions, hierarchy, chains and rules are shown
    assert "Subclass of" in html and "Property chain" in html and 'href="/rule/prp-spo2"' in html
    assert "Inverse of" in html and "symmetric" in html


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json"])
def test_ontology_graph_by_negotiation(web, store, accept):
    response = web.get("/ontology", headers={"Accept": accept})
    assert response.status_code == 200
    g = parse(response, accept)
    size = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.ONTOLOGY)))))
    assert len(g) == size
    assert (SG.releasedTo, RDFS.label, Literal("released to", lang="en")) in g


def test_ontology_version_iri(web):
    assert web.get("/ontology/0.1.0", headers={"Accept": "text/turtle"}).status_code == 200
    assert web.get("/ontology/9.9.9", headers={"Accept": "text/turtle"}).status_code == 404


# --- VoID, dumps, context, graphs -----------------------------------------------------------------


def count(store, query: str) -> int:
    return int(next(iter(store.query(query)))[0].value)


def test_void_counts_match_the_store(web, store):
    g = parse(web.get("/void", headers={"Accept": "text/turtle"}), "text/turtle")
    dataset = URIRef(BASE + "void#dataset")
    assert (dataset, RDF.type, VOID.Dataset) in g
    distinct = count(store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    assert g.value(dataset, VOID.triples).toPython() == distinct
    assert g.value(dataset, VOID.classes).toPython() == count(
        store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?x a ?c } }")
    assert g.value(dataset, VOID.properties).toPython() == count(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert g.value(dataset, VOID.entities).toPython() == count(
        store, f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}')
    subsets = set(g.objects(dataset, VOID.subset))
    assert subsets == {URIRef(str(graph)) for graph in Graphs.ALL}
    for graph in subsets:
        assert g.value(graph, VOID.triples).toPython() == count(
            store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert (dataset, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by-sa/4.0/")) in g
    assert len(set(g.objects(dataset, DCTERMS.source))) == count(
        store, f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ GRAPH ?g {{ ?d a <{SG.Document}> }} }}")
    # the endpoint and dumps are where this service is reached (here the test client's host), not w3id
    assert (dataset, VOID.sparqlEndpoint, URIRef("http://testserver/sparql")) in g
    assert {str(d) for d in g.objects(dataset, VOID.dataDump)} == {
        "http://testserver/dumps/swapgraph.trig.gz", "http://testserver/dumps/swapgraph.nq.gz"}
    assert g.value(dataset, VOID.uriSpace) == Literal(str(ID))


def test_void_points_at_the_public_base_url_when_set(executor):
    settings = Settings(workers=3, query_timeout=30.0, public_base_url="https://swapgraph.example.org/")
    with TestClient(create_app(settings, executor=executor)) as client:
        g = Graph().parse(data=client.get("/void", headers={"Accept": "text/turtle"}).text, format="turtle")
    dataset = URIRef(BASE + "void#dataset")
    assert (dataset, VOID.sparqlEndpoint, URIRef("https://swapgraph.example.org/sparql")) in g
    assert (dataset, VOID.dataDump, URIRef("https://swapgraph.example.org/dumps/swapgraph.nq.gz")) in g
    assert (dataset, VOID.uriSpace, Literal(str(ID))) in g  # data IRIs stay the persistent ones


def test_void_as_json_ld_and_html(web):
    data = web.get("/void", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=data.content, format="json-ld")) > 20
    html = web.get("/void", headers={"Accept": BROWSER}).text
    assert "/dumps/swapgraph.trig.gz" in html and "CC BY-SA 4.0" in html


@pytest.mark.parametrize("name, fmt", [("swapgraph.trig.gz", "trig"), ("swapgraph.nq.gz", "nquads")])
def test_dumps_decompress_and_parse_with_every_named_graph(web, store, name, fmt):
    response = web.get(f"/dumps/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert f'filename="{name}"' in response.headers["content-disposition"]
    dataset = Dataset()
    dataset.parse(data=gzip.decompress(response.content), format=fmt)
    graphs = {str(c.identifier) for c in dataset.contexts() if len(c)}
    assert graphs == {str(g) for g in Graphs.ALL}
    assert sum(len(dataset.graph(URIRef(g))) for g in graphs) == len(store)
    head = web.head(f"/dumps/{name}")
    # A dump streamed from the build's file is gzipped as it is sent: its length is not known before.
    assert head.status_code == 200 and head.headers.get("content-length", str(len(response.content))) == str(
        len(response.content))


def test_context(web, store):
    response = web.get("/context.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    context = response.json()["@context"]
    assert context["releasedTo"] == {"@id": "sg:releasedTo", "@type": "@id"}
    assert context["count"] == {"@id": "sg:count", "@type": "xsd:integer"}
    assert context["label"] == "rdfs:label"
    assert context["Exchange"] == "sg:Exchange"
    terms = [name for name in SG.__annotations__ if not name.startswith("_")]
    assert all(name in context for name in terms)


def test_named_graph(web, store):
    response = web.get("/graph/asserted", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    size = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.ASSERTED)))))
    assert len(parse(response, "application/n-triples")) == size
    html = web.get("/graph/asserted", headers={"Accept": BROWSER}).text
    assert f"<strong>{size}</strong>" in html


def test_a_named_graph_past_max_rows_is_cut_and_says_so(executor, store):
    app = create_app(Settings(workers=3, query_timeout=30.0, max_rows=100), executor=executor)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/graph/asserted", headers={"Accept": "application/n-triples"})
        assert response.status_code == 200 and response.headers["X-Swapgraph-Truncated"] == "true"
        assert "/dumps/" in response.headers["link"]
        assert len(parse(response, "application/n-triples")) == 100
        html = client.get("/graph/asserted", headers={"Accept": BROWSER}).text
        assert "first 100 triples" in html
        whole = client.get("/ontology", headers={"Accept": "application/n-triples"})
        size = len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(str(Graphs.ONTOLOGY)))))
        assert len(parse(whole, "application/n-triples")) == size  # the ontology is never cut


def test_dumps_and_graphs_are_computed_once_even_when_asked_in_parallel(executor):
    counting = CountingExecutor(executor)
    app = create_app(Settings(workers=3, query_timeout=30.0), executor=counting)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/void", headers={"Accept": "text/turtle"})  # counts and context, once
        counting.queries.clear()
        with ThreadPoolExecutor(max_workers=4) as pool:
            bodies = list(pool.map(lambda _: client.get("/dumps/swapgraph.nq.gz").content, range(4)))
        assert len(set(bodies)) == 1
        assert len(counting.queries) == 1
        for _ in range(2):
            assert client.get("/graph/inferred", headers={"Accept": "text/turtle"}).status_code == 200
        assert len(counting.queries) == 2


def test_a_broken_rule_file_is_an_error_not_a_missing_rule(tmp_path, monkeypatch):
    from api import linked_data
    from graph.rules import RuleError

    (tmp_path / "broken.rq").write_text("# id: broken\n# premise: ?x sg:noSuchPrefix\n", encoding="utf-8")
    monkeypatch.setattr(linked_data, "RULES_DIR", tmp_path)
    with pytest.raises(RuleError):
        linked_data.rule_catalogue(Graph())


def test_void_is_also_at_the_well_known_path(web):
    for accept in ("text/turtle", BROWSER):
        assert web.get("/.well-known/void", headers={"Accept": accept}).content == \
            web.get("/void", headers={"Accept": accept}).content


@pytest.mark.parametrize("path", ["/id/person/evan-gershkovich", "/ontology", "/void"])
def test_a_resource_links_to_its_other_formats(web, path):
    for accept in ("text/turtle", BROWSER):
        response = web.get(path, headers={"Accept": accept})
        links = response.headers["link"]
        mine = response.headers["content-type"].split(";")[0]
        for fmt, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
                           ("rdfxml", "application/rdf+xml"), ("html", "text/html")):
            assert (f'<{path}?format={fmt}>; rel="alternate"; type="{media}"' in links) == (media != mine), (path, fmt)


def test_json_ld_can_reference_the_local_context(web):
    document = web.get("/id/person/evan-gershkovich?context=url", headers={"Accept": "application/ld+json"}).json()
    assert document["@context"] == "http://testserver/context.jsonld"
    assert web.get("/context.jsonld").status_code == 200

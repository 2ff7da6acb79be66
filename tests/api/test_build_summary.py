"""The service reads a build's counts and dumps from the files the build wrote (graph/summary.py), over real uvicorn."""

import gzip
import re
import json
import shutil

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Namespace, URIRef

from api.app import create_app
from api.settings import Settings
from graph.build import SourcePaths, build
from graph.catalog import Catalog
from graph.store import StoreLayout, open_current
from graph.summary import PART_NAMES, SUMMARY_NAME, store_counts, table, untable


def read_part(build_dir, name):
    return json.loads((build_dir / PART_NAMES[name]).read_text(encoding="utf-8"))
from tests.api.conftest import ThreadedServer
from vocab import BASE

VOID = Namespace("http://rdfs.org/ns/void#")
DATASET = URIRef(BASE + "void#dataset")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("summary-data")
    build(StoreLayout(data), SourcePaths())
    return data


@pytest.fixture(scope="module")
def served(data_dir):
    with ThreadedServer(create_app(Settings(data_dir=data_dir, workers=2))) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http


def store_quads(data_dir) -> set:
    store = open_current(StoreLayout(data_dir))
    return set(store.quads_for_pattern(None, None, None, None))


def without_blank_names(quads) -> list:
    """Quads with every blank node written `_:b` (parsing a file names blank nodes anew), sorted."""
    return sorted(" ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in
                           (q.subject, q.predicate, q.object, q.graph_name)) for q in quads)


def test_the_summary_counts_are_the_store_counts(data_dir):
    summary = json.loads((StoreLayout(data_dir).current_build() / SUMMARY_NAME).read_text(encoding="utf-8"))
    counts = json.loads(json.dumps(store_counts(open_current(StoreLayout(data_dir)))))  # tuples as JSON lists
    assert {k: v for k, v in summary["counts"].items() if k != "derived"} == {k: v for k, v in counts.items() if k != "derived"}
    assert summary["counts"]["quads"] == len(store_quads(data_dir))


def test_the_summary_counts_every_inferred_triple_under_its_predicate_and_rule(data_dir):
    """The engine's per-predicate counts (the compact records name premises by hash only) add up to the
    inferred graph, predicate by predicate, and name only rules the build ran."""
    summary = json.loads((StoreLayout(data_dir).current_build() / SUMMARY_NAME).read_text(encoding="utf-8"))
    inferred = [q for q in store_quads(data_dir) if str(q.graph_name.value).endswith("graph/inferred")]
    per_predicate = {}
    for quad in inferred:
        per_predicate[quad.predicate.value] = per_predicate.get(quad.predicate.value, 0) + 1
    derived = summary["counts"]["derived"]
    assert inferred and {p: sum(rules.values()) for p, rules in derived.items()} == per_predicate
    assert {rule.rsplit("/", 1)[1] for rules in derived.values() for rule in rules} <= set(summary["by_rule"])


def test_void_shows_the_build_time_counts(served, data_dir):
    response = served.get("/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    g = Graph().parse(data=response.text, format="turtle")
    distinct = {(q.subject, q.predicate, q.object) for q in store_quads(data_dir)}
    assert g.value(DATASET, VOID.triples).toPython() == len(distinct)


def test_the_home_page_rows_are_the_store_rows(served, data_dir):
    """The home page from the summary shows what it shows when it asks the store (no summary)."""
    from graph.summary import HOME_QUERIES, _rows

    summary = json.loads((StoreLayout(data_dir).current_build() / SUMMARY_NAME).read_text(encoding="utf-8"))
    store = open_current(StoreLayout(data_dir))
    assert summary["home"] == {name: _rows(store, query) for name, query in HOME_QUERIES.items()}
    page = served.get("/")
    assert page.status_code == 200
    for row in summary["home"]["documents"]:
        assert row["doc"].rsplit("/", 1)[-1] in page.text


@pytest.mark.parametrize("name, fmt", [("swapgraph.nq.gz", ox.RdfFormat.N_QUADS), ("swapgraph.trig.gz", ox.RdfFormat.TRIG)])
def test_dumps_stream_every_quad_of_the_build(served, data_dir, name, fmt):
    response = served.get(f"/dumps/{name}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    quads = list(ox.parse(gzip.decompress(response.content), format=fmt))
    assert without_blank_names(quads) == without_blank_names(store_quads(data_dir))
    assert served.head(f"/dumps/{name}").status_code == 200


def test_counts_come_from_the_summary_file_not_the_store(tmp_path, data_dir):
    """A summary that says something else than the store is what the pages show: nothing recounts."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    summary["counts"]["triples"] += 1000
    summary["kinds"]["exchange"] += 7
    summary["home"]["documents"][0]["quotes"] = "9876543"
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary), encoding="utf-8")
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=1))) as server:
        void = httpx.get(server.url + "/void", headers={"Accept": "text/turtle"}, timeout=60)
        kinds = httpx.get(server.url + "/id/", headers={"Accept": "application/json"}, timeout=60).json()["kinds"]
        home = httpx.get(server.url + "/", timeout=60)
    assert home.status_code == 200 and "9876543" in home.text.replace(",", "")
    g = Graph().parse(data=void.text, format="turtle")
    assert g.value(DATASET, VOID.triples).toPython() == summary["counts"]["triples"]
    assert {k["kind"]: k["count"] for k in kinds}["exchange"] == summary["kinds"]["exchange"]


# --- the timeline, the maps and the allowed values, from the summary ------------------------------


@pytest.fixture(scope="module")
def unsummarised(tmp_path_factory, data_dir):
    """The same build with the summary's timeline rows and allowed-value lists taken out: the service then
    asks the store for them, as it did before they were computed at build time."""
    copy = tmp_path_factory.mktemp("unsummarised") / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    assert summary["datatypes"]
    del summary["datatypes"]
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary), encoding="utf-8")
    for name in ("timeline", "allowed"):
        assert read_part(build_dir, name)
        (build_dir / PART_NAMES[name]).unlink()
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=2))) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http


def graph_allowed_params():
    """(question, parameter) for every parameter whose allowed values come from the graph."""

    return [(q.name, p.name) for q in Catalog.load() for p in q.params if p.allowed_query is not None]


def exchange_keys(http) -> list[str]:
    page = http.get("/exchanges")
    assert page.status_code == 200
    return sorted(set(re.findall(r'href="/exchanges/([^"/?#]+)"', page.text)))


def test_the_timeline_and_exchange_pages_are_the_same_from_the_summary(served, unsummarised):
    keys = exchange_keys(served)
    assert keys and keys == exchange_keys(unsummarised)
    for path in ["/exchanges", *(f"/exchanges/{key}" for key in keys), *(f"/id/exchange/{key}" for key in keys)]:
        ours, asked = served.get(path), unsummarised.get(path)
        assert ours.status_code == asked.status_code == 200, path
        assert ours.text == asked.text, path


@pytest.mark.parametrize("name, param", graph_allowed_params())
def test_the_allowed_values_are_the_same_from_the_summary(served, unsummarised, name, param):
    """The 422 for a value the graph does not have lists the same allowed values, in the same order; the
    question's page offers the same choices; a label the lists know resolves to the same answer."""
    wrong = {param: "no such thing at all"}
    ours, asked = served.get(f"/queries/{name}", params=wrong), unsummarised.get(f"/queries/{name}", params=wrong)
    assert ours.status_code == asked.status_code == 422
    assert ours.json()["allowed"] and ours.json() == asked.json()
    form = {"format": "html"}
    assert served.get(f"/queries/{name}", params=form).text == unsummarised.get(f"/queries/{name}", params=form).text
    first = ours.json()["allowed"][0]
    for given in (first["label"], first["value"]):
        ours, asked = (http.get(f"/queries/{name}", params={param: given}) for http in (served, unsummarised))
        assert ours.status_code == asked.status_code == 200
        assert ours.json()["rows"] == asked.json()["rows"]


def test_the_pages_read_the_timeline_and_allowed_values_from_the_summary(tmp_path, data_dir):
    """A summary that says something else than the store is what the timeline and the 422 show."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    timeline, allowed = read_part(build_dir, "timeline"), read_part(build_dir, "allowed")
    exchanges = untable(timeline["exchanges"])
    row = next(r for r in exchanges if r.get("xLabel") and not r.get("whole"))
    for other in exchanges:
        if other["x"] == row["x"]:
            other["xLabel"] = "Label only the summary has"
    timeline["exchanges"] = table(exchanges)
    name, param = graph_allowed_params()[0]
    query = Catalog.load().get(name).param(param)
    allowed[query.allowed_query] = [["<https://example.org/only-in-the-summary>", "Only in the summary", []]]
    (build_dir / PART_NAMES["timeline"]).write_text(json.dumps(timeline), encoding="utf-8")
    (build_dir / PART_NAMES["allowed"]).write_text(json.dumps(allowed), encoding="utf-8")
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=1))) as server:
        timeline = httpx.get(server.url + "/exchanges", timeout=60)
        refused = httpx.get(server.url + f"/queries/{name}", params={param: "nothing"}, timeout=60)
    assert timeline.status_code == 200 and "Label only the summary has" in timeline.text
    assert refused.status_code == 422
    assert refused.json()["allowed"] == [{"value": "https://example.org/only-in-the-summary", "label": "Only in the summary"}]


def test_the_jsonld_context_is_the_same_from_the_summary(served, unsummarised):
    """The context's coercions come from the build's pass over every triple, not one per app."""
    ours, asked = served.get("/context.jsonld"), unsummarised.get("/context.jsonld")
    assert ours.status_code == asked.status_code == 200
    assert ours.json() == asked.json() and ours.json()["@context"]


def test_a_long_list_of_allowed_values_is_a_text_field(served, monkeypatch):
    """Past MAX_OPTIONS choices (a large graph's thousands of people) the form asks for a name instead."""
    import api.queries

    name, param = graph_allowed_params()[0]
    assert f'<select id="param-{param}"' in served.get(f"/queries/{name}", params={"format": "html"}).text
    monkeypatch.setattr(api.queries, "MAX_OPTIONS", 0)
    page = served.get(f"/queries/{name}", params={"format": "html"}).text
    assert f'<select id="param-{param}"' not in page and f'<input id="param-{param}"' in page


# --- the summary's size, labels and the /id/ indexes, from the build's files -------------------------


def test_the_summary_file_holds_no_per_entity_lists(data_dir):
    """Timeline rows, allowed values, labels and indexes are parts in files of their own: summary.json,
    which the service holds, names no exchange, person or statement."""
    build_dir = StoreLayout(data_dir).current_build()
    text = (build_dir / SUMMARY_NAME).read_text(encoding="utf-8")
    assert not {"timeline", "allowed", "labels", "parts", "index"} & set(json.loads(text))
    exchanges = untable(read_part(build_dir, "timeline")["exchanges"])
    assert exchanges and not any(row["x"] in text for row in exchanges)
    assert all(iri not in text for iri in read_part(build_dir, "labels") if "/id/person/" in iri)


def index_entries(http, kind) -> list[dict]:
    """Every entry of /id/{kind}/, page by page."""
    first = http.get(f"/id/{kind}/", params={"format": "json"}).json()
    entries = first["entities"]
    for page in range(2, first["pages"] + 1):
        entries += http.get(f"/id/{kind}/", params={"format": "json", "page": page}).json()["entities"]
    return entries


def test_each_index_lists_every_iri_of_its_kind_by_label_a_page_at_a_time(served, data_dir, monkeypatch):
    """Across its pages an index lists each IRI of the kind once, by label, with its sg types; a
    kind with more IRIs than a page (the recorded statements) has pages linked to each other."""
    store = open_current(StoreLayout(data_dir))
    kinds = {k["kind"]: k["count"] for k in served.get("/id/", headers={"Accept": "application/json"}).json()["kinds"]}
    from graph.summary import INDEX_PAGE

    longest = max(kinds, key=kinds.get)
    assert kinds[longest] > INDEX_PAGE  # else this test would not see a second page
    for kind in ("exchange", "person", longest):
        entries = index_entries(served, kind)
        prefix = f"https://w3id.org/swapgraph/id/{kind}/"
        subjects = {row[0].value for row in store.query(
            f'SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{prefix}")) }}')}
        assert sorted(e["iri"] for e in entries) == sorted(subjects) and len(entries) == kinds[kind]
        assert [e["label"].casefold() for e in entries] == sorted(e["label"].casefold() for e in entries)
    people = index_entries(served, "person")
    typed = {row[0].value for row in store.query("SELECT ?s WHERE { ?s a <https://w3id.org/swapgraph/ontology#Person> }",
                                                  use_default_graph_as_union=True)}
    assert people and all("Person" in e["types"] for e in people if e["iri"] in typed)
    page = served.get(f"/id/{longest}/", params={"page": 2})
    assert page.status_code == 200 and 'rel="prev"' in page.text and "page 2 of" in page.text
    assert served.get(f"/id/{longest}/", params={"page": 10**6}).status_code == 404
    assert served.get(f"/id/{longest}/", params={"page": "two"}).status_code == 422


def test_the_labels_and_the_indexes_come_from_the_build_files_not_the_store(tmp_path, data_dir):
    """A label only the build's labels file has, and an index entry only its index file has, are what
    the pages show: nothing reads every label or every IRI of a kind from the store."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    names = read_part(build_dir, "labels")
    person = next(iri for iri in names if "/id/person/" in iri)
    names[person] = "Name only the labels file has"
    (build_dir / PART_NAMES["labels"]).write_text(json.dumps(names), encoding="utf-8")
    index = build_dir / "index-exchange.jsonl"
    first_page = json.loads(index.read_text(encoding="utf-8").splitlines()[0])
    first_page[0] = ["made-up", "Entry only the index file has", ["Exchange"]]
    text = json.dumps(first_page) + "\n"
    index.write_text(text, encoding="utf-8")
    summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    summary["index_pages"]["exchange"] = [0, len(text.encode("utf-8"))]
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary), encoding="utf-8")
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=1))) as server:
        page = httpx.get(server.url + "/id/" + person.split("/id/", 1)[1], headers={"Accept": "text/html"}, timeout=60)
        exchanges = httpx.get(server.url + "/id/exchange/", timeout=60)
    assert page.status_code == 200 and "Name only the labels file has" in page.text
    assert exchanges.status_code == 200 and "Entry only the index file has" in exchanges.text


def test_the_home_page_lists_the_first_documents_and_links_to_all(tmp_path, data_dir):
    """With more documents than the home page lists, it says how many there are and links to the index."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    document = "https://w3id.org/swapgraph/ontology#Document"
    listed = len(summary["home"]["documents"])
    summary["counts"]["classes"][document] = listed + 5000
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary), encoding="utf-8")
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=1))) as server:
        home = httpx.get(server.url + "/", timeout=60)
    assert home.status_code == 200
    assert f"{listed + 5000:,} documents" in home.text and 'href="/id/document/"' in home.text


def test_a_refusal_lists_at_most_the_first_allowed_values_with_their_number(served, monkeypatch):
    """A 422 for a parameter with many allowed values lists the first MAX_LISTED of them and says how many
    there are, instead of every one of a large graph's thousands."""
    import api.queries

    def refusal(name, param) -> dict:
        response = served.get(f"/queries/{name}", params={param: "no such thing at all"})
        assert response.status_code == 422
        return response.json()

    monkeypatch.setattr(api.queries, "MAX_LISTED", 10**9)
    name, param = max(graph_allowed_params(), key=lambda np: len(refusal(*np).get("allowed", [])))
    whole = refusal(name, param)
    assert len(whole["allowed"]) > 2 and "allowed_count" not in whole
    monkeypatch.setattr(api.queries, "MAX_LISTED", 2)
    cut = refusal(name, param)
    assert cut["allowed"] == whole["allowed"][:2] and cut["allowed_count"] == len(whole["allowed"])


def test_a_build_summarised_before_the_parts_is_served_as_it_was(tmp_path, data_dir):
    """A build whose summary.json still holds the timeline rows and allowed values itself (made before
    they had files of their own) is served from them: the same timeline page."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, symlinks=True)
    build_dir = StoreLayout(copy).current_build()
    summary = json.loads((build_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
    timeline = read_part(build_dir, "timeline")
    summary["timeline"] = {name: untable(rows) for name, rows in timeline.items()}
    summary["allowed"] = read_part(build_dir, "allowed")
    del summary["index_pages"]
    (build_dir / SUMMARY_NAME).write_text(json.dumps(summary), encoding="utf-8")
    for name in ("timeline", "allowed", "labels"):
        (build_dir / PART_NAMES[name]).unlink()
    with ThreadedServer(create_app(Settings(data_dir=copy, workers=1))) as server:
        old = httpx.get(server.url + "/exchanges", timeout=60)
        people = httpx.get(server.url + "/id/person/", timeout=60)
    with ThreadedServer(create_app(Settings(data_dir=data_dir, workers=1))) as server:
        new = httpx.get(server.url + "/exchanges", timeout=60)
    assert old.status_code == new.status_code == 200 and old.text == new.text
    assert people.status_code == 200

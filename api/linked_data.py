"""Linked data: every IRI under the public base dereferences here (/id, /rule, /graph, /ontology, /void, /dumps)."""

import gzip
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from markupsafe import Markup
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, VOID, XSD

from api import candidates, results
from api.errors import ApiError, not_acceptable
from api.layout import link, local_path, page, render, service_base
from api.site import exchange_figure
from api.negotiation import negotiate
from api.sparql import TRUNCATED_HEADER
from graph.explain import (
    KIND_TEXT,
    KNOWN_PREFIXES,
    DocumentTexts,
    curie,
    fact_kind,
    nt,
    sparql_json_rows,
    Unresolved,
    resolve,
    writable_iri,
)
from graph.rules import load_rules
from graph.summary import DATATYPES, INDEX_PAGE, LABELS, PART_NAMES, datatypes, index_pages, read_index_page, read_part
from vocab import BASE, GRAPH, ID, ONTOLOGY_IRI, RULE, SG, SPARQL_PREFIXES, Graphs, expand_iri

# `https://w3id.org/swapgraph/X` is served at `/X` (api.layout.local_path), by content negotiation:
# HTML for browsers; Turtle, JSON-LD (compacted with /context.jsonld), N-Triples, RDF/XML by `Accept`
# or `?format=`. An unknown IRI is a 404 in the negotiated format, never an empty 200.
router = APIRouter(tags=["Linked data"])

HTML = "text/html"
JSON = "application/json"
TURTLE, JSON_LD, N_TRIPLES, RDF_XML = results.TURTLE, results.JSON_LD, results.N_TRIPLES, results.RDF_XML
TRIG, N_QUADS = results.TRIG, results.N_QUADS
# Turtle first: what `*/*` (curl, most RDF clients) gets; browsers ask for text/html by name.
RDF_OFFERS = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML, HTML, JSON)
ALIASES = {JSON: JSON_LD}
FORMAT_NAMES = {
    "ttl": TURTLE, "turtle": TURTLE,
    "jsonld": JSON_LD, "json-ld": JSON_LD, "json": JSON_LD,
    "nt": N_TRIPLES, "ntriples": N_TRIPLES, "n-triples": N_TRIPLES,
    "rdf": RDF_XML, "rdfxml": RDF_XML, "xml": RDF_XML, "owl": RDF_XML,
    "html": HTML,
}
OX_FORMATS = {TURTLE: ox.RdfFormat.TURTLE, N_TRIPLES: ox.RdfFormat.N_TRIPLES, RDF_XML: ox.RdfFormat.RDF_XML}
RULES_DIR = Path(__file__).resolve().parents[1] / "ontology/rules"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"  # the ontology: the project's own work
# The dataset quotes its sources verbatim, and some are CC BY-SA 4.0 (ShareAlike): the dataset is under it too.
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
DATASET = URIRef(BASE + "void#dataset")
DUMPS = {"swapgraph.trig.gz": TRIG, "swapgraph.nq.gz": N_QUADS}
GRAPH_TITLES = {
    str(Graphs.ONTOLOGY): "the ontology",
    str(Graphs.ENTITIES): "entity registry: types, labels, alternative labels, ISO codes",
    str(Graphs.ASSERTED): "facts stated by the documents",
    str(Graphs.INFERRED): "facts derived by the rules",
    str(Graphs.PROVENANCE): "documents, evidence spans, reified statements, derivations, rules",
}
DESCRIPTION_CACHE = 8192
DESCRIPTION_CACHE_BYTES = 32 * 2**20  # and at most this many bytes of them
DUMP_TIMEOUT = 120.0  # seconds for the one query that reads the whole store into a dump
REIFICATION = {str(RDF.subject), str(RDF.predicate), str(RDF.object)}


# --- the store, through the executor --------------------------------------------------------------


class ExecutorSource:
    """The query executor as a `graph.explain.Source` (SELECT rows of rdflib terms)."""

    def __init__(self, executor, timeout: float):
        self.executor, self.timeout = executor, timeout

    def select(self, query: str, substitutions: dict[str, str] | None = None) -> list[dict]:
        result = self.executor.run(
            SPARQL_PREFIXES + query, result_format=results.SPARQL_JSON, substitutions=substitutions,
            timeout=self.timeout,
        )
        return sparql_json_rows(result.body)

    def construct(self, query: str, max_rows: int | None = None) -> tuple[bytes, bool]:
        """N-Triples of a CONSTRUCT, and whether it was cut at `max_rows` triples."""
        result = self.executor.run(SPARQL_PREFIXES + query, result_format=N_TRIPLES, timeout=self.timeout,
                                   max_rows=max_rows)
        return result.body, result.truncated


DESCRIBE = """CONSTRUCT { ?x ?p ?o . ?s ?q ?x . ?n rdfs:label ?l . } WHERE {
  { ?x ?p ?o } UNION { ?s ?q ?x }
  UNION { { ?x ?p2 ?n } UNION { ?n ?q2 ?x } ?n rdfs:label ?l }
}"""

# Everything an HTML page about one node needs, in one query; ?part says which branch a row is from.
PAGE = """SELECT ?part ?g ?p ?o ?st ?ev ?quote ?start ?end ?doc ?file ?ss ?sp ?so WHERE {
  { GRAPH ?g { ?x ?p ?o } BIND("out" AS ?part) }
  UNION { GRAPH ?g { ?o ?p ?x } BIND("in" AS ?part) }
  UNION { ?st rdf:subject ?x ; rdf:predicate ?p ; rdf:object ?o ; sg:evidence ?ev .
          ?ev sg:quote ?quote ; sg:startOffset ?start ; sg:endOffset ?end ; sg:document ?doc .
          OPTIONAL { ?doc sg:fileName ?file } BIND("ev" AS ?part) }
  UNION { ?x sg:evidence ?ev .
          ?ev sg:quote ?quote ; sg:startOffset ?start ; sg:endOffset ?end ; sg:document ?doc .
          OPTIONAL { ?doc sg:fileName ?file } BIND("sev" AS ?part) }
  UNION { ?x sg:quote ?quote ; sg:startOffset ?start ; sg:endOffset ?end ; sg:document ?doc .
          OPTIONAL { ?doc sg:fileName ?file } BIND("self" AS ?part) }
  UNION { ?x rdf:subject ?ss ; rdf:predicate ?sp ; rdf:object ?so . GRAPH ?g { ?ss ?sp ?so } BIND("tg" AS ?part) }
  UNION { { ?x ?q ?st } UNION { ?st ?q ?x }
          ?st rdf:subject ?ss ; rdf:predicate ?sp ; rdf:object ?so . BIND("st3" AS ?part) }
}"""

# A document's evidence spans and the facts each states.
DOCUMENT_SPANS = """SELECT ?part ?ev ?quote ?start ?end ?st ?ss ?sp ?so WHERE {
  ?ev sg:document ?x ; sg:quote ?quote ; sg:startOffset ?start ; sg:endOffset ?end .
  OPTIONAL { ?st sg:evidence ?ev . ?st rdf:subject ?ss ; rdf:predicate ?sp ; rdf:object ?so }
  BIND("dev" AS ?part)
}"""


def inline(query: str, iri: str) -> str:
    """The query with ?x replaced by the IRI (checked); Oxigraph plans a constant far better than a substitution."""
    return re.sub(r"\?x\b", nt(URIRef(iri)), query)


class Site:
    """What the linked-data pages derive from the served store, once per app (see `warm`).

    The served store never changes while the app runs: the labels, counts, ontology, context, rule
    catalogue, named-graph bodies and dumps are each computed once, on first use, under a lock of
    their own (so parallel first requests wait for one computation); entity descriptions are kept
    in a bounded cache.
    """

    def __init__(self, executor, settings, dataset=None):
        self.source = ExecutorSource(executor, settings.query_timeout)
        self.max_rows = settings.max_rows
        self.dataset = dataset
        self.texts = DocumentTexts()
        self._lock = threading.Lock()
        self._descriptions: OrderedDict[str, bytes] = OrderedDict()
        self._description_bytes = 0
        self._computed: dict[Hashable, Any] = {}
        self._computing: dict[Hashable, threading.Lock] = {}

    def once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """compute() the first time `key` is asked for, by one thread while the others wait; then kept."""
        if key in self._computed:
            return self._computed[key]
        with self._lock:
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:
            if key not in self._computed:
                self._computed[key] = compute()
            return self._computed[key]

    @property
    def summary(self) -> Mapping:
        """The served build's summary (graph.summary), empty for a dataset without one; its large parts
        (timeline, allowed, labels) are read from their files the first time a page asks for them."""
        return self.once("summary", lambda: BuildSummary(getattr(self.dataset, "summary", None) or {}, self.once))

    # descriptions

    def describe(self, iri: str) -> bytes:
        """N-Triples describing `iri`: its triples as subject and as object (every graph) and the labels
        of the nodes it links to; empty when the store does not know it. Kept in a bounded cache."""
        with self._lock:
            if iri in self._descriptions:
                self._descriptions.move_to_end(iri)
                return self._descriptions[iri]
        body, _ = self.source.construct(inline(DESCRIBE, iri))
        if not body:  # an unknown IRI: never kept, so made-up IRIs cannot fill the memory
            return body
        with self._lock:
            if iri not in self._descriptions:
                self._descriptions[iri] = body
                self._description_bytes += len(body) + len(iri)
            while len(self._descriptions) > DESCRIPTION_CACHE or self._description_bytes > DESCRIPTION_CACHE_BYTES:
                old_iri, old_body = self._descriptions.popitem(last=False)
                self._description_bytes -= len(old_body) + len(old_iri)
        return body

    def graph_triples(self, graph: str, capped: bool = True) -> tuple[bytes, bool]:
        """N-Triples of a named graph and whether they were cut; capped: at the max_rows setting
        (the dumps hold everything). Read once."""
        return self.once(("graph", graph, capped), lambda: self.source.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {nt(URIRef(graph))} {{ ?s ?p ?o }} }}",
            self.max_rows if capped else None))

    def graph_body(self, graph: str, media_type: str, main: str | None = None,
                   capped: bool = True) -> tuple[bytes, bool]:
        """A named graph in an RDF format (as `graph_triples`), rendered once."""
        def render() -> tuple[bytes, bool]:
            triples, cut = self.graph_triples(graph, capped)
            return rdf_body(triples, media_type, self.context, main), cut

        return self.once(("body", graph, media_type, main, capped), render)

    def graph_classes(self, graph: str) -> list[dict]:
        """The classes most used in a named graph, with their node counts (its HTML summary): counted at
        build time (graph.summary), else asked of the store once."""
        saved = self.summary.get("graph_classes")
        if saved is not None:
            return [{"c": URIRef(c), "n": n} for c, n in saved.get(graph, [])]
        return self.once(("classes", graph), lambda: self.source.select(
            f"SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH {nt(URIRef(graph))} {{ ?x a ?c }} }} "
            "GROUP BY ?c ORDER BY DESC(?n) LIMIT 30"))

    def page_rows(self, iri: str) -> list[dict]:
        rows = self.source.select(inline(PAGE, iri))
        if any(r["part"].value == "out" and r["p"] == RDF.type and r["o"] == SG.Document for r in rows):
            rows += [{**r, "x": URIRef(iri)} for r in self.source.select(inline(DOCUMENT_SPANS, iri))]
        return rows

    # index pages

    @property
    def kinds(self) -> list[dict]:
        """The kinds of IRI under id/ (exchange, person, ...) with how many of each, read once."""
        return self.once("kinds", lambda: _kinds(self))

    def index_pages(self, kind: str) -> int:
        """How many pages /id/{kind}/ has (INDEX_PAGE entries each); 1 without a build-time index."""
        pages = index_pages(self.summary, kind)
        return pages if pages is not None else 1

    def index(self, kind: str, page: int = 0) -> list[dict]:
        """Page `page` (from 0) of the IRIs under id/{kind}/ with their labels and sg types, by label:
        read from the build's index file (one page, never the whole list), else asked of the store
        once (the first INDEX_PAGE only)."""
        prefix = f"{ID}{kind}/"  # kind is one of `kinds`, read from IRIs (which cannot hold a quote)
        saved = read_index_page(self.summary, kind, page)
        if saved is not None:
            return [{"iri": prefix + local, "href": local_path(prefix + local), "label": label or local,
                     "types": sorted(types)} for local, label, types in saved]

        def read() -> list[dict]:
            rows = self.source.select(
                f'SELECT ?s (SAMPLE(?l) AS ?label) (GROUP_CONCAT(DISTINCT ?t; separator=" ") AS ?types) WHERE {{ '
                f'?s ?p ?o FILTER(STRSTARTS(STR(?s), "{prefix}")) OPTIONAL {{ ?s rdfs:label ?l }} '
                f'OPTIONAL {{ ?s a ?t FILTER(STRSTARTS(STR(?t), STR(sg:))) }} }} GROUP BY ?s LIMIT {INDEX_PAGE}')
            entries = [{"iri": str(r["s"]), "href": local_path(str(r["s"])),
                        "label": str(r["label"]) if "label" in r else str(r["s"])[len(prefix):],
                        "types": sorted(t[len(str(SG._NS)):] for t in str(r.get("types", "")).split() if t)}
                       for r in rows]
            return sorted(entries, key=lambda e: e["label"].casefold())
        return self.once(("index", kind), read) if page == 0 else []

    # labels and the ontology

    @property
    def labels(self) -> dict[str, str]:
        """rdfs:label of every IRI (English first), and names for rdf:type, rdfs:label, skos:altLabel."""
        return self.once("labels", self._labels)

    def _labels(self) -> dict[str, str]:
        found: dict[str, str] = self.summary.get("labels")  # collected at build time (graph.summary)
        if found is None:
            found = {}
            for row in self.source.select(LABELS):
                key = str(row["x"])
                if key not in found or getattr(row["l"], "language", None) == "en":
                    found[key] = str(row["l"])
        for prefix_iri, name in ((str(RDF.type), "type"), (str(RDFS.label), "label"),
                                 (str(SKOS.altLabel), "alternative label")):
            found.setdefault(prefix_iri, name)
        return found

    @property
    def ontology(self) -> Graph:
        return self.once("ontology", self._ontology)

    def _ontology(self) -> Graph:
        graph = Graph()
        triples, _ = self.graph_triples(str(Graphs.ONTOLOGY), capped=False)
        graph.parse(data=triples, format="nt")
        for prefix, ns in KNOWN_PREFIXES.items():
            graph.bind(prefix, ns, override=True)
        return graph

    @property
    def counts(self) -> dict:
        """Instances per class, uses per property, derivations per rule and predicate, totals."""
        return self.once("counts", self._counts)

    def _counts(self) -> dict:
        if saved := self.summary.get("counts"):  # counted at build time (graph.summary)
            return saved
        classes = {str(r["c"]): int(r["n"]) for r in self.source.select(
            "SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c")}
        properties = {str(r["p"]): int(r["n"]) for r in self.source.select(
            "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")}
        # Derivations per predicate and rule are counted by the engine into the build's summary: its
        # compact records name premises by hash, so a query cannot group them by predicate.
        derived: dict[str, dict[str, int]] = {}
        totals = self.source.select(
            "SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
            "(COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }"
        )[0]
        distinct = self.source.select(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")[0]
        entities = self.source.select(
            f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}')[0]
        graphs = {str(r["g"]): int(r["n"]) for r in self.source.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
        documents = [(str(r["d"]), str(r["t"]) if "t" in r else None, str(r["f"]) if "f" in r else None)
                     for r in self.source.select(
            "SELECT ?d ?t ?f WHERE { ?d a sg:Document . OPTIONAL { ?d sg:title ?t } OPTIONAL { ?d sg:fileName ?f } } ORDER BY ?f")]
        return {
            "classes": classes, "properties": properties, "derived": derived, "graphs": graphs,
            "quads": int(totals["triples"]), "triples": int(distinct["n"]),
            "subjects": int(totals["subjects"]), "objects": int(totals["objects"]),
            "property_count": int(totals["properties"]), "entities": int(entities["n"]), "documents": documents,
        }

    @property
    def datatypes(self) -> dict[str, set[str]]:
        """For each sg property, the kinds of object it has in the data: 'iri' or a datatype IRI."""
        return self.once("datatypes", self._datatypes)

    def _datatypes(self) -> dict[str, set[str]]:
        saved = self.summary.get("datatypes")  # found at build time (graph.summary): a pass over every triple
        found = saved if saved is not None else datatypes(self.source.select(DATATYPES))
        return {p: set(kinds) for p, kinds in found.items()}

    @property
    def context(self) -> dict:
        return self.once("context", lambda: build_context(self.ontology, self.datatypes))

    @property
    def rules(self) -> list[dict]:
        return self.once("rules", lambda: rule_catalogue(self.ontology))

    def rule_usage(self, term: str) -> list[tuple[dict, str]]:
        used = []
        for rule in self.rules:
            how = rule["uses"].get(term)
            if how:
                used.append((rule, how))
        return used

    # dumps

    def dump(self, name: str) -> bytes:
        """A gzipped dump of every named graph (DUMPS), built once."""
        return self.once(("dump", name), lambda: self._dump(DUMPS[name]))

    def _dump(self, media_type: str) -> bytes:
        rows = self.source.executor.run(
            "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", result_format=results.TSV,
            timeout=DUMP_TIMEOUT, union_default_graph=False,
        ).body.decode("utf-8").split("\n")[1:]
        nquads = "".join(" ".join(row.split("\t")) + " .\n" for row in rows if row.strip())
        quads = list(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
        quads.sort(key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
        if media_type == TRIG:
            body = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=KNOWN_PREFIXES)
        else:
            body = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        return gzip.compress(body, mtime=0)


class BuildSummary(Mapping):
    """A build's summary (graph.summary.read_summary) whose parts (PART_NAMES) are read from their files
    on first use, each once (`once`), so that a page that needs none of them never loads them."""

    def __init__(self, saved: dict, once: Callable[[Hashable, Callable[[], Any]], Any]):
        self._saved, self._once = saved, once

    def __getitem__(self, key: str):
        if key in self._saved or key not in PART_NAMES or not self._saved:
            return self._saved[key]
        found = self._once(("part", key), lambda: read_part(self._saved, key))
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self):
        return iter(self._saved)

    def __len__(self) -> int:
        return len(self._saved)


def warm(app: FastAPI) -> None:
    """Set up the app's linked-data `Site` at start-up (from the lifespan, once the executor is up).

    The Site's contents are computed on first use, not here: start-up stays a few counting queries.
    """
    state = app.state
    state.linked_data = Site(state.executor, state.settings, getattr(state, "dataset", None))


def site(request: Request) -> Site:
    """The app's Site, set up in its lifespan by `warm`."""
    return request.app.state.linked_data


# --- JSON-LD ------------------------------------------------------------------------------------

CONTEXT_PREFIXES = ("sg", "rdf", "rdfs", "owl", "xsd", "skos", "prov", "dcterms", "schema", "sem", "crm", "void")
FIXED_TERMS = {
    "label": str(RDFS.label),
    "comment": str(RDFS.comment),
    "altLabel": str(SKOS.altLabel),
    "definition": str(SKOS.definition),
    "Statement": str(RDF.Statement),
}
ID_TERMS = {"subject": str(RDF.subject), "predicate": str(RDF.predicate)}


def build_context(ontology: Graph, observed: dict[str, set[str]]) -> dict:
    """sg terms as plain keys; object properties typed @id; a property with one datatype typed with it."""
    context: dict = {prefix: KNOWN_PREFIXES[prefix] for prefix in CONTEXT_PREFIXES}
    context.update({name: curie(iri) for name, iri in FIXED_TERMS.items()})
    context.update({name: {"@id": curie(iri), "@type": "@id"} for name, iri in ID_TERMS.items()})
    context["object"] = curie(str(RDF.object))
    for name in sorted(n for n in SG.__annotations__ if not n.startswith("_")):
        iri = str(SG[name])
        types = set(ontology.objects(URIRef(iri), RDF.type))
        kinds = observed.get(iri, set())
        if OWL.Class in types or name[0].isupper():
            context[name] = "sg:" + name
            continue
        literal_kinds = kinds - {"iri"}
        ranges = {str(r) for r in ontology.objects(URIRef(iri), RDFS.range)}
        if kinds == {"iri"} or (not kinds and OWL.ObjectProperty in types):
            context[name] = {"@id": "sg:" + name, "@type": "@id"}
        elif "iri" not in kinds and len(literal_kinds) == 1 and next(iter(literal_kinds)) not in (
            str(XSD.string), str(RDF.langString)
        ):
            context[name] = {"@id": "sg:" + name, "@type": curie(next(iter(literal_kinds)))}
        elif not kinds and len(ranges) == 1 and next(iter(ranges)).startswith(str(XSD)) and next(
            iter(ranges)
        ) != str(XSD.string):
            context[name] = {"@id": "sg:" + name, "@type": curie(next(iter(ranges)))}
        else:
            context[name] = "sg:" + name
    return context


class _Terms:
    """Reverse lookups of a context: IRI -> (key, coercion)."""

    def __init__(self, context: dict):
        self.prefixes = {}
        self.keys: dict[str, tuple[str, str | None]] = {}
        self.classes: dict[str, str] = {}
        for key, value in context.items():
            if isinstance(value, str) and value.endswith(("#", "/")) and key in CONTEXT_PREFIXES:
                self.prefixes[key] = value
        for key, value in context.items():
            if key in self.prefixes:
                continue
            target, coercion = (value["@id"], value.get("@type")) if isinstance(value, dict) else (value, None)
            iri = self.expand(target)
            if key[0].isupper():
                self.classes[iri] = key
            self.keys[iri] = (key, self.expand(coercion) if coercion and coercion != "@id" else coercion)

    @staticmethod
    def expand(text: str) -> str:
        return expand_iri(text) or text

    def compact(self, iri: str) -> str:
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and len(iri) > len(ns) and re.fullmatch(r"[A-Za-z0-9_\-.]+", iri[len(ns):]):
                return f"{prefix}:{iri[len(ns):]}"
        return iri


def _node_id(term) -> str:
    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


def _literal_json(term: ox.Literal, coercion: str | None, terms: _Terms):
    datatype = term.datatype.value
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if coercion is not None and coercion != "@id":
        if datatype == coercion:
            if datatype == str(XSD.integer) and re.fullmatch(r"-?(0|[1-9][0-9]*)", term.value):
                return int(term.value)
            return term.value
        return {"@value": term.value, "@type": terms.compact(datatype)}
    if coercion == "@id":
        return {"@value": term.value} if datatype == str(XSD.string) else {"@value": term.value, "@type": terms.compact(datatype)}
    if datatype == str(XSD.string):
        return term.value
    if datatype == str(XSD.integer) and re.fullmatch(r"-?(0|[1-9][0-9]*)", term.value):
        return int(term.value)
    if datatype == str(XSD.boolean) and term.value in ("true", "false"):
        return term.value == "true"
    return {"@value": term.value, "@type": terms.compact(datatype)}


def to_jsonld(triples, context: dict, main: str | None = None, context_url: str | None = None) -> dict:
    """Compacted JSON-LD of pyoxigraph triples with the project context (keys are context terms): inline,
    so that it parses offline, or referenced by `context_url` (this server's /context.jsonld)."""
    terms = _Terms(context)
    nodes: dict[str, dict] = {}
    order: list[str] = []
    for triple in triples:
        sid = _node_id(triple.subject)
        if sid not in nodes:
            nodes[sid] = {"@id": sid}
            order.append(sid)
        node = nodes[sid]
        predicate = triple.predicate.value
        obj = triple.object
        if predicate == str(RDF.type) and not isinstance(obj, ox.Literal):
            value = terms.classes.get(obj.value) or terms.compact(_node_id(obj))
            node.setdefault("@type", []).append(value)
            continue
        key, coercion = terms.keys.get(predicate, (terms.compact(predicate), None))
        if isinstance(obj, ox.Literal):
            value = _literal_json(obj, coercion, terms)
        elif coercion == "@id":
            value = _node_id(obj)
        else:
            value = {"@id": _node_id(obj)}
        node.setdefault(key, []).append(value)
    out_nodes = []
    order.sort(key=lambda i: (i != main, i))
    for sid in order:
        node = nodes[sid]
        for key, value in list(node.items()):
            if isinstance(value, list):
                value.sort(key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
                node[key] = value[0] if len(value) == 1 else value
        out_nodes.append(node)
    document: dict = {"@context": context_url or context}
    if len(out_nodes) == 1:
        document.update(out_nodes[0])
    else:
        document["@graph"] = out_nodes
    return document


# --- responses ----------------------------------------------------------------------------------


def choose(request: Request, offers=RDF_OFFERS, names=FORMAT_NAMES) -> str:
    """The media type to answer with: `?format=` first, else `Accept` (406 when nothing fits)."""
    fmt = request.query_params.get("format")
    if fmt:
        chosen = names.get(fmt.strip().lower())
        if chosen is None or chosen not in offers:
            raise not_acceptable(sorted(k for k, v in names.items() if v in offers))
        return chosen
    chosen = negotiate(request.headers.get("accept"), list(offers))
    return ALIASES.get(chosen, chosen)


def respond(request: Request, body: bytes | str, media_type: str, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, str):
        body = body.encode("utf-8")
    all_headers = {"Vary": "Accept", **(headers or {})}
    content_type = media_type
    if media_type.startswith("text/") or media_type in (JSON, JSON_LD, N_TRIPLES, RDF_XML):
        content_type += "; charset=utf-8"
    if request.method == "HEAD":
        all_headers["Content-Length"] = str(len(body))
        return Response(status_code=status, headers=all_headers, media_type=content_type)
    return Response(content=body, status_code=status, headers=all_headers, media_type=content_type)


ALTERNATE_FORMATS = ((TURTLE, "ttl"), (JSON_LD, "jsonld"), (N_TRIPLES, "nt"), (RDF_XML, "rdfxml"), (HTML, "html"))


def alternates_header(path: str, media_type: str) -> str:
    """`Link` header value naming the resource's other formats (rel="alternate", with their types)."""
    return ", ".join(f'<{path}?format={name}>; rel="alternate"; type="{other}"'
                     for other, name in ALTERNATE_FORMATS if other != media_type)


def respond_resource(request: Request, body: bytes | str, media_type: str) -> Response:
    """A 200 for a linked-data resource, with Link headers to its other formats."""
    return respond(request, body, media_type, headers={"Link": alternates_header(request.url.path, media_type)})


def rdf_body(nt_body: bytes, media_type: str, context: dict, main: str | None = None,
             context_url: str | None = None) -> bytes:
    if media_type == N_TRIPLES:
        return nt_body
    triples = list(ox.parse(nt_body, format=ox.RdfFormat.N_TRIPLES))
    triples.sort(key=lambda t: (t.subject.value != main, str(t.subject), str(t.predicate), str(t.object)))
    if media_type == JSON_LD:
        document = to_jsonld(triples, context, main, context_url)
        return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    fmt = OX_FORMATS[media_type]
    if media_type == N_TRIPLES:
        return ox.serialize(triples, format=fmt)
    return ox.serialize(triples, format=fmt, prefixes=KNOWN_PREFIXES)


def not_found(request: Request, media_type: str, iri: str, what: str = "entity") -> Response:
    """404 in the negotiated format: a JSON error, an RDF comment with no triples, or a page."""
    message = f"no {what} <{iri}> in this dataset"
    if media_type in (JSON, JSON_LD):
        body = json.dumps({"error": "not_found", "message": message, "status": 404, "iri": iri})
        return respond(request, body, JSON, 404)
    if media_type in (TURTLE, N_TRIPLES):
        return respond(request, f"# {message}\n", media_type, 404)
    if media_type == RDF_XML:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {escape(message)} -->\n'
                f'<rdf:RDF xmlns:rdf="{RDF}"/>\n')
        return respond(request, body, RDF_XML, 404)
    html = page("Not found", f"<h1>Not found</h1><p>There is no {escape(what)} <code>{escape(iri)}</code> "
                             'in this dataset.</p><p>Try the <a href="/sparql">SPARQL editor</a> or the '
                             '<a href="/void">dataset description</a>.</p>')
    return respond(request, html, HTML, 404)


def alternates(path: str) -> str:
    """Links to the other formats of the same resource."""
    items = [("Turtle", "ttl"), ("JSON-LD", "jsonld"), ("N-Triples", "nt"), ("RDF/XML", "rdfxml")]
    return ('<p class="muted">Also as ' + ", ".join(
        f'<a href="{escape(path)}?format={code}" rel="alternate">{name}</a>' for name, code in items) + ".</p>")


# --- HTML pieces, shared with /explain ----------------------------------------------------------


def term_html(term, labels: dict[str, str], statements: dict[str, tuple] | None = None) -> str:
    """A term for a page: IRIs as links with their label and CURIE, literals escaped."""
    if isinstance(term, URIRef):
        iri = str(term)
        if statements and iri in statements:
            s, p, o = statements[iri]
            inner = " ".join(term_html(t, labels) for t in (s, p, o))
            return f'<a href="{escape(local_path(iri) or iri, quote=True)}">statement</a> ⟨{inner}⟩'
        label = labels.get(iri)
        if label:
            return f'{link(iri, label)} <span class="muted">{escape(curie(iri))}</span>'
        return link(iri, curie(iri))
    if isinstance(term, BNode):
        return '<span class="muted">(anonymous node)</span>'
    text = escape(str(term))
    if term.language:
        return f'{text} <span class="muted">@{escape(term.language)}</span>'
    if term.datatype and str(term.datatype) != str(XSD.string):
        return f'{text} <span class="muted">{escape(curie(str(term.datatype)))}</span>'
    return text


def term_param(term) -> str:
    """A term as an /explain parameter: the IRI, or the literal in N-Triples form."""
    return str(term) if isinstance(term, URIRef) else term.n3()


def form_value(source, term, role: str, labels: dict[str, str], *, subject=None, predicate=None) -> str:
    """A term as a person would type it into the /explain form: its label when the label names exactly
    this term again, else its CURIE, else the IRI (or the literal's lexical form when that reads back)."""
    if isinstance(term, URIRef):
        candidates = [labels.get(str(term)), curie(str(term))]
    else:
        candidates = [str(term)]
    for text in filter(None, candidates):
        try:
            if resolve(source, text, role, subject=subject, predicate=predicate) == term:
                return text
        except Unresolved:
            continue
    return term_param(term)


def rule_step_html(site_: "Site", rule_iri: str, rule_id: str, concluded, labels: dict[str, str]) -> Markup:
    """A derivation step's rule on /explain: its id, its name (the rule file's label), what the
    concluded term means (the ontology's skos:definition) and the rule file's own description."""
    rule = next((r for r in site_.rules if r["iri"] == rule_iri), None)
    meaning = ""
    if concluded is not None:
        definition = site_.ontology.value(URIRef(str(concluded)), SKOS.definition)
        if definition:
            # "Derived: ..." in the ontology says the same as the step itself
            text = re.sub(r"^Derived:\s*", "", str(definition))
            meaning = f"{labels.get(str(concluded)) or curie(str(concluded))}: {text}"
    return Markup(render("explain_rule.html", href=local_path(rule_iri) or rule_iri, rule_id=rule_id,
                         label=rule["label"] if rule else "", description=rule["description"] if rule else "",
                         meaning=meaning))


def explain_href(s, p, o) -> str:
    return "/explain?" + urlencode({"s": term_param(s), "p": term_param(p), "o": term_param(o)})


def evidence_html(texts: DocumentTexts, labels: dict[str, str], *, evidence: str, document: str,
                  file_name: str | None, quote: str, start: int, end: int) -> str:
    """The quote highlighted inside its sentence, with the document and offsets."""
    found = texts.sentence(file_name, start, end, quote)
    if found:
        before, marked, after = found
        sentence = f"{escape(before)}<mark>{escape(marked)}</mark>{escape(after)}"
    else:
        sentence = f"<mark>{escape(quote)}</mark>"
    title = labels.get(document) or file_name or curie(document)
    doc_link = f'<a href="{escape(local_path(document) or document)}#ev-{start}-{end}">{escape(title)}</a>'
    return (f'<blockquote><p>{sentence}</p><p class="muted">— {doc_link}, '
            f'<a href="{escape(local_path(evidence) or evidence)}">characters {start}–{end}</a></p></blockquote>')


# --- entity pages -------------------------------------------------------------------------------


def _row_key(p, o) -> tuple[str, str]:
    return str(p), o.n3() if not isinstance(o, BNode) else "_:" + str(o)


def _sort_facts(item, labels):
    (p, o), _ = item
    order = {str(RDF.type): 0, str(RDFS.label): 1, str(SKOS.altLabel): 2}
    return (order.get(str(p), 3), labels.get(str(p), curie(str(p))).lower(), labels.get(str(o), str(o)).lower())


def _source_cell(kind: str, s, p, o, evidences: list[str]) -> str:
    if kind == "asserted":
        return '<span class="badge">asserted</span> ' + ", ".join(evidences)
    if kind == "inferred":
        return (f'<span class="badge inferred">inferred</span> '
                f'<a href="{escape(explain_href(s, p, o), quote=True)}">why?</a>')
    return f'<span class="badge">{escape(KIND_TEXT.get(kind, kind))}</span>'


def sentence_groups(texts: DocumentTexts, facts: list[tuple]) -> tuple[list[dict], dict[tuple, list[int]]]:
    """The sentences quoted for an entity's facts, each once with every quote in it marked and the facts it
    states; and, per fact, the numbers (from 1) of its sentences. `facts`: (p, o, evidence records)."""
    sentences: dict[tuple, dict] = {}
    sentence_of: dict[tuple, list[int]] = {}
    for p, o, records in facts:
        for record in records:
            found = texts.sentence(record["file"], record["start"], record["end"], record["quote"])
            before, marked, after = found or ("", record["quote"], "")
            begin = record["start"] - len(before)  # where the shown sentence starts in the document
            key = (record["doc"], before + marked + after, begin if found else record["ev"])
            entry = sentences.setdefault(key, {"number": len(sentences) + 1, "text": key[1], "doc": record["doc"],
                                               "file": record["file"], "spans": set(), "facts": []})
            entry["spans"].add((len(before), len(before) + len(marked), record["start"], record["end"], record["ev"]))
            if (p, o) not in entry["facts"]:
                entry["facts"].append((p, o))
            numbers = sentence_of.setdefault(_row_key(p, o), [])
            if entry["number"] not in numbers:
                numbers.append(entry["number"])
    return [_pieces(entry) for entry in sentences.values()], sentence_of


def _pieces(entry: dict) -> dict:
    """A sentence cut into (text, marked) pieces at its quotes' bounds (overlapping quotes merge)."""
    text, spans = entry["text"], sorted(entry["spans"])
    bounds = sorted({0, len(text)} | {a for a, *_ in spans} | {b for _, b, *_ in spans})
    pieces = [(text[a:b], any(s <= a and b <= e for s, e, *_ in spans)) for a, b in zip(bounds, bounds[1:]) if a < b]
    return {**entry, "pieces": pieces, "quotes": [(start, end, ev) for _, _, start, end, ev in spans]}


def entity_page(site_: Site, iri: str, rows: list[dict]) -> str:
    labels = site_.labels
    subject = URIRef(iri)
    out: dict[tuple, tuple] = {}
    incoming: dict[tuple, tuple] = {}
    evidence: dict[tuple, list[str]] = {}
    own_evidence: list[str] = []
    statements: dict[str, tuple] = {}
    triple_graphs: set[str] = set()
    triple = None
    doc_spans: dict[str, dict] = {}
    seen_evidence: set[tuple] = set()
    for row in rows:
        part = str(row["part"])
        if part in ("out", "in"):
            target = out if part == "out" else incoming
            key = _row_key(row["p"], row["o"])
            entry = target.setdefault(key, ((row["p"], row["o"]), set()))
            entry[1].add(str(row["g"]))
        elif part in ("ev", "sev", "self"):
            if "ev" not in row:
                row = {**row, "ev": subject}
            marker = (part, str(row.get("p")), str(row.get("o")), str(row["ev"]))
            if marker in seen_evidence:
                continue
            seen_evidence.add(marker)
            record = {"ev": str(row["ev"]), "doc": str(row["doc"]), "quote": str(row["quote"]),
                      "file": str(row["file"]) if "file" in row else None,
                      "start": int(row["start"]), "end": int(row["end"])}
            if part == "ev":
                evidence.setdefault(_row_key(row["p"], row["o"]), []).append(record)
            else:
                own_evidence.append(evidence_html(
                    site_.texts, labels, evidence=record["ev"], document=record["doc"], file_name=record["file"],
                    quote=record["quote"], start=record["start"], end=record["end"]))
        elif part == "tg":
            triple = (row["ss"], row["sp"], row["so"])
            triple_graphs.add(str(row["g"]))
        elif part == "st3":
            statements[str(row["st"])] = (row["ss"], row["sp"], row["so"])
        elif part == "dev":
            span = doc_spans.setdefault(str(row["ev"]), {
                "start": int(row["start"]), "end": int(row["end"]), "quote": str(row["quote"]), "facts": []})
            if "st" in row:
                fact = (row["ss"], row["sp"], row["so"])
                if fact not in span["facts"]:
                    span["facts"].append(fact)

    ordered_facts = sorted(out.values(), key=lambda item: _sort_facts(((item[0][0], item[0][1]), None), labels))
    sentences, sentence_of = sentence_groups(site_.texts, [(p, o, evidence.get(_row_key(p, o), []))
                                                          for (p, o), graphs in ordered_facts])
    facts = []
    for (p, o), graphs in ordered_facts:
        kind = fact_kind(graphs)
        links = [f'<a href="#sentence-{n}">sentence {n}</a>' for n in sentence_of.get(_row_key(p, o), [])]
        facts.append({"inferred": kind == "inferred", "first": Markup(term_html(p, labels)),
                      "second": Markup(term_html(o, labels, statements)),
                      "source": Markup(_source_cell(kind, subject, p, o, links))})
    about = [k for k, ((p, o), g) in incoming.items() if str(p) in REIFICATION and g == {str(Graphs.PROVENANCE)}]
    referenced = []
    for (p, s), graphs in sorted((v for k, v in incoming.items() if k not in set(about)),
                                 key=lambda item: _sort_facts(((item[0][0], item[0][1]), None), labels)):
        kind = fact_kind(graphs)
        source = _source_cell(kind, s, p, subject, []) if kind == "inferred" else \
            f'<span class="badge">{escape(KIND_TEXT.get(kind, kind))}</span>'
        referenced.append({"inferred": kind == "inferred", "first": Markup(term_html(s, labels, statements)),
                           "second": Markup(term_html(p, labels)), "source": Markup(source)})
    statement = None
    if triple is not None:  # a reified statement
        kind = fact_kind(triple_graphs)
        statement = {"triple": Markup(" ".join(term_html(t, labels) for t in triple)),
                     "kind": KIND_TEXT.get(kind, kind), "explain": explain_href(*triple)}
    label = labels.get(iri) or curie(iri)
    return render(
        "entity.html", title=label, label=label, iri=iri,
        types=[Markup(term_html(URIRef(t), labels)) for t in sorted({str(o) for (p, o), _ in out.values() if p == RDF.type})],
        alt=sorted(str(o) for (p, o), _ in out.values() if p == SKOS.altLabel),
        summary=[(name, [Markup(v) for v in values]) for name, values in summary_facts(out, labels)],
        statement=statement, own_evidence=[Markup(e) for e in own_evidence],
        document=Markup(document_section(site_, iri, out, doc_spans, labels)) if doc_spans else "",
        facts=facts, sentences=sentences, labels=labels, term=lambda t: Markup(term_html(t, labels, statements)),
        referenced=referenced, about=len(about), alternates=Markup(alternates(local_path(iri) or iri)))


# What an entity page leads with, when the entity has them: who someone is, what happened to them and in
# which exchange; for an exchange, when, where, between whom. The full list of facts follows.
SUMMARY = ("occupation", "employer", "citizenship", "heldBy", "arrestDate", "arrestedIn", "charge", "sentence",
           "releasedIn", "releasedBy", "releasedTo", "exchangedFor", "pardonedBy", "date", "startDate", "endDate",
           "venue", "party", "mediatedBy", "partOf", "locatedIn")


def summary_facts(out: dict, labels: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(property label, values as HTML) for the SUMMARY properties the entity has, in that order."""
    rows = []
    for name in SUMMARY:
        iri = str(SG[name])
        values = sorted({term_html(o, labels).split(' <span class="muted">')[0]
                         for (p, o), _ in out.values() if str(p) == iri})
        if values:
            rows.append(((labels.get(iri) or name)[:1].upper() + (labels.get(iri) or name)[1:], values))
    return rows


def document_section(site_: Site, iri: str, out: dict, spans: dict[str, dict], labels: dict[str, str]) -> str:
    """A document's text cut at its quotes' bounds (marked pieces link to the quote's facts), and its quotes."""
    file_name = next((str(o) for (p, o), _ in out.values() if p == SG.fileName), None)
    text = site_.texts.text(file_name)
    ordered = sorted(spans.items(), key=lambda item: (item[1]["start"], item[1]["end"]))
    pieces = None
    if text is not None:
        bounds = sorted({0, len(text)} | {s["start"] for _, s in ordered} | {s["end"] for _, s in ordered})
        anchors: dict[int, list[str]] = {}
        for ev, span in ordered:
            anchors.setdefault(span["start"], []).append(f'ev-{span["start"]}-{span["end"]}')
        pieces = []
        for left, right in zip(bounds, bounds[1:]):
            covering = [ev for ev, s in ordered if s["start"] <= left and right <= s["end"]]
            pieces.append({"anchors": anchors.pop(left, []), "text": text[left:right], "quotes": len(covering),
                           "fact": covering[0].rsplit("/", 1)[-1] if covering else None})
    rows = [{"id": ev.rsplit("/", 1)[-1], "ev": ev, "start": span["start"], "end": span["end"], "quote": span["quote"],
             "facts": [Markup(" ".join(term_html(t, labels) for t in fact)) for fact in span["facts"]]}
            for ev, span in ordered]
    return render("document_text.html", pieces=pieces, rows=rows)


# --- /id, /rule, /graph -------------------------------------------------------------------------


def _describe_response(request: Request, iri: str, extra_html=None) -> Response:
    media_type = choose(request)
    current = site(request)
    if not writable_iri(iri):
        return not_found(request, media_type, iri)
    if media_type == HTML:
        # The extractor's unreviewed candidates only when asked (?candidates=1), in their own marked section.
        rows = [row for row in current.page_rows(iri) if str(row.get("g")) != candidates.CANDIDATES]
        shown = candidates.candidate_section(request, iri)
        if not rows:
            if shown:
                return respond_resource(request, page(curie(iri), f"<h1>{escape(curie(iri))}</h1>{shown}"), HTML)
            return not_found(request, HTML, iri)
        html = entity_page(current, iri, rows)
        if extra_html is not None:
            html = html.replace("</main>", extra_html() + "\n</main>", 1)
        html = html.replace("</main>", shown + "\n</main>", 1)
        return respond_resource(request, html, HTML)
    body = current.describe(iri)
    if not body.strip():
        return not_found(request, media_type, iri)
    return respond_resource(request, rdf_body(body, media_type, current.context, iri, context_url(request)), media_type)


def context_url(request: Request) -> str | None:
    """`?context=url`: JSON-LD that references this server's /context.jsonld instead of holding it inline."""
    if request.query_params.get("context") == "url":
        return service_base(request) + "/context.jsonld"
    return None


GET_HEAD = ["GET", "HEAD"]
EXCHANGES = str(ID) + "exchange/"
RDF_RESPONSES = {200: {"description": "The description, as HTML, Turtle, JSON-LD, N-Triples or RDF/XML",
                       "content": {HTML: {}, TURTLE: {}, JSON_LD: {}, N_TRIPLES: {}, RDF_XML: {}}},
                 404: {"description": "Unknown IRI, answered in the negotiated format"},
                 406: {"description": "No acceptable format"}}


# What an index page of /id/{kind}/ calls each kind (the first path segment of the IRIs under id/).
KIND_NAMES = {
    "exchange": "Exchanges and legs", "person": "People", "state": "States", "org": "Organizations",
    "place": "Places and venues", "negotiation": "Negotiations", "release": "Releases",
    "group": "Groups of detainees", "claim": "Claims", "role": "Roles", "document": "Documents",
    "evidence": "Evidence spans (quotes)", "statement": "Recorded statements", "derivation": "Derivations",
}


def _kinds(current: "Site") -> list[dict]:
    saved = current.summary.get("kinds")  # counted at build time (graph.summary)
    rows = [{"kind": kind, "n": n} for kind, n in saved.items()] if saved is not None else current.source.select(
        f'SELECT ?kind (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}")) '
        f'BIND(STRBEFORE(STRAFTER(STR(?s), "{ID}"), "/") AS ?kind) FILTER(?kind != "") }} GROUP BY ?kind')
    kinds = [{"kind": str(r["kind"]), "name": KIND_NAMES.get(str(r["kind"]), str(r["kind"])), "count": int(r["n"])}
             for r in rows]
    order = list(KIND_NAMES)
    return sorted(kinds, key=lambda k: (order.index(k["kind"]) if k["kind"] in order else len(order), k["kind"]))


def _index_format(request: Request) -> str:
    """HTML or plain JSON (an index is a list for people and scripts, not an RDF description)."""
    fmt = (request.query_params.get("format") or "").strip().lower()
    if fmt:
        if fmt not in ("html", "json"):
            raise not_acceptable(["html", "json"])
        return HTML if fmt == "html" else JSON
    return negotiate(request.headers.get("accept"), [HTML, JSON])


@router.get("/id/", response_class=Response, summary="Every kind of thing the graph names, with counts (HTML, JSON).")
def kinds_index(request: Request):
    """Every kind of thing the graph names (the IRIs under id/), with counts and links to their lists."""
    kinds = site(request).kinds
    if _index_format(request) == JSON:
        return respond(request, json.dumps({"kinds": kinds}), JSON)
    return respond(request, render("kinds.html", title="Everything, by kind", kinds=kinds), HTML)


@router.get("/id/{kind}/", response_class=Response, summary="Every entity of one kind, a page at a time (HTML, JSON).")
def kind_index(kind: str, request: Request, page: int = 1):
    """The IRIs under id/{kind}/, with their labels and types, sorted by label: page `page` (from 1)."""
    current = site(request)
    known = {k["kind"]: k for k in current.kinds}
    media_type = _index_format(request)
    if kind not in known:
        return not_found(request, media_type, f"{ID}{kind}/", "kind of entity")
    pages = current.index_pages(kind)
    if not 1 <= page <= pages:
        raise ApiError(404, "no_such_page", f"/id/{kind}/ has pages 1 to {pages}")
    entries = current.index(kind, page - 1)
    if media_type == JSON:
        body = {"kind": kind, "count": known[kind]["count"], "page": page, "pages": pages, "entities": entries}
        return respond(request, json.dumps(body, ensure_ascii=False), JSON)
    return respond(request, render("index.html", title=known[kind]["name"], kind=known[kind], entries=entries,
                                   page=page, pages=pages, first=(page - 1) * INDEX_PAGE + 1), HTML)


@router.api_route("/id/{path:path}", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
def entity(path: str, request: Request):
    """Describe an entity, document, evidence span, statement or derivation (content negotiation)."""
    iri = str(ID) + path
    if iri.startswith(EXCHANGES) and "/" not in path[len("exchange/"):]:  # an exchange's page shows its picture
        return _describe_response(request, iri, lambda: exchange_figure(request, iri))
    return _describe_response(request, iri)


def rule_catalogue(ontology: Graph) -> list[dict]:
    """Each rule of ontology/rules: id, label, text, and the ontology terms it uses (how: mentioned,
    or the axiom it reads). A broken rule file raises (graph.rules.RuleError)."""
    catalogue = []
    for rule in load_rules(RULES_DIR):
        text = rule.path.read_text(encoding="utf-8")
        uses: dict[str, str] = {}
        for name in set(re.findall(r"\bsg:([A-Za-z][A-Za-z0-9]*)", text)):
            if name in SG.__annotations__:
                uses[str(SG[name])] = "named in the rule"
        for premise in rule.premises:
            predicate = premise.predicate
            if predicate.startswith("?"):
                continue
            axiom = RDF.type if predicate == "a" else URIRef(expand_iri(predicate))
            if axiom in (RDF.first, RDF.rest):
                continue
            if axiom == RDF.type:
                if not premise.object.startswith("?"):
                    for term in ontology.subjects(RDF.type, URIRef(expand_iri(premise.object))):
                        if isinstance(term, URIRef):
                            uses.setdefault(str(term), f"is a {premise.object}")
                continue
            for s, o in ontology.subject_objects(axiom):
                if isinstance(s, URIRef):
                    uses.setdefault(str(s), f"has {predicate}")
                if isinstance(o, URIRef) and str(o).startswith(str(SG._NS)):
                    uses.setdefault(str(o), f"object of {predicate}")
                if isinstance(o, BNode):
                    for member in Collection(ontology, o):
                        uses.setdefault(str(member), f"in a {predicate}")
        catalogue.append({"id": rule.id, "label": rule.label, "source": rule.source,
                          "description": rule.description, "text": text, "uses": uses,
                          "iri": str(RULE[rule.id])})
    return catalogue


@router.api_route("/rule/{rule_id}", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
def rule(rule_id: str, request: Request):
    """Describe an inference rule: its provenance triples, and on the HTML page its file and its uses."""
    current = site(request)
    entry = next((r for r in current.rules if r["id"] == rule_id), None)

    def extra() -> str:
        if entry is None:
            return ""
        labels = current.labels
        derived = {p: n[entry["iri"]] for p, n in current.counts["derived"].items() if entry["iri"] in n}
        used = "".join(f"<li>{term_html(URIRef(t), labels)} <span class=\"muted\">({escape(how)})</span></li>"
                       for t, how in sorted(entry["uses"].items()) if t.startswith(str(SG._NS)))
        made = "".join(f"<li>{term_html(URIRef(p), labels)}: {n}</li>" for p, n in sorted(derived.items()))
        return (f"<h2>Rule file <code>ontology/rules/{escape(rule_id)}.rq</code></h2>"
                f"<p>{escape(entry['description'])}</p><pre>{escape(entry['text'])}</pre>"
                f"<h2>Facts it derived in this build</h2><ul>{made or '<li>none</li>'}</ul>"
                f"<h2>Ontology terms it uses</h2><ul>{used or '<li>none</li>'}</ul>")

    return _describe_response(request, str(RULE) + rule_id, extra)


@router.api_route("/graph/{name}", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
def named_graph(name: str, request: Request):
    """A named graph: its triples (Turtle, JSON-LD, N-Triples, RDF/XML; cut at max_rows) or a summary page."""
    iri = str(GRAPH[name])
    media_type = choose(request)
    current = site(request)
    count = current.counts["graphs"].get(iri)
    if count is None:
        return not_found(request, media_type, iri, "named graph")
    if media_type != HTML:
        body, cut = current.graph_body(iri, media_type)
        headers = {TRUNCATED_HEADER: "true", "Link": '</dumps/swapgraph.nq.gz>; rel="alternate"'} if cut else {}
        return respond(request, body, media_type, headers=headers)
    labels = current.labels
    classes = [{"term": Markup(term_html(r["c"], labels)), "count": int(r["n"])} for r in current.graph_classes(iri)]
    query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT 100"
    html = render("named_graph.html", title=f"Graph {name}", name=name, iri=iri, holds=GRAPH_TITLES.get(iri, ""),
                  count=count, cut=count > current.max_rows, max_rows=current.max_rows,
                  query_params=urlencode({"query": query}), classes=classes)
    return respond(request, html, HTML)


# --- /ontology ----------------------------------------------------------------------------------

ONTOLOGY_OFFERS = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML, HTML, JSON)
CHARACTERISTICS = {
    OWL.SymmetricProperty: "symmetric", OWL.TransitiveProperty: "transitive", OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional", OWL.AsymmetricProperty: "asymmetric",
    OWL.IrreflexiveProperty: "irreflexive", OWL.ReflexiveProperty: "reflexive",
}


def ontology_terms(ontology: Graph) -> dict[str, list[URIRef]]:
    ns = str(SG._NS)
    groups = {"Classes": [], "Object properties": [], "Datatype properties": [], "Other properties": []}
    for term in sorted({s for s in ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(ns)}):
        types = set(ontology.objects(term, RDF.type))
        if OWL.Class in types or RDFS.Class in types:
            groups["Classes"].append(term)
        elif OWL.ObjectProperty in types:
            groups["Object properties"].append(term)
        elif OWL.DatatypeProperty in types:
            groups["Datatype properties"].append(term)
        else:
            groups["Other properties"].append(term)
    return {k: v for k, v in groups.items() if v}


def _anchor_link(term, labels) -> Markup:
    iri = str(term)
    if iri.startswith(str(SG._NS)):
        name = iri[len(str(SG._NS)):]
        return Markup(f'<a href="#{escape(name)}">{escape(labels.get(iri) or name)}</a> <span class="muted">sg:{escape(name)}</span>')
    return Markup(term_html(term, labels))


def ontology_page(current: Site) -> str:
    g = current.ontology
    meta = URIRef(str(ONTOLOGY_IRI))
    groups = [{"name": name, "terms": [_term_section(current, g, term, current.labels, current.counts) for term in terms]}
              for name, terms in ontology_terms(g).items()]
    return render("ontology.html", title="Ontology", heading=str(g.value(meta, RDFS.label) or "Swapgraph ontology"),
                  iri=str(ONTOLOGY_IRI), version=g.value(meta, OWL.versionInfo), definition=g.value(meta, SKOS.definition),
                  namespace=str(SG._NS), licence=CC_BY, rules=current.rules, alternates=Markup(alternates("/ontology")),
                  groups=groups)


def _rule_link(rule_id: str) -> Markup:
    return Markup(f'<a href="/rule/{escape(rule_id)}">{escape(rule_id)}</a>')


def _term_section(current: Site, g: Graph, term: URIRef, labels, counts) -> dict:
    """One term's documentation: its name, label and (heading, values) rows; values are text or Markup."""
    iri = str(term)
    name = iri[len(str(SG._NS)):]
    rows = []

    def add(heading: str, values) -> None:
        values = [v for v in values if v]
        if values:
            rows.append((heading, values))

    add("Definition", [str(d) for d in g.objects(term, SKOS.definition)] + [str(c) for c in g.objects(term, RDFS.comment)])
    add("Subclass of", sorted(_anchor_link(o, labels) for o in g.objects(term, RDFS.subClassOf)))
    add("Superclass of", sorted(_anchor_link(s, labels) for s in g.subjects(RDFS.subClassOf, term)))
    add("Subproperty of", sorted(_anchor_link(o, labels) for o in g.objects(term, RDFS.subPropertyOf)))
    add("Superproperty of", sorted(_anchor_link(s, labels) for s in g.subjects(RDFS.subPropertyOf, term)))
    add("Inverse of", sorted({_anchor_link(o, labels) for o in g.objects(term, OWL.inverseOf)}
                             | {_anchor_link(s, labels) for s in g.subjects(OWL.inverseOf, term)}))
    add("Characteristics", sorted(CHARACTERISTICS[t] for t in g.objects(term, RDF.type) if t in CHARACTERISTICS))
    add("Property chain", [Markup(" ∘ ").join(_anchor_link(m, labels) for m in Collection(g, chain))
                           for chain in g.objects(term, OWL.propertyChainAxiom)])
    add("Link in the chain of", sorted(_anchor_link(other, labels) for other, chain in g.subject_objects(OWL.propertyChainAxiom)
                                       if term in list(Collection(g, chain))))
    add("Domain", sorted(_anchor_link(o, labels) for o in g.objects(term, RDFS.domain)))
    add("Range", sorted(_anchor_link(o, labels) for o in g.objects(term, RDFS.range)))
    add("Equivalent to", sorted(_anchor_link(o, labels) for o in g.objects(term, OWL.equivalentClass)))
    for predicate, heading in ((SKOS.exactMatch, "Exact match"), (SKOS.closeMatch, "Close match"),
                               (SKOS.broadMatch, "Broader match"), (SKOS.narrowMatch, "Narrower match")):
        add(heading, sorted(Markup(term_html(o, labels)) for o in g.objects(term, predicate)))
    add("Rules", [_rule_link(r["id"]) + Markup(' <span class="muted">(%s)</span>') % how
                  for r, how in current.rule_usage(iri)])
    derived = counts["derived"].get(iri, {})
    add("Inferred here", [Markup("%s by ") % n + _rule_link(r[len(str(RULE)):]) for r, n in sorted(derived.items())])
    if iri in counts["classes"]:
        add("Instances", [str(counts["classes"][iri])])
    elif iri in counts["properties"]:
        add("Uses", [str(counts["properties"][iri])])
    return {"name": name, "label": labels.get(iri) or name, "rows": rows}


@router.api_route("/ontology", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
def ontology(request: Request):
    """The ontology: term-by-term HTML documentation, or the ontology graph by content negotiation."""
    media_type = choose(request, ONTOLOGY_OFFERS)
    current = site(request)
    if media_type == HTML:
        return respond_resource(request, ontology_page(current), HTML)
    body, _ = current.graph_body(str(Graphs.ONTOLOGY), media_type, str(ONTOLOGY_IRI), capped=False)
    return respond_resource(request, body, media_type)


@router.api_route("/ontology/{version}", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
def ontology_version(version: str, request: Request):
    """The ontology at its version IRI (owl:versionIRI); only the served version is known."""
    current = site(request)
    iri = URIRef(f"{ONTOLOGY_IRI}/{version}")
    if (URIRef(str(ONTOLOGY_IRI)), OWL.versionIRI, iri) not in current.ontology:
        return not_found(request, choose(request, ONTOLOGY_OFFERS), str(iri), "ontology version")
    return ontology(request)


# --- /void --------------------------------------------------------------------------------------


def void_graph(current: Site, service: str) -> Graph:
    """The VoID description; `service` is where this service is reached (its endpoint and dumps)."""
    counts = current.counts
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcterms", DCTERMS)
    ds = DATASET
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("Swapgraph", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "An open knowledge graph of prisoner exchanges built from documents; every fact carries its source quote.",
        lang="en")))
    g.add((ds, DCTERMS.license, URIRef(CC_BY_SA)))
    g.add((ds, VOID.triples, Literal(counts["triples"], datatype=XSD.integer)))
    g.add((ds, VOID.classes, Literal(len(counts["classes"]), datatype=XSD.integer)))
    g.add((ds, VOID.properties, Literal(counts["property_count"], datatype=XSD.integer)))
    g.add((ds, VOID.entities, Literal(counts["entities"], datatype=XSD.integer)))
    g.add((ds, VOID.distinctSubjects, Literal(counts["subjects"], datatype=XSD.integer)))
    g.add((ds, VOID.distinctObjects, Literal(counts["objects"], datatype=XSD.integer)))
    g.add((ds, VOID.uriSpace, Literal(str(ID))))
    g.add((ds, VOID.vocabulary, URIRef(str(ONTOLOGY_IRI))))
    g.add((ds, VOID.sparqlEndpoint, URIRef(service + "/sparql")))
    g.add((ds, VOID.rootResource, URIRef(str(ONTOLOGY_IRI))))
    g.add((ds, VOID.exampleResource, ID["person/evan-gershkovich"]))
    g.add((ds, VOID.exampleResource, ID["exchange/2024-08-01-ankara"]))
    for name in DUMPS:
        g.add((ds, VOID.dataDump, URIRef(service + "/dumps/" + name)))
    if current.dataset is not None and getattr(current.dataset, "built_at", None):
        g.add((ds, DCTERMS.modified, Literal(current.dataset.built_at, datatype=XSD.dateTime)))
    for doc, title, file_name in counts["documents"]:
        g.add((ds, DCTERMS.source, URIRef(doc)))
        if title:
            g.add((URIRef(doc), DCTERMS.title, Literal(title)))
    for row in current.source.select(f"SELECT ?d ?l WHERE {{ ?d a sg:Document ; <{DCTERMS.license}> ?l }}"):
        g.add((URIRef(row["d"]), DCTERMS.license, URIRef(row["l"])))  # each document's own licence, where recorded
    for graph, n in sorted(counts["graphs"].items()):
        subset = URIRef(graph)
        g.add((ds, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, VOID.triples, Literal(n, datatype=XSD.integer)))
        if graph in GRAPH_TITLES:
            g.add((subset, DCTERMS.description, Literal(GRAPH_TITLES[graph], lang="en")))
    for klass, n in sorted(counts["classes"].items()):
        if klass.startswith(str(SG._NS)):
            part = BNode("class-" + klass[len(str(SG._NS)):])
            g.add((ds, VOID.classPartition, part))
            g.add((part, VOID["class"], URIRef(klass)))
            g.add((part, VOID.entities, Literal(n, datatype=XSD.integer)))
    for prop, n in sorted(counts["properties"].items()):
        if prop.startswith(str(SG._NS)):
            part = BNode("property-" + prop[len(str(SG._NS)):])
            g.add((ds, VOID.propertyPartition, part))
            g.add((part, VOID.property, URIRef(prop)))
            g.add((part, VOID.triples, Literal(n, datatype=XSD.integer)))
    return g


def void_page(current: Site) -> str:
    counts = current.counts
    labels = current.labels
    graphs = [{"iri": g, "name": g[len(BASE):], "title": GRAPH_TITLES.get(g, ""), "count": n}
              for g, n in sorted(counts["graphs"].items())]
    documents = [{"iri": d, "title": t or f or d} for d, t, f in counts["documents"]]
    classes = [{"term": Markup(term_html(URIRef(c), labels)), "count": n}
               for c, n in sorted(counts["classes"].items()) if c.startswith(str(SG._NS))]
    return render("void.html", title="Dataset", dataset=str(DATASET), licence=CC_BY_SA, counts=counts,
                  id_base=str(ID), graphs=graphs, documents=documents, classes=classes,
                  alternates=Markup(alternates("/void")))


@router.api_route("/void", methods=GET_HEAD, response_class=Response, responses=RDF_RESPONSES)
@router.api_route("/.well-known/void", methods=GET_HEAD, response_class=Response, include_in_schema=False)
def void(request: Request):
    """The VoID description of the dataset: counts, named graphs, licence, sources, endpoint, dumps
    (also at /.well-known/void, where VoID's discovery convention looks)."""
    media_type = choose(request, ONTOLOGY_OFFERS)
    current = site(request)
    if media_type == HTML:
        return respond_resource(request, void_page(current), HTML)
    nt_body = void_graph(current, service_base(request)).serialize(format="nt", encoding="utf-8")
    body = rdf_body(nt_body, media_type, current.context, str(DATASET), context_url(request))
    return respond_resource(request, body, media_type)


# --- /dumps, /context.jsonld --------------------------------------------------------------------


@router.api_route(
    "/dumps/{name}", methods=GET_HEAD, response_class=Response,
    responses={200: {"description": "The whole dataset, every named graph, gzipped (application/gzip)",
                     "content": {"application/gzip": {}}}, 404: {"description": "No such dump"}},
)
def dump(name: str, request: Request):
    """Download the full dataset: swapgraph.trig.gz (TriG) or swapgraph.nq.gz (N-Quads), gzipped."""
    # a download of a .gz file (application/gzip, attachment), not a Content-Encoding of the RDF
    if name not in DUMPS:
        raise ApiError(404, "not_found", f"no dump {name!r}: there are " + ", ".join(sorted(DUMPS)))
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "public, max-age=3600"}
    written = getattr(site(request).dataset, "dump", None)
    if written is not None:  # the build's own dump file, streamed: nothing read from the store
        body = None if request.method == "HEAD" else stream_dump(written, DUMPS[name])
        return StreamingResponse(body or iter(()), headers=headers, media_type="application/gzip")
    body = site(request).dump(name)
    if request.method == "HEAD":
        return Response(status_code=200, headers={**headers, "Content-Length": str(len(body))},
                        media_type="application/gzip")
    return Response(content=body, headers=headers, media_type="application/gzip")


DUMP_CHUNK = 1 << 20  # bytes of N-Quads read at a time
DUMP_BATCH = 20000  # quads per TriG piece (each piece repeats the prefixes: still one valid TriG document)


def stream_dump(path: Path, media_type: str):
    """The gzipped dump, compressed as it is sent from the build's N-Quads file (bounded memory)."""
    import zlib

    gzipper = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    for piece in _dump_pieces(path, media_type):
        if out := gzipper.compress(piece):
            yield out
    yield gzipper.flush()


def _dump_pieces(path: Path, media_type: str):
    if media_type == N_QUADS:
        with path.open("rb") as source:
            while piece := source.read(DUMP_CHUNK):
                yield piece
        return
    batch = []
    for quad in ox.parse(path.open("rb"), format=ox.RdfFormat.N_QUADS):  # a file, or a remote engine's stream
        batch.append(quad)
        if len(batch) == DUMP_BATCH:
            yield ox.serialize(batch, format=ox.RdfFormat.TRIG, prefixes=KNOWN_PREFIXES)
            batch = []
    if batch:
        yield ox.serialize(batch, format=ox.RdfFormat.TRIG, prefixes=KNOWN_PREFIXES)


@router.api_route("/context.jsonld", methods=GET_HEAD, response_class=Response,
                  responses={200: {"content": {JSON_LD: {}}}})
def context(request: Request):
    """The JSON-LD context of the vocabulary: sg terms as plain keys, with their value types."""
    body = json.dumps({"@context": site(request).context}, ensure_ascii=False, indent=1)
    return respond(request, body, JSON_LD)

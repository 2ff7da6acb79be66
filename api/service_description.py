"""The SPARQL 1.1 Service Description of /sparql, as RDF in any of the graph formats."""

from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD

from api import results
from api.dataset import DatasetInfo
from vocab import ALIGNED_PREFIXES, PREFIXES

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")
OWL_PROFILE = Namespace("http://www.w3.org/ns/owl-profile/")
SH = Namespace("http://www.w3.org/ns/shacl#")
GRAPH_BASE = "https://w3id.org/swapgraph/graph/"
# Declared for every query that uses them without a PREFIX line (api.sparql.with_declared_prefixes).
DECLARED_PREFIXES = {**PREFIXES, **ALIGNED_PREFIXES}

RESULT_FORMATS = (
    FORMATS.SPARQL_Results_JSON,
    FORMATS.SPARQL_Results_XML,
    FORMATS.SPARQL_Results_CSV,
    FORMATS.SPARQL_Results_TSV,
    FORMATS.Turtle,
    FORMATS["N-Triples"],
    FORMATS["N-Quads"],
    FORMATS.TriG,
    FORMATS.RDF_XML,
    FORMATS["JSON-LD"],
)
WRITTEN_PREFIXES = ("sd", "formats", "void", "dcterms", "rdfs", "rdf", "xsd", "sh")

DATASET_NOTE = (
    "The default graph is the union of all named graphs: asserted facts, inferred facts, entities, "
    "ontology and provenance. To query asserted facts only, send default-graph-uri="
    f"{GRAPH_BASE}asserted; for inferred facts only, default-graph-uri={GRAPH_BASE}inferred "
    "(add more default-graph-uri values to merge graphs). Graph names select graphs of this store; "
    "nothing is ever fetched. GRAPH ?g reaches every named graph."
)


def build_description(endpoint: str, dataset: DatasetInfo) -> Graph:
    g = Graph()
    g.bind("sd", SD)
    g.bind("formats", FORMATS)
    g.bind("void", VOID)
    g.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    g.add((service, SD.feature, SD.EmptyGraphs))
    for fmt in RESULT_FORMATS:
        g.add((service, SD.resultFormat, fmt))
    g.add((service, SD.defaultEntailmentRegime, ENTAILMENT["OWL-RDF-Based"]))
    g.add((service, SD.defaultSupportedEntailmentProfile, OWL_PROFILE.RL))
    g.add((service, RDFS.label, Literal("Swapgraph SPARQL endpoint (read-only)")))
    g.add((service, RDFS.comment, Literal(DATASET_NOTE)))
    g.add((service, RDFS.comment, Literal(
        "Read-only: updates, LOAD and SERVICE are refused (403). Entailment: the inferred graph holds "
        "the OWL 2 RL consequences of the asserted facts and the ontology, materialised at build time."
    )))

    g.add((service, RDFS.comment, Literal(
        "Prefixes declared for you: a query may use these prefixes without PREFIX lines (its own "
        "declarations win): " + ", ".join(f"{p}: <{iri}>" for p, iri in DECLARED_PREFIXES.items())
    )))
    g.bind("sh", SH)
    for prefix, namespace in DECLARED_PREFIXES.items():  # SHACL's vocabulary for prefix declarations
        declaration = BNode(f"prefix-{prefix}")
        g.add((service, SH.declare, declaration))
        g.add((declaration, SH.prefix, Literal(prefix)))
        g.add((declaration, SH.namespace, Literal(namespace, datatype=XSD.anyURI)))

    data = BNode("dataset")
    g.add((service, SD.defaultDataset, data))
    g.add((data, RDF.type, SD.Dataset))
    if dataset.built_at:
        g.add((data, DCTERMS.created, Literal(dataset.built_at, datatype=XSD.dateTime)))
    default = BNode("defaultGraph")
    g.add((data, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(dataset.triples)))
    g.add((default, DCTERMS.description, Literal(DATASET_NOTE)))
    for name, count in sorted(dataset.graphs.items()):
        named = BNode()
        graph = BNode()
        g.add((data, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(count)))
    return g


@lru_cache(maxsize=64)
def _cached(endpoint: str, dataset: DatasetInfo, media_type: str) -> bytes:
    graph = build_description(endpoint, dataset)
    if media_type == results.TURTLE:
        return graph.serialize(format="turtle", encoding="utf-8")
    # everything else through pyoxigraph, which writes the triples into the default graph of N-Quads/TriG
    triples = ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    prefixes = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix in WRITTEN_PREFIXES}
    if media_type in (results.TRIG, results.RDF_XML):
        return ox.serialize(triples, format=results.GRAPH_FORMATS[media_type], prefixes=prefixes)
    return ox.serialize(triples, format=results.GRAPH_FORMATS[media_type])


def serialize_description(endpoint: str, dataset: DatasetInfo, media_type: str) -> bytes:
    return _cached(endpoint, dataset, media_type)

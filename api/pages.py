"""Plain HTML pages: the SPARQL query form (the UI issue dresses it up later)."""

from html import escape

from api.service_description import GRAPH_BASE

EXAMPLE = """PREFIX sg: <https://w3id.org/swapgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?exchange ?label ?date WHERE {
  ?exchange a sg:Exchange ; rdfs:label ?label .
  OPTIONAL { ?exchange sg:date ?date }
} ORDER BY ?date LIMIT 50"""

FORMATS = (
    ("json", "SPARQL JSON (SELECT, ASK)"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("xml", "SPARQL XML"),
    ("ttl", "Turtle (CONSTRUCT, DESCRIBE)"),
    ("jsonld", "JSON-LD"),
    ("nt", "N-Triples"),
    ("nq", "N-Quads"),
    ("trig", "TriG"),
    ("rdfxml", "RDF/XML"),
)


def query_page(endpoint: str, query: str | None = None) -> str:
    """The HTML face of /sparql: the YASGUI editor (api.site), with a plain form for browsers without script."""
    from api.site import editor_page

    return editor_page(endpoint, query)

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
    options = "\n".join(f'<option value="{value}">{escape(label)}</option>' for value, label in FORMATS)
    graphs = "\n".join(
        f'<option value="{GRAPH_BASE}{name}">{name} only</option>' for name in ("asserted", "inferred")
    )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Swapgraph SPARQL endpoint</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
textarea{{width:100%;font-family:monospace}}</style></head>
<body>
<h1>Swapgraph SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 endpoint at <code>{escape(endpoint)}</code>. The default graph is the union of
all named graphs (asserted and inferred facts, entities, ontology, provenance). Choose a graph below
to query asserted facts only or inferred facts only. Updates, LOAD and SERVICE are refused.</p>
<form method="get" action="{escape(endpoint)}">
<p><label for="query">Query</label><br>
<textarea id="query" name="query" rows="14">{escape(query or EXAMPLE)}</textarea></p>
<p><label>Result format <select name="format">{options}</select></label>
<label>Default graph <select name="default-graph-uri">
<option value="" selected>union of all graphs</option>{graphs}</select></label>
<button type="submit">Run</button></p>
</form>
<p>Service description: <a href="{escape(endpoint)}?format=ttl">Turtle</a>.
API documentation: <a href="/docs">/docs</a>.</p>
</body></html>
"""

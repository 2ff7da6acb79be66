"""Candidate facts (the extractor's, not reviewed) about one node, shown on its page only when asked (?candidates=1)."""

import json

from fastapi import Request
from markupsafe import Markup
from rdflib import URIRef

from api.layout import local_path, render
from api.results import SPARQL_JSON
from graph.explain import nt
from vocab import SPARQL_PREFIXES, Graphs

PARAMETER = "candidates"  # `?candidates=1` on /id/... and /exchanges/... pages
CANDIDATES = str(Graphs.CANDIDATES)
# ?x is the page's IRI, bound on the parsed query (never pasted into its text; Oxigraph binds only a
# projected variable, hence ?x in SELECT and GROUP BY); labels from any graph, the
# candidates' own proposed labels included.
QUERY = SPARQL_PREFIXES + f"""SELECT ?x ?s ?p ?o (SAMPLE(?sl) AS ?sLabel) (SAMPLE(?pl) AS ?pLabel) (SAMPLE(?ol) AS ?oLabel) WHERE {{
  GRAPH <{CANDIDATES}> {{ {{ ?x ?p ?o BIND(?x AS ?s) }} UNION {{ ?s ?p ?x BIND(?x AS ?o) }} }}
  OPTIONAL {{ GRAPH ?g1 {{ ?s rdfs:label ?sl }} }} OPTIONAL {{ GRAPH ?g2 {{ ?p rdfs:label ?pl }} }}
  OPTIONAL {{ GRAPH ?g3 {{ ?o rdfs:label ?ol }} }}
}} GROUP BY ?x ?s ?p ?o ORDER BY ?s ?p ?o LIMIT 500"""


def wanted(request: Request) -> bool:
    return request.query_params.get(PARAMETER, "").lower() in ("1", "true", "yes")


def candidate_facts(request: Request, iri: str) -> list[dict]:
    """The candidate triples with `iri` as subject or object: each term as {text, href, literal}."""
    settings = request.app.state.settings
    result = request.app.state.executor.run(
        QUERY, result_format=SPARQL_JSON, substitutions={"x": nt(URIRef(iri))},
        timeout=settings.query_timeout, max_rows=settings.max_rows)
    rows = json.loads(result.body)["results"]["bindings"]
    return [{name: _term(row, name) for name in ("s", "p", "o")} for row in rows]


def _term(row: dict, name: str) -> dict:
    cell, label = row[name], row.get(name + "Label", {}).get("value")
    if cell["type"] != "uri":
        return {"text": cell["value"], "href": None, "literal": True}
    return {"text": label or cell["value"].rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1],
            "href": local_path(cell["value"]) or cell["value"], "literal": False}


def candidate_section(request: Request, iri: str) -> Markup:
    """The page section listing them, marked as unreviewed (empty markup unless the page was asked for them)."""
    if not wanted(request):
        return Markup("")
    return Markup(render("candidate_facts.html", rows=candidate_facts(request, iri), graph=CANDIDATES))

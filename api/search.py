"""Search over labels, alternative labels and quotes, at /search (HTML or JSON), results grouped by type."""

import json
import unicodedata
from dataclasses import dataclass, field

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.errors import ApiError
from api.layout import local_path, render
from api.negotiation import negotiate
from api.results import SPARQL_JSON
from vocab import SG, SPARQL_PREFIXES

router = APIRouter(tags=["Search"])

MAX_QUERY = 200  # characters of search text
MAX_MATCHES = 500  # rows read from the store for one search
# The text is bound to ?text as a literal (a substitution, which needs ?text projected): never pasted
# into the query.
SEARCH = SPARQL_PREFIXES + """SELECT ?text ?x ?match ?kind ?label ?type ?document ?documentLabel WHERE {
  {
    { ?x rdfs:label ?match BIND("label" AS ?kind) }
    UNION { ?x skos:altLabel ?match BIND("alternative label" AS ?kind) }
    UNION { ?x sg:quote ?match BIND("quote" AS ?kind) }
    FILTER(isIRI(?x) && CONTAINS(LCASE(STR(?match)), LCASE(STR(?text))))
  }
  OPTIONAL { ?x rdfs:label ?label }
  OPTIONAL { ?x a ?type FILTER(STRSTARTS(STR(?type), STR(sg:))) }
  OPTIONAL { ?x sg:document ?document OPTIONAL { ?document rdfs:label ?documentLabel } }
} LIMIT %d""" % MAX_MATCHES
# The type a result is grouped under: the first of these it has (a detainee is a Person too).
GROUPS = (
    ("Exchange", "Exchanges"), ("ExchangeLeg", "Exchange legs"), ("Detainee", "Detainees"), ("Person", "People"),
    ("State", "States"), ("Organization", "Organizations"), ("Venue", "Venues"), ("Place", "Places"),
    ("Negotiation", "Negotiations"), ("Release", "Releases"), ("DetaineeGroup", "Groups of detainees"),
    ("Claim", "Claims"), ("Document", "Documents"), ("Evidence", "Quotes"),
)
OTHER = "Other"


@dataclass
class Hit:
    iri: str
    label: str
    href: str
    matches: list[tuple[str, str]] = field(default_factory=list)  # (kind, matched text)
    types: set[str] = field(default_factory=set)
    document: tuple[str, str] | None = None  # (href, label) of a quote's document
    rank: int = 3

    @property
    def group(self) -> str:
        return next((name for local, name in GROUPS if str(SG[local]) in self.types), OTHER)


def fold(text: str) -> str:
    """Lower case without accents, to rank `Esenboga` and `Esenboğa` alike."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def search(request: Request, text: str) -> list[Hit]:
    settings = request.app.state.settings
    result = request.app.state.executor.run(
        SEARCH, result_format=SPARQL_JSON, substitutions={"text": str(ox.Literal(text))},
        union_default_graph=True, timeout=settings.query_timeout,
    )
    hits: dict[str, Hit] = {}
    wanted = fold(text)
    for row in json.loads(result.body)["results"]["bindings"]:
        iri = row["x"]["value"]
        match, kind = row["match"]["value"], row["kind"]["value"]
        document_label = row.get("documentLabel", {}).get("value")
        label = row.get("label", {}).get("value") or (
            f"Quote from {document_label}" if kind == "quote" and document_label else match)
        hit = hits.setdefault(iri, Hit(iri, label, local_path(iri) or iri))
        if (kind, match) not in hit.matches:
            hit.matches.append((kind, match))
        if "type" in row:
            hit.types.add(row["type"]["value"])
        if "document" in row:
            document = row["document"]["value"]
            hit.document = (local_path(document) or document, document_label or document)
        folded = fold(match)
        hit.rank = min(hit.rank, 0 if folded == wanted else 1 if folded.startswith(wanted) else 2)
    return sorted(hits.values(), key=lambda h: (h.rank, h.label.casefold()))


def grouped(hits: list[Hit]) -> list[tuple[str, list[Hit]]]:
    order = [name for _, name in GROUPS] + [OTHER]
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.group, []).append(hit)
    return [(name, groups[name]) for name in order if name in groups]


@router.get("/search", summary="Search labels, alternative labels and quotes (HTML or JSON).")
def search_page(request: Request, q: str = "", format: str | None = None):
    """Search labels, alternative labels and quotes; results grouped by type (HTML or JSON)."""
    media = "application/json" if format == "json" else "text/html" if format == "html" else negotiate(
        request.headers.get("accept"), ["text/html", "application/json"])
    text = " ".join(q.split())
    if len(text) > MAX_QUERY:
        raise ApiError(422, "search_too_long", f"the search text is longer than {MAX_QUERY} characters")
    groups = grouped(search(request, text)) if text else []
    if media == "application/json":
        return JSONResponse({"query": text, "groups": [
            {"type": name, "results": [{"iri": h.iri, "label": h.label, "href": h.href,
                                        "matches": [{"kind": k, "text": m} for k, m in h.matches]} for h in hits]}
            for name, hits in groups]}, headers={"Vary": "Accept"})
    return HTMLResponse(render("search.html", title=f"Search: {text}" if text else "Search", search_query=text,
                               text=text, groups=groups, limit=MAX_MATCHES), headers={"Vary": "Accept"})

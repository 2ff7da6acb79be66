"""/sparql: the SPARQL 1.1 Protocol, read-only (query by GET, form POST and direct POST).

The handlers are `async def` on purpose and never block: the query runs in a worker process and is
awaited through `Executor.arun` (the pipe is watched by the event loop), the body is read
asynchronously, and what runs on the loop (screening, negotiation, the service description, built
once per format and cached) is a few microseconds of CPU. A thread-pool hop per request cost over half of the
throughput in the benchmark (bench/sparql.py).
"""

import re
from functools import lru_cache
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.datastructures import URL

from api import results
from api.dependencies import read_body
from api.errors import (
    ApiError,
    answer_error,
    bad_request,
    method_not_allowed,
    not_acceptable,
    payload_too_large,
    unsupported_media_type,
    update_refused,
)
from api.fairshare import TICKET
from api.negotiation import negotiate
from api.site import editor_page
from api.screening import _TOKEN as SPARQL_TOKEN
from api.screening import screen_cached, unescape_codepoints
from api.service_description import DECLARED_PREFIXES, serialize_description

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
HTML = "text/html"
TRUNCATED_HEADER = "X-Swapgraph-Truncated"
UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")
HEADERS_KEY = "swapgraph.headers"  # the request's headers as a dict, in its scope (see _header)

# `?format=` names; json and xml mean the RDF flavour for CONSTRUCT/DESCRIBE. A format parameter may
# also hold a media type (or a list of them, as SPARQLWrapper sends for TSV, RDF/XML and JSON-LD).
# Clients name the parameter differently (Virtuoso `format`, Sesame `output`, SPARQLer `results`);
# SPARQLWrapper sends all three, some twice: the values must agree, and then they are one choice.
FORMAT_PARAMETERS = ("format", "output", "results")
RESULT_NAMES = {
    "json": results.SPARQL_JSON,
    "xml": results.SPARQL_XML,
    "csv": results.CSV,
    "tsv": results.TSV,
}
GRAPH_NAMES = {
    "ttl": results.TURTLE,
    "turtle": results.TURTLE,
    "nt": results.N_TRIPLES,
    "nq": results.N_QUADS,
    "trig": results.TRIG,
    "rdfxml": results.RDF_XML,
    "jsonld": results.JSON_LD,
    "json-ld": results.JSON_LD,
    "json": results.JSON_LD,
    "xml": results.RDF_XML,
    "rdf": results.RDF_XML,
    "rdf+xml": results.RDF_XML,
    "ntriples": results.N_TRIPLES,
    "n-triples": results.N_TRIPLES,
    "nquads": results.N_QUADS,
    "n-quads": results.N_QUADS,
    "n3": results.TURTLE,  # Turtle is N3 without its extensions: every N3 reader reads it
}
# Accept aliases some clients send: answered with the canonical type of the same body.
RESULT_ALIASES = {"application/json": results.SPARQL_JSON, "application/xml": results.SPARQL_XML}
GRAPH_ALIASES = {"application/json": results.JSON_LD, "application/xml": results.RDF_XML,
                 "text/n3": results.TURTLE, "text/rdf+n3": results.TURTLE}
RESULT_OFFERS = (*results.RESULT_TYPES, *RESULT_ALIASES)
GRAPH_OFFERS = (*results.GRAPH_TYPES, *GRAPH_ALIASES)
DESCRIPTION_OFFERS = (*results.GRAPH_TYPES, HTML)
ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")

def _parameter(name: str, description: str, *, array: bool = True) -> dict:
    schema = {"type": "array", "items": {"type": "string"}} if array else {"type": "string"}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if array else {})}


# Parameters are read from the request directly (a handler signature full of FastAPI parameters cost
# more per request than the query itself); they are documented for OpenAPI here.
DATASET_PARAMETERS = [
    _parameter(
        "default-graph-uri",
        "Graphs merged into the default graph (repeatable), e.g. https://w3id.org/swapgraph/graph/asserted "
        "(asserted facts only) or https://w3id.org/swapgraph/graph/inferred (inferred only). "
        "Default: the union of all named graphs.",
    ),
    _parameter("named-graph-uri", "Graphs visible to GRAPH clauses (repeatable). Default: all named graphs."),
    _parameter(
        "format",
        "Overrides Accept: json, xml, csv, tsv (SELECT/ASK); ttl, nt, nq, trig, rdfxml, jsonld (CONSTRUCT/"
        "DESCRIBE; json and xml give JSON-LD and RDF/XML there); html for the query page.",
        array=False,
    ),
]
GET_PARAMETERS = {
    "parameters": [
        _parameter(
            "query", "The SPARQL query, exactly once. Without it: the service description (or the query page).",
            array=False,
        ),
        *DATASET_PARAMETERS,
        _parameter("update", "Refused with 403: the endpoint is read-only.", array=False),
    ]
}


POST_BODY = {
    "parameters": DATASET_PARAMETERS,
    "requestBody": {
        "required": True,
        "content": {
            QUERY: {"schema": {"type": "string"}, "example": "ASK {}"},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {
                        "query": {"type": "string"},
                        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                        "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                        "format": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _header(request: Request, name: bytes) -> str | None:
    """The first header of that (lower-case) name: the scope's headers read once per request into a
    dict (Starlette's `request.headers.get` scans and decodes them all at each call, four per query)."""
    headers = request.scope.get(HEADERS_KEY)
    if headers is None:
        headers = request.scope[HEADERS_KEY] = {}
        for key, value in request.scope["headers"]:
            headers.setdefault(key, value)
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


def _media_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    media, *params = header.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parsed


def _check_charset(params: dict[str, str]) -> None:
    charset = params.get("charset")
    if charset not in (None, "utf-8", "utf8"):
        raise unsupported_media_type("unsupported_charset", f"charset {charset} is not supported: send UTF-8")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("invalid_encoding", "the request body is not valid UTF-8") from None


def _url_params(request: Request) -> dict[str, list[str]]:
    query_string = request.scope.get("query_string", b"")
    pairs = _query_pairs(query_string) if len(query_string) <= 4096 else _parse_pairs(query_string)
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _parse_pairs(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """The URL's parameters, read as Starlette reads them (request.query_params)."""
    return tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


# The same lookups come again and again (dashboards, notebooks re-run): unquoting a query of a few
# hundred characters cost more than the rest of the handler.
_query_pairs = lru_cache(maxsize=256)(_parse_pairs)


def _format_values(params: dict[str, list[str]]) -> list[str]:
    """Every non-empty value of the format parameters (format, output, results), in order."""
    return [value.strip() for name in FORMAT_PARAMETERS for value in params.get(name, []) if value.strip()]


def _named_format(value: str, names: dict[str, str], aliases: dict[str, str], offered: tuple[str, ...]) -> str:
    key = value.lower()
    if key in names:
        return names[key]
    if "/" in key:  # a media type, or a list of them: read as an Accept header
        media_type = _best_offer(key, offered)
        if media_type is not None:
            return aliases.get(media_type, media_type)
    raise not_acceptable(sorted(names))


def _best_offer(accept: str, offered: tuple[str, ...]) -> str | None:
    try:
        return negotiate(accept, offered)
    except ApiError:
        return None


def _choose_format(request: Request, kind: str, format_values: list[str]) -> str:
    names, aliases, offered = (
        (GRAPH_NAMES, GRAPH_ALIASES, GRAPH_OFFERS) if kind == "graph" else (RESULT_NAMES, RESULT_ALIASES, RESULT_OFFERS)
    )
    if format_values:
        chosen = {_named_format(value, names, aliases, offered) for value in format_values}
        if len(chosen) > 1:
            raise bad_request("multiple_formats", "the format parameters ask for different formats ("
                              + ", ".join(format_values) + "): give one format")
        return chosen.pop()
    media_type = negotiate(_header(request, b"accept"), offered)
    return aliases.get(media_type, media_type)


def _graph_list(values: list[str] | None, name: str) -> list[str] | None:
    chosen = [v.strip() for v in values or [] if v.strip()]
    for iri in chosen:
        if not ABSOLUTE_IRI.match(iri):
            raise bad_request("invalid_graph_iri", f"{name} must be an absolute IRI: {iri!r}")
    return chosen or None


def _endpoint(request: Request) -> str:
    """This endpoint's URL (the query's base IRI), as Starlette reads it from the request."""
    scope = request.scope
    server = scope.get("server")
    return _endpoint_url(scope.get("scheme", "http"), server and tuple(server), scope["path"], _header(request, b"host"))


@lru_cache(maxsize=64)
def _endpoint_url(scheme: str, server: tuple | None, path: str, host: str | None) -> str:
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    return str(URL(scope={"scheme": scheme, "server": server, "path": path, "headers": headers}))


@lru_cache(maxsize=512)
def with_declared_prefixes(query: str) -> str:
    """The query with a PREFIX line for each project prefix it uses without declaring (as the Wikidata
    Query Service does); an undeclared prefix the project does not know is a 400 naming it.

    The declarations go in front of the query's first line, on that line, so that the line numbers of
    the engine's error messages stay the user's.
    """
    declared: list[str] = []
    used: dict[str, int] = {}  # prefix -> line of first use
    after_prefix_keyword = False
    text = unescape_codepoints(query)
    for match in SPARQL_TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "pname":
            prefix = token.split(":", 1)[0]
            if after_prefix_keyword:
                declared.append(prefix)
            elif prefix != "_":  # _:b is a blank node label
                used.setdefault(prefix, text.count("\n", 0, match.start()) + 1)
        after_prefix_keyword = kind == "word" and token.upper() == "PREFIX"
    missing = [prefix for prefix in used if prefix not in declared]
    unknown = [prefix for prefix in missing if prefix not in DECLARED_PREFIXES]
    if unknown:
        raise bad_request("unknown_prefix", _unknown_prefix_message(unknown[0], used[unknown[0]], declared))
    if not missing:
        return query
    return "".join(f"PREFIX {prefix}: <{DECLARED_PREFIXES[prefix]}> " for prefix in sorted(missing)) + query


def _unknown_prefix_message(prefix: str, line: int, declared: list[str]) -> str:
    own = ", ".join(f"{p}:" for p in declared) or "none"
    project = ", ".join(f"{p}:" for p in DECLARED_PREFIXES)
    return (f"unknown prefix {prefix}: (line {line}): declare it with `PREFIX {prefix}: <namespace IRI>`. "
            f"Declared by the query: {own}. Declared for every query by this endpoint: {project}")


def _respond(request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    headers = {"Vary": "Accept", **(headers or {})}
    content_type = media_type + ("; charset=utf-8" if media_type.startswith("text/") else "")
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=content_type)
    return Response(content=body, status_code=200, headers=headers, media_type=content_type)


def _service_description(request: Request, dataset, format_names: list[str]) -> Response:
    endpoint = _endpoint(request)
    if format_names and all(name.lower() == "html" for name in format_names):
        media_type = HTML
    elif format_names:
        media_type = _choose_format(request, "graph", format_names)
    else:
        media_type = negotiate(_header(request, b"accept"), DESCRIPTION_OFFERS)
    if media_type == HTML:
        page = editor_page(endpoint, request.app.state.catalog).encode("utf-8")
        return _respond(request, page, HTML)
    return _respond(request, serialize_description(endpoint, dataset, media_type), media_type)


async def _answer(request: Request, params: dict[str, list[str]], *, get: bool) -> Response:
    state = request.app.state
    settings, executor, dataset = state.settings, state.executor, state.dataset
    if not params.keys().isdisjoint(UPDATE_PARAMETERS):  # named at all, even empty: refused
        raise update_refused()
    queries = params.get("query", [])
    if not queries:
        if get:
            return _service_description(request, dataset, _format_values(params))
        raise bad_request("missing_query", "no query: send the query in the `query` parameter")
    if len(queries) > 1:
        raise bad_request("multiple_queries", "give the query parameter exactly once")
    query = queries[0]
    if len(query) > settings.max_query_length:
        raise payload_too_large(
            "query_too_long", f"the query is longer than {settings.max_query_length} characters"
        )
    # with the term cap the executor screens it with (and the same depth, as the service sets it up): a
    # query new to the service is scanned once here, not again there (a short lookup's scan is ~35 us CPU)
    ticket = TICKET.get()
    screening = screen_cached(query, settings.max_nesting_depth, ticket.max_terms if ticket is not None else None)
    query = with_declared_prefixes(query)
    media_type = _choose_format(request, screening.kind, _format_values(params))
    result = await executor.arun(
        query,
        result_format=media_type,
        default_graph=_graph_list(params.get("default-graph-uri"), "default-graph-uri"),
        named_graphs=_graph_list(params.get("named-graph-uri"), "named-graph-uri"),
        union_default_graph=True,
        max_rows=settings.max_rows,
        timeout=settings.query_timeout,
        base_iri=_endpoint(request),
    )
    headers = {TRUNCATED_HEADER: "true"} if result.truncated else {}
    return _respond(request, result.body, result.media_type, headers)


@router.head("/sparql", include_in_schema=False)
@router.get(
    "/sparql",
    response_class=Response,
    openapi_extra=GET_PARAMETERS,
    responses={200: {"description": "Query results, the service description, or the query page (HTML)"}},
)
async def sparql_get(request: Request):
    """Run a SPARQL query given in the URL, or describe the service when no query is given."""
    if _header(request, b"content-length") not in (None, "", "0") or _header(request, b"transfer-encoding"):
        raise bad_request("unexpected_body", "a GET request carries no body: use POST to send one")
    return await _answer(request, _url_params(request), get=True)


@router.post(
    "/sparql",
    response_class=Response,
    openapi_extra=POST_BODY,
    responses={200: {"description": "Query results"}},
)
async def sparql_post(request: Request):
    """Run a SPARQL query sent as a form (`query=`) or directly (application/sparql-query)."""
    body = await read_body(request)
    media, media_params = _media_type(_header(request, b"content-type"))
    params = _url_params(request)
    if media == UPDATE:
        raise update_refused()
    if media == FORM:
        _check_charset(media_params)
        try:
            pairs = parse_qsl(_decode(body), keep_blank_values=True, strict_parsing=bool(body), errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise bad_request("invalid_form", "the form body is not valid application/x-www-form-urlencoded UTF-8") from None
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        return await _answer(request, params, get=False)
    if media == QUERY:
        _check_charset(media_params)
        if any(name in params for name in UPDATE_PARAMETERS):
            raise update_refused()
        if "query" in params:
            raise bad_request("multiple_queries", "a direct POST carries the query in its body, not also in the URL")
        params["query"] = [_decode(body)]
        return await _answer(request, params, get=False)
    if not media:
        raise unsupported_media_type(
            "missing_content_type", f"POST needs a Content-Type: {FORM} or {QUERY}"
        )
    raise unsupported_media_type(
        "unsupported_media_type", f"Content-Type {media} is not accepted: send {FORM} or {QUERY}"
    )


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False)
async def sparql_other_methods():
    """Any other method: 405 with the methods /sparql allows."""
    raise method_not_allowed(["GET", "HEAD", "POST"])


class SparqlRoute:
    """/sparql by GET, HEAD and POST answered straight from the middleware stack, the same handlers as the
    routes above: FastAPI's routing, dependency solving and exception middleware cost about 100 µs of
    CPU per request, as much as a light lookup's query (the whole app in-process, executor stubbed:
    156-172 µs through them, 51-66 µs with this and the cached query-string parse). Added innermost,
    so that RequestGuard (client, lane, host, headers) and CacheHeaders still see every answer; other
    methods and paths go on to the router (the routes above stay for them and for OpenAPI)."""

    HANDLERS = {"GET": sparql_get, "HEAD": sparql_get, "POST": sparql_post}

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        handler = self.HANDLERS.get(scope.get("method")) if scope["type"] == "http" else None
        if handler is None or scope["path"] != "/sparql":
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except ApiError as exc:
            response = answer_error(request, exc)
        await response(scope, receive, send)

"""Canned questions over HTTP: the catalogue at /queries, each question at /queries/{name}."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from rdflib.namespace import XSD

from api.errors import ApiError
from api import charts
from api import site as site_pages
from api.layout import local_path, render
from api.linked_data import site
from api.negotiation import negotiate
from api.results import SPARQL_JSON
from api.screening import _TOKEN as SPARQL_TOKEN
from api.sparql import TRUNCATED_HEADER
from graph.catalog import CannedQuery, Catalog, ParameterError, UnknownQuery
from vocab import SPARQL_PREFIXES, Graphs

router = APIRouter(tags=["canned questions"])

FORMATS = {"json": "application/json", "csv": "text/csv", "sparql-json": SPARQL_JSON, "html": "text/html"}
OFFERED = ["application/json", "text/html", "text/csv", SPARQL_JSON]
CATALOG_OFFERED = ["application/json", "text/html"]
CONTROL_PARAMS = ("format", "evidence")
EVIDENCE_HEADER = "X-Swapgraph-Evidence-Truncated"
NUMERIC = {str(XSD[t]) for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
DECIMAL = {str(XSD.decimal), str(XSD.double), str(XSD.float)}
# ?evidence=true looks up the rows' facts in one query; beyond these the later rows get none (and say so).
MAX_EVIDENCE_ROWS = 200
MAX_LISTED = 100  # allowed values a 422 body lists (with how many there are)
MAX_OPTIONS = 1000  # allowed values a question's form lists as choices; a large graph's thousands would not read
MAX_EVIDENCE_TERMS = 500  # distinct subjects and objects in the query's VALUES blocks
EVIDENCE_QUERY = SPARQL_PREFIXES + """SELECT DISTINCT ?subject ?object ?document ?documentLabel ?quote ?start
WHERE {
  VALUES ?subject { %(subjects)s }
  VALUES ?object { %(objects)s }
  GRAPH <%(graph)s> {
    ?st rdf:subject ?subject ; rdf:object ?object .
    ?st (sg:derivation/sg:premise)*/sg:evidence ?ev .
    ?ev sg:document ?document ; sg:quote ?quote .
    OPTIONAL { ?ev sg:startOffset ?start }
  }
  OPTIONAL { ?document rdfs:label ?documentLabel }
}"""


class ParameterProblem(ApiError):
    """422 for a canned-question parameter; the body also lists the allowed values when known."""

    def __init__(self, exc: ParameterError):
        super().__init__(422, exc.code, str(exc))
        self.param, self.allowed = exc.param, exc.allowed

    def body(self) -> dict:
        out = super().body()
        out["parameter"] = self.param
        if self.allowed is not None:  # a large graph's thousands would make every refusal megabytes
            out["allowed"] = self.allowed[:MAX_LISTED]
            if len(self.allowed) > MAX_LISTED:
                out["allowed_count"] = len(self.allowed)
                out["allowed_note"] = (f"the first {MAX_LISTED} of {len(self.allowed)} allowed values, by label; "
                                       "any other's label, alias or IRI is accepted too")
        return out


# ---------------------------------------------------------------- plumbing


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog  # parsed in the app's lifespan: a bad file stops the start


def _run(request: Request, query: str, substitutions: dict | None = None) -> tuple[dict, bool]:
    settings = request.app.state.settings
    result = request.app.state.executor.run(
        query,
        result_format=SPARQL_JSON,
        substitutions={name: str(term) for name, term in (substitutions or {}).items()},
        union_default_graph=True,
        max_rows=settings.max_rows,
        timeout=settings.query_timeout,
    )
    return json.loads(result.body), result.truncated


def _to_term(binding: dict):
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    if "datatype" in binding:
        return ox.Literal(value, datatype=ox.NamedNode(binding["datatype"]))
    return ox.Literal(value)


def _runner(request: Request):
    def run(query: str) -> list[dict]:
        data, _ = _run(request, query)
        return [{k: _to_term(v) for k, v in row.items()} for row in data["results"]["bindings"]]
    run.dataset_key = ("executor", id(request.app.state.executor))
    run.saved_allowed = site(request).summary.get("allowed")  # the build's lists (graph.summary), if any
    return run


def plain_value(binding: dict | None):
    """A SPARQL JSON term as a plain JSON value: IRIs and strings as text, numbers and booleans native."""
    if binding is None:
        return None
    value, datatype = binding["value"], binding.get("datatype")
    if binding["type"] == "literal" and datatype:
        try:
            if datatype in NUMERIC:
                return int(value)
            if datatype in DECIMAL:
                return float(value)
            if datatype == str(XSD.boolean):
                return value in ("true", "1")
        except ValueError:
            pass
    return value


def _choose_format(request: Request, offered: list[str]) -> str:
    fmt = request.query_params.get("format")
    if fmt:
        if fmt not in FORMATS or FORMATS[fmt] not in offered:
            names = [name for name, media in FORMATS.items() if media in offered]
            raise ApiError(406, "not_acceptable", f"format={fmt!r} is not one of: {', '.join(names)}")
        return FORMATS[fmt]
    return negotiate(request.headers.get("accept"), offered)


def _get_query(request: Request, name: str) -> CannedQuery:
    try:
        return _catalog(request).get(name)
    except UnknownQuery as exc:
        raise ApiError(404, "unknown_query", str(exc)) from None


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _parameters(request: Request) -> dict[str, str]:
    """The query string as one value per name; a name given twice is a ParameterError (422)."""
    raw: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in raw:
            raise ParameterError("repeated_parameter", key,
                                 f"parameter {key!r} is given more than once: give it once")
        raw[key] = value
    return raw


# ---------------------------------------------------------------- rows, evidence, links


def _rows(query: CannedQuery, data: dict, labels: dict[str, str]) -> tuple[list[str], list[dict]]:
    """Rows as objects over the query's columns, with `<col>Label` beside IRI columns lacking one."""
    columns = list(data["head"]["vars"])
    bindings = data["results"]["bindings"]
    iri_columns = {c for c in columns for b in bindings if b.get(c, {}).get("type") == "uri"}
    extra = [c + "Label" for c in columns if c in iri_columns and c + "Label" not in columns]
    out_columns = []
    for c in columns:
        out_columns.append(c)
        if c + "Label" in extra:
            out_columns.append(c + "Label")
    rows = []
    for b in bindings:
        row = {}
        for c in columns:
            row[c] = plain_value(b.get(c))
            if c + "Label" in extra:
                row[c + "Label"] = labels.get(b[c]["value"]) if c in b and b[c]["type"] == "uri" else None
        rows.append(row)
    return out_columns, rows


def _evidence(request: Request, data: dict) -> tuple[list[list[dict] | None], bool]:
    """For each row, the documents and quotes of the facts linking the row's IRIs to its other values.

    One query for all rows, its VALUES blocks holding every row's terms; rows past MAX_EVIDENCE_ROWS
    or MAX_EVIDENCE_TERMS get None. The flag is true when some rows got none or the lookup was cut.
    """
    bindings = data["results"]["bindings"]
    subjects: dict[str, None] = {}  # N-Triples terms, in row order
    objects: dict[str, None] = {}
    covered = 0
    for b in bindings[:MAX_EVIDENCE_ROWS]:
        row_subjects = {str(_to_term(v)) for v in b.values() if v["type"] == "uri"}
        row_objects = {str(_to_term(v)) for v in b.values() if v["type"] != "bnode"}
        if len(subjects.keys() | row_subjects) + len(objects.keys() | row_objects) > MAX_EVIDENCE_TERMS:
            break
        subjects.update(dict.fromkeys(sorted(row_subjects)))
        objects.update(dict.fromkeys(sorted(row_objects)))
        covered += 1
    found: list[dict] = []
    cut = False
    if subjects:
        query = EVIDENCE_QUERY % {"subjects": " ".join(subjects), "objects": " ".join(objects),
                                  "graph": Graphs.PROVENANCE}
        result, cut = _run(request, query)
        found = result["results"]["bindings"]
    by_subject: dict[str, list[dict]] = {}
    for ev in found:
        by_subject.setdefault(ev["subject"]["value"], []).append(ev)
    out: list[list[dict] | None] = []
    for b in bindings[:covered]:
        values = {(v["type"], v["value"]) for v in b.values()}
        sources, seen = [], set()
        for kind, subject in sorted(values):
            if kind != "uri":
                continue
            for ev in by_subject.get(subject, ()):
                if (ev["object"]["type"], ev["object"]["value"]) not in values:
                    continue
                key = (ev["document"]["value"], ev["quote"]["value"])
                if key in seen:
                    continue
                seen.add(key)
                sources.append({
                    "document": ev["document"]["value"],
                    "documentLabel": plain_value(ev.get("documentLabel")),
                    "quote": ev["quote"]["value"],
                    "start": plain_value(ev.get("start")),
                })
        out.append(sorted(sources, key=lambda e: (e["document"], e["start"] or 0)))
    out += [None] * (len(bindings) - covered)
    return out, cut or covered < len(bindings)


def _where_brace(sparql: str) -> int | None:
    """Offset just after the `{` opening the query's WHERE clause, read token by token (so a `WHERE {`
    inside a comment, a string or an IRI is never taken for it); None when there is no WHERE keyword."""
    after_where = False
    for match in SPARQL_TOKEN.finditer(sparql):
        kind, text = match.lastgroup, match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "word" and text.upper() == "WHERE":
            after_where = True
        elif after_where and text == "{":
            return match.end()
        else:
            after_where = False
    return None


def editor_query(query: CannedQuery, bound: dict) -> str:
    """The query text for the SPARQL editor, the parameters bound by a VALUES block opening its WHERE clause.

    Placed first in the WHERE group, the VALUES block binds the parameters before any OPTIONAL or FILTER
    is evaluated, as the canned question's substitution does (a trailing VALUES clause would join only at
    the end, after an OPTIONAL had left the variable unbound). The offset comes from the tokens, not a
    text search: the question's header comments contain `WHERE {` too.
    """
    if not bound:
        return query.sparql
    names = " ".join(f"?{name}" for name in bound)
    terms = " ".join(str(term) for term in bound.values())
    values = f"\n  VALUES ({names}) {{ ({terms}) }}  # the parameters of /queries/{query.name}\n"
    offset = _where_brace(query.sparql)
    if offset is None:  # the catalogue only accepts queries with a WHERE clause; kept total anyway
        return f"{query.sparql.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"
    return query.sparql[:offset] + values + query.sparql[offset:]


def _link(path: str, params: dict) -> str:
    return path + ("?" + urlencode(params) if params else "")


# ---------------------------------------------------------------- routes


@router.get("/queries", summary="The catalogue of canned questions (JSON or HTML).")
def list_queries(request: Request):
    """The catalogue of canned questions (JSON or HTML)."""
    catalog = _catalog(request)
    media = _choose_format(request, CATALOG_OFFERED)
    items = [q.as_dict() for q in catalog]
    if media == "text/html":
        return HTMLResponse(_catalog_page(items), headers={"Vary": "Accept"})
    return JSONResponse({"queries": items}, headers={"Vary": "Accept"})


@router.get("/queries/{name}", summary="Run one canned question (JSON, CSV, SPARQL JSON or HTML).")
def run_query(name: str, request: Request):
    """Run one canned question (JSON, CSV, SPARQL JSON or HTML)."""
    query = _get_query(request, name)
    media = _choose_format(request, OFFERED)
    catalog = _catalog(request)
    raw = dict(request.query_params)
    try:
        raw = _parameters(request)
        bound = catalog.bind(query, raw, _runner(request), ignore=CONTROL_PARAMS)
    except ParameterError as exc:
        if media == "text/html":
            return HTMLResponse(_query_page(request, query, raw, None, error=str(exc)), status_code=422)
        raise ParameterProblem(exc) from None
    data, truncated = _run(request, query.sparql, bound)
    headers = {"Vary": "Accept", TRUNCATED_HEADER: "true" if truncated else "false"}
    if media == SPARQL_JSON:
        return Response(json.dumps(data, ensure_ascii=False), media_type=SPARQL_JSON, headers=headers)
    columns, rows = _rows(query, data, site(request).labels)
    evidence = _truthy(raw.get("evidence"))
    evidence_cut = False
    if evidence:
        found, evidence_cut = _evidence(request, data)
        for row, sources in zip(rows, found):
            row["evidence"] = sources
        headers[EVIDENCE_HEADER] = "true" if evidence_cut else "false"
    if media == "text/csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns + (["evidence"] if evidence else []))
        for row in rows:
            cells = ["" if row[c] is None else str(row[c]).lower() if isinstance(row[c], bool) else row[c]
                     for c in columns]
            if evidence:
                cells.append(" | ".join(f"{e['documentLabel'] or e['document']}: {e['quote']}"
                                        for e in row["evidence"] or ()))
            writer.writerow(cells)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
            **headers, "Content-Disposition": f'attachment; filename="{query.name}.csv"'})
    params = {k: str(t.value) for k, t in bound.items()}
    statement = None if rows else _empty_statement(request, query, bound)
    if media == "text/html":
        return HTMLResponse(_query_page(request, query, raw, (columns, rows, truncated), bound=bound,
                                        evidence_cut=evidence_cut, statement=statement), headers=headers)
    body = {
        "name": query.name,
        "title": query.title,
        "parameters": params,
        "columns": columns,
        "rows": rows,
        **({"statement": statement} if statement else {}),
        "truncated": truncated,
        **({"evidence_truncated": evidence_cut} if evidence else {}),
        "sparql": _link("/sparql", {"query": editor_query(query, bound)}),
        "editor": _link("/editor", {"query": editor_query(query, bound)}),
    }
    return JSONResponse(body, headers=headers)


# ---------------------------------------------------------------- HTML


def _catalog_page(items: list[dict]) -> str:
    return render("catalog.html", title="Canned questions", items=items)


def heading(column: str) -> str:
    """A column name for people: `venueLabel` → `Venue`, `partyLabels` → `Parties`, `releasedCount` → `Released count`."""
    name = column
    plural = name.endswith("Labels")
    if plural:
        name = name[: -len("Labels")]
    elif name.endswith("Label") and len(name) > len("Label"):
        name = name[: -len("Label")]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    if plural:
        words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    return words[:1].upper() + words[1:]


def _fields(request: Request, query: CannedQuery, raw: dict) -> list[dict]:
    catalog, run = _catalog(request), _runner(request)
    fields = []
    for param in query.params:
        allowed = catalog.allowed(query, param, run)
        options = None
        if allowed and len(allowed) <= MAX_OPTIONS:  # past it a text field (labels and aliases are accepted)
            options = [(a.value, a.label) for a in sorted(allowed, key=lambda a: a.label.casefold())]
        fields.append({"name": param.name, "heading": heading(param.name), "required": param.required,
                       "current": raw.get(param.name) or param.default or "", "options": options})
    return fields


def _cell(row: dict, column: str) -> dict:
    value = row.get(column)
    cell = {"text": "", "href": None, "iri": None, "number": False}
    if value is None:
        return cell
    if _is_link(value):  # to this server's page of the IRI (the IRI itself in the title)
        return {**cell, "text": str(row.get(column + "Label") or value), "href": local_path(value) or value, "iri": value}
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return {**cell, "text": text, "number": isinstance(value, (int, float)) and not isinstance(value, bool)}


def _label_shown_as_link(column: str, columns: list[str], rows: list[dict]) -> bool:
    """Whether `<col>Label` is already shown as the text of `<col>`'s links: only when every row holding
    a label also holds the IRI (an unbound parameter column, e.g. ?venue, must not hide ?venueLabel)."""
    base = column[:-len("Label")] if column.endswith("Label") else None
    if base not in columns:
        return False
    return all(_is_link(row.get(base)) for row in rows if row.get(column) is not None)


def _is_link(value) -> bool:
    return isinstance(value, str) and re.match(r"^https?://", value) is not None


def result_table(columns: list[str], rows: list[dict], truncated: bool) -> dict:
    shown = [c for c in columns if not _label_shown_as_link(c, columns, rows)]
    return {
        "columns": [{"name": c, "heading": heading(c)} for c in shown],
        "rows": [{"cells": [_cell(row, c) for c in shown], "evidence": row.get("evidence") or ()} for row in rows],
        "evidence": bool(rows) and "evidence" in rows[0],
        "truncated": truncated,
    }


def _empty_statement(request: Request, query: CannedQuery, bound: dict) -> str | None:
    """A yes/no answer in words for a known value with no rows ("no release of Alexei Navalny is recorded")."""
    labels = site(request).labels
    given = {name: labels.get(str(term.value), str(term.value)) for name, term in bound.items()
             if query.param(name) and (query.param(name).default is None or name in request.query_params)}
    return query.empty_statement(given)


def _query_page(request: Request, query: CannedQuery, raw: dict, result, bound: dict | None = None,
                error: str | None = None, evidence_cut: bool = False, statement: str | None = None) -> str:
    params = {k: v for k, v in raw.items() if k != "format" and v}
    path = f"/queries/{query.name}"
    links = {
        "editor": _link("/editor", {"query": editor_query(query, bound or {})}),
        "csv": _link(path, {**params, "format": "csv"}),
        "json": _link(path, {**params, "format": "json"}),
        "sparql_json": _link(path, {**params, "format": "sparql-json"}),
    }
    table = result_table(*result) if result is not None else None
    return render(
        "question.html", title=query.title, query=query, fields=_fields(request, query, raw),
        chart=Markup(charts.bar_chart(table, query.chart)) if table else None,
        timeline=Markup(charts.timeline_chart(table, title=f"{query.title}, on a time axis")) if table else None,
        map=_venue_map(request, *result[:2]) if result is not None else "",
        evidence=_truthy(raw.get("evidence")), error=error, links=links, evidence_cut=evidence_cut,
        table=table, statement=statement,
    )


def _venue_map(request: Request, columns: list[str], rows: list[dict]) -> str:
    """For a question about venues (a venue column): the map of the places and events in its rows."""
    if not any(c.startswith("venue") for c in columns):
        return ""
    iris = {value for row in rows for value in row.values() if _is_link(value)}
    return site_pages.places_map(request, iris, title="Where the events in this table took place")

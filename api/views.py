"""Pictures of any SELECT result, for the SPARQL editor's result views: a timeline, a map, bar charts."""

import json
import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from api import charts, map_svg
from api import site as site_pages
from api.dependencies import read_body
from api.errors import ApiError
from api.layout import local_path, render
from api.linked_data import site
from api.queries import plain_value, result_table

router = APIRouter(tags=["Views"])

# A WKT point, as the Wikidata Query Service gives coordinates: "Point(30.52 50.45)", longitude first
WKT_POINT = re.compile(r"\s*(?:<[^>]*>\s*)?point\s*\(\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s+([-+]?[\d.]+(?:e[-+]?\d+)?)\s*\)\s*",
                       re.IGNORECASE)
CAPTIONS = {
    "timeline": "The rows at their dates, on a time axis (the first column of dates; a second named end, until or "
                "last closes a period).",
    "bars": "The first column of numbers as bars, against the first column of names.",
}
NOTHING = {
    "timeline": "nothing to draw on a time axis: no column holds dates (xsd:date, xsd:dateTime, xsd:gYear or "
                "ISO 8601 text) beside a column naming the rows",
    "map": "nothing to draw on a map: no venue, state, place or event at a venue of this graph, and no WKT point "
           "(\"Point(longitude latitude)\") in the results",
    "bars": "nothing to draw as bars: the results need a column of numbers and a column of names, "
            f"with 2 to {charts.MAX_BARS} rows",
}


@router.post("/views/{kind}", response_class=HTMLResponse,
             summary="Draw SPARQL JSON results as a timeline, a map or a bar chart (an HTML figure with SVG).",
             responses={400: {"description": "the body is not SPARQL JSON results"},
                        404: {"description": "no such view"}, 413: {"description": "larger than max_body_bytes"},
                        422: {"description": "nothing in the results this view can draw"}})
async def draw_view(kind: str, request: Request) -> HTMLResponse:
    """The result view `kind` (timeline, map, bars) of the SPARQL 1.1 JSON results in the body: what the
    editor's views show, drawn by the same code as the question pages."""
    if kind not in NOTHING:
        raise ApiError(404, "unknown_view", f"no view {kind!r}: the views are {', '.join(NOTHING)}")
    variables, bindings = parse_results(await read_body(request))
    figure = await run_in_threadpool(draw, kind, request, variables, bindings[:site_pages.VIEW_ROWS])
    if not figure:
        raise ApiError(422, "nothing_to_draw", NOTHING[kind])
    return HTMLResponse(figure)


def parse_results(body: bytes) -> tuple[list[str], list[dict]]:
    """The variables and bindings of SPARQL 1.1 JSON results, or a 400 saying what is wrong."""
    try:
        data = json.loads(body)
        variables, bindings = data["head"]["vars"], data["results"]["bindings"]
        if not all(isinstance(v, str) for v in variables) or not all(
                isinstance(b, dict) and all(isinstance(t, dict) and "value" in t and "type" in t for t in b.values())
                for b in bindings):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "bad_results", "the body must be the SPARQL 1.1 JSON results of a SELECT "
                                           "(application/sparql-results+json)") from None
    return variables, bindings


def draw(kind: str, request: Request, variables: list[str], bindings: list[dict]) -> str:
    if kind == "map":
        return _map(request, variables, bindings)
    table = result_table(*_labelled(request, variables, bindings), False)
    svg = charts.timeline_chart(table, title="The results on a time axis") if kind == "timeline" else charts.bar_chart(table)
    return render("view.html", svg=Markup(svg), caption=CAPTIONS[kind]) if svg else ""


def _labelled(request: Request, variables: list[str], bindings: list[dict]) -> tuple[list[str], list[dict]]:
    """Columns and plain rows; an IRI column without its `<name>Label` column gets one from the graph's labels."""
    labels = site(request).labels
    columns = list(variables)
    rows = [{v: plain_value(b.get(v)) for v in variables} for b in bindings]
    for v in variables:
        if v + "Label" not in variables and any(b.get(v, {}).get("type") == "uri" for b in bindings):
            columns.append(v + "Label")
            for row, b in zip(rows, bindings):
                row[v + "Label"] = labels.get(row[v]) if b.get(v, {}).get("type") == "uri" else None
    return columns, rows


def _map(request: Request, variables: list[str], bindings: list[dict]) -> str:
    """The graph's places and events named in the results, and the results' own WKT points."""
    iris = {t["value"] for b in bindings for t in b.values() if t["type"] == "uri"}
    labels = site(request).labels
    points = []
    for number, b in enumerate(bindings):
        for v in variables:
            found = WKT_POINT.fullmatch(b[v]["value"]) if b.get(v, {}).get("type") == "literal" else None
            if found:
                lon, lat = float(found.group(1)), float(found.group(2))
                if -90 <= lat <= 90 and -180 <= lon <= 180:
                    points.append(_point(b, variables, number, lat, lon, labels))
    return site_pages.places_map(request, iris, title="The results on a map", extra=points)


def _point(binding: dict, variables: list[str], number: int, lat: float, lon: float, labels: dict) -> map_svg.Place:
    """A WKT point of the results, named by its row's first label (or IRI) and linked to its first IRI."""
    iri = next((binding[v]["value"] for v in variables if binding.get(v, {}).get("type") == "uri"), None)
    text = next((binding[v]["value"] for v in variables if binding.get(v, {}).get("type") == "literal"
                 and not WKT_POINT.fullmatch(binding[v]["value"])), None)
    label = (labels.get(iri) if iri else None) or text or iri or f"row {number + 1}"
    return map_svg.Place(iri or f"row:{number}", label, (local_path(iri) or iri) if iri else "#", "place", lat, lon,
                         "coordinates in the results")

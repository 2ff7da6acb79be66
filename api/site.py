"""Pages for people: home, the exchange timeline, one page per exchange, and the SPARQL editor."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from api import charts, flow_svg, map_svg
from api.candidates import candidate_section
from api.flow_svg import Entity
from api.layout import human_date, local_path, render
from api.results import SPARQL_JSON
from graph.catalog import Catalog
from graph.summary import HOME_QUERIES, TIMELINE_QUERIES, untable
from vocab import BASE, PREFIXES, SG, SPARQL_PREFIXES, Graphs

router = APIRouter(tags=["Pages"])

STATIC = Path(__file__).parent / "static"
YASGUI_BUILD = STATIC / "node_modules" / "@zazuko" / "yasgui" / "build"  # installed by `make assets`
SWAGGER_UI = STATIC / "node_modules" / "swagger-ui-dist"  # the same, for /docs
# The editor is YASGUI, served from the project's own assets (no outside requests).
# /static/yasgui: the installed YASGUI build; /static: the project's own scripts. Mounted without a
# check so the app starts before `make assets` has run (the editor page then says so).
router.mount("/static/yasgui", StaticFiles(directory=YASGUI_BUILD, check_dir=False), name="yasgui")
router.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger-ui")
router.mount("/static", StaticFiles(directory=STATIC / "public", check_dir=False), name="static")

EXCHANGE = PREFIXES["exchange"]
# IRIs the map can place (venues, states, events at a venue): the editor offers its map view for them
MAPPABLE = [PREFIXES[name] for name in ("place", "state", "exchange", "negotiation") if name in PREFIXES]
VIEW_ROWS = 2_000  # rows an editor's result view draws (api/views.py); a picture of more is unreadable
SG_NS = str(SG._NS)
DUMPS = (
    ("/dumps/swapgraph.trig.gz", "TriG, gzip: every named graph"),
    ("/dumps/swapgraph.nq.gz", "N-Quads, gzip: every named graph"),
)


# --- running queries ------------------------------------------------------------------------------


def _select(request: Request, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT as {variable: lexical value}, through the app's executor."""
    settings = request.app.state.settings
    result = request.app.state.executor.run(
        SPARQL_PREFIXES + query, result_format=SPARQL_JSON, timeout=settings.query_timeout, max_rows=settings.max_rows
    )
    rows = json.loads(result.body)["results"]["bindings"]
    return [{name: cell["value"] for name, cell in row.items()} for row in rows]


def _local(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _entity(row: dict, var: str) -> Entity | None:
    iri = row.get(var)
    return Entity(iri, row.get(var + "Label") or _local(iri)) if iri else None


# --- exchanges ------------------------------------------------------------------------------------


@dataclass
class Exchange:
    iri: str
    label: str
    date: str | None = None
    start: str | None = None
    end: str | None = None
    whole: str | None = None
    venues: set[Entity] = field(default_factory=set)
    parties: set[Entity] = field(default_factory=set)
    mediators: set[Entity] = field(default_factory=set)
    releases: list[flow_svg.Release] = field(default_factory=list)
    legs: list["Exchange"] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.iri[len(EXCHANGE):]

    @property
    def when(self) -> str | None:
        """The date to sort and show: sg:date, else sg:startDate, else the first leg's date."""
        return self.date or self.start or min((leg.when for leg in self.legs if leg.when), default=None)

    @property
    def until(self) -> str | None:
        """The last day, when it differs from the first: sg:endDate, else the last leg's date."""
        last = self.end or max((leg.when for leg in self.legs if leg.when), default=None)
        return last if last and last != self.when else None

    @property
    def all_venues(self) -> set[Entity]:
        return self.venues or {v for leg in self.legs for v in leg.venues}

    def diagram(self) -> flow_svg.Diagram:
        return flow_svg.roll_up(self.releases)


def _site(request: Request):
    """The app's linked-data Site: what is derived once per served build (api/linked_data.py)."""
    from api.linked_data import site  # here: api.linked_data imports api.sparql, which imports this module

    return site(request)


def timeline_rows(request: Request, name: str) -> list[dict[str, str]]:
    """The rows of one of graph.summary's TIMELINE_QUERIES: from the build's summary, else asked now."""
    saved = _site(request).summary.get("timeline") or {}
    if name not in saved:
        return _select(request, TIMELINE_QUERIES[name])
    return saved[name] if isinstance(saved[name], list) else untable(saved[name])  # a list: a build before parts


def load_exchanges(request: Request) -> dict[str, Exchange]:
    """Exchanges (and legs) with their facts and releases; a whole exchange's releases include its legs'.
    Made once per served build (the pages only read them)."""
    return _site(request).once("exchanges", lambda: _exchanges(request))


def _exchanges(request: Request) -> dict[str, Exchange]:
    exchanges: dict[str, Exchange] = {}
    for row in timeline_rows(request, "exchanges"):
        x = exchanges.setdefault(row["x"], Exchange(row["x"], row.get("xLabel") or _local(row["x"])))
        x.date = x.date or row.get("date")
        x.start = x.start or row.get("start")
        x.end = x.end or row.get("end")
        x.whole = x.whole or row.get("whole")
        if venue := _entity(row, "venue"):
            x.venues.add(venue)
    for row in timeline_rows(request, "roles"):
        if row["x"] in exchanges:
            target = exchanges[row["x"]].parties if row["p"] == str(SG.party) else exchanges[row["x"]].mediators
            target.add(_entity(row, "o"))
    releases: dict[tuple[str, str], dict] = {}
    for row in timeline_rows(request, "releases"):
        entry = releases.setdefault((row["x"], row["r"]), {"by": set(), "to": set()})
        entry["person"] = entry.get("person") or _entity(row, "person")
        entry["group"] = entry.get("group") or _entity(row, "group")
        if row.get("count") and entry.get("count") is None:
            try:
                entry["count"] = int(float(row["count"]))
            except ValueError:
                pass
        if by := _entity(row, "by"):
            entry["by"].add(by)
        if to := _entity(row, "to"):
            entry["to"].add(to)
    for (x, r), entry in sorted(releases.items()):
        if x in exchanges:
            exchanges[x].releases.append(flow_svg.Release(
                r, frozenset(entry["by"]), frozenset(entry["to"]), entry.get("person"), entry.get("group"),
                entry.get("count"),
            ))
    for x in exchanges.values():
        if x.whole in exchanges:
            exchanges[x.whole].legs.append(x)
    for x in exchanges.values():
        x.legs.sort(key=lambda leg: (leg.when or "", leg.label))
    return exchanges


def human_span(first: str | None, last: str | None) -> str:
    """`1 August 2024`, or `1 – 2 May 2025` / `30 April – 2 May 2025` for an exchange over several days."""
    if not last:
        return human_date(first)
    start, end = human_date(first), human_date(last)
    start_words, end_words = start.split(" "), end.split(" ")
    if len(start_words) == len(end_words) == 3:
        if start_words[1:] == end_words[1:]:
            return f"{start_words[0]} – {end}"
        if start_words[2] == end_words[2]:
            return f"{' '.join(start_words[:2])} – {end}"
    return f"{start} – {end}"


def _html(template: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status_code)


@router.get("/exchanges", response_class=HTMLResponse, summary="The timeline of all exchanges (HTML).")
def exchanges_page(request: Request) -> HTMLResponse:
    """The timeline of all exchanges (HTML)."""
    exchanges = load_exchanges(request)
    wholes = sorted((x for x in exchanges.values() if x.whole not in exchanges),
                    key=lambda x: (x.when or "9999", x.label))
    dated = [x for x in wholes if x.when]
    chart = charts.timeline([charts.Event(x.label, f"/exchanges/{x.key}", x.when, x.until) for x in dated],
                            title="The exchanges on a time axis")
    return _html("exchanges.html", title="Exchanges", count=len(exchanges), wholes=wholes,
                 chart=Markup(chart), undated=len(wholes) - len(dated),
                 map=places_map(request, None, title="Where the exchanges and negotiations took place, and the states involved"))


def load_places(request: Request) -> dict[str, map_svg.Known]:
    """Everything the map can show, by IRI: states, venues (sg:Venue or the venue of an event) and other
    places, with what the data says of where they are."""
    return _site(request).once("places", lambda: _places(request))


def _places(request: Request) -> dict[str, map_svg.Known]:
    kinds = ("venue", "state", "place")  # a venue is shown as a venue even when it is also a place
    places: dict[str, map_svg.Known] = {}
    rows = timeline_rows(request, "places")
    facts: dict[str, dict] = {}
    for row in rows:
        entry = facts.setdefault(row["s"], {"kind": row["kind"], "names": set(), "within": set()})
        if kinds.index(row["kind"]) < kinds.index(entry["kind"]):
            entry["kind"] = row["kind"]
        for key in ("label", "iso", "lat", "lon"):
            entry[key] = entry.get(key) or row.get(key)
        entry["names"] |= {row["name"]} if row.get("name") else set()
        entry["within"] |= {row["within"]} if row.get("within") else set()
    for iri, entry in facts.items():
        places[iri] = map_svg.Known(
            iri, entry.get("label") or _local(iri), local_path(iri) or iri, entry["kind"], tuple(sorted(entry["names"])),
            entry.get("iso"), _number(entry.get("lat")), _number(entry.get("lon")), tuple(sorted(entry["within"])))
    return places


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def load_event_places(request: Request) -> dict[str, tuple[set[str], set[str]]]:
    """For each event with a venue (an exchange, a leg, a negotiation; a whole exchange through its legs):
    (its venues, the states taking part in it: parties, participants, mediators)."""
    return _site(request).once("event_places", lambda: _event_places(request))


def _event_places(request: Request) -> dict[str, tuple[set[str], set[str]]]:
    events: dict[str, tuple[set[str], set[str]]] = {}
    for row in timeline_rows(request, "event_places"):
        venues, states = events.setdefault(row["e"], (set(), set()))
        venues.add(row["venue"])
        states |= {row["state"]} if row.get("state") else set()
    return events


def places_map(request: Request, iris: set[str] | None, *, title: str,
               extra: list[map_svg.Place] = ()) -> str:
    """The map of these IRIs (None: every venue and state in the data): places where they are, events at
    their venues with a dashed line to each state taking part; `extra` places come from the results
    themselves (coordinates). What cannot be placed is listed with the reason, not guessed."""
    places, events = load_places(request), load_event_places(request)
    states = {iri: k for iri, k in places.items() if k.kind == "state"}
    chosen = [iri for iri, k in places.items() if k.kind != "place"] if iris is None else [i for i in iris if i in places]
    data = map_svg.Map(places=list(extra))
    for event, (venues, involved) in sorted(events.items()):
        if iris is None or event in iris:
            chosen += sorted(venues | involved)
            data.links |= {(v, s) for v in venues for s in involved}
    for iri in dict.fromkeys(chosen):
        if iri in places:
            data.add(places[iri], states)
    if not data.places:
        return ""
    approximate = sorted((p.label, p.href, p.where) for p in data.places if p.approximate)
    return Markup(render("exchanges_map.html", svg=Markup(map_svg.draw(data, title=title)),
                         approximate=approximate, unplaced=sorted(data.unplaced)))


def _release_order(r: flow_svg.Release) -> tuple:
    released = r.person or r.group  # none when an engine's answer lost the optional part (seen on Virtuoso)
    return r.group is None, -(r.count or 0), released.label if released else ""


@router.get("/exchanges/{key}", response_class=HTMLResponse, summary="One exchange with its picture (HTML).")
def exchange_page(key: str, request: Request) -> HTMLResponse:
    """One exchange: date, venue, mediators, parties, legs and the picture of its releases (HTML)."""
    iri = EXCHANGE + key
    if "/" in key or "<" in key or ">" in key or not key:
        return _not_found(key)
    exchanges = load_exchanges(request)
    x = exchanges.get(iri)
    if x is None:
        return _not_found(key)
    svg = picture(x)
    return _html(
        "exchange.html", title=x.label, x=x, whole=exchanges.get(x.whole) if x.whole else None,
        svg=Markup(svg) if svg else None, releases=sorted(x.releases, key=_release_order),
        claims=load_count_claims(request, [x, *x.legs]), candidates=candidate_section(request, iri),
    )


@dataclass
class CountClaim:
    """A number of people a document gives for an exchange (or one of its legs), as the text gives it."""

    iri: str
    exchange: Entity
    number: str  # "16", "about 1,000", "at least 200"
    side: Entity | None
    status: str | None  # sg:status: done, agreed, expected, announced
    claimed_by: Entity | None
    sources: list[tuple[Entity, str]] = field(default_factory=list)  # (document, quote) stating the claim


def load_count_claims(request: Request, exchanges: list[Exchange]) -> list[CountClaim]:
    """The count claims about these exchanges, each with the quote that makes it."""
    if not exchanges:
        return []
    values = " ".join(f"<{x.iri}>" for x in exchanges)  # IRIs read from the store
    rows = _select(request, f"""
        SELECT ?claim ?x ?xLabel ?count ?minimum ?approximate ?side ?sideLabel ?statusLabel ?by ?byLabel ?doc ?docLabel ?quote
        WHERE {{
          VALUES ?x {{ {values} }}
          ?claim a sg:CountClaim ; sg:aboutExchange ?x .
          OPTIONAL {{ ?x rdfs:label ?xLabel }}
          OPTIONAL {{ ?claim sg:count ?count }} OPTIONAL {{ ?claim sg:minimumCount ?minimum }}
          OPTIONAL {{ ?claim sg:approximate ?approximate }}
          OPTIONAL {{ ?claim sg:side ?side OPTIONAL {{ ?side rdfs:label ?sideLabel }} }}
          OPTIONAL {{ ?claim sg:claimedBy ?by OPTIONAL {{ ?by rdfs:label ?byLabel }} }}
          OPTIONAL {{ ?claim sg:status ?status OPTIONAL {{ ?status rdfs:label ?statusLabel }} }}
          OPTIONAL {{ ?st rdf:subject ?claim ; rdf:predicate rdf:type ; sg:evidence ?ev .
                     ?ev sg:document ?doc ; sg:quote ?quote OPTIONAL {{ ?doc rdfs:label ?docLabel }} }}
        }} ORDER BY ?x ?claim""")
    claims: dict[str, CountClaim] = {}
    for row in rows:
        claim = claims.get(row["claim"]) or claims.setdefault(row["claim"], CountClaim(
            row["claim"], _entity(row, "x"), _claimed_number(row), _entity(row, "side"), row.get("statusLabel"),
            _entity(row, "by")))
        source = (_entity(row, "doc"), row["quote"]) if row.get("quote") else None
        if source and source not in claim.sources:
            claim.sources.append(source)
    return list(claims.values())


def _claimed_number(row: dict) -> str:
    if row.get("count"):
        number = f"{int(float(row['count'])):,}"
        return f"about {number}" if row.get("approximate") in ("true", "1") else number
    if row.get("minimum"):
        return f"at least {int(float(row['minimum'])):,}"
    return "a number not given"


def exchange_figure(request: Request, iri: str) -> str:
    """The picture of an exchange, for the exchange IRI's own linked-data page ("" when it has none)."""
    x = load_exchanges(request).get(iri)
    svg = picture(x) if x is not None else None
    return render("exchange_figure.html", x=x, svg=Markup(svg)) if svg else ""


def picture(x: Exchange) -> str | None:
    """The SVG of who was released by whom to whom in an exchange; None when it records no release."""
    diagram = x.diagram()
    if not diagram.flows:
        return None
    return flow_svg.render(
        diagram, title=f"Who was released by whom to whom: {x.label}", venue=min(x.all_venues, default=None),
        mediators=tuple(sorted(x.mediators)), date=human_span(x.when, x.until) or None, ident=f"flow-{x.key}",
    )


def _not_found(key: str) -> HTMLResponse:
    return _html("exchange_missing.html", 404, title="No such exchange", key=key)


# --- the home page --------------------------------------------------------------------------------


def site_texts(request: Request):
    """The source documents' texts (read once per app, by the linked-data site)."""
    return _site(request).texts


def untitled(kind: str | None, text: str | None, words: int = 12) -> str | None:
    """A name for a document without a title: its kind and its opening words, quoted (never made up)."""
    if not text:
        return None
    opening = " ".join(text.split()[:words])
    return f"{(kind or 'document').capitalize()} beginning “{opening}…”"


@router.get("/", response_class=HTMLResponse, summary="The home page (HTML).")
def home(request: Request) -> HTMLResponse:
    """The home page: what the graph holds, its sources, the main questions and where to go next."""
    # ?record: the class is typed only in the provenance graph (evidence, derivations, rules, documents):
    # the graph's bookkeeping, listed after the things the graph is about
    # Rows computed when the graph was built (graph/summary.py), else asked of the store now.
    saved = getattr(getattr(request.app.state, "dataset", None), "summary", None) or {}
    home_rows = saved.get("home") or {name: _select(request, query) for name, query in HOME_QUERIES.items()}
    classes, graphs, documents = home_rows["classes"], home_rows["graphs"], home_rows["documents"]
    seen: set[str] = set()
    class_rows = []
    for row in classes:
        if row["class"] in seen:
            continue
        seen.add(row["class"])
        name, label = _local(row["class"]), row.get("classLabel")
        class_rows.append({"iri": row["class"], "name": name, "n": int(row["n"]),
                           "label": label if label and label.lower() != name.lower() else None,
                           "record": row.get("record") == "true"})
    texts = site_texts(request)
    sources = []
    for d in documents:
        sources.append({
            "iri": d["doc"],
            "title": d.get("title") or untitled(d.get("kind"), texts.text(d.get("file"))) or _local(d["doc"]),
            "meta": [v for v in (d.get("kind"), d.get("publisher"), d.get("author")) if v],
            "date": d.get("date"), "quotes": int(d.get("quotes", 0)),
            "untitled_file": d.get("file") if not d.get("title") else None,
        })
    counted = (_site(request).summary.get("counts") or {}).get("classes", {}).get(str(SG.Document))
    return _html(
        "home.html", title="Home", classes=class_rows, documents=sources, dumps=DUMPS,
        document_count=counted if counted is not None else len(sources),
        graphs=[{"iri": r["g"], "name": _local(r["g"]), "n": int(r["n"])} for r in graphs],
        questions=list(request.app.state.catalog),
    )


# --- the SPARQL editor ----------------------------------------------------------------------------


def default_query() -> str:
    """The editor's starting query: every project prefix declared, then the exchanges."""
    return SPARQL_PREFIXES + (
        "\nSELECT ?exchange ?label ?date WHERE {\n"
        "  ?exchange a sg:Exchange ; rdfs:label ?label .\n"
        "  OPTIONAL { ?exchange sg:date ?date }\n"
        "} ORDER BY ?date\n"
    )


# The no-script form's result formats: ?format= names understood by /sparql.
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


def script_json(value) -> str:
    """JSON to place inside a <script> element: no `<`, `>` or `&`, so no text can end or comment it out."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def editor_page(endpoint: str, catalog: Catalog, query: str | None = None) -> str:
    """The YASGUI editor page, set to `endpoint`, with the canned questions as examples."""
    examples = [{"name": q.name, "title": q.title, "query": q.sparql} for q in catalog]
    config = {
        "endpoint": endpoint,
        "base": BASE,  # IRIs under it are linked to this server's own pages
        "prefixes": PREFIXES,
        "defaultQuery": default_query(),
        "query": query,
        "examples": examples,
        # the result views (api/views.py): where they are drawn, and which IRIs the map can place
        "views": {"url": "/views/", "mappable": MAPPABLE, "maxRows": VIEW_ROWS},
    }
    return render(
        "editor.html", title="SPARQL editor", endpoint=endpoint, examples=examples, config=Markup(script_json(config)),
        installed=(YASGUI_BUILD / "yasgui.min.js").is_file(), query=query or default_query(), formats=FORMATS,
        graphs=[(str(Graphs.ASSERTED), "asserted"), (str(Graphs.INFERRED), "inferred")],
    )


@router.get("/editor", response_class=HTMLResponse, summary="The SPARQL editor (YASGUI), optionally with a query.")
def editor(request: Request, query: str | None = None) -> HTMLResponse:
    """The SPARQL editor (YASGUI) on this server's /sparql, optionally opened with a query."""
    return HTMLResponse(editor_page(str(request.url_for("sparql_get")), request.app.state.catalog, query))


# --- the API documentation ------------------------------------------------------------------------


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI on /openapi.json, from the project's own assets (FastAPI's default loads it from a CDN)."""
    return HTMLResponse(render("docs.html", openapi_url=request.app.openapi_url))

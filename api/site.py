"""Pages for people: home, the exchange timeline, one page per exchange, and the SPARQL editor."""

import json
from dataclasses import dataclass, field
from datetime import date as Date
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import flow_svg
from api.flow_svg import Entity
from api.layout import link, page
from api.results import SPARQL_JSON
from graph.catalog import Catalog
from graph.vocab import BASE, PREFIXES, SG, SPARQL_PREFIXES, Graphs

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


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def human_date(value: str | None) -> str:
    """`2024-08-01` → `1 August 2024`, `2022-04` → `April 2022`, `2010` → `2010`; anything else as given."""
    if not value:
        return ""
    parts = value.split("-")
    try:
        if len(parts) == 3:
            day = Date(int(parts[0]), int(parts[1]), int(parts[2][:2]))
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {int(parts[0])}"
    except (ValueError, IndexError):
        return value
    return value


def _time(value: str | None) -> str:
    return f'<time datetime="{escape(value, quote=True)}">{escape(human_date(value))}</time>' if value else ""


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


def load_exchanges(request: Request) -> dict[str, Exchange]:
    """Exchanges (and legs) with their facts and releases; a whole exchange's releases include its legs'."""
    exchanges: dict[str, Exchange] = {}
    for row in _select(request, f"""
        SELECT DISTINCT ?x ?xLabel ?date ?start ?end ?whole ?venue ?venueLabel WHERE {{
          ?x a sg:Exchange .
          OPTIONAL {{ ?x rdfs:label ?xLabel }}
          OPTIONAL {{ ?x sg:date ?date }} OPTIONAL {{ ?x sg:startDate ?start }} OPTIONAL {{ ?x sg:endDate ?end }}
          OPTIONAL {{ ?x sg:partOf ?whole }}
          OPTIONAL {{ ?x sg:venue ?venue OPTIONAL {{ ?venue rdfs:label ?venueLabel }} }}
        }}"""):
        x = exchanges.setdefault(row["x"], Exchange(row["x"], row.get("xLabel") or _local(row["x"])))
        x.date = x.date or row.get("date")
        x.start = x.start or row.get("start")
        x.end = x.end or row.get("end")
        x.whole = x.whole or row.get("whole")
        if venue := _entity(row, "venue"):
            x.venues.add(venue)
    for row in _select(request, f"""
        SELECT DISTINCT ?x ?p ?o ?oLabel WHERE {{
          VALUES ?p {{ sg:party sg:mediatedBy }}
          ?x a sg:Exchange ; ?p ?o .
          OPTIONAL {{ ?o rdfs:label ?oLabel }}
        }}"""):
        if row["x"] in exchanges:
            target = exchanges[row["x"]].parties if row["p"] == str(SG.party) else exchanges[row["x"]].mediators
            target.add(_entity(row, "o"))
    releases: dict[tuple[str, str], dict] = {}
    for row in _select(request, f"""
        SELECT DISTINCT ?x ?r ?person ?personLabel ?group ?groupLabel ?count ?by ?byLabel ?to ?toLabel WHERE {{
          ?x a sg:Exchange .
          {{ ?r sg:inExchange ?x }} UNION {{ ?r sg:inExchange ?leg . ?leg sg:partOf ?x }}
          OPTIONAL {{ ?r sg:releasedPerson ?person OPTIONAL {{ ?person rdfs:label ?personLabel }} }}
          OPTIONAL {{ ?r sg:releasedGroup ?group OPTIONAL {{ ?group rdfs:label ?groupLabel }}
                     OPTIONAL {{ ?group sg:count ?count }} }}
          OPTIONAL {{ ?r sg:releasingState ?by OPTIONAL {{ ?by rdfs:label ?byLabel }} }}
          OPTIONAL {{ ?r sg:receivingState ?to OPTIONAL {{ ?to rdfs:label ?toLabel }} }}
        }}"""):
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


def _when(x: Exchange) -> str:
    return _time(x.when) + (f" – {_time(x.until)}" if x.until else "")


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


def _entity_links(entities, empty: str = "—") -> str:
    items = sorted(entities, key=lambda e: e.label)
    return ", ".join(link(e.iri, e.label) for e in items) if items else f'<span class="muted">{empty}</span>'


def _released(x: Exchange) -> str:
    diagram = x.diagram()
    if not diagram.flows:
        return '<span class="muted">none recorded</span>'
    extra = sum(len(f.named) for f in diagram.flows if not f.counted)
    text = f"{diagram.total}"
    if extra:
        text += f' <span class="muted">(+ {extra} named, maybe among them)</span>'
    return text


def _timeline_item(x: Exchange, leg: bool = False) -> str:
    facts = [
        ("Date", _when(x) or '<span class="muted">not stated</span>'),
        ("Parties", _entity_links(x.parties)),
        ("Released", _released(x)),
        ("Venue", _entity_links(x.all_venues, "not stated")),
    ]
    if x.mediators:
        facts.append(("Mediated by", _entity_links(x.mediators)))
    rows = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in facts)
    legs = ""
    if x.legs:
        legs = "<ol class=\"legs\" aria-label=\"Legs\">" + "".join(
            f"<li>{_timeline_item(part, leg=True)}</li>" for part in x.legs
        ) + "</ol>"
    heading = "h3" if leg else "h2"
    kind = '<span class="badge">leg</span> ' if leg else ""
    return (
        f'<article class="exchange"><{heading}>{kind}<a href="/exchanges/{escape(x.key, quote=True)}">'
        f"{escape(x.label)}</a></{heading}><dl class=\"facts\">{rows}</dl>{legs}</article>"
    )


SITE_STYLE = """<style>
.timeline{list-style:none;padding:0;margin:0;border-left:3px solid var(--line)}
.timeline>li{position:relative;padding:0 0 1.2rem 1.2rem}
.timeline>li::before{content:"";position:absolute;left:-.55rem;top:.55rem;width:.8rem;height:.8rem;border-radius:50%;background:var(--accent)}
.timeline h2{font-size:1.15rem;margin:.2rem 0}.timeline h3{font-size:1rem;margin:.2rem 0}
.legs{list-style:none;padding-left:1rem;border-left:2px dashed var(--line);margin:.4rem 0 0}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.2rem 1.2rem;margin:.3rem 0}
.facts dt{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.facts dd{margin:0}.facts .wide{grid-column:1/-1}
figure.picture{margin:1rem 0;padding:.5rem;background:#fff;border:1px solid var(--line);border-radius:.4rem;overflow-x:auto}
figure.picture figcaption{color:var(--muted);font-size:.9rem;margin-top:.4rem}
figure.picture .scroll-hint{display:none}
@media (max-width:56rem){figure.picture svg.flow{max-width:none!important;width:880px;height:auto}
figure.picture .scroll-hint{display:block;color:var(--muted);font-size:.85rem}}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem;padding:0;list-style:none}
.cards li{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:.6rem .8rem}
.numbers td.n,.numbers th.n{text-align:right;font-variant-numeric:tabular-nums}
</style>"""


@router.get("/exchanges", response_class=HTMLResponse, summary="The timeline of all exchanges (HTML).")
def exchanges_page(request: Request) -> HTMLResponse:
    """The timeline of all exchanges (HTML)."""
    exchanges = load_exchanges(request)
    wholes = sorted((x for x in exchanges.values() if x.whole not in exchanges),
                    key=lambda x: (x.when or "9999", x.label))
    items = "".join(f"<li>{_timeline_item(x)}</li>" for x in wholes)
    body = (
        "<h1>Exchanges</h1>"
        f"<p>{len(exchanges)} exchanges in the graph, legs included, oldest first. <em>Released</em> counts the "
        "people the documents record as released (groups by their stated size, named people not already in a "
        "group); each exchange's page shows who went where.</p>"
        f'<ol class="timeline">{items}</ol>'
    )
    return HTMLResponse(page("Exchanges", body, head=SITE_STYLE))


def _release_rows(x: Exchange) -> str:
    rows = []
    for r in sorted(x.releases, key=lambda r: (r.group is None, -(r.count or 0), (r.person or r.group).label)):
        who = r.person or r.group
        count = str(r.count) if r.group is not None and r.count is not None else ("1" if r.person else "")
        rows.append(
            f"<tr><td>{link(who.iri, who.label)}</td><td class=\"n\">{count}</td>"
            f"<td>{_entity_links(r.releasing, 'not stated')}</td><td>{_entity_links(r.receiving, 'not stated')}</td>"
            f"<td>{link(r.iri, 'release')}</td></tr>"
        )
    return "".join(rows)


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
    whole = exchanges.get(x.whole) if x.whole else None
    diagram = x.diagram()
    claims = load_count_claims(request, [x, *x.legs])
    title = f"Who was released by whom to whom: {x.label}"
    svg = flow_svg.render(
        diagram, title=title, venue=min(x.all_venues, default=None), mediators=tuple(sorted(x.mediators)),
        date=human_span(x.when, x.until) or None, ident=f"flow-{key}",
    ) if diagram.flows else ""
    facts = [
        ("Date", (_when(x)) or '<span class="muted">not stated</span>'),
        ("Venue", _entity_links(x.all_venues, "not stated")),
        ("Mediated by", _entity_links(x.mediators, "no mediator recorded")),
        ("Parties", _entity_links(x.parties)),
        ("Released", _released(x)),
    ]
    if whole:
        facts.append(("Part of", f'<a href="/exchanges/{escape(whole.key, quote=True)}">{escape(whole.label)}</a>'))
    if x.legs:
        facts.append(("Legs", ", ".join(
            f'<a href="/exchanges/{escape(leg.key, quote=True)}">{escape(leg.label)}</a>' for leg in x.legs)))
    rows = "".join(
        f'<div{" class=wide" if name == "Legs" else ""}><dt>{name}</dt><dd>{value}</dd></div>' for name, value in facts
    )
    rolled = " The legs are rolled up into one picture." if x.legs else ""
    caption = (
        f"Left: the states that released people; right: the states that received them. A band's width is the "
        f"number of people it carries; named detainees are listed along it.{rolled}"
    )
    if x.when:
        caption += " Date: " + _when(x) + "."
    if x.all_venues:
        caption += " Venue: " + _entity_links(x.all_venues) + "."
    if x.mediators:
        caption += " Mediated by " + _entity_links(x.mediators) + "."
    table = (
        '<div class="table-wrap"><table class="numbers"><caption class="muted">Every release recorded</caption>'
        '<thead><tr><th scope="col">Released</th><th scope="col" class="n">People</th><th scope="col">By</th>'
        f'<th scope="col">To</th><th scope="col">Node</th></tr></thead><tbody>{_release_rows(x)}</tbody></table></div>'
        if x.releases else '<p class="muted">No releases are recorded for this exchange.</p>'
    )
    body = (
        f'<p><a href="/exchanges">Exchanges</a></p><h1>{escape(x.label)}</h1>'
        f'<dl class="facts">{rows}</dl>'
        # on a narrow screen the picture keeps its size (labels stay legible) and scrolls sideways
        + (f'<figure class="picture"><p class="scroll-hint">Scroll sideways to see the whole picture.</p>{svg}'
           f'<figcaption>{caption}</figcaption></figure>' if svg else
           '<p class="muted">No picture: the documents record no release in this exchange.</p>')
        + f"<h2>Releases</h2>{table}"
        f'<h2 id="counts">What the documents say about the numbers</h2>{_claims_table(claims, x)}'
        f"<p>All facts about this exchange, with the sentences they come from: {link(iri, 'the exchange’s page')}.</p>"
    )
    return HTMLResponse(page(x.label, body, head=SITE_STYLE))


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


def _claims_table(claims: list[CountClaim], whole: Exchange) -> str:
    if not claims:
        return '<p class="muted">No document gives a number of people for this exchange.</p>'
    rows = []
    for c in claims:
        status = f' <span class="badge">{escape(c.status)}</span>' if c.status else ""
        leg = "" if c.exchange.iri == whole.iri else f' <span class="muted">({link(c.exchange.iri, c.exchange.label)})</span>'
        source = "<br>".join(f'“{escape(quote)}” <span class="muted">{link(doc.iri, doc.label)}</span>'
                             for doc, quote in c.sources)
        rows.append(
            f'<tr><td class="n">{escape(c.number)}{status}{leg}</td><td>{_entity_links([c.side] if c.side else [], "all sides")}</td>'
            f'<td>{_entity_links([c.claimed_by] if c.claimed_by else [], "not stated")}</td><td>{source}</td></tr>')
    return ('<div class="table-wrap"><table class="numbers"><caption class="muted">Numbers of people the documents '
            'give, each as its source states it (they may disagree, and overlap with the releases above)</caption>'
            '<thead><tr><th scope="col" class="n">People</th><th scope="col">Side</th><th scope="col">Claimed by</th>'
            f'<th scope="col">Source</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _not_found(key: str) -> HTMLResponse:
    body = (f"<h1>No such exchange</h1><p>The graph has no exchange <code>{escape(key)}</code>. "
            '<a href="/exchanges">All exchanges</a>.</p>')
    return HTMLResponse(page("No such exchange", body), status_code=404)


# --- the home page --------------------------------------------------------------------------------


def canned_questions(catalog: Catalog) -> list[tuple[str, str, str, str]]:
    """(name, title, description, SPARQL text) of every canned question, from queries/*.rq."""
    return [(q.name, q.title, q.description, q.sparql) for q in catalog]


def site_texts(request: Request):
    """The source documents' texts (read once per app, by the linked-data site)."""
    from api.linked_data import site  # here: api.linked_data imports api.sparql, which imports this module

    return site(request).texts


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
    classes = _select(request, f"""
        SELECT ?class ?classLabel (COUNT(DISTINCT ?s) AS ?n) ?record WHERE {{
          ?s a ?class FILTER(STRSTARTS(STR(?class), "{SG_NS}"))
          OPTIONAL {{ ?class rdfs:label ?classLabel }}
          BIND(NOT EXISTS {{ GRAPH ?g {{ ?any a ?class }} FILTER(?g != {Graphs.PROVENANCE.n3()}) }} AS ?record)
        }} GROUP BY ?class ?classLabel ?record ORDER BY ?record DESC(?n) ?class""")
    graphs = _select(request, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
    documents = _select(request, """
        SELECT ?doc (SAMPLE(?t) AS ?title) (SAMPLE(?k) AS ?kind) (SAMPLE(?pub) AS ?publisher)
               (SAMPLE(?a) AS ?author) (SAMPLE(?d) AS ?date) (SAMPLE(?f) AS ?file) (COUNT(DISTINCT ?ev) AS ?quotes)
        WHERE {
          ?doc a sg:Document .
          OPTIONAL { ?doc sg:title ?t } OPTIONAL { ?doc sg:documentKind ?k } OPTIONAL { ?doc sg:publisher ?pub }
          OPTIONAL { ?doc sg:author ?a } OPTIONAL { ?doc sg:publicationDate ?d } OPTIONAL { ?doc sg:fileName ?f }
          OPTIONAL { ?ev sg:document ?doc }
        } GROUP BY ?doc ORDER BY ?file""")
    seen: set[str] = set()
    class_rows = []
    for row in classes:
        if row["class"] in seen:
            continue
        seen.add(row["class"])
        name, label = _local(row["class"]), row.get("classLabel")
        described = f' <span class="muted">{escape(label)}</span>' if label and label.lower() != name.lower() else ""
        record = ' <span class="badge">provenance</span>' if row.get("record") == "true" else ""
        class_rows.append(f'<tr><td>{link(row["class"], name)}{described}{record}</td>'
                          f'<td class="n">{int(row["n"]):,}</td></tr>')
    total = sum(int(r["n"]) for r in graphs)
    graph_rows = "".join(
        f'<tr><td>{link(r["g"], _local(r["g"]))}</td><td class="n">{int(r["n"]):,}</td></tr>' for r in graphs
    ) + f'<tr><th scope="row">all</th><th class="n">{total:,}</th></tr>'
    doc_items = []
    for d in documents:
        title = d.get("title") or untitled(d.get("kind"), site_texts(request).text(d.get("file"))) or _local(d["doc"])
        meta = [escape(v) for v in (d.get("kind"), d.get("publisher"), d.get("author")) if v]
        if d.get("date"):
            meta.append(_time(d["date"]))
        meta.append(f'{int(d.get("quotes", 0))} quotes')
        if not d.get("title") and d.get("file"):
            meta.append(f'file {escape(d["file"])}, no title recorded')
        doc_items.append(
            f'<li>{link(d["doc"], title)} <span class="muted">({", ".join(meta)})</span></li>'
        )
    questions = "".join(
        f'<li><a href="/queries/{escape(name, quote=True)}">{escape(title)}</a>'
        f'<br><span class="muted">{escape(description)}</span></li>'
        for name, title, description, _ in canned_questions(request.app.state.catalog)
    )
    dumps = "".join(f'<li><a href="{href}" download>{escape(href.rsplit("/", 1)[-1])}</a> '
                    f'<span class="muted">{escape(what)}</span></li>' for href, what in DUMPS)
    body = f"""
<h1>Swapgraph</h1>
<p>An open knowledge graph of prisoner exchanges, built from documents: every fact comes from a sentence
of a source document and carries that evidence; inference rules derive more (who was released to which
state, in which exchange, who mediated what), and every inferred fact can be explained down to its quotes.</p>
<nav aria-label="Start here"><ul class="cards">
<li><a href="/exchanges"><strong>Exchanges</strong></a><br><span class="muted">a timeline of every exchange, each with a picture of who went where</span></li>
<li><a href="/queries"><strong>Questions</strong></a><br><span class="muted">canned questions with forms, tables, CSV and JSON</span></li>
<li><a href="/sparql"><strong>SPARQL editor</strong></a><br><span class="muted">write your own queries (YASGUI), with the questions as examples</span></li>
<li><a href="/ontology"><strong>Ontology</strong></a><br><span class="muted">every class and property, with definitions</span></li>
<li><a href="/void"><strong>Dataset description</strong></a><br><span class="muted">VoID: triples, classes, licence and sources</span></li>
<li><a href="/docs"><strong>API</strong></a><br><span class="muted">the HTTP API, interactive (OpenAPI)</span></li>
</ul></nav>
<h2 id="holds">What the graph holds</h2>
<div class="table-wrap" style="display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 2rem;align-items:start">
<table class="numbers"><caption class="muted">Instances per class</caption>
<thead><tr><th scope="col">Class</th><th scope="col" class="n">Instances</th></tr></thead>
<tbody>{"".join(class_rows)}</tbody></table>
<table class="numbers"><caption class="muted">Triples per named graph</caption>
<thead><tr><th scope="col">Graph</th><th scope="col" class="n">Triples</th></tr></thead>
<tbody>{graph_rows}</tbody></table>
</div>
<h2 id="sources">Sources</h2>
<p>{len(documents)} documents; every fact in the graph quotes one of them.</p>
<ul>{"".join(doc_items)}</ul>
<h2 id="questions">Main questions</h2>
<ul>{questions}</ul>
<h2 id="downloads">Downloads</h2>
<ul>{dumps}</ul>
"""
    return HTMLResponse(page("Home", body, head=SITE_STYLE))


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
    examples = [{"name": name, "title": title, "query": sparql} for name, title, _, sparql in canned_questions(catalog)]
    config = {
        "endpoint": endpoint,
        "base": BASE,  # IRIs under it are linked to this server's own pages
        "prefixes": PREFIXES,
        "defaultQuery": default_query(),
        "query": query,
        "examples": examples,
    }
    data = script_json(config)
    options = "".join(
        f'<option value="{escape(e["name"], quote=True)}">{escape(e["title"])}</option>' for e in examples
    )
    installed = (YASGUI_BUILD / "yasgui.min.js").is_file()
    missing = "" if installed else (
        '<p role="alert"><strong>The editor\'s assets are not installed</strong>: run <code>make assets</code>. '
        "The plain form below still works.</p>"
    )
    noscript_query = escape(query or default_query())
    formats = "".join(f'<option value="{value}">{escape(label)}</option>' for value, label in FORMATS)
    graphs = "".join(f'<option value="{escape(str(graph), quote=True)}">{name} only</option>'
                     for graph, name in ((Graphs.ASSERTED, "asserted"), (Graphs.INFERRED, "inferred")))
    body = f"""
<h1>SPARQL editor</h1>
<p>Read-only SPARQL 1.1 endpoint at <code>{escape(endpoint)}</code>; the default graph is the union of all
named graphs. The project's prefixes are declared for you; the canned questions are ready as examples.
Run with the ▶ button or <kbd>Ctrl</kbd>+<kbd>Enter</kbd>.</p>
{missing}
<p><label for="example">Open a canned question in a new tab</label>
<select id="example"><option value="">choose a question…</option>{options}</select></p>
<div id="yasgui" aria-label="SPARQL query editor and results"></div>
<noscript>
<form method="get" action="{escape(endpoint, quote=True)}">
<p><label for="query">Query</label><br><textarea id="query" name="query" rows="14" cols="80">{noscript_query}</textarea></p>
<p><label for="format">Result format</label> <select id="format" name="format">{formats}</select>
<label for="default-graph">Default graph</label> <select id="default-graph" name="default-graph-uri">
<option value="" selected>union of all graphs</option>{graphs}</select>
<button type="submit">Run</button></p></form>
</noscript>
<p class="muted">Service description: <a href="{escape(endpoint, quote=True)}?format=ttl">Turtle</a> ·
API documentation: <a href="/docs">/docs</a> · Questions: <a href="/queries">/queries</a></p>
<script type="application/json" id="editor-config">{data}</script>
"""
    head = (
        '<link rel="stylesheet" href="/static/yasgui/yasgui.min.css">'
        '<script src="/static/yasgui/yasgui.min.js" defer></script>'
        '<script src="/static/editor.js" defer></script>'
        "<style>#yasgui{background:#fff;min-height:20rem}"
        "main{max-width:90rem}</style>"
    )
    return page("SPARQL editor", body, head=head)


@router.get("/editor", response_class=HTMLResponse, summary="The SPARQL editor (YASGUI), optionally with a query.")
def editor(request: Request, query: str | None = None) -> HTMLResponse:
    """The SPARQL editor (YASGUI) on this server's /sparql, optionally opened with a query."""
    return HTMLResponse(editor_page(str(request.url_for("sparql_get")), request.app.state.catalog, query))


# --- the API documentation ------------------------------------------------------------------------


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI on /openapi.json, from the project's own assets (FastAPI's default loads it from a CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="Swapgraph API",
        swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        # no badge fetched from validator.swagger.io
        swagger_ui_parameters={"validatorUrl": None, "deepLinking": True, "defaultModelsExpandDepth": -1},
    )

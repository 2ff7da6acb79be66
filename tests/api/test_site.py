"""Pages for people, in-process on a graph built once from the corpus: home, timeline, exchange pages, editor."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from graph.build import SourcePaths
from vocab import PREFIXES

SVG = "{http://www.w3.org/2000/svg}"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(corpus_client):
    return corpus_client


class Page(HTMLParser):
    """What the tests look at in a page: links, resource URLs, labelled form fields, headings, text."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.fields: list[dict] = []
        self.labels: set[str] = set()
        self.headings: list[str] = []
        self.text: list[str] = []
        self._heading = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag in ("script", "img", "iframe", "link") and (attrs.get("src") or attrs.get("href")):
            self.sources.append(attrs.get("src") or attrs.get("href"))
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.fields.append(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def get_page(client, path: str) -> Page:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def assert_local_only(page: Page) -> None:
    """No request to another host: every src/href is on this server (links to the public IRI base aside)."""
    for url in page.sources:
        assert not urlsplit(url).netloc or urlsplit(url).hostname in ("testserver", "127.0.0.1"), url


def test_the_home_page_says_what_the_graph_holds(client):
    html = client.get("/", headers=BROWSER).text
    page = get_page(client, "/")
    assert page.headings[0] == "Swapgraph"
    for section in ("What the graph holds", "Sources", "Main questions", "Downloads"):
        assert section in page.headings
    exchanges = re.search(r'>Exchange</a>[^<]*(<span[^>]*>[^<]*</span>)?</td><td class="n">(\d+)<', html)
    timeline = {href for href in get_page(client, "/exchanges").links if href.startswith("/exchanges/")}
    assert exchanges and int(exchanges.group(2)) == len(timeline) >= 8
    assert re.search(r'>Person</a>[^<]*(<span[^>]*>[^<]*</span>)?</td><td class="n">\d\d+<', html)
    for graph in ("asserted", "inferred", "entities", "ontology", "provenance"):
        assert f"/graph/{graph}" in page.links
    documents = len(list(SourcePaths().documents.glob("*.txt")))
    assert sum(1 for href in page.links if href.startswith("/id/document/")) == documents
    assert "/queries/who-mediated-which-swaps" in page.links and "/queries/exchanges" in page.links
    for target in ("/sparql", "/exchanges", "/dumps/swapgraph.trig.gz", "/dumps/swapgraph.nq.gz", "/void",
                   "/ontology", "/docs"):
        assert target in page.links, target
    assert_local_only(page)


def test_the_timeline_lists_every_exchange_with_legs_under_the_whole(client):
    response = client.get("/exchanges", headers=BROWSER)
    page = Page(response.text)
    exchange_links = [href for href in page.links if href.startswith("/exchanges/")]
    assert len(set(exchange_links)) >= 8
    text = response.text[response.text.index('<ol class="timeline">'):]  # the list, after the time-axis chart
    whole = text.index('href="/exchanges/2025-05-1000-for-1000"')
    legs = text.index('class="legs"', whole)
    assert whole < legs < text.index('href="/exchanges/2025-05-23"') < text.index('href="/exchanges/2025-05-24"')
    # oldest first
    assert text.index("/exchanges/2010-illegals-program") < text.index("/exchanges/2024-08-01-ankara")
    assert "1 August 2024" in page.words and "Turkey" in page.words
    ankara = text[text.index('href="/exchanges/2024-08-01-ankara"'):]
    ankara = ankara[:ankara.index("</article>")]
    assert "Ankara Esenboğa Airport" in ankara and ">26<" not in ankara and "26" in Page(ankara).words
    assert_local_only(page)


def picture(client, key: str) -> ET.Element:
    text = client.get(f"/exchanges/{key}", headers=BROWSER).text
    svg = text[text.index("<svg"):text.index("</svg>") + len("</svg>")]
    return ET.fromstring(svg)


def svg_words(root: ET.Element) -> str:
    return " ".join("".join(el.itertext()) for el in root.iter(SVG + "text"))


def test_the_2024_exchange_picture_names_the_states_and_counts(client):
    root = picture(client, "2024-08-01-ankara")
    assert root.get("role") == "group" and root.find(SVG + "title") is not None
    words = svg_words(root)
    for expected in ("Germany", "Russia", "Belarus", "United States", "13 to Germany", "3 to United States",
                     "10 to Russia", "Vladimir Kara-Murza", "Ilya Yashin", "Vadim Krasikov",
                     "Ankara Esenboğa Airport", "Turkey"):
        assert expected in words, expected
    hrefs = {a.get("href") for a in root.iter(SVG + "a")}
    assert {"/id/state/DE", "/id/state/RU", "/id/state/US", "/id/person/vladimir-kara-murza"} <= hrefs


def test_the_2024_exchange_page_has_its_facts(client):
    page = get_page(client, "/exchanges/2024-08-01-ankara")
    assert page.headings[0] == "2024 Ankara prisoner exchange"
    assert "1 August 2024" in page.words
    assert "/id/place/ankara-esenboga-airport" in page.links and "/id/state/TR" in page.links
    assert "/id/exchange/2024-08-01-ankara" in page.links
    assert "/id/person/evan-gershkovich" in page.links
    assert_local_only(page)


def test_the_whole_2025_exchange_rolls_up_its_legs(client):
    page = get_page(client, "/exchanges/2025-05-1000-for-1000")
    assert "/exchanges/2025-05-23" in page.links and "/exchanges/2025-05-24" in page.links
    words = svg_words(picture(client, "2025-05-1000-for-1000"))
    assert "697 to Ukraine (390 + 307)" in words  # both days' releases by Russia
    assert "390 to Russia (270 + 120)" in words  # the 390 of day one are the 270 + 120 stated apart
    leg = svg_words(picture(client, "2025-05-24"))
    assert "307 to Ukraine" in leg and "390" not in leg


def test_an_unknown_exchange_is_a_404_page(client):
    response = client.get("/exchanges/1999-nowhere", headers=BROWSER)
    assert response.status_code == 404 and "No such exchange" in response.text


def test_the_editor_is_yasgui_from_local_assets_with_prefixes_and_questions(client):
    for path in ("/sparql", "/editor"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200
        page = Page(response.text)
        assert "/static/yasgui/yasgui.min.js" in page.sources and "/static/yasgui/yasgui.min.css" in page.sources
        assert "/static/editor.js" in page.sources
        assert_local_only(page)
        for field in page.fields:
            assert field.get("id") in page.labels, field
        config = response.text[response.text.index('id="editor-config">') + len('id="editor-config">'):]
        import json

        config = json.loads(config[:config.index("</script>")])
        assert config["endpoint"].endswith("/sparql") and config["prefixes"] == PREFIXES
        assert all(f"PREFIX {name}:" in config["defaultQuery"] for name in PREFIXES)
        titles = {e["title"] for e in config["examples"]}
        assert "Who mediated which swaps" in titles and len(config["examples"]) >= 20
    with_query = client.get("/editor", params={"query": "ASK {}"}, headers=BROWSER).text
    assert '"query": "ASK {}"' in with_query


def test_a_query_cannot_change_how_the_editor_page_parses(client):
    """`<!--<script>` inside the <script> element would put the HTML parser in a state where the
    element's `</script>` no longer ends it: the page carries it as \\u003c…\\u003e instead."""
    import json

    query = "<!--<script></script>& -->"
    text = client.get("/editor", params={"query": query}, headers=BROWSER).text
    start = text.index('id="editor-config">') + len('id="editor-config">')
    inside = text[start:text.index("</script>", start)]
    assert "<" not in inside and ">" not in inside and "&" not in inside
    assert json.loads(inside)["query"] == query


def test_the_static_assets_are_served_and_make_no_outside_requests(client):
    for path in ("/static/editor.js", "/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css"):
        response = client.get(path)
        assert response.status_code == 200, path
    script = client.get("/static/editor.js").text
    assert not re.search(r"https?://", script)
    css = client.get("/static/yasgui/yasgui.min.css").text
    assert not re.search(r"url\(\s*['\"]?https?://", css)
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/package.json").status_code == 404


def test_the_api_docs_are_swagger_ui_from_local_assets(client):
    page = get_page(client, "/docs")
    assert_local_only(page)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page.sources
    for asset in page.sources:
        response = client.get(asset)
        assert response.status_code == 200 and response.content, asset
    assert "validator.swagger.io" not in client.get("/docs").text
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not offered


def _select(client, query: str) -> list[dict]:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def test_a_two_day_exchange_gives_both_days_in_the_picture_and_caption(client):
    words = svg_words(picture(client, "2025-05-1000-for-1000"))
    assert "23 – 24 May 2025" in words
    html = client.get("/exchanges/2025-05-1000-for-1000", headers=BROWSER).text
    caption = html.split("<figcaption>", 1)[1].split("</figcaption>", 1)[0]
    assert "23 May 2025" in caption and "24 May 2025" in caption


def test_an_exchange_without_release_flows_shows_no_empty_picture(client):
    keys = [row["x"].rsplit("/", 1)[1] for row in _select(client, """
        PREFIX sg: <https://w3id.org/swapgraph/ontology#>
        SELECT ?x WHERE { ?x a sg:Exchange
          FILTER NOT EXISTS { { ?r sg:inExchange ?x } UNION { ?r sg:inExchange ?leg . ?leg sg:partOf ?x } } }""")]
    assert keys, "the corpus has no exchange without releases: nothing to check"
    for key in keys:
        html = client.get(f"/exchanges/{key}", headers=BROWSER).text
        assert "<svg" not in html and "<figcaption>" not in html and "band" not in html, key
        assert "No picture" in html


def test_an_exchange_page_shows_every_count_claim_with_its_quote(client):
    claims = _select(client, """
        PREFIX sg: <https://w3id.org/swapgraph/ontology#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?x ?quote ?minimum WHERE { ?claim a sg:CountClaim ; sg:aboutExchange ?x .
          OPTIONAL { ?claim sg:minimumCount ?minimum }
          ?st rdf:subject ?claim ; rdf:predicate rdf:type ; sg:evidence/sg:quote ?quote }""")
    assert claims
    pages: dict[str, str] = {}
    for claim in claims:
        key = claim["x"].rsplit("/", 1)[1]
        words = pages.setdefault(key, get_page(client, f"/exchanges/{key}").words)
        assert re.sub(r"\s+", " ", claim["quote"]) in words, (key, claim["quote"])
        if "minimum" in claim:
            assert f"at least {int(claim['minimum']):,}" in words


def test_the_home_page_lists_the_things_before_the_provenance_records_and_names_every_source(client):
    html = client.get("/", headers=BROWSER).text
    table = html.split("Instances per class", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><td><a href="/ontology#(\w+)">.*?</td><td class="n">', table)
    records = [name for name in rows if f'/ontology#{name}">{name}</a>' in table and
               re.search(rf'#{name}">{name}</a>(?:<span[^>]*>[^<]*</span>| )*<span class="badge">provenance', table)]
    assert "Evidence" in records  # (derivations are compact records, not typed nodes, since the scale work)
    assert rows[:len(rows) - len(records)] == [n for n in rows if n not in records]  # records come last
    assert "align-items:start" in html  # the graph table is not stretched to the class table's height
    sources = html.split('id="sources"', 1)[1].split("</ul>", 1)[0]
    names = re.findall(r'<li><a href="/id/document/[^"]+">([^<]*)</a>', sources)
    assert names and not [n for n in names if re.fullmatch(r"\d{3}_[0-9a-f]{16}(\.txt)?", n)], names


def test_the_timeline_page_draws_every_dated_exchange_on_a_time_axis(client):
    html = client.get("/exchanges", headers=BROWSER).text
    svg = ET.fromstring(re.search(r'<svg[^>]*class="chart timeline-chart".*?</svg>', html, re.S).group(0))
    linked = {a.get("href") for a in svg.iter(SVG + "a")}
    wholes = {r["x"].rsplit("/", 1)[1] for r in _select(client, """
        PREFIX sg: <https://w3id.org/swapgraph/ontology#>
        SELECT ?x WHERE { ?x a sg:Exchange FILTER NOT EXISTS { ?x sg:partOf ?whole }
          FILTER(EXISTS { ?x sg:date ?d } || EXISTS { ?x sg:startDate ?s } || EXISTS { ?leg sg:partOf ?x ; sg:date ?l }) }""")}
    assert linked == {f"/exchanges/{key}" for key in wholes}


def test_an_entity_page_leads_with_a_summary_and_an_exchange_iri_shows_its_picture(client):
    html = client.get("/id/person/evan-gershkovich", headers=BROWSER).text
    summary = html.split('<section class="summary"', 1)[1].split("</section>", 1)[0]
    assert html.index('<section class="summary"') < html.index("<h2>Facts</h2>")
    released_in = _select(client, """PREFIX sg: <https://w3id.org/swapgraph/ontology#>
        SELECT ?e WHERE { <https://w3id.org/swapgraph/id/person/evan-gershkovich> sg:releasedIn ?e }""")
    assert released_in and all(f'href="{r["e"].replace("https://w3id.org/swapgraph", "")}"' in summary for r in released_in)
    exchange = client.get("/id/exchange/2024-08-01-ankara", headers=BROWSER).text
    assert '<h2 id="picture">' in exchange and "<svg" in exchange and 'href="/exchanges/2024-08-01-ankara"' in exchange

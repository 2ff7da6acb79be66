"""Search, the question tables and the result views in Chromium: the search box on a page, sorting, filtering,
facets, the map, and the SPARQL editor's timeline, map and bar chart views of a query run in it."""

from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import assert_no_outside_requests, screenshot
from tests.browser.test_editor import RUN, _editor_ready
from tests.browser.test_pages import WAIT, visit


def test_the_search_box_finds_a_person_by_an_alternative_name(browser, server):
    visit(browser, server + "/exchanges")
    box = browser.find_element(By.ID, "site-search")
    box.send_keys("Gershkovich", Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda d: "/search?q=Gershkovich" in d.current_url)
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "main h2")]
    assert "Quotes" in headings and ("Detainees" in headings or "People" in headings), headings
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main .search-results a")]
    assert server + "/id/person/evan-gershkovich" in links
    assert browser.find_elements(By.CSS_SELECTOR, "main mark")
    screenshot(browser, "browser-search")
    assert_no_outside_requests(browser)


def _column(browser, heading: str) -> list[str]:
    headers = [th.text.rstrip(" ↕↑↓") for th in browser.find_elements(By.CSS_SELECTOR, "table.results thead th")]
    index = headers.index(heading)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    return [r.find_elements(By.TAG_NAME, "td")[index].text for r in rows if r.is_displayed()]


def test_a_question_table_sorts_filters_and_has_facets(browser, server):
    visit(browser, server + "/queries/exchanges")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.results th button.sort"))
    dates = [d for d in _column(browser, "Date") if d]
    sort = next(b for b in browser.find_elements(By.CSS_SELECTOR, "table.results th button.sort") if b.text == "Date")
    sort.send_keys(Keys.ENTER)  # keyboard works: the header is a button
    assert [d for d in _column(browser, "Date") if d] == sorted(dates)
    sort.click()
    assert [d for d in _column(browser, "Date") if d] == sorted(dates, reverse=True)
    assert sort.find_element(By.XPATH, "..").get_attribute("aria-sort") == "descending"
    everything = len(_column(browser, "Exchange"))
    browser.find_element(By.CSS_SELECTOR, ".table-controls input[type=search]").send_keys("Ukraine")
    kept = _column(browser, "Exchange")
    assert 0 < len(kept) < everything
    assert all("Ukraine" in row.text for row in browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
               if row.is_displayed())
    facets = browser.find_elements(By.CSS_SELECTOR, ".table-controls select")
    assert facets, "no facet offered"
    screenshot(browser, "browser-question-table")
    assert_no_outside_requests(browser)


def test_the_map_of_venues_and_states(browser, server):
    visit(browser, server + "/exchanges")
    figure = browser.find_element(By.CSS_SELECTOR, "figure.map-figure")
    browser.execute_script("arguments[0].scrollIntoView()", figure)
    places = browser.find_elements(By.CSS_SELECTOR, "svg.map a.place")
    kinds = {p.get_attribute("class").split()[-1] for p in places}
    assert kinds == {"venue", "state"}, kinds
    # each label is drawn (measured in the DOM) at a legible size, and no two labels overlap
    boxes = [p.find_element(By.TAG_NAME, "text").rect for p in places]
    assert all(b["height"] >= 10 for b in boxes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)
            assert apart, (a, b)
    figure.screenshot(str(screenshot(browser, "browser-map").with_name("browser-map.png")))
    assert_no_outside_requests(browser)


# ---------------------------------------------------------------- the editor's result views (api/static/public/views.js)

VIEW_QUERIES = {
    "timeline": ("SELECT ?exchange ?date WHERE { ?exchange a sg:Exchange ; sg:date ?date }",
                 "svg.timeline-chart", "svg.timeline-chart a"),
    "map": ("SELECT DISTINCT ?venue WHERE { [] sg:venue ?venue }", "svg.map", "svg.map a.place"),
    "bars": ("SELECT ?state (COUNT(DISTINCT ?r) AS ?releases) WHERE { ?r a sg:Release ; sg:releasingState ?state } "
             "GROUP BY ?state", "svg.bar-chart", "svg.bar-chart rect"),
}


@pytest.mark.parametrize("view", list(VIEW_QUERIES))
def test_each_result_view_draws_a_query_run_in_the_editor(browser, server, view):
    query, picture, marks = VIEW_QUERIES[view]
    visit(browser, server + "/editor?query=" + quote(query))
    _editor_ready(browser)
    browser.set_script_timeout(WAIT)
    outcome = browser.execute_async_script(RUN)
    assert outcome["status"] == 200 and outcome["rows"] > 1, outcome
    button = WebDriverWait(browser, WAIT).until(
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, f".yasr .yasr_btn.select_{view}:not(.disabled)")), None))
    button.click()  # as a person would: the view's button in YASR's header
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, f".yasr_results {picture}"))
    drawn = browser.find_elements(By.CSS_SELECTOR, f".yasr_results {marks}")
    rows = browser.execute_script("return window.swapgraphEditor.getTab().getYasr().results.getBindings()"
                                  ".map(b => Object.values(b)[0].value)")
    if view == "map":  # every venue in the results is placed (approximately when only its state is known)
        assert {a.get_attribute("data-iri") for a in drawn if "venue" in a.get_attribute("class")} == set(rows)
    else:  # one mark per row
        assert len(drawn) == len(set(rows)), (len(drawn), rows)
    assert not browser.find_elements(By.CSS_SELECTOR, ".yasr_results .view-message")
    title = browser.find_element(By.CSS_SELECTOR, f".yasr_results {picture} > title").get_attribute("textContent")
    assert title.startswith("The results") or view == "bars", title
    figure = browser.find_element(By.CSS_SELECTOR, ".yasr_results figure")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", figure)
    figure.screenshot(str(screenshot(browser, f"browser-editor-view-{view}")))
    assert_no_outside_requests(browser)


def test_a_view_says_why_it_cannot_draw_results(browser, server):
    visit(browser, server + "/editor?query=" + quote("SELECT ?x ?label WHERE { ?x a sg:State ; rdfs:label ?label } LIMIT 3"))
    _editor_ready(browser)
    browser.set_script_timeout(WAIT)
    assert browser.execute_async_script(RUN)["status"] == 200
    # states can be mapped; no dates and no numbers: those views are offered as disabled, and if chosen say why
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr .yasr_btn.select_timeline.disabled"))
    browser.execute_script("window.swapgraphEditor.getTab().getYasr().selectPlugin('map')")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr_results svg.map a.place.state"))


PICTURES_MEASURE = """
return Array.from(document.querySelectorAll("figure.picture svg[role=group]")).map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return {kind: svg.getAttribute("class"),
          smallest: Math.min(...Array.from(svg.querySelectorAll("text")).map(t => parseFloat(getComputedStyle(t).fontSize) * scale))};
}).concat([{page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth}]);
"""


@pytest.mark.parametrize("path", ["/exchanges", "/queries/states-by-releases", "/queries/venues"])
def test_charts_and_maps_keep_legible_labels_on_a_phone(browser, server, path):
    """Timeline, bars and map scroll sideways in their figure on a phone instead of shrinking their text."""
    browser.set_window_size(390, 844)
    try:
        visit(browser, server + path)
        *pictures, page = browser.execute_script(PICTURES_MEASURE)
        assert pictures and all(p["smallest"] >= 12 for p in pictures), pictures
        assert page["page"] <= page["viewport"], page
    finally:
        browser.set_window_size(1280, 1000)

"""What a person sees in a browser: home, the editor running a query, a canned question's form, an
exchange's picture, an entity page with a quote. Screenshots: tests/artifacts/browser-*.png."""

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import assert_no_outside_requests, requested_urls, screenshot

WAIT = 30
PHONE_MEASURE = """
const svg = document.querySelector("figure svg[role=group]");
const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
const labels = Array.from(svg.querySelectorAll("text")).map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
return {labels: labels, page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth};
"""


def visit(browser, url: str) -> None:
    requested_urls(browser)  # forget earlier pages' requests
    browser.get(url)
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_home_page(browser, server):
    visit(browser, server + "/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Swapgraph"
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert "What the graph holds" in headings and "Sources" in headings and "Main questions" in headings
    hrefs = {a.get_attribute("href").removeprefix(server) for a in browser.find_elements(By.TAG_NAME, "a")}
    assert {"/exchanges", "/sparql", "/dumps/swapgraph.trig.gz", "/void", "/ontology", "/docs"} <= hrefs
    screenshot(browser, "browser-home")
    assert_no_outside_requests(browser)


def _result_rows(browser, expected: str):
    def rows(driver):
        cells = driver.find_elements(By.CSS_SELECTOR, ".tab-pane.active .yasr table tbody td, .yasr table tbody td")
        texts = [c.text for c in cells if c.is_displayed()]
        return texts if any(expected in t for t in texts) else False

    return WebDriverWait(browser, WAIT).until(rows)


def test_editor_runs_a_query_and_shows_the_result(browser, server):
    visit(browser, server + "/sparql")
    WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    query = browser.execute_script("return window.swapgraphEditor.getTab().getQuery()")
    assert "PREFIX sg: <https://w3id.org/swapgraph/ontology#>" in query and "PREFIX state:" in query
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    texts = _result_rows(browser, "2024 Ankara prisoner exchange")
    assert any("2024-08-01" in t for t in texts)
    screenshot(browser, "browser-editor")
    # a canned question opens as a tab of its own and runs too
    Select(browser.find_element(By.ID, "example")).select_by_visible_text("Who mediated which swaps")
    WebDriverWait(browser, WAIT).until(
        lambda d: "Who mediated which swaps" in d.execute_script("return window.swapgraphEditor.getTab().getName()"))
    visible = [b for b in browser.find_elements(By.CSS_SELECTOR, ".yasqe_queryButton") if b.is_displayed()]
    visible[0].click()
    _result_rows(browser, "Turkey")
    screenshot(browser, "browser-editor-canned")
    assert_no_outside_requests(browser)


def test_a_canned_question_form_is_submitted(browser, server):
    visit(browser, server + "/queries/who-mediated-which-swaps")
    forms = browser.find_elements(By.CSS_SELECTOR, "main form")
    assert forms, "the canned-question page has no form"
    Select(forms[0].find_element(By.NAME, "mediator")).select_by_visible_text("Turkey")
    forms[0].find_element(By.CSS_SELECTOR, "button, input[type=submit]").click()
    WebDriverWait(browser, WAIT).until(lambda d: "mediator=" in d.current_url)
    table = WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.TAG_NAME, "table")))
    assert "Turkey" in table.text and "2024 Ankara prisoner exchange" in table.text
    screenshot(browser, "browser-canned-question")
    assert_no_outside_requests(browser)


def test_the_exchange_picture_names_the_states_and_counts(browser, server):
    visit(browser, server + "/exchanges/2024-08-01-ankara")
    svg = browser.find_element(By.CSS_SELECTOR, "figure svg[role=group]")
    words = svg.text
    for expected in ("Germany", "Russia", "Belarus", "United States", "13 to Germany", "3 to United States",
                     "10 to Russia (8 + 2)", "Vladimir Kara-Murza", "Ankara Esenboğa Airport", "Turkey"):
        assert expected in words, expected
    size = svg.size
    assert size["width"] > 600 and size["height"] > 300
    screenshot(browser, "browser-exchange-2024")
    # on a phone the labels keep a legible size (measured as drawn: font size times the SVG's scale);
    # the picture scrolls sideways inside its figure, the page itself does not overflow
    browser.set_window_size(390, 844)
    try:
        visit(browser, server + "/exchanges/2024-08-01-ankara")
        sizes = browser.execute_script(PHONE_MEASURE)
        assert min(sizes["labels"]) >= 12, sizes
        assert sizes["page"] <= sizes["viewport"], sizes
        screenshot(browser, "browser-exchange-2024-phone")
    finally:
        browser.set_window_size(1280, 1000)
    visit(browser, server + "/exchanges")
    assert "2024 Ankara prisoner exchange" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "browser-exchanges")
    assert_no_outside_requests(browser)


def test_an_entity_page_shows_a_quote(browser, server):
    path = "/id/person/evan-gershkovich"
    assert httpx.get(server + path, headers={"Accept": "text/html"}).status_code == 200
    visit(browser, server + path)
    assert "Evan Gershkovich" in browser.find_element(By.TAG_NAME, "h1").text
    quotes = [q.text for q in browser.find_elements(By.CSS_SELECTOR, "blockquote, q") if q.text.strip()]
    assert any("Gershkovich" in q for q in quotes), quotes[:3]
    screenshot(browser, "browser-entity")
    assert_no_outside_requests(browser)

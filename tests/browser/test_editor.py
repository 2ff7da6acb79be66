"""The SPARQL editor and the API docs in Chromium: every canned question's editor link runs in YASGUI,
every way of sharing a query opens it, and /docs renders from local assets only."""

from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from graph.catalog import Catalog
from api.settings import Settings
from tests.browser.conftest import assert_no_outside_requests, screenshot
from tests.browser.test_pages import WAIT, visit

QUESTIONS = Catalog.load(Settings().queries_dir)
RUN = """
const done = arguments[arguments.length - 1];
const tab = window.swapgraphEditor.getTab();
tab.getYasqe().query().then(() => {
  const r = tab.getYasr().results;
  done({status: r.getStatus(), error: r.getError() ? JSON.stringify(r.getError()) : null,
        rows: (r.getBindings() || []).length});
}).catch((e) => done({status: -1, error: String(e && (e.message || e.status || e)), rows: 0}));
"""


def _editor_ready(browser) -> None:
    WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return !!window.swapgraphEditor"))


def _open_query(browser) -> str:
    return browser.execute_script("return window.swapgraphEditor.getTab().getQuery()")


@pytest.mark.parametrize("query", list(QUESTIONS), ids=lambda q: q.name)
def test_every_question_editor_link_runs_in_the_editor(browser, server, query):
    example = f"/queries/{query.name}?" + (f"{query.example}&" if query.example else "") + "format=json"
    body = httpx.get(server + example).json()
    visit(browser, server + body["editor"])
    _editor_ready(browser)
    browser.set_script_timeout(WAIT)
    outcome = browser.execute_async_script(RUN)
    assert outcome["status"] == 200 and outcome["error"] is None, outcome
    assert outcome["rows"] == len(body["rows"])
    assert_no_outside_requests(browser)


@pytest.mark.parametrize("link", [
    "/editor#query={q}&tabTitle=Shared",  # YASGUI's own share button
    "/sparql#query={q}",
    "/editor?query={q}",
])
def test_every_way_of_sharing_a_query_opens_it(browser, server, link):
    query = "SELECT ?shared WHERE { ?shared a sg:Exchange } LIMIT 3"
    visit(browser, server + link.format(q=quote(query)))
    _editor_ready(browser)
    assert _open_query(browser) == query
    if "tabTitle" in link:
        assert browser.execute_script("return window.swapgraphEditor.getTab().getName()") == "Shared"
    browser.set_script_timeout(WAIT)
    outcome = browser.execute_async_script(RUN)
    assert outcome["status"] == 200 and outcome["rows"] == 3, outcome
    assert_no_outside_requests(browser)


def test_the_api_docs_render_offline(browser, server):
    visit(browser, server + "/docs")
    WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary")))
    operations = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    assert "/sparql" in {o.text.replace("\u200b", "") for o in operations}
    screenshot(browser, "browser-docs")
    assert_no_outside_requests(browser)


def test_result_links_go_to_this_servers_pages(browser, server):
    query = "SELECT ?exchange WHERE { ?exchange a sg:Exchange } LIMIT 5"
    visit(browser, server + "/editor?query=" + quote(query))
    _editor_ready(browser)
    browser.set_script_timeout(WAIT)
    assert browser.execute_async_script(RUN)["rows"] == 5
    links = WebDriverWait(browser, WAIT).until(
        lambda d: [a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, ".yasr a[title^='https://w3id.org/']")])
    assert len(links) >= 5 and all(href.startswith(server + "/id/exchange/") for href in links), links
    assert not browser.find_elements(By.CSS_SELECTOR, ".yasr a[href^='https://w3id.org/']")

"""Accessibility of every kind of page, checked in Chromium by axe-core (from npm, api/static/node_modules):
WCAG 2.x A and AA rules. Findings are written to tests/artifacts/axe-findings.json."""

import json
from pathlib import Path

import pytest

from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, assert_no_outside_requests
from tests.browser.test_editor import RUN, _editor_ready
from tests.browser.test_pages import WAIT, visit
from tests.browser.test_views import VIEW_QUERIES

AXE = Path(__file__).resolve().parents[2] / "api/static/node_modules/axe-core/axe.min.js"
PAGES = (
    "/", "/exchanges", "/exchanges/2024-08-01-ankara", "/exchanges/2025-05-1000-for-1000", "/queries",
    "/queries/exchanges", "/queries/who-mediated-which-swaps?mediator=Turkey&evidence=true", "/sparql",
    "/id/person/evan-gershkovich", "/id/document/000_866c1bb2713c0bfc", "/id/", "/id/person/", "/ontology",
    "/void", "/search?q=Ankara", "/explain", "/explain?s=Vladimir%20Kara-Murza&p=released%20to&o=Germany",
    "/docs", "/queries/states-by-releases", "/queries/releases", "/queries/venues",
)
AXE_WAIT = 180  # seconds: axe-core ran past 30 s on the longest document page on a busy machine
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))))
  .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
"""
# Findings left in third-party markup, each with the reason it stays.
KNOWN = {
    ("/docs", "nested-interactive"): "Swagger UI draws each operation's header as a button holding buttons; "
                                     "fixing it means forking Swagger UI",
}
FINDINGS: dict[str, list] = {}


@pytest.fixture(scope="module", autouse=True)
def findings_file():
    yield
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe-findings.json").write_text(json.dumps(FINDINGS, indent=1), encoding="utf-8")


@pytest.mark.parametrize("path", PAGES)
def test_no_accessibility_violations(browser, server, path):
    visit(browser, server + path)
    check(browser, path)


@pytest.mark.parametrize("view", list(VIEW_QUERIES))
def test_no_accessibility_violations_in_the_editors_result_views(browser, server, view):
    visit(browser, server + "/editor?query=" + quote(VIEW_QUERIES[view][0]))
    _editor_ready(browser)
    browser.set_script_timeout(WAIT)
    assert browser.execute_async_script(RUN)["status"] == 200
    browser.execute_script(f"window.swapgraphEditor.getTab().getYasr().selectPlugin('{view}')")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, f".yasr_results {VIEW_QUERIES[view][1]}"))
    check(browser, f"/editor ({view} view)")


def check(browser, name: str) -> None:
    """axe-core's WCAG A/AA findings on the page shown, kept for the findings file; none may be left."""
    assert AXE.is_file(), "axe-core missing: `make assets` installs it from api/static/package.json"
    browser.set_script_timeout(AXE_WAIT)
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    violations = browser.execute_async_script(RUN_AXE)
    FINDINGS[name] = violations
    left = [v for v in violations if (name, v["id"]) not in KNOWN]
    assert not left, json.dumps(left, indent=1)
    assert_no_outside_requests(browser)

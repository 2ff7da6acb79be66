"""Search and the question tables in Chromium: the search box on a page, sorting, filtering, facets."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import assert_no_outside_requests, screenshot
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

"""The server-drawn charts: exchanges on a real time axis, bars proportional to their values."""

import re
import xml.etree.ElementTree as ET

from api.charts import CHAR, Event, bar_chart, bars, day, timeline, timeline_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_partial_dates_become_days():
    assert (day("2010"), day("2010", end=True)) == (day("2010-01-01"), day("2010-12-31"))
    assert (day("2022-04"), day("2022-04", end=True)) == (day("2022-04-01"), day("2022-04-30"))
    assert day("2024-02", end=True) == day("2024-02-29")


def _marks(svg: str) -> dict[str, tuple[float, float, float]]:
    """label -> (x of its mark, width of its mark, y of its label)."""
    root = ET.fromstring(svg)
    out = {}
    for a in root.iter(SVG + "a"):
        rect, text = a.find(SVG + "rect"), a.find(SVG + "text")
        out[text.text] = (float(rect.get("x")) + 4, float(rect.get("width")) - 8, float(text.get("y")), float(text.get("x")))
    return out


def test_the_time_axis_is_proportional_to_time():
    events = [Event("A", "/a", "2010-07-09"), Event("B", "/b", "2022-04-27"), Event("C", "/c", "2024-08-01"),
              Event("D", "/d", "2025-05-23", "2025-05-24")]
    marks = _marks(timeline(events, title="t"))
    (xa, _, _, _), (xb, _, _, _), (xc, _, _, _) = marks["A"], marks["B"], marks["C"]
    days_ab, days_bc = (day("2022-04-27") - day("2010-07-09")).days, (day("2024-08-01") - day("2022-04-27")).days
    assert abs((xb - xa) / (xc - xb) - days_ab / days_bc) < 0.01
    assert marks["D"][1] > 0  # a two-day exchange is a bar, not a dot
    years = [t.text for t in ET.fromstring(timeline(events, title="t")).iter(SVG + "text") if re.fullmatch(r"\d{4}", t.text or "")]
    assert years[0] == "2010" and years[-1] == "2026"


def test_labels_close_in_time_go_to_different_lanes():
    events = [Event("Russia–Ukraine exchange, first day", "/1", "2025-05-23"),
              Event("Russia–Ukraine exchange, second day", "/2", "2025-05-24")]
    marks = _marks(timeline(events, title="t"))
    (_, _, y1, x1), (_, _, y2, x2) = marks.values()
    assert y1 != y2 or abs(x1 - x2) > CHAR * len(events[0].label)


def test_bars_are_proportional_and_largest_first():
    svg = bars([("small", None, 2), ("large", "/l", 8), ("none", None, None)], title="People by state",
               axis="people", category="State")
    root = ET.fromstring(svg)
    widths = [float(r.get("width")) for r in root.iter(SVG + "rect")]
    assert len(widths) == 2 and abs(widths[0] / widths[1] - 4) < 0.01
    # the title shown above, the labels' heading and the values' axis named, then the largest bar
    assert [t.text for t in root.iter(SVG + "text")][:5] == ["People by state", "State", "people →", "large", "8"]


def test_text_is_escaped():
    svg = timeline([Event("<script>x</script>", "/x?a=1&b=2", "2020")], title="<t>")
    ET.fromstring(svg)  # well-formed
    assert "<script>" not in svg


def _table(columns: list[str], rows: list[list]) -> dict:
    """A table as api.queries.result_table makes it: links as (text, href), numbers as numbers."""
    def cell(value):
        if isinstance(value, tuple):
            return {"text": value[0], "href": value[1], "number": False}
        return {"text": "" if value is None else str(value), "href": None, "number": isinstance(value, (int, float))}
    return {"columns": [{"name": c, "heading": c.capitalize()} for c in columns],
            "rows": [{"cells": [cell(v) for v in row]} for row in rows]}


def test_a_timeline_shows_its_title_and_names_its_axis():
    root = ET.fromstring(timeline([Event("A", "/a", "2010"), Event("B", None, "2012-05")], title="Exchanges, on a time axis"))
    texts = [t.text for t in root.iter(SVG + "text")]
    assert texts[0] == "Exchanges, on a time axis" and any(t.startswith("Date") for t in texts)
    assert len(list(root.iter(SVG + "a"))) == 1  # an event without a page is not a link


def test_a_table_on_a_time_axis_uses_its_own_dates_not_the_dates_it_refers_to():
    table = _table(["claim", "since", "date", "endDate"], [
        [("Largest exchange", "/id/exchange/x"), "2022-02", "2025-05-23", "2025-05-24"],
        [("Another", "/id/exchange/y"), "2022-02", "2024-08-01", None]])
    marks = _marks(timeline_chart(table, title="t"))
    assert set(marks) == {"Largest exchange", "Another"}
    assert marks["Largest exchange"][1] > 0 and marks["Another"][1] == 0  # a period from date to endDate
    assert timeline_chart(_table(["claim", "since"], [[("A", "/a"), "2022-02"]]), title="t") == ""


def test_a_question_names_its_chart_and_can_have_none():
    table = _table(["stateLabel", "releases", "people"], [["Russia", 14, 725], ["Israel", 5, 1150]])
    root = ET.fromstring(bar_chart(table, "people stateLabel | People released by each state | people released"))
    assert [t.text for t in root.iter(SVG + "text")][:4] == ["People released by each state", "Statelabel",
                                                            "people released →", "Israel"]
    assert bar_chart(table, "none") == ""
    generic = [t.text for t in ET.fromstring(bar_chart(table)).iter(SVG + "text")]
    assert generic[:3] == ["Releases by statelabel", "Statelabel", "Releases →"]

"""The server-drawn charts: exchanges on a real time axis, bars proportional to their values."""

import re
import xml.etree.ElementTree as ET

from api.charts import CHAR, Event, bars, day, timeline

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
    svg = bars([("small", None, 2), ("large", "/l", 8), ("none", None, None)], title="n by x", unit="n")
    root = ET.fromstring(svg)
    widths = [float(r.get("width")) for r in root.iter(SVG + "rect")]
    assert len(widths) == 2 and abs(widths[0] / widths[1] - 4) < 0.01
    assert [t.text for t in root.iter(SVG + "text")][:2] == ["large", "8"]


def test_text_is_escaped():
    svg = timeline([Event("<script>x</script>", "/x?a=1&b=2", "2020")], title="<t>")
    ET.fromstring(svg)  # well-formed
    assert "<script>" not in svg

"""Pictures of results drawn on the server as SVG: exchanges on a time axis, and bar charts of counts."""

import re
from dataclasses import dataclass
from datetime import date as Date
from html import escape

WIDTH = 880
LEFT, RIGHT = 30, 30
CHAR = 6.6  # average width of a 12 px character, to keep labels apart
LANE = 18  # vertical distance between label lanes
TITLE = 26  # room above a chart for its visible title
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12"'


@dataclass(frozen=True)
class Event:
    label: str
    href: str | None
    first: str  # ISO date, possibly partial: 2010, 2022-04, 2024-08-01
    last: str | None = None


def day(value: str, end: bool = False) -> Date:
    """A partial ISO date as a day: its first day, or its last with `end` (2022-04 → 1 or 30 April)."""
    parts = [int(p) for p in value[:10].split("-")]
    year = parts[0]
    if len(parts) == 1:
        return Date(year, 12, 31) if end else Date(year, 1, 1)
    month = parts[1]
    if len(parts) == 2:
        if not end:
            return Date(year, month, 1)
        following = Date(year + (month == 12), month % 12 + 1, 1)
        return Date.fromordinal(following.toordinal() - 1)
    return Date(year, month, parts[2])


def _heading(title: str, id_: str) -> str:
    """The chart's title, shown above it and given to assistive technology."""
    return (f'<title id="{id_}">{escape(title)}</title>'
            f'<text x="{LEFT}" y="17" font-size="15" font-weight="600" fill="#1d2430">{escape(title)}</text>')


def timeline(events: list[Event], *, title: str, axis: str = "Date (ticks on 1 January of each year)") -> str:
    """Events on a real time axis (one tick a year) under a visible title, labels in lanes so that none
    overlaps another, the axis named below its ticks."""
    events = sorted(events, key=lambda e: day(e.first))
    if not events:
        return ""
    start = Date(day(events[0].first).year, 1, 1)
    stop = Date(max(day(e.last or e.first, end=True) for e in events).year + 1, 1, 1)
    span = stop.toordinal() - start.toordinal()

    def x(when: Date) -> float:
        return LEFT + (when.toordinal() - start.toordinal()) / span * (WIDTH - LEFT - RIGHT)

    lanes: list[float] = []  # the right end of the last label in each lane
    placed = []
    for event in events:
        if event.last:  # over several days: a bar from the first to the last
            x0, x1 = x(day(event.first)), x(day(event.last, end=True))
        else:  # one day, or a month or year without the day: a mark in the middle of that period
            x0 = x1 = (x(day(event.first)) + x(day(event.first, end=True))) / 2
        width = len(event.label) * CHAR
        anchor_x = min(x0, WIDTH - RIGHT - width)
        lane = next((i for i, end in enumerate(lanes) if end + 8 < anchor_x), None)
        if lane is None:
            lanes.append(0.0)
            lane = len(lanes) - 1
        lanes[lane] = anchor_x + width
        placed.append((event, x0, x1, anchor_x, lane))
    axis_y = TITLE + 30 + LANE * len(lanes)
    height = axis_y + 50
    years = range(start.year, stop.year + 1)
    step = max(1, len(years) // 12)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="timeline-title" '
        f'style="max-width:100%;height:auto" {FONT}>',
        _heading(title, "timeline-title"),
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#1d2430"/>',
        f'<text class="axis-label" x="{WIDTH / 2:.0f}" y="{axis_y + 38}" text-anchor="middle" fill="#1d2430">{escape(axis)}</text>',
    ]
    for year in years:
        if (year - start.year) % step == 0 or year == stop.year:
            tick = x(Date(year, 1, 1))
            out.append(f'<line x1="{tick:.1f}" y1="{axis_y}" x2="{tick:.1f}" y2="{axis_y + 5}" stroke="#1d2430"/>'
                       f'<text x="{tick:.1f}" y="{axis_y + 18}" text-anchor="middle" fill="#5b6575">{year}</text>')
    for event, x0, x1, anchor_x, lane in placed:
        y = TITLE + 24 + LANE * lane
        when = escape(event.first + (f" – {event.last}" if event.last else ""))
        opening = f'<a href="{escape(event.href, quote=True)}">' if event.href else '<g>'
        underline = ' text-decoration="underline"' if event.href else ""
        out.append(
            f'{opening}<title>{escape(event.label)} ({when})</title>'
            f'<line x1="{x0:.1f}" y1="{y + 4}" x2="{x0:.1f}" y2="{axis_y}" stroke="#9aa4b2" stroke-dasharray="2 2"/>'
            f'<rect x="{x0 - 4:.1f}" y="{axis_y - 4}" width="{max(8.0, x1 - x0 + 8):.1f}" height="8" rx="4" fill="#0b5cad"/>'
            f'<text x="{anchor_x:.1f}" y="{y}" fill="#0b5cad"{underline}>'
            f'{escape(event.label)}</text>{"</a>" if event.href else "</g>"}'
        )
    out.append("</svg>")
    return "".join(out)


def bars(items: list[tuple[str, str | None, float]], *, title: str, axis: str, category: str) -> str:
    """A horizontal bar chart of (label, link or None, value), largest first, under a visible title: each
    bar labelled with its value, the labels' column named `category` and the values' axis `axis`."""
    items = sorted((i for i in items if i[2] is not None), key=lambda i: (-i[2], i[0]))
    if not items:
        return ""
    label_width = min(260, max(len(label) for label, _, _ in [*items, (category, None, 0)]) * CHAR + 10)
    top = max(value for _, _, value in items) or 1
    bar_space = WIDTH - label_width - 70
    first = TITLE + 24  # the first bar, under the title and the column headings
    height = first + 22 * len(items) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="bars-title" '
        f'style="max-width:100%;height:auto" {FONT}>',
        _heading(title, "bars-title"),
        f'<text class="axis-label" x="{label_width - 8:.1f}" y="{first - 8}" text-anchor="end" font-weight="600" '
        f'fill="#1d2430">{escape(category)}</text>',
        f'<text class="axis-label" x="{label_width:.1f}" y="{first - 8}" font-weight="600" fill="#1d2430">{escape(axis)} →</text>',
    ]
    for i, (label, href, value) in enumerate(items):
        y = first + 22 * i
        shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        text = f'<text x="{label_width - 8:.1f}" y="{y + 12}" text-anchor="end" fill="#1d2430">{escape(label)}</text>'
        if href:
            text = f'<a href="{escape(href, quote=True)}">{text}</a>'
        length = max(1.0, value / top * bar_space)
        out.append(f'{text}<rect x="{label_width:.1f}" y="{y}" width="{length:.1f}" height="16" fill="#0b5cad">'
                   f'<title>{escape(label)}: {shown} ({escape(axis)})</title></rect>'
                   f'<text x="{label_width + length + 6:.1f}" y="{y + 12}" fill="#1d2430">{shown}</text>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- pictures of a result table
# A table is api.queries.result_table's: columns [{name, heading}], rows [{cells: [{text, href, number}]}].

NOT_AMOUNTS = ("year", "ordinal", "date", "since", "start", "end")  # numbers that are not quantities
MAX_BARS = 40
ISO_DATE = re.compile(r"-?\d{4}(-\d\d(-\d\d)?)?(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?")
ENDS = ("end", "until", "last")  # a date column with one of these in its name closes a period
REFERENCES = ("since", "before", "after", "inyear")  # dates a row refers to ("the largest since 2022"), not its own


def bar_chart(table: dict, spec: str | None = None) -> str:
    """Bars of a table: as its question's `# chart:` header says (`VALUE LABEL | title | value axis`;
    `none`: no chart), else the first quantity column against the first text column. Empty when the
    table has fewer than two or more than MAX_BARS rows."""
    rows, columns = table["rows"], table["columns"]
    if spec == "none" or not 1 < len(rows) <= MAX_BARS:
        return ""
    index = {c["name"]: i for i, c in enumerate(columns)}
    if spec:
        names, title, axis = [part.strip() for part in spec.split("|")]
        value_name, label_name = names.split()
        amount = index.get(value_name)
        # a label column is shown as its link's text (`stateLabel` in `state`)
        name = index.get(label_name, index.get(label_name.removesuffix("Label")))
    else:
        amount = next((i for i, c in enumerate(columns) if not any(w in c["name"].lower() for w in NOT_AMOUNTS)
                       and all(r["cells"][i]["number"] or not r["cells"][i]["text"] for r in rows)
                       and any(r["cells"][i]["number"] for r in rows)), None)
        name = next((i for i, c in enumerate(columns) if i != amount and any(r["cells"][i]["text"] for r in rows)
                     and not any(r["cells"][i]["number"] for r in rows)), None)
        if amount is not None and name is not None:
            title = f"{columns[amount]['heading']} by {columns[name]['heading'].lower()}"
            axis = columns[amount]["heading"]
    if amount is None or name is None:
        return ""
    items = [(r["cells"][name]["text"], r["cells"][name]["href"], float(r["cells"][amount]["text"]))
             for r in rows if r["cells"][amount]["number"] and r["cells"][name]["text"]]
    return bars(items, title=title, axis=axis, category=columns[name]["heading"])


def timeline_chart(table: dict, *, title: str) -> str:
    """A table's rows on a time axis: its first column of ISO dates (a second one named end/until/last
    closes a period), each row named as `_event_names` says and linked to its page. Empty without a date
    column."""
    rows, columns = table["rows"], table["columns"]

    def dates(i: int) -> bool:
        texts = [r["cells"][i]["text"] for r in rows if r["cells"][i]["text"]]
        return (bool(texts) and not any(w in columns[i]["name"].lower() for w in REFERENCES)
                and not any(r["cells"][i]["number"] for r in rows) and all(ISO_DATE.fullmatch(t) for t in texts))

    dated = [i for i in range(len(columns)) if dates(i)]
    first = next((i for i in dated if not any(w in columns[i]["name"].lower() for w in ENDS)), None)
    if first is None:
        return ""
    last = next((i for i in dated if any(w in columns[i]["name"].lower() for w in ENDS)), None)
    named = _event_names(table, dated)
    if named is None:
        return ""
    events = {}
    for r in rows:
        cells = r["cells"]
        if cells[first]["text"] and cells[named]["text"]:
            event = Event(cells[named]["text"], cells[named]["href"], cells[first]["text"][:10],
                          (cells[last]["text"][:10] or None) if last is not None else None)
            events.setdefault((event.label, event.first, event.last), event)
    axis = columns[first]["heading"] + (f" to {columns[last]['heading'].lower()}" if last is not None else "")
    return timeline(list(events.values()), title=title, axis=f"{axis} (ticks on 1 January of each year)")


EVENTS = ("/exchange/", "/negotiation/", "/event/", "/release/")  # pages of things that happen at a date


def _event_names(table: dict, dated: list[int]) -> int | None:
    """The column naming a row on a time axis: a column of links to events (exchanges, negotiations...),
    else of links with labels, else the first column of text."""
    rows, columns = table["rows"], table["columns"]

    def labelled(i: int) -> bool:
        return any(r["cells"][i]["href"] and not r["cells"][i]["text"].startswith(("http://", "https://")) for r in rows)

    links = [i for i in range(len(columns)) if labelled(i)]
    events = [i for i in links if any(any(e in (r["cells"][i]["href"] or "") for e in EVENTS) for r in rows)]
    texts = [i for i in range(len(columns)) if i not in dated and not any(r["cells"][i]["href"] for r in rows)
             and any(r["cells"][i]["text"] and not r["cells"][i]["number"] for r in rows)]
    return next(iter(events + links + texts), None)

"""Pictures of results drawn on the server as SVG: exchanges on a time axis, and bar charts of counts."""

from dataclasses import dataclass
from datetime import date as Date
from html import escape

WIDTH = 880
LEFT, RIGHT = 30, 30
CHAR = 6.6  # average width of a 12 px character, to keep labels apart
LANE = 18  # vertical distance between label lanes


@dataclass(frozen=True)
class Event:
    label: str
    href: str
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


def timeline(events: list[Event], *, title: str) -> str:
    """Events on a real time axis (one tick a year), labels in lanes so that none overlaps another."""
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
    axis_y = 30 + LANE * len(lanes)
    height = axis_y + 34
    years = range(start.year, stop.year + 1)
    step = max(1, len(years) // 12)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="timeline-title" '
        'style="max-width:100%;height:auto" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#1d2430"/>',
    ]
    for year in years:
        if (year - start.year) % step == 0 or year == stop.year:
            tick = x(Date(year, 1, 1))
            out.append(f'<line x1="{tick:.1f}" y1="{axis_y}" x2="{tick:.1f}" y2="{axis_y + 5}" stroke="#1d2430"/>'
                       f'<text x="{tick:.1f}" y="{axis_y + 18}" text-anchor="middle" fill="#5b6575">{year}</text>')
    for event, x0, x1, anchor_x, lane in placed:
        y = 24 + LANE * lane
        when = escape(event.first + (f" – {event.last}" if event.last else ""))
        out.append(
            f'<a href="{escape(event.href, quote=True)}"><title>{escape(event.label)} ({when})</title>'
            f'<line x1="{x0:.1f}" y1="{y + 4}" x2="{x0:.1f}" y2="{axis_y}" stroke="#9aa4b2" stroke-dasharray="2 2"/>'
            f'<rect x="{x0 - 4:.1f}" y="{axis_y - 4}" width="{max(8.0, x1 - x0 + 8):.1f}" height="8" rx="4" fill="#0b5cad"/>'
            f'<text x="{anchor_x:.1f}" y="{y}" fill="#0b5cad" text-decoration="underline">{escape(event.label)}</text></a>'
        )
    out.append("</svg>")
    return "".join(out)


def bars(items: list[tuple[str, str | None, float]], *, title: str, unit: str) -> str:
    """A horizontal bar chart of (label, link or None, value), largest first, each bar labelled with its value."""
    items = sorted((i for i in items if i[2] is not None), key=lambda i: (-i[2], i[0]))
    if not items:
        return ""
    label_width = min(260, max(len(label) for label, _, _ in items) * CHAR + 10)
    top = max(value for _, _, value in items) or 1
    bar_space = WIDTH - label_width - 70
    height = 10 + 22 * len(items)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="bars-title" '
        'style="max-width:100%;height:auto" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12">',
        f'<title id="bars-title">{escape(title)}</title>',
    ]
    for i, (label, href, value) in enumerate(items):
        y = 8 + 22 * i
        shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        text = f'<text x="{label_width - 8:.1f}" y="{y + 12}" text-anchor="end" fill="#1d2430">{escape(label)}</text>'
        if href:
            text = f'<a href="{escape(href, quote=True)}">{text}</a>'
        length = max(1.0, value / top * bar_space)
        out.append(f'{text}<rect x="{label_width:.1f}" y="{y}" width="{length:.1f}" height="16" fill="#0b5cad">'
                   f'<title>{escape(label)}: {shown} {escape(unit)}</title></rect>'
                   f'<text x="{label_width + length + 6:.1f}" y="{y + 12}" fill="#1d2430">{shown}</text>')
    out.append("</svg>")
    return "".join(out)

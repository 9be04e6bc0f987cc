"""The search executor against a catalog in moto: exactly the photos an oracle finds, newest first,
read with Queries only (Scan fails the test) and reading about as many rows as it returns."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from catalog_factory import seeded_catalog
from shoebox.catalog import keys
from shoebox.models import PhotoRecord
from shoebox.places import reverse_geocode
from shoebox.search.execute import Searcher, on_this_day, rediscover

TODAY = date(2024, 6, 21)
LABELS = ["Dog", "Beach", "Cat", "Car", "Sunset", "Tree", "Mountain", "Snow", "Coffee", "Cake", "Bicycle",
          "Flower", "Bird", "Boat", "Book"]
CITIES = [(48.8566, 2.3522), (45.764, 4.8357), (41.9028, 12.4964), (43.7696, 11.2558), (40.4168, -3.7038)]
PEOPLE = [f"p-{i}" for i in range(8)]


@pytest.fixture(scope="module")
def world():
    """250 photos over 2010–2020 put through Catalog.put_photo, in moto (module-scoped: built once)."""
    rng = random.Random(7)
    places = [reverse_geocode(*ll).to_dict() for ll in CITIES]
    records = []
    for i in range(250):
        taken = datetime(2010, 1, 1) + timedelta(days=rng.randrange(11 * 365), minutes=rng.randrange(1440))
        n_people = 8 if i % 61 == 0 else rng.choice([0, 0, 1, 1, 2, 3])  # a few big group photos (overflow)
        n_labels = 25 if i == 5 else rng.randint(1, 4)
        labels = rng.sample(LABELS, min(n_labels, len(LABELS))) + ([f"Extra{j}" for j in range(10)] if i == 5 else [])
        raw = rng.random() < 0.15
        rec = PhotoRecord(
            key=f"originals/{taken:%Y/%m/%d}/IMG_{i:04d}.{'NEF' if raw else 'JPG'}", status="processed",
            format="nef" if raw else "jpeg", kind="raw" if raw else "lossy",
            taken_at=None if i % 41 == 0 else taken.isoformat(timespec="seconds"),
            camera=rng.choice(["NIKON D70", "Apple iPhone 12 Pro"]),
            place=rng.choice(places) if rng.random() < 0.8 else None,
            labels=[{"name": n, "confidence": 90.0} for n in labels],
            rating=[None, 0, 1, 3, 4, 5, -1][i % 7],  # XMP sidecar ratings (issue 19)
            faces=[{"face_id": f"f{i}-{j}", "person_id": p} for j, p in enumerate(rng.sample(PEOPLE, n_people)
                                                                                  if n_people < 8 else PEOPLE)],
        )
        records.append(rec)
    with seeded_catalog(records) as catalog:
        yield catalog, records


def oracle(records, q, limit=50, offset=0):
    def ok(r: PhotoRecord) -> bool:
        day = (r.taken_at or "")[:10]
        place = set(keys.place_keys(r.place))
        labels = {n.lower() for n in r.label_names}
        return (all(p in r.people for p in q.people)
                and all(n.lower() in labels for n in q.labels)
                and (not q.places or any(p.key in place for p in q.places))
                and (not q.cameras or (r.camera or "").lower() in {c.lower() for c in q.cameras})
                and (not q.kind or r.kind == q.kind) and (not q.format or r.format == q.format)
                and (not q.ratings or r.rating in q.ratings)
                and (not q.month_day or day[5:] == "%02d-%02d" % q.month_day)
                and (not q.date_ranges or any(a.isoformat() <= day <= b.isoformat() for a, b in q.date_ranges
                                              if day)))

    found = sorted((r for r in records if ok(r)), key=lambda r: keys.time_sk(r.taken_at, r.key), reverse=True)
    return [r.key for r in found][offset:offset + limit]


# (query, facets the cheapest path covers: items read must stay ≤ 2× returned)
QUERIES = [
    ("p-0", True), ("photos of p-1 from 2015", True), ("p-0 and p-1", True), ("p-2 and p-3 in 2014", True),
    ("dogs", True), ("dogs in Paris", True), ("dogs in France 2012", True), ("p-2 with dogs", True),
    ("p-3 in Italy", True), ("beach in Florence in the summer", True), ("cat photos from last year", True),
    ("p-4 between 2011 and 2013", True), ("sunsets in Spain before 2015", True), ("photos from 2016", True),
    ("summer 2013", True), ("photos", True), ("on this day", True), ("p-5 on this day", False),
    ("raw photos", True), ("raw photos of p-1", True), ("raw photos in Italy", True), ("taken with the D70", True),
    ("beach and dogs", False), ("p-0 and p-1 and p-2", False), ("p-0 with dogs in Paris", False),
    ("jpeg photos of cats in Rome", False), ("cakes in 2011 or 2012", False),
    ("5 stars", True), ("photos rated 4 or more", True), ("rejected photos from 2014", True),
    ("top rated dogs", False), ("starred photos of p-1", False),
]


@pytest.mark.parametrize("text,covered", QUERIES)
def test_results_match_the_oracle(world, no_scan, text, covered):
    catalog, records = world
    searcher = Searcher(catalog)
    result = searcher.search(text, today=TODAY)
    expected = oracle(records, result.parsed)
    assert [r["key"] for r in result.rows] == expected, result.explain()
    assert "or" not in text.split() or "or" in result.unknown or "or more" in text  # "4 or more": a rating
    if covered:
        assert result.items_read <= 2 * len(result.rows) + 2, result.explain()


def test_limit_and_offset_page_through_newest_first(world, no_scan):
    catalog, records = world
    searcher = Searcher(catalog)
    everything = searcher.search("dogs", today=TODAY, limit=1000).rows
    assert len(everything) > 30
    pages = [searcher.search("dogs", today=TODAY, limit=10, offset=o).rows for o in range(0, len(everything), 10)]
    assert [r["key"] for page in pages for r in page] == [r["key"] for r in everything]
    first = searcher.search("dogs", today=TODAY, limit=10)
    assert first.items_read <= 12


def test_group_photos_found_through_overflow_rows(world, no_scan):
    catalog, records = world
    group = [r.key for r in records if len(r.people) == 8]
    assert group
    result = Searcher(catalog).search("p-0 and p-5", today=TODAY, limit=1000)
    assert set(group) <= {r["key"] for r in result.rows}
    assert any(pk.endswith("&PERSON#*") for pk in result.plan["partitions"])
    many = Searcher(catalog).search("Extra3 in Paris", today=TODAY, limit=1000)  # label only on the overflow photo
    assert [r["key"] for r in many.rows] == oracle(records, many.parsed, limit=1000)


def test_unknown_words_are_reported_and_nothing_understood_returns_nothing(world, no_scan):
    catalog, _ = world
    result = Searcher(catalog).search("xyzzy", today=TODAY)
    assert result.rows == [] and result.unknown == ["xyzzy"] and result.queries == []
    explained = Searcher(catalog).search("giraffes in 2013", today=TODAY).explain()
    assert explained["unknown"] == ["giraffes"]
    assert explained["queries"] and all("partition" in q and "items_read" in q for q in explained["queries"])


def test_on_this_day_and_rediscover(world, no_scan):
    catalog, records = world
    day = date(2024, 3, 14)
    got = [r["key"] for r in on_this_day(catalog, day).rows]
    want = sorted((r for r in records if (r.taken_at or "")[5:10] == "03-14"),
                  key=lambda r: r.taken_at, reverse=True)
    assert got == [r.key for r in want]
    leap = [r.key for r in records if (r.taken_at or "")[5:10] == "02-29"]
    feb28 = [r["key"] for r in on_this_day(catalog, date(2023, 2, 28), limit=500).rows]
    assert set(leap) <= set(feb28)

    before = rediscover(catalog, limit=5)
    assert len(before.rows) == 5 and before.items_read == 5
    seen = before.rows[0]["key"]
    catalog.mark_viewed(seen, "2024-06-01T00:00:00")
    after = [r["key"] for r in rediscover(catalog, limit=5).rows]
    assert seen not in after and after[:4] == [r["key"] for r in before.rows[1:]]

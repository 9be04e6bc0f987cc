"""Two people and a label ("p-0 and p-1 at the beach") read the person×person×label partitions: exactly
the brute-force answer, newest first, reading what they return when no overflow row is involved."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from catalog_factory import seeded_catalog
from shoebox.catalog import keys
from shoebox.models import PhotoRecord
from shoebox.search.execute import Searcher

TODAY = date(2024, 6, 21)
LABELS = ["Beach", "Dog", "Cat", "Sunset", "Tree", "Cake"]
PEOPLE = [f"p-{i}" for i in range(6)]


@pytest.fixture(scope="module")
def small():
    """120 photos; p-0/p-1 never on an overflow photo; p-2/p-3 on a triple-overflow photo (5 people,
    7 labels) and on a group photo (8 people: person×person overflow)."""
    rng = random.Random(11)
    records = []
    for i in range(120):
        taken = datetime(2012, 1, 1) + timedelta(days=rng.randrange(8 * 365), minutes=rng.randrange(1440))
        if i in (3, 50):  # triple overflow: 10 person pairs × 7 labels
            people = ["p-2", "p-3", "p-4", "p-5", "p-0" if i == 3 else "p-1"]
            labels = LABELS + ["Extra"]
        elif i in (7, 90):  # group photo: 8 people
            people, labels = ["p-2", "p-3", "p-4", "p-5", "g-1", "g-2", "g-3", "g-4"], ["Dog", "Beach"]
        else:
            people = rng.sample(PEOPLE, rng.choice([0, 1, 2, 2, 3]))
            labels = rng.sample(LABELS, rng.randint(1, 3))
        records.append(PhotoRecord(
            key=f"originals/{taken:%Y/%m/%d}/IMG_{i:04d}.JPG", status="processed", format="jpeg", kind="lossy",
            taken_at=None if i % 37 == 0 else taken.isoformat(timespec="seconds"), camera="NIKON D70",
            place=None, labels=[{"name": n, "confidence": 90.0} for n in labels],
            faces=[{"face_id": f"f{i}-{j}", "person_id": p} for j, p in enumerate(people)]))
    with seeded_catalog(records) as catalog:
        yield catalog, records


def brute_force(records, people, label, limit=50, offset=0):
    found = [r for r in records if all(p in r.people for p in people)
             and label in {n.lower() for n in r.label_names}]
    found.sort(key=lambda r: keys.time_sk(r.taken_at, r.key), reverse=True)
    return [r.key for r in found][offset:offset + limit]


def test_covered_query_reads_only_what_it_returns(small):
    catalog, records = small
    result = Searcher(catalog).search("p-0 and p-1 at the beach", today=TODAY)
    expected = brute_force(records, ["p-0", "p-1"], "beach")
    assert len(expected) >= 3
    assert [r["key"] for r in result.rows] == expected, result.explain()
    assert result.plan["path"] == "person p-0 & person p-1 & label Beach", result.explain()
    assert result.plan["partitions"] == ["PERSON#p-0&PERSON#p-1&LABEL#beach"]
    assert result.plan["filters"] == []
    assert result.items_read <= len(result.rows), result.explain()


@pytest.mark.parametrize("text,people,label,triple", [
    ("p-2 and p-3 with dogs", ["p-2", "p-3"], "dog", True),
    ("p-3 and p-2 at the beach", ["p-3", "p-2"], "beach", True),
    ("p-0 and p-2 with cake", ["p-0", "p-2"], "cake", True),
    # a label on one photo only: the person×label pair is estimated smaller than the triple's overflow
    ("p-1 and p-5 with extra", ["p-1", "p-5"], "extra", False),
])
def test_overflow_and_group_photos_are_found(small, text, people, label, triple):
    catalog, records = small
    searcher = Searcher(catalog)
    result = searcher.search(text, today=TODAY, limit=1000)
    assert [r["key"] for r in result.rows] == brute_force(records, people, label, limit=1000), result.explain()
    assert (result.plan["path"].count("&") == 2) == triple, result.explain()
    if "p-2" in people and "p-3" in people:
        assert "PERSON#p-2&PERSON#p-3&LABEL#*" in result.plan["partitions"]
        # group photos: the label's group partition (2 photos) rather than a person's overflow (2 as well:
        # equal counts → fewer partitions; either holds every group photo)
        assert any(pk.endswith("&PERSON#*") or pk.startswith(keys.GROUP) for pk in result.plan["partitions"])
    # paging newest first gives the same list
    pages = [searcher.search(text, today=TODAY, limit=2, offset=o).rows for o in range(0, len(result.rows), 2)]
    assert [r["key"] for page in pages for r in page] == [r["key"] for r in result.rows]


def test_group_photos_read_through_the_smaller_group_partition(small):
    catalog, records = small
    # p-4 is on both group photos and on many others; cake is on no group photo: nothing to read for groups
    result = Searcher(catalog).search("p-2 and p-4 with cake", today=TODAY, limit=1000)
    assert [r["key"] for r in result.rows] == brute_force(records, ["p-2", "p-4"], "cake", limit=1000)
    assert not any(pk.endswith("&PERSON#*") or pk.startswith(keys.GROUP) for pk in result.plan["partitions"])
    dogs = Searcher(catalog).search("p-2 and p-4 with dogs", today=TODAY, limit=1000)
    assert [r["key"] for r in dogs.rows] == brute_force(records, ["p-2", "p-4"], "dog", limit=1000)
    assert any(pk.endswith("&PERSON#*") or pk.startswith(keys.GROUP) for pk in dogs.plan["partitions"])


def test_dates_bound_the_triple_path(small):
    catalog, records = small
    result = Searcher(catalog).search("p-0 and p-1 at the beach in 2015", today=TODAY)
    expected = [k for k in brute_force(records, ["p-0", "p-1"], "beach", limit=1000)
                if next(r for r in records if r.key == k).taken_at[:4] == "2015"]
    assert [r["key"] for r in result.rows] == expected
    assert result.plan["path"].count("&") == 2

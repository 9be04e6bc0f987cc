#!/usr/bin/env python3
"""Search benchmark: 60,000 synthetic photos over 11 years, 30 people, 200 labels, in the in-process
moto table created from template.yaml; 20 representative English queries timed (median / p95 ms, parse +
plan + Queries, vocabulary loaded once) with the items DynamoDB read vs the rows returned.

Seeding uses ``shoebox.catalog.store.build_items`` — the function ``Catalog.put_photo`` writes with — and
puts the items straight into moto's table model (batch path; a sample is checked identical to
``put_photo``'s). Queries go through boto3 → moto like every other read, with
``shoebox.local.moto_dynamodb`` installed (moto's own Query walks the whole table on every call; one
reference query without it with ``--unpatched-reference``).

Prints JSON lines: {"seed": …}, {"check": …}, one {"query": …} per query, {"summary": …}.
Usage: .venv/bin/python scripts/bench_search.py [--photos 60000] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

TODAY = date(2024, 6, 21)
PEOPLE = ["natalie", "tom", "anna", "ben", "carla", "david", "emma", "felix", "grace", "henry", "iris", "jack",
          "kate", "leo", "maya", "nick", "olga", "paul", "rosa", "sam", "tina", "ugo", "vera", "will", "xena",
          "yuri", "zoe", "adam", "bella", "chris"]
REAL_LABELS = ["Person", "Outdoors", "Nature", "Sky", "Tree", "Plant", "Building", "Dog", "Cat", "Beach", "Sea",
               "Sunset", "Mountain", "Snow", "Car", "Bicycle", "Food", "Coffee", "Cake", "Flower", "Bird", "Boat",
               "Book", "Child", "Baby", "Water", "Grass", "Road", "City", "Forest", "Lake", "River", "Bridge",
               "Church", "Castle", "Horse", "Cow", "Sheep", "Train", "Airplane", "Bus", "Motorcycle", "Pizza",
               "Wine", "Beer", "Bread", "Fruit", "Apple", "Banana", "Guitar", "Piano", "Ball", "Tent", "Kite",
               "Umbrella", "Chair", "Table", "Window", "Door", "Clock"]
LABELS = REAL_LABELS + [f"Thing{i:03d}" for i in range(200 - len(REAL_LABELS))]
CITIES = [(48.8566, 2.3522), (45.764, 4.8357), (43.2965, 5.3698), (41.9028, 12.4964), (43.7696, 11.2558),
          (45.4642, 9.19), (40.4168, -3.7038), (41.3874, 2.1686), (51.5074, -0.1278), (53.4808, -2.2426),
          (52.52, 13.405), (48.1351, 11.582), (52.3676, 4.9041), (38.7223, -9.1393), (40.7128, -74.006),
          (34.0522, -118.2437), (28.5383, -81.3792), (35.6762, 139.6503), (-33.8688, 151.2093), (59.3293, 18.0686)]
CAMERAS = ["NIKON D70", "Canon EOS 5D", "Apple iPhone 6", "Apple iPhone 12 Pro", "SONY ILCE-7M3"]
QUERIES = [
    "photos of natalie from 2017", "natalie", "dogs", "dogs in 2019", "beach in Italy", "natalie at the beach",
    "natalie and tom", "natalie in Paris", "photos from Paris", "on this day", "last summer", "photos from 2015",
    "raw photos", "taken with the D70", "sunsets between 2016 and 2018", "christmas 2018", "tom in Italy last year",
    "dogs in France in the summer of 2020", "natalie and tom at the beach", "raw photos of natalie",
]


def zipf_choice(rng: random.Random, items: list, k: int, s: float = 1.1) -> list:
    weights = [1 / (i + 1) ** s for i in range(len(items))]
    out: list = []
    while len(out) < k:
        pick = rng.choices(items, weights)[0]
        if pick not in out:
            out.append(pick)
    return out


def make_records(n: int, seed: int = 1) -> list:
    from shoebox.models import PhotoRecord
    from shoebox.places import reverse_geocode

    rng = random.Random(seed)
    places = [reverse_geocode(*ll).to_dict() for ll in CITIES]
    home = places[:3]
    start = datetime(2014, 1, 1)
    records = []
    for i in range(n):
        taken = start + timedelta(seconds=rng.randrange(11 * 365 * 86400))
        n_people = rng.choices([0, 1, 2, 3, 4, 12], [40, 30, 15, 8, 6, 1])[0]
        raw = rng.random() < 0.1
        place = (rng.choice(home) if rng.random() < 0.6 else rng.choice(places)) if rng.random() < 0.85 else None
        key = f"originals/{taken:%Y/%m/%d}/IMG_{i:05d}.{'NEF' if raw else 'JPG'}"
        records.append(PhotoRecord(
            key=key, status="processed", etag=f"{i:032x}", format="nef" if raw else "jpeg",
            kind="raw" if raw else "lossy", taken_at=taken.isoformat(timespec="seconds"),
            camera=rng.choice(CAMERAS), place=place,
            labels=[{"name": name, "confidence": 90.0} for name in zipf_choice(rng, LABELS, rng.randint(3, 8), 0.9)],
            faces=[{"face_id": f"f{i}-{j}", "person_id": p} for j, p in enumerate(zipf_choice(rng, PEOPLE, n_people))],
            thumbnails={"grid": {"key": f"thumbnails/grid/{key}.jpg"}, "view": {"key": f"thumbnails/view/{key}.jpg"}},
            pipeline_version=1, updated_at="2024-01-01T00:00:00.000+00:00"))
    return records


def moto_table(name: str):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(name)


def bulk_load(table_name: str, records: list) -> dict:
    """Every item put_photo would write (photo, index rows, VOCAB counts), inserted into moto's model."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    from shoebox.catalog import keys
    from shoebox.catalog.store import build_items, count_deltas

    table = moto_table(table_name)
    cache: dict[tuple, DynamoType] = {}

    def typed(value: dict) -> DynamoType:
        # index rows of one photo share their sk/key/summary values: one DynamoType each
        k = next(iter(value.items()))
        k = (k[0], k[1] if isinstance(k[1], str) else json.dumps(k[1]))
        found = cache.get(k)
        if found is None:
            found = cache[k] = DynamoType(value)
        return found

    def put(attrs: dict) -> None:
        # moto's Item() re-measures the item on every attribute set; these items are small by construction
        item = Item.__new__(Item)
        values = LimitedSizeDict()
        dict.update(values, {name: typed(value) for name, value in attrs.items()})
        item.attrs, item.hash_key, item.range_key = values, values["pk"], values["sk"]
        table.items[item.hash_key][item.range_key] = item

    counts: Counter = Counter()
    names: dict[str, str] = {}
    rows_total = 0
    for record in records:
        item, rows = build_items(record)
        cache.clear()
        for attrs in (item, *rows):
            put(attrs)
        rows_total += len(rows)
        row_ids = set(item.get("index_rows", {}).get("SS", []))
        counts.update(count_deltas(set(), False, row_ids, record.status == "processed"))
        names.update(keys.display_names(record))
    cache.clear()
    for pk, n in counts.items():
        attrs = {"pk": {"S": keys.VOCAB_PK}, "sk": {"S": pk}, "n": {"N": str(n)}}
        if pk in names:
            attrs["name"] = {"S": names[pk]}
        put(attrs)
    return {"photos": len(records), "index_rows": rows_total, "vocab_items": len(counts),
            "rows_per_photo": round(rows_total / max(1, len(records)), 1)}


def check_identical(records: list, spec: dict) -> dict:
    """The bulk path and Catalog.put_photo produce the same items (sample, in a second table)."""
    import copy

    from shoebox import aws
    from shoebox.catalog import Catalog

    ddb = aws.client("dynamodb")
    spec_a, spec_b = dict(spec, TableName="bench-put"), dict(spec, TableName="bench-bulk")
    ddb.create_table(**spec_a)
    ddb.create_table(**spec_b)
    catalog = Catalog("bench-put")
    for record in records:
        catalog.put_photo(copy.deepcopy(record))
    bulk_load("bench-bulk", records)

    def items(name: str) -> list[str]:
        return sorted(json.dumps(i.to_json()["Attributes"], sort_keys=True) for i in moto_table(name).all_items())

    same = items("bench-put") == items("bench-bulk")
    ddb.delete_table(TableName="bench-put")
    ddb.delete_table(TableName="bench-bulk")
    return {"check": "bulk items == Catalog.put_photo items", "photos": len(records), "identical": same}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=60000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--unpatched-reference", action="store_true",
                        help="also time one query with moto's own Query (≈110 s at 60,000 photos)")
    args = parser.parse_args()

    from moto import mock_aws

    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.local.template import load_template
    from shoebox.search.execute import Searcher
    from shoebox.local.moto_dynamodb import install

    with mock_aws():
        aws.reset_clients()
        spec = load_template().table
        aws.client("dynamodb").create_table(**spec)
        t0 = time.perf_counter()
        records = make_records(args.photos)
        print(json.dumps(check_identical(records[:40], spec)), flush=True)
        seeded = bulk_load(spec["TableName"], records)
        seeded["seed_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps({"seed": seeded}), flush=True)

        import gc

        gc.collect()
        gc.freeze()  # millions of long-lived items: keep the cyclic GC from walking them mid-query
        catalog = Catalog(spec["TableName"])
        searcher = Searcher(catalog)
        uninstall = install()
        t = time.perf_counter()
        cv = searcher.vocabulary
        vocab_ms = (time.perf_counter() - t) * 1000
        searcher.search("dogs", today=TODAY)  # warm the parser's lazy tables (gazetteer names, inflect)

        rows_out, p95s, worst_ratio = [], [], 0.0
        for text in QUERIES:
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                result = searcher.search(text, today=TODAY, limit=args.limit)
                times.append((time.perf_counter() - t) * 1000)
            returned, read = len(result.rows), result.items_read
            ratio = read / returned if returned else None
            if ratio is not None:
                worst_ratio = max(worst_ratio, ratio)
            p95s.append(pct(times, 0.95))
            line = {"query": text, "median_ms": round(statistics.median(times), 2), "p95_ms": round(pct(times, 0.95), 2),
                    "returned": returned, "items_read": read, "read_per_returned": round(ratio, 2) if ratio else None,
                    "queries": len(result.queries), "path": result.plan.get("path"),
                    "unknown": result.unknown}
            rows_out.append(line)
            print(json.dumps(line), flush=True)
        uninstall()
        unpatched_ms = None
        if args.unpatched_reference:
            t = time.perf_counter()
            searcher.search("dogs in 2019", today=TODAY, limit=args.limit)
            unpatched_ms = round((time.perf_counter() - t) * 1000, 1)
        print(json.dumps({"summary": {
            "photos": args.photos, "limit": args.limit, "runs": args.runs,
            "p95_ms_max": round(max(p95s), 2), "p95_ms_median": round(statistics.median(p95s), 2),
            "read_per_returned_max": round(worst_ratio, 2),
            "queries_over_2x": [r["query"] for r in rows_out if (r["read_per_returned"] or 0) > 2],
            "vocabulary_load_ms": round(vocab_ms, 1), "vocabulary_items_read": cv.items_read,
            "moto_query_unpatched_ms": unpatched_ms,
            "targets": {"p95_ms": 100, "read_per_returned": 2}}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Recognition calls and Rekognition cost per 1,000 photos, from what a run actually did.

Input: JSON-lines files, JSON files, or directories of them (``*.json``, ``*.jsonl``, ``*.ndjson``),
holding ``shoebox ingest --json`` output, ``shoebox show --json`` or catalog records. Any JSON object whose
``recognition_calls`` is an object (``PhotoRecord.recognition_calls``: ``{api: count}``) counts as one photo,
wherever it is nested; records with the same ``key`` are counted once (the last one read wins). Ingest
lines of photos the run skipped (already in the archive) carry ``null`` there and are not counted.

Output (stdout, JSON): photos, calls per API in total and per 1,000 photos, and USD per 1,000 photos:
API calls (one-off) and face / user-vector storage (per month, recurring).

``--recognizer`` says which mode the run used (the template's ``Recognizer``): ``rekognition`` bills every
call, ``hybrid`` only DetectLabels (its face work, counted as DetectFaces/IndexFaces/DeleteFaces, ran offline
in Lambda), ``local`` nothing; offline work is listed under ``offline_calls``. ``modes`` prices the same
photos, labels and faces in each mode, so a run in one mode tells what the others would have cost.

Prices come from ``functions/shoebox/recognition/prices.json`` (first volume tier, us-east-1); its
``_sources`` cite the public pricing they were taken from: aws.amazon.com/rekognition/pricing (group 1
IndexFaces/SearchFaces/… and group 2 DetectLabels/… at $0.001 per image for the first 1M images a month;
face metadata storage $0.00001 per face per month). Volume tiers and the free tier are ignored, so for
big runs this is an upper bound.

    python scripts/report_recognition_cost.py out/ingest.jsonl
    python scripts/report_recognition_cost.py --prices my-prices.json runs/2026-11-26/
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_PRICES = Path(__file__).resolve().parent.parent / "functions" / "shoebox" / "recognition" / "prices.json"
BILLED = {"rekognition": None, "hybrid": {"DetectLabels"}, "local": set()}  # None: every priced API

try:
    import shoebox.backfill.plan  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
_prices = importlib.import_module("shoebox.backfill.prices")
_plan = importlib.import_module("shoebox.backfill.plan")  # the planner's assumptions (the package exports a `plan` function)
RECOGNIZERS = importlib.import_module("shoebox.recognition.registry").MODES
SUFFIXES = {".json", ".jsonl", ".ndjson"}


def load_prices(path: Path = DEFAULT_PRICES) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def _documents(path: Path) -> Iterator[Any]:
    text = path.read_text(encoding="utf-8")
    try:
        yield json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{number}: not JSON: {exc}") from exc


def _records(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if isinstance(document.get("recognition_calls"), dict):
            yield document
            return
        for value in document.values():
            yield from _records(value)
    elif isinstance(document, list):
        for item in document:
            yield from _records(item)


def collect(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Photo records found under ``paths``, one per photo key."""
    by_key: dict[str, dict[str, Any]] = {}
    anonymous: list[dict[str, Any]] = []
    for file in _files(paths):
        for document in _documents(file):
            for record in _records(document):
                key = record.get("key")
                if isinstance(key, str) and key:
                    by_key[key] = record
                else:
                    anonymous.append(record)
    return list(by_key.values()) + anonymous


def _user_vectors(calls: Counter) -> bool:
    return bool(calls.get("SearchUsers") or calls.get("AssociateFaces"))


def _modes(photos: int, labelled: int, face_photos: int, faces: int, people: int, calls: Counter,
           recognizer: str, per_call: dict[str, float], storage: dict[str, float]) -> dict[str, dict[str, float]]:
    """USD per 1,000 photos for this run's photos, labels and faces in each mode (calls, and monthly face
    storage: the collection's for rekognition, the DynamoDB face index rows for hybrid/local)."""
    scale = 1000.0 / photos if photos else 0.0
    ddb_gb_month = _prices.load_prices()["regions"]["us-east-1"]["dynamodb"]["storage_gb_month"]
    if recognizer == "rekognition":
        rek_calls = sum(n * per_call.get(api, 0.0) for api, n in calls.items())
    else:  # what Rekognition would have been asked: a SearchFaces per face (the default FaceGrouping)
        rek_calls = (labelled * per_call["DetectLabels"] + face_photos * per_call["IndexFaces"]
                     + faces * per_call["SearchFaces"])
    # user vectors are stored only by the users grouping (its calls say which one the run used)
    vectors = people * storage.get("user_vector", 0.0) if _user_vectors(calls) else 0.0
    index_storage = (faces * _plan.FACE_INDEX_KB_PER_FACE + people * _plan.FACE_INDEX_KB_PER_PERSON) \
        / 1024 / 1024 * ddb_gb_month
    out = {
        "rekognition": (rek_calls, faces * storage.get("face_metadata", 0.0) + vectors),
        "hybrid": (labelled * per_call["DetectLabels"], index_storage),
        "local": (0.0, index_storage),
    }
    return {mode: {"calls": round(c * scale, 6), "storage_per_month": round(st * scale, 6)}
            for mode, (c, st) in out.items()}


def report(records: list[dict[str, Any]], prices: dict[str, Any], recognizer: str = "rekognition") -> dict[str, Any]:
    if recognizer not in RECOGNIZERS:
        raise ValueError(f"recognizer must be one of {RECOGNIZERS}")
    photos = len(records)
    calls: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    faces = 0
    people: set[str] = set()
    for record in records:
        statuses[str(record.get("status") or "unknown")] += 1
        for api, count in (record.get("recognition_calls") or {}).items():
            calls[api] += int(count)
        for face in record.get("faces") or []:
            faces += 1
            if face.get("person_id"):
                people.add(face["person_id"])

    per_call: dict[str, float] = prices.get("per_call", {})
    storage: dict[str, float] = prices.get("storage_per_month", {})
    scale = 1000.0 / photos if photos else 0.0
    billed = BILLED[recognizer]
    offline = {api: n for api, n in sorted(calls.items()) if billed is not None and api not in billed}

    calls_per_1000 = {api: round(count * scale, 3) for api, count in sorted(calls.items())}
    usd_calls = {api: round(count * scale * per_call[api], 6) for api, count in sorted(calls.items())
                 if api in per_call and api not in offline}
    unpriced = sorted(api for api in calls if api not in per_call and api not in offline)
    faces_per_1000 = faces * scale
    people_per_1000 = len(people) * scale
    modes = _modes(photos, sum(1 for r in records if (r.get("recognition_calls") or {}).get("DetectLabels")),
                   sum(1 for r in records if (r.get("recognition_calls") or {}).get("IndexFaces")),
                   faces, len(people), calls, recognizer, per_call, storage)
    if recognizer == "rekognition":
        face_storage = faces_per_1000 * storage.get("face_metadata", 0.0)
        user_storage = people_per_1000 * storage.get("user_vector", 0.0) if _user_vectors(calls) else 0.0
    else:  # the face index rows in the user's table
        face_storage, user_storage = modes[recognizer]["storage_per_month"], 0.0

    return {
        "recognizer": recognizer,
        "photos": photos,
        "photos_by_status": dict(sorted(statuses.items())),
        "photos_with_recognition_calls": sum(1 for r in records if r.get("recognition_calls")),
        "calls": dict(sorted(calls.items())),
        "calls_per_1000_photos": calls_per_1000,
        "faces_per_1000_photos": round(faces_per_1000, 3),
        "people_per_1000_photos": round(people_per_1000, 3),
        "usd_per_1000_photos": {
            "by_api": usd_calls,
            "calls": round(sum(usd_calls.values()), 6),
            "storage_per_month": round(face_storage + user_storage, 6),
            "first_month": round(sum(usd_calls.values()) + face_storage + user_storage, 6),
        },
        "offline_calls": offline,
        "modes_usd_per_1000_photos": modes,
        "unpriced_apis": unpriced,
        "prices": {
            "currency": prices.get("currency", "USD"),
            "region": prices.get("region"),
            "basis": "first volume tier, free tier ignored",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="JSON / JSON-lines files or directories")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price table (JSON)")
    parser.add_argument("--recognizer", choices=RECOGNIZERS, default="rekognition",
                        help="the mode the run used (the template's Recognizer; shoebox ingest runs local)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    records = collect(args.paths)
    if not records:
        print(f"no records with recognition_calls under {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 1
    json.dump(report(records, load_prices(args.prices), args.recognizer), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

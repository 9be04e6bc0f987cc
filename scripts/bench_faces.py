#!/usr/bin/env python3
"""Benchmark the local recognizer's face grouping on the real photo set (pip-obtained into tests/.cache/faces
by scripts/fetch_test_photos.py, which this runs first; described by tests/data/faces_truth.json).

Prints one JSON line: pairwise precision and recall of the grouping (worst and mean over several
indexing orders, since incremental clustering depends on order), the hardest cross-person similarity,
the faces found on photos of animals with no person (YuNet alone, and with the animal check: target 0),
what `shoebox people suggest` offers (its first 10 questions: right, wrong, and the recall once the user
has answered them; worst over the orders), and ms per photo for detection + embedding + the animal check
at view size (long edge 1920, as the pipeline delivers).

    .venv/bin/python scripts/bench_faces.py [--orders 20] [--threshold 0.435]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from shoebox.recognition.local import LocalRecognizer, _faces, detect_faces  # noqa: E402
from shoebox.recognition.local.faces import decode  # noqa: E402
from shoebox.recognition.local.evaluate import (  # noqa: E402
    OpenCVFaces, index_photo_set, load_truth, match_faces, pairwise_scores, view_jpeg)
from shoebox.recognition.local.index import DEFAULT_MERGE_THRESHOLD, DEFAULT_THRESHOLD  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from fetch_test_photos import ensure  # noqa: E402


def suggestions_answered(assigned: list[tuple[str, str]], similar: list[tuple[str, str, float]],
                         top: int = 10) -> dict:
    """What `shoebox people suggest` gives a user who answers its first ``top`` questions truthfully.
    A group stands for the person most of its faces are; a suggestion is right when both groups stand
    for the same person. Returns how many of the ``top`` were right and wrong, the share of split
    people's group pairs among them, and the pairwise recall once the right ones are merged."""
    by_group: dict[str, Counter] = {}
    for group, person in assigned:
        by_group.setdefault(group, Counter())[person] += 1
    stands_for = {g: c.most_common(1)[0][0] for g, c in by_group.items()}
    asked = [(a, b) for a, b, _ in similar[:top]]
    right = [(a, b) for a, b in asked if a in stands_for and stands_for.get(a) == stands_for.get(b)]
    split_pairs = [(a, b) for a, b in combinations(sorted(stands_for), 2) if stands_for[a] == stands_for[b]]
    merged = {g: g for g in stands_for}
    for a, b in right:  # union of the groups the user confirms
        ra, rb = merged[a], merged[b]
        for g, r in merged.items():
            if r == rb:
                merged[g] = ra
    return {"right": len(right), "wrong": len(asked) - len(right),
            "split_pairs_offered": round(sum(p in right or p[::-1] in right for p in split_pairs) / len(split_pairs), 3)
            if split_pairs else 1.0,
            "recall_after_answering": round(pairwise_scores([(merged[g], p) for g, p in assigned])["recall"], 4)}


def hybrid_runs(run_orders, threshold: float, merge: float | None) -> dict:
    """The same orders through the hybrid path: the IndexFaces Lambda's recognizer (offline detection and
    embedding, faces filed in the DynamoDB face index), on moto's DynamoDB, one fresh table per order."""
    from moto import mock_aws

    from shoebox import aws
    from shoebox.local import moto_dynamodb
    from shoebox.recognition.dynamo_index import DynamoFaceIndex
    from shoebox.recognition.indexed import IndexedRecognizer

    def make(home: str, k: int) -> IndexedRecognizer:
        table = f"bench-faces-{k}"
        aws.client("dynamodb").create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        return IndexedRecognizer("hybrid", DynamoFaceIndex(table, threshold=threshold, merge_threshold=merge))

    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    restore = moto_dynamodb.install()
    t = time.perf_counter()
    try:
        with mock_aws():
            aws.reset_clients()
            runs, sub_runs, _ = run_orders(make)
    finally:
        restore()
        aws.reset_clients()
    precisions = [r[0]["precision"] for r in runs]
    recalls = [r[0]["recall"] for r in runs]
    return {"precision_min": round(min(precisions), 4), "precision_mean": round(statistics.mean(precisions), 4),
            "recall_min": round(min(recalls), 4), "recall_mean": round(statistics.mean(recalls), 4),
            "groups_found": sorted({r[2] for r in runs}), "faces_missed": max(r[1] for r in runs),
            "look_alikes_precision_min": round(min(r["precision"] for r in sub_runs["look_alikes"]), 4),
            "s_per_order_on_moto": round((time.perf_counter() - t) / len(runs), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=20, help="random indexing orders to try")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--path", choices=("both", "local"), default="both",
                    help="both: also run the hybrid path (IndexFaces' code: DynamoDB face index on moto)")
    ap.add_argument("--merge-threshold", type=float, default=DEFAULT_MERGE_THRESHOLD,
                    help="automatic merge of two people's centroids; a negative value turns it off")
    args = ap.parse_args()
    faces_dir = ensure()
    truth = load_truth(faces_dir)
    names = sorted(truth)

    # subsets scored inside the same runs: photos whose licence is stated by the package that ships
    # them, and the look-alikes (four bald actors, six photos each)
    spec = json.loads((ROOT / "tests" / "data" / "faces_truth.json").read_text())
    stated = {n for n, e in spec["photos"].items() if spec["packages"][e["package"]].get("licence_stated")}
    subsets = {"licence_stated": lambda photo, person: photo in stated,
               "look_alikes": lambda photo, person: photo.startswith("bald_")}

    def run_orders(make_recognizer) -> tuple[list, dict, list]:
        runs, sub_runs, suggestion_runs = [], {name: [] for name in subsets}, []
        rng = random.Random(5)
        for k in range(args.orders):
            order = names if k == 0 else rng.sample(names, len(names))
            with tempfile.TemporaryDirectory() as home:
                rec = make_recognizer(home, k)
                assigned, missed, photos = index_photo_set(rec, faces_dir, order, with_photos=True)
                runs.append((pairwise_scores(assigned), missed, len(set(p for p, _ in assigned))))
                suggestion_runs.append(suggestions_answered(assigned, rec.index.similar()))
                for name, keep in subsets.items():
                    sub_runs[name].append(pairwise_scores([a for a, ph in zip(assigned, photos) if keep(ph, a[1])]))
        return runs, sub_runs, suggestion_runs

    merge = args.merge_threshold if args.merge_threshold >= 0 else None
    runs, sub_runs, suggestion_runs = run_orders(
        lambda home, k: LocalRecognizer(home, face_threshold=args.threshold, merge_threshold=merge))
    hybrid = None
    if args.path == "both":
        hybrid = hybrid_runs(run_orders, args.threshold, merge)
    sub_report = {}
    for name, keep in subsets.items():
        people = [f["person"] for n in names if keep(n, None) for f in truth[n]]
        sub_report[name] = {
            "photos": sum(keep(n, None) for n in names), "people": len(set(people)),
            "people_with_3_photos": sum(people.count(p) >= 3 for p in set(people)),
            "precision_min": round(min(r["precision"] for r in sub_runs[name]), 4),
            "recall_min": round(min(r["recall"] for r in sub_runs[name]), 4)}

    # similarity structure: closest different-person pair and least similar same-person pair
    engine = _faces()
    embs, who = [], []
    for name in names:
        faces = engine.faces(decode((faces_dir / name).read_bytes()))
        for f, person in match_faces(faces, truth[name]):
            embs.append(f.embedding)
            who.append(person)
    E = np.stack(embs)
    S = E @ E.T
    same = np.array([[a == b for b in who] for a in who])
    iu = np.triu_indices(len(who), 1)
    cross = S[iu][~same[iu]]
    within = S[iu][same[iu]]
    i, j = [int(v[np.argmax(np.where(~same[iu], S[iu], -1))]) for v in iu]

    # animals and no person: faces found there are false; YuNet alone finds some (a dog's, a panda's),
    # the animal check on each face's crop (people_faces) is meant to drop them
    animals = json.loads((faces_dir / "animals.json").read_text())
    animal_views = [view_jpeg(faces_dir / n) for n in animals]
    animal_faces = {"yunet_sface": sum(len(engine.faces(decode(v))) for v in animal_views),
                    "with_animal_check": sum(len(detect_faces(v)) for v in animal_views)}

    # timing: detection + alignment + embedding + the animal check per photo at view size (1920 long
    # edge), models warm
    views = [view_jpeg(faces_dir / n) for n in names]
    detect_faces(views[0])
    t = time.perf_counter()
    reps = 3
    for _ in range(reps):
        for v in views:
            detect_faces(v)
    ms = (time.perf_counter() - t) * 1000 / (reps * len(views))
    # the same detection + alignment + embedding (no animal check) against OpenCV's pipeline, which the
    # Lambda no longer carries, alternating in one process: CPU ms per photo, best of the rounds
    opencv = OpenCVFaces()
    cpu = {"onnxruntime": [], "opencv": []}
    for _ in range(reps):
        for key, run in (("onnxruntime", lambda v: engine.faces(decode(v))), ("opencv", opencv.faces)):
            t = time.process_time()
            for v in views:
                run(v)
            cpu[key].append((time.process_time() - t) * 1000 / len(views))
    vs_opencv = {"cpu_ms_per_photo": round(min(cpu["onnxruntime"]), 1),
                 "opencv_cpu_ms_per_photo": round(min(cpu["opencv"]), 1),
                 "ratio": round(min(cpu["onnxruntime"]) / min(cpu["opencv"]), 2)}

    precisions = [r[0]["precision"] for r in runs]
    recalls = [r[0]["recall"] for r in runs]
    print(json.dumps({
        "bench": "faces", "photos": len(names), "faces": len(who), "people": len(set(who)),
        "threshold": args.threshold, "merge_threshold": args.merge_threshold, "orders": args.orders,
        "precision_min": round(min(precisions), 4), "precision_mean": round(statistics.mean(precisions), 4),
        "recall_min": round(min(recalls), 4), "recall_mean": round(statistics.mean(recalls), 4),
        "groups_found": sorted({r[2] for r in runs}), "faces_missed": max(r[1] for r in runs),
        "same_person_similarity_min": round(float(within.min()), 3),
        "different_person_similarity_max": round(float(cross.max()), 3),
        "closest_different_pair": [who[i], who[j]],
        "subsets": sub_report,
        "animal_photos": {"photos": len(animals), "faces_found": animal_faces},
        "suggestions_top_10": {key: (min if key != "wrong" else max)(r[key] for r in suggestion_runs)
                               for key in suggestion_runs[0]},
        "ms_per_photo_detect_embed_1920": round(ms, 1),
        "detect_embed_vs_opencv": vs_opencv,
        **({"hybrid": {**hybrid, "same_as_local": (hybrid["precision_min"], hybrid["recall_min"]) == (
            round(min(precisions), 4), round(min(recalls), 4))}} if hybrid else {}),
        "targets": {"precision": 0.95, "recall": 0.95},
    }))


if __name__ == "__main__":
    main()

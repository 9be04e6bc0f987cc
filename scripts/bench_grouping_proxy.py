#!/usr/bin/env python3
"""Proxy benchmark for issue 18: does grouping hold when the `rekognition` mode switches from user vectors
to face search? Rekognition cannot be called here, so SFace embeddings (the local backend's) stand in for
Rekognition's and only the *assignment rule* is compared, on the real photo set (tests/.cache/faces, by
scripts/fetch_test_photos.py; truth in tests/data/faces_truth.json). Faces are detected and embedded once;
then, for each indexing order, photo by photo and face by face (most confident first, as the local index):

- ``users`` (today's mode): SearchUsers(FaceId, MaxUsers) → the best user at similarity >= t not already
  given to another face of this photo; its vector = the normalised mean of its first 10 faces (later faces
  are assigned, not associated); else CreateUser + AssociateFaces (a new person).
- ``faces`` (the alternative): SearchFaces(FaceId, t, MaxFaces=K) over the individual faces in the
  collection, which holds this photo's other faces too (IndexFaces ran first: those already assigned
  belong to persons taken in this photo, the others have no person yet; both use up K); the person with
  the most similarity summed over its matched faces, among persons not taken in this photo; else new.
- ``local``: the local backend's own index (FaceIndex: running-total centroid, with and without its
  automatic merge) on the same embeddings: the reference measured in the same run.

One threshold for both strategies: the local backend's join threshold (not tuned here: project decision).
Prints one JSON line: pairwise precision and recall (worst and mean over the orders), people found vs
truth, faces/users ratios of the worst precision and recall, ``ok``, and how often a same-photo face or
the K cut changed a decision.

    .venv/bin/python scripts/bench_grouping_proxy.py [--orders 20] [--max-faces 20] [--max-users 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from shoebox.recognition.local import detect_faces
from shoebox.recognition.local.evaluate import load_truth, match_faces, pairwise_scores
from shoebox.recognition.local.index import (
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_THRESHOLD,
    FaceIndex,
)
from shoebox.recognition.face_search import SEARCH_MAX_FACES
from shoebox.recognition.rekognition import DEFAULT_USER_VECTOR_FACES
from shoebox.recognition.user_vectors import MAX_USER_CANDIDATES

sys.path.insert(0, str(ROOT / "scripts"))
from fetch_test_photos import ensure

# flags' defaults: SearchUsers' MaxUsers in the user-vector grouping, SearchFaces' MaxFaces in the face-search
# grouping (recognition/user_vectors.py, recognition/face_search.py)
MAX_USERS = MAX_USER_CANDIDATES
MAX_FACES = SEARCH_MAX_FACES
SENSITIVITY_K = (1, 2, 3, 5, 10)


@dataclass(frozen=True)
class PhotoFaces:
    """One photo's detected faces, most confident first: embeddings (n, 128), the true person of each
    (None for a face the truth does not list), and what FaceIndex.add takes."""

    name: str
    embeddings: np.ndarray
    truth: list[str | None]
    detected: list[tuple[dict, float, np.ndarray]]


def load_faces(faces_dir: Path, truth: dict[str, list[dict]]) -> dict[str, PhotoFaces]:
    """Detection + embedding of every photo, once (the local recognizer's own pipeline on the same bytes)."""
    out = {}
    for name in sorted(truth):
        found = sorted(detect_faces((faces_dir / name).read_bytes()), key=lambda f: (-f.score, f.bbox["left"]))
        person = {id(f): p for f, p in match_faces(found, truth[name])}
        out[name] = PhotoFaces(
            name, np.stack([f.embedding for f in found]).astype(np.float32) if found else np.zeros((0, 128), np.float32),
            [person.get(id(f)) for f in found], [(f.bbox, round(f.score * 100, 2), f.embedding) for f in found])
    return out


def group_users(photos: list[PhotoFaces], t: float, vector_faces: int, max_users: int) -> tuple[list[int], dict]:
    """Today's rekognition mode on embeddings. Returns the person of every face (in photo order) and counts:
    associations (AssociateFaces calls), and faces whose decision the taken-in-this-photo skip or the
    MaxUsers cut changed."""
    sums: list[np.ndarray] = []
    counts: list[int] = []
    vectors = np.zeros((0, 128), np.float32)
    people: list[int] = []
    stats = {"associate": 0, "taken_changed": 0, "max_users_changed": 0}
    for photo in photos:
        taken: set[int] = set()
        for emb in photo.embeddings:
            sims = vectors @ emb
            ranked = [int(u) for u in np.argsort(-sims, kind="stable") if sims[u] >= t]
            pick = next((u for u in ranked[:max_users] if u not in taken), None)
            unlimited = next((u for u in ranked if u not in taken), None)
            stats["taken_changed"] += bool(ranked) and ranked[0] != pick
            stats["max_users_changed"] += unlimited != pick
            if pick is None:  # CreateUser
                pick = len(sums)
                sums.append(np.zeros(128, np.float64))
                counts.append(0)
                vectors = np.vstack([vectors, np.zeros((1, 128), np.float32)])
            if vector_faces <= 0 or counts[pick] < vector_faces:  # AssociateFaces refines the user vector
                sums[pick] += emb
                counts[pick] += 1
                vectors[pick] = sums[pick] / max(np.linalg.norm(sums[pick]), 1e-12)
                stats["associate"] += 1
            taken.add(pick)
            people.append(pick)
    return people, stats


def _vote(persons: list[int | None], sims: np.ndarray, rows: list[int], skip: set[int]) -> int | None:
    """Among the matched faces ``rows``: the person with the most similarity summed over its faces, persons
    in ``skip`` and faces with no person yet left out; ties: the lower id."""
    score: dict[int, float] = defaultdict(float)
    for j in rows:
        p = persons[j]
        if p is not None and p not in skip:
            score[p] += float(sims[j])
    return min(score, key=lambda p: (-score[p], p)) if score else None


def group_faces(photos: list[PhotoFaces], t: float, k: int) -> tuple[list[int], dict]:
    """The SearchFaces alternative on embeddings. Returns the person of every face and counts of faces whose
    decision changed because of: the taken-in-this-photo skip (the vote with taken persons allowed would
    pick a taken one), this photo's faces using up K (the vote with only other photos' faces in K), the K
    cut itself (the vote over every match >= t)."""
    embs = np.zeros((0, 128), np.float32)
    persons: list[int | None] = []  # person of each face in the collection; None: not assigned yet
    people: list[int] = []
    stats = {"taken_changed": 0, "same_photo_in_k_changed": 0, "k_cut_changed": 0, "matches_over_k": 0}
    n_people = 0
    for photo in photos:
        start = len(persons)
        embs = np.vstack([embs, photo.embeddings])  # IndexFaces put the whole photo in the collection
        persons += [None] * len(photo.embeddings)
        taken: set[int] = set()
        for i, emb in enumerate(photo.embeddings):
            me = start + i
            sims = embs @ emb
            sims[me] = -np.inf  # SearchFaces never returns the face it searches with
            order = [int(j) for j in np.argsort(-sims, kind="stable") if sims[j] >= t]

            pick = _vote(persons, sims, order[:k], taken)
            stats["matches_over_k"] += len(order) > k
            stats["k_cut_changed"] += _vote(persons, sims, order, taken) != pick
            stats["same_photo_in_k_changed"] += _vote(persons, sims, [j for j in order if j < start][:k], taken) != pick
            greedy = _vote(persons, sims, order[:k], set())
            stats["taken_changed"] += greedy is not None and greedy != pick
            if pick is None:
                pick = n_people
                n_people += 1
            persons[me] = pick
            taken.add(pick)
            people.append(pick)
    return people, stats


def group_local(photos: list[PhotoFaces], t: float, merge: float | None) -> list[str]:
    """The local backend's index itself (journal in a throw-away home), each face's group once all are in."""
    with tempfile.TemporaryDirectory() as home:
        index = FaceIndex(Path(home), threshold=t, merge_threshold=merge)
        face_ids = []
        for photo in photos:
            added = {tuple(sorted(f.bbox.items())): f.face_id for f in index.add(photo.name, photo.detected)}
            face_ids += [added[tuple(sorted(bbox.items()))] for bbox, _, _ in photo.detected]
        group_of = {fid: person for person, fids in index.people().items() for fid in fids}
        return [group_of[fid] for fid in face_ids]


def score(photos: list[PhotoFaces], people: list) -> tuple[dict, int]:
    """Pairwise scores over the faces the truth lists, and the number of groups they fall in."""
    truth = [p for photo in photos for p in photo.truth]
    assigned = [(g, p) for g, p in zip(people, truth) if p is not None]
    return pairwise_scores(assigned), len({g for g, _ in assigned})


def summary(runs: list[tuple[dict, int]]) -> dict:
    precisions = [r["precision"] for r, _ in runs]
    recalls = [r["recall"] for r, _ in runs]
    return {"precision_min": round(min(precisions), 4), "precision_mean": round(statistics.mean(precisions), 4),
            "recall_min": round(min(recalls), 4), "recall_mean": round(statistics.mean(recalls), 4),
            "people_found": sorted({n for _, n in runs})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=20, help="random indexing orders to try (seeded)")
    ap.add_argument("--max-faces", type=int, default=MAX_FACES, help="SearchFaces MaxFaces (K) of the faces strategy")
    ap.add_argument("--max-users", type=int, default=MAX_USERS, help="SearchUsers MaxUsers")
    ap.add_argument("--vector-faces", type=int, default=DEFAULT_USER_VECTOR_FACES,
                    help="faces associated with a user (its vector) before later ones are only assigned; 0: all")
    args = ap.parse_args()
    t = DEFAULT_THRESHOLD  # one threshold for both strategies, not tuned on this set (project decision)
    faces_dir = ensure()
    truth = load_truth(faces_dir)
    names = sorted(truth)
    by_name = load_faces(faces_dir, truth)
    n_faces = sum(len(p.truth) for p in by_name.values())
    listed = [p for photo in by_name.values() for p in photo.truth if p is not None]
    sizes = Counter(listed)

    runs: dict[str, list] = {"users": [], "faces": [], "local": [], "local_no_merge": []}
    totals: dict[str, dict[str, int]] = {"users": defaultdict(int), "faces": defaultdict(int)}
    rng = random.Random(5)  # the orders of scripts/bench_faces.py, so "local" matches its figures
    orders = [[by_name[n] for n in (names if k == 0 else rng.sample(names, len(names)))] for k in range(args.orders)]
    for photos in orders:
        users, u_stats = group_users(photos, t, args.vector_faces, args.max_users)
        faces, f_stats = group_faces(photos, t, args.max_faces)
        for key, people in (("users", users), ("faces", faces),
                            ("local", group_local(photos, t, DEFAULT_MERGE_THRESHOLD)),
                            ("local_no_merge", group_local(photos, t, None))):
            runs[key].append(score(photos, people))
        for key, stats in (("users", u_stats), ("faces", f_stats)):
            for name, value in stats.items():
                totals[key][name] += value

    # K never binds on a set whose largest person has fewer faces than K: how small K must be to matter
    sensitivity = {}
    for small_k in SENSITIVITY_K:
        k_runs = [score(photos, group_faces(photos, t, small_k)[0]) for photos in orders]
        sensitivity[small_k] = {key: summary(k_runs)[key] for key in ("precision_min", "recall_min")}

    report = {key: summary(value) for key, value in runs.items()}
    share = {key: {name: round(value / (n_faces * args.orders), 4) for name, value in stats.items()}
             for key, stats in totals.items()}
    report["users"]["share_of_faces"] = share["users"]  # associate: AssociateFaces calls per face
    report["faces"]["share_of_faces"] = share["faces"]
    users, faces = report["users"], report["faces"]
    print(json.dumps({
        "bench": "grouping_proxy", "proxy": "SFace embeddings stand in for Rekognition's: compares the rule",
        "photos": len(names), "faces_detected": n_faces, "faces_in_truth": len(listed), "people_truth": len(set(listed)),
        "threshold": t, "orders": args.orders, "max_faces_k": args.max_faces, "max_users": args.max_users,
        "vector_faces": args.vector_faces, "largest_person_faces": max(sizes.values()),
        "people_over_vector_faces": sum(n > args.vector_faces for n in sizes.values()), **report,
        "faces_with_smaller_k": sensitivity,
        "ratio_faces_vs_users": {
            "precision_min": round(faces["precision_min"] / users["precision_min"], 4),
            "recall_min": round(faces["recall_min"] / users["recall_min"], 4)},
        "ok": faces["precision_min"] >= users["precision_min"] - 0.01
        and faces["recall_min"] >= users["recall_min"] - 0.01,
    }))


if __name__ == "__main__":
    main()

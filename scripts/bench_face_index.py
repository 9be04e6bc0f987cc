#!/usr/bin/env python3
"""Benchmark the local face index as an archive grows: does indexing one more photo stay as fast with
tens of thousands of faces indexed (a 60,000-photo family archive) as with a thousand?

Embeddings are synthetic (unit vectors scattered around one centre per person, 20 faces per person,
one face per photo): this measures the index's bookkeeping, not recognition quality (bench_faces.py
does that on real photos). Each photo's add runs under the index's exclusive lock, so its cost bounds
how fast every worker of a backfill can index faces.

Prints one JSON line: ms per add at the small and the large size (median of 200 adds) and their ratio
(target <= 3: flat, not growing with the archive), plus what one from-scratch regrouping of every face
costs at the large size (what every add paid, twice, before the index kept running totals), the time a
new process takes to replay the journal, and `people suggest`'s comparison of all people.

    .venv/bin/python scripts/bench_face_index.py [--small 1000] [--large 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from shoebox.recognition.local.index import FaceIndex  # noqa: E402

BOX = {"left": 0.4, "top": 0.2, "width": 0.2, "height": 0.3}
FACES_PER_PERSON = 20


class Faces:
    def __init__(self, people: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        centres = self.rng.normal(size=(people, 128))
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def next(self) -> np.ndarray:
        v = self.centres[self.rng.integers(len(self.centres))] + self.rng.normal(scale=0.06, size=128)
        return (v / np.linalg.norm(v)).astype(np.float32)


def grow(index: FaceIndex, faces: Faces, start: int, stop: int) -> None:
    for i in range(start, stop):
        index.add(f"photo-{i}", [(BOX, 99.0, faces.next())])


def ms_per_add(index: FaceIndex, faces: Faces, start: int, n: int = 200) -> float:
    times = []
    for i in range(start, start + n):
        emb = faces.next()
        t = time.perf_counter()
        index.add(f"photo-{i}", [(BOX, 99.0, emb)])
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def from_scratch_ms(index: FaceIndex) -> float:
    """One regrouping of every face from nothing (what `_centroids` did on each call before)."""
    with index._locked(exclusive=False):
        t = time.perf_counter()
        groups: dict[str, list[np.ndarray]] = {}
        for f in index._faces.values():
            groups.setdefault(index.canonical(f.person_id), []).append(f.embedding)
        cents = np.stack([np.mean(groups[p], axis=0) for p in sorted(groups)])
        cents /= np.linalg.norm(cents, axis=1, keepdims=True)
        return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=20000)
    args = ap.parse_args()
    faces = Faces(people=args.large // FACES_PER_PERSON)
    with tempfile.TemporaryDirectory() as tmp:
        index = FaceIndex(Path(tmp))
        t = time.perf_counter()
        grow(index, faces, 0, args.small)
        small = ms_per_add(index, faces, args.small)
        grow(index, faces, args.small + 200, args.large)
        build_s = time.perf_counter() - t
        large = ms_per_add(index, faces, args.large + 200)
        scratch = from_scratch_ms(index)
        t = time.perf_counter()
        fresh = FaceIndex(Path(tmp))
        indexed = len(fresh.faces())
        replay_s = time.perf_counter() - t
        t = time.perf_counter()
        pairs = len(index.similar())
        similar_s = time.perf_counter() - t
        people = len(index.people())
    print(json.dumps({
        "bench": "face_index", "faces_small": args.small, "faces_large": indexed, "people_large": people,
        "ms_per_add": {"small": round(small, 2), "large": round(large, 2)},
        "ratio_large_vs_small": round(large / small, 2), "target_ratio": 3,
        "from_scratch_regroup_ms_large": round(scratch, 1),
        "build_s": round(build_s, 1), "replay_s_new_process": round(replay_s, 2),
        "similar_s": round(similar_s, 3), "similar_pairs": pairs,
    }))


if __name__ == "__main__":
    main()

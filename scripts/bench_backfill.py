#!/usr/bin/env python3
"""Local backfill benchmark: N generated photos through the real backfill ASL in the embedded runtime.

    python scripts/bench_backfill.py                       # 100, 400, 1600 photos, one JSON line each
    python scripts/bench_backfill.py --sizes 400 --concurrency 1 --concurrency 4   # scaling with threads

Each measurement runs in its own process (fresh peak RSS). Prints one JSON line per run:
``{"photos", "max_concurrency", "wall_s", "photos_per_s", "peak_rss_mb", "bucket_mb", "cpu_s", "cores_busy",
"cores", "processed", "failed"}`` (cpu includes the compute worker processes) (``bucket_mb``: what moto holds in memory for the bucket); ``cores_busy`` = CPU seconds / wall seconds (2.0 = two cores fully used).
Photos are 1024x768 JPEGs with texture (the thumbnail step really decodes and resizes), recognizer "none".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _photo_bank(count: int = 16) -> list[bytes]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    bank = []
    for i in range(count):
        y, x = np.mgrid[0:768, 0:1024]
        base = np.stack([(x * (i + 1)) % 256, (y * 3 + i * 20) % 256, ((x + y) // 4) % 256], axis=-1)
        noise = rng.integers(0, 40, size=base.shape)
        im = Image.fromarray(((base + noise) % 256).astype("uint8"), "RGB")
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
        bank.append(out.getvalue())
    return bank


def measure(photos: int, concurrency: int) -> dict:
    from shoebox.backfill.run import local_target, run_backfill
    from shoebox.local import LocalRuntime, router

    bank = _photo_bank()
    workers = os.cpu_count() or 1  # as `shoebox backfill` does locally: one compute process per core
    cpu0 = sum(os.times()[:4])
    with tempfile.TemporaryDirectory() as home, \
            LocalRuntime(home, recognizer="none", retry_sleep_scale=0, persist=False, workers=workers) as rt:
        router.paused.set()
        for i in range(photos):
            # the same pixels under many keys would still be distinct objects; add the index to vary ETags
            body = bank[i % len(bank)] + i.to_bytes(4, "big")
            rt.s3.put_object(Bucket=rt.bucket, Key=f"originals/{2006 + i % 12}/{1 + i % 12:02d}/{i:05d}.jpg",
                             Body=body)
        router.paused.clear()
        start = time.perf_counter()
        summary = run_backfill(local_target(rt), None, max_concurrency=concurrency, poll_s=30)
        wall = time.perf_counter() - start
        stored = sum(o["Size"] for page in rt.s3.get_paginator("list_objects_v2").paginate(Bucket=rt.bucket)
                     for o in page.get("Contents", ()))
    cpu = sum(os.times()[:4]) - cpu0  # includes the worker processes (joined when the runtime closed)
    return {
        "photos": photos,
        "workers": workers,
        "max_concurrency": concurrency,
        "wall_s": round(wall, 2),
        "photos_per_s": round(photos / wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        # moto keeps every object in memory: originals + thumbnails are part of the RSS, and grow with N
        "bucket_mb": round(stored / 2**20, 1),
        "cpu_s": round(cpu, 2),
        "cores_busy": round(cpu / wall, 2),
        "cores": os.cpu_count(),
        "processed": summary["processed"],
        "failed": summary["failed"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1600])
    ap.add_argument("--concurrency", type=int, action="append",
                    help="photos in flight (repeatable); default: what `shoebox backfill` uses locally")
    ap.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)  # internal: photos concurrency
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure(*args.one)), flush=True)
        return 0
    from shoebox.cli.backfill import local_max_concurrency

    for concurrency in args.concurrency or [local_max_concurrency()]:
        for size in args.sizes:
            done = subprocess.run([sys.executable, __file__, "--one", str(size), str(concurrency)],
                                  capture_output=True, text=True, env={**os.environ, "SHOEBOX_LOG_LEVEL": "ERROR"})
            if done.returncode:
                sys.stderr.write(done.stderr[-3000:])
                return done.returncode
            print(done.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

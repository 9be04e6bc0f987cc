#!/usr/bin/env python3
"""`shoebox sync` throughput against boto3's transfer manager, and the cost of a sync with nothing to do.

Generates FILES files of random content with sizes uniform in [MIN_MB, MAX_MB] (default: the issue's
2,000 files of 0.2-30 MB), starts a fresh local service (a background process, as users run it) and, in
the same run:
- reference: boto3's transfer manager (``create_transfer_manager``, the same concurrency, multipart
  threshold and chunk size) uploads every file directly under ``originals/reference/`` (so each upload
  triggers the same workflow run a synced one does);
- first sync: ``run_sync`` with the catalog (what `shoebox sync` runs) of the folder into a fresh state;
- second sync of the unchanged folder.
Prints one JSON line: MB/s of both, ``ratio`` = sync / reference (target >= 0.9), ``second_share`` =
second / first sync time (target <= 0.05) and what the second uploaded (target 0).

Usage: .venv/bin/python scripts/bench_sync.py [--files 2000] [--min-mb 0.2] [--max-mb 30] [--sizes loguniform]
       [--concurrency 8]
(a quick run: --files 200 --max-mb 8)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
MB = 1024 * 1024


def make_files(folder: Path, count: int, min_mb: float, max_mb: float, seed: int, sizes: str = "uniform") -> int:
    """``sizes``: "uniform" in [min, max] (mean ~15 MB for 0.2-30), or "loguniform" (as many files of
    0.2-1 MB as of 6-30 MB: an archive's mix of PNGs, JPEGs and RAWs, mean ~6 MB)."""
    import math

    rng = random.Random(seed)
    total = 0
    block = os.urandom(4 * MB)
    for i in range(count):
        mb = (math.exp(rng.uniform(math.log(min_mb), math.log(max_mb))) if sizes == "loguniform"
              else rng.uniform(min_mb, max_mb))
        size = int(mb * MB)
        sub = folder / f"{2010 + i % 10}" / f"roll{i // 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        # unique content per file (a header of random bytes), the rest from one random block
        body = os.urandom(64) + (block * (size // len(block) + 1))[: max(0, size - 64)]
        (sub / f"IMG_{i:05d}.jpg").write_bytes(body)
        total += len(body)
    return total


def reference(s3, bucket: str, files: list[Path], options) -> float:
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    config = TransferConfig(multipart_threshold=options.multipart_threshold,
                            multipart_chunksize=options.multipart_chunksize, max_concurrency=options.concurrency)
    began = time.perf_counter()
    manager = create_transfer_manager(s3, config)
    # the same checksum S3 verifies for sync's uploads (S3 does it server-side on AWS; the local service pays it)
    extra = {"ChecksumAlgorithm": "SHA256"}
    futures = [manager.upload(str(p), bucket, f"originals/reference/{i:05d}.jpg", extra_args=extra)
               for i, p in enumerate(files)]
    for future in futures:
        future.result()
    manager.shutdown()
    return time.perf_counter() - began


def drain(table: str, keys: list[str], timeout: float = 1800.0) -> None:
    """Wait until the workflow has a catalog row for each key: the next phase must not compete with
    this one's processing."""
    from shoebox.catalog import Catalog

    catalog, pending, deadline = Catalog(table), set(keys), time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending -= set(catalog.get_photos(sorted(pending)))
        if pending:
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--min-mb", type=float, default=0.2)
    parser.add_argument("--max-mb", type=float, default=30.0)
    parser.add_argument("--sizes", choices=("uniform", "loguniform"), default="uniform",
                        help="Size distribution (loguniform: 2,000 files are ~12 GB instead of ~30 GB).")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None, help="Folder for the files and the home (default: a temp dir).")
    args = parser.parse_args()

    from shoebox import aws
    from shoebox.cli.backends import _local_outputs
    from shoebox.ingest.walk import walk
    from shoebox.ingest.sync import SyncOptions, run_sync
    from shoebox.ingest.sync_state import SyncState
    from shoebox.local import client
    from shoebox.local.template import REGION

    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        folder, home = work / "nas", work / "home"
        total = make_files(folder, args.files, args.min_mb, args.max_mb, args.seed, args.sizes)
        os.environ.update(SHOEBOX_HOME=str(home), SHOEBOX_RECOGNIZER_LOCAL="none")
        service = client.start(home)
        try:
            endpoint = aws.Endpoint(region=REGION, url=service.url, access_key=service.access_key,
                                    secret_key=service.secret_key)
            with aws.using(endpoint):
                bucket = _local_outputs(home, service.started_at)["BucketName"]
                s3 = aws.client("s3")
                options = SyncOptions(concurrency=args.concurrency)
                files = [p.path for p in walk([folder]).photos]
                outputs = _local_outputs(home, service.started_at)
                ref_s = reference(s3, bucket, files, options)
                drain(outputs["TableName"], [f"originals/reference/{i:05d}.jpg" for i in range(len(files))])
                state = SyncState(home / "bench-sync.sqlite", "bench")
                began = time.perf_counter()
                from shoebox.catalog import Catalog

                catalog = Catalog(outputs["TableName"])  # as the CLI runs it: archived duplicates checked
                first = run_sync(s3, bucket, state, [folder], options, catalog=catalog)
                first_s = time.perf_counter() - began
                drain(outputs["TableName"], [r.key for r in first.results])
                began = time.perf_counter()
                second = run_sync(s3, bucket, state, [folder], options, catalog=catalog)
                second_s = time.perf_counter() - began
                state.close()
        finally:
            client.stop(home)
    mb = total / MB
    out = {
        "files": args.files, "mb": round(mb, 1), "sizes_mb": [args.min_mb, args.max_mb], "sizes": args.sizes,
        "concurrency": args.concurrency,
        "reference_s": round(ref_s, 2), "reference_mb_s": round(mb / ref_s, 1),
        "sync_s": round(first_s, 2), "sync_mb_s": round(mb / first_s, 1),
        "ratio": round(ref_s / first_s, 3), "target_ratio": 0.9,
        "first": first.summary(), "second_s": round(second_s, 3), "second_share": round(second_s / first_s, 4),
        "target_second_share": 0.05, "second_uploaded": second.summary()["uploaded"],
    }
    out["ok"] = out["ratio"] >= 0.9 and out["second_share"] <= 0.05 and out["second_uploaded"] == 0 \
        and first.summary()["uploaded"] == args.files
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Local service benchmark: does a command cost the same at 10,000 photos as at 50?

For catalogs of 50, 1,000 and 10,000 synthetic photos (scripts/bench_search.py's generator: 30 people,
200 labels, places, 11 years), seeded through the real write code (``persist_photo``, the persist step's
catalog write, plus an original and two thumbnails per photo in S3) into a fresh SHOEBOX_HOME, it
measures:
- the service's start (``shoebox up`` in a new process, wall time until it answers), the time until
  the snapshot it writes in the background is done (commands are measured after that), and its RSS;
- end-to-end wall time of ``shoebox search``, ``shoebox show`` and ``shoebox people`` from a new CLI
  process each (median, p95), as a user runs them;
- the same calls through boto3 only (in this process: the API calls the commands make, without the
  CLI's own process start), the reference the CLI's overhead is read against.

Prints one JSON line per catalog size and a summary line with the ratios and targets:
search at 10,000 <= 1.3 x search at 50 and <= 0.6 s end to end; service start at 10,000 <= 15 s.
Usage: .venv/bin/python scripts/bench_local_service.py [--sizes 50,1000,10000] [--runs 7] [--homes DIR]
``--homes DIR`` keeps the seeded homes in DIR and reuses them on the next run (seeding 10,000 photos
takes minutes); ``seed_s`` is then the first run's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "scripts"))
QUERY = "photos of natalie from 2017"


PEOPLE_SEEDED = 300  # photos written through persist_photo itself (people rows); the rest as put_photo writes


def seed(home: Path, n: int) -> dict:
    """Through the durable write path (the runtime journals every write, as it serves them): the first
    photos with ``persist_photo`` (photo, index rows, people) through the API, the rest as the items
    ``Catalog.put_photo`` writes (``build_items``) and the objects an ingest stores, handed to moto's
    DynamoDB and S3 backends directly: the same journaling hooks (``journaling``) record them, without
    the SDK's and moto's request serialisation, which is what makes 10,000 photos seedable in minutes
    on a busy 2-core machine (0.25 ms per item and 0.65 ms per object instead of 0.41 and 4.4)."""
    from bench_search import make_records
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    from shoebox.catalog import Catalog
    from shoebox.catalog.photos import persist_photo
    from shoebox.catalog.store import build_items
    from shoebox.local import LocalRuntime, journaling
    from shoebox.local.template import ACCOUNT, REGION

    began = time.perf_counter()
    records = make_records(n, seed=1)
    with LocalRuntime(home, recognizer="none", workflows=False) as rt:
        catalog = Catalog(rt.table)
        ddb = dynamodb_backends[ACCOUNT][REGION]
        s3 = s3_backends[ACCOUNT]["aws"]
        for i, record in enumerate(records):
            # the row carries its object's ETag, as a processed photo's does (a row of another ETag is a
            # re-upload whose run was lost: the service's start would resume it, local/resume.py)
            record.etag = hashlib.md5(b"\xff\xd8" + record.key.encode()).hexdigest()
            for key in (record.key, record.thumbnails["view"]["key"], record.thumbnails["grid"]["key"]):
                if i < PEOPLE_SEEDED:
                    rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=b"\xff\xd8" + key.encode())
                else:
                    s3.put_object(rt.bucket, key, b"\xff\xd8" + key.encode())
                    journaling._flush_s3()  # noqa: SLF001 - what S3's response path does after a put
            if i < PEOPLE_SEEDED:
                persist_photo(catalog, record)
                continue
            item, rows = build_items(record)
            for attrs in (item, *rows):
                ddb.put_item(rt.table, attrs)
    return {"seconds": round(time.perf_counter() - began, 1), "keys": [r.key for r in records]}


def shoebox(home: Path, *args: str) -> float:
    env = {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: modules compiled once, not on every command
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "shoebox", *args], capture_output=True, text=True, env=env)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"shoebox {' '.join(args)}: {done.stderr.strip()}")
    return took


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3)}


def through_boto3(home: Path, key: str, runs: int) -> dict:
    """The commands' API calls alone, against the same endpoint (what the CLI adds is process start)."""
    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.catalog.people import People
    from shoebox.local import client
    from shoebox.local.template import REGION
    from shoebox.search.execute import Searcher

    service = client.running(home)
    endpoint = aws.Endpoint(region=REGION, url=service.url, access_key=service.access_key,
                            secret_key=service.secret_key)
    out = {}
    with aws.using(endpoint):
        table = json.loads((home / "stack-outputs.json").read_text())["outputs"]["TableName"]
        calls = {"search": lambda: Searcher(Catalog(table)).search(QUERY).rows,
                 "show": lambda: Catalog(table).get_photo(key),
                 "people": lambda: People(Catalog(table)).list_people()}
        for name, call in calls.items():
            call()  # clients made, models loaded
            samples = []
            for _ in range(runs):
                began = time.perf_counter()
                call()
                samples.append(time.perf_counter() - began)
            out[name] = stats(samples)
    aws.reset_clients()
    return out


def seeded_home(folder: Path, n: int) -> tuple[Path, dict]:
    """``folder/home-N``, seeded unless a finished seed of it is there already (``--homes``)."""
    home = folder / f"home-{n}"
    done = home / "bench-seed.json"
    try:
        return home, json.loads(done.read_text())
    except (OSError, ValueError):
        pass
    if home.exists():
        import shutil

        shutil.rmtree(home)  # a seed cut short: start again
    seeded = seed(home, n)
    done.write_text(json.dumps(seeded))
    return home, seeded


def measure(n: int, runs: int, folder: Path) -> dict:
    from shoebox.local import client

    home, seeded = seeded_home(folder, n)
    began = time.perf_counter()
    shoebox(home, "up")  # a fresh process: the journal replayed once, here
    start_s = time.perf_counter() - began
    service = client.running(home)
    status = client.status(service)
    while status.get("snapshot_pending"):  # warm: the start's snapshot is written (it competes for the GIL)
        time.sleep(0.2)
        status = client.status(service)
    warm_s = time.perf_counter() - began
    key = seeded["keys"][n // 2]
    try:
        e2e = {}
        commands = {"search": ("search", QUERY, "--json"), "show": ("show", key, "--json"), "people": ("people", "--json")}
        for name, args in commands.items():
            shoebox(home, *args)
            e2e[name] = stats([shoebox(home, *args) for _ in range(runs)])
        direct = through_boto3(home, key, runs)
    finally:
        client.stop(home)
    return {"bench": "local_service", "photos": n, "seed_s": seeded["seconds"], "service_start_s": round(start_s, 2),
            "snapshot_written_s": round(warm_s, 2),
            "service_rss_mb": status["rss_mb"], "restored": status["restored"], "cli_end_to_end": e2e,
            "boto3_only": direct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,1000,10000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--homes", type=Path, help="keep the seeded homes here and reuse them")
    args = parser.parse_args()
    os.environ.setdefault("SHOEBOX_RECOGNIZER_LOCAL", "none")
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = args.homes or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            lines.append(measure(n, args.runs, folder))
            print(json.dumps(lines[-1]), flush=True)
    small, large = lines[0], lines[-1]
    search_small = small["cli_end_to_end"]["search"]["median_s"]
    search_large = large["cli_end_to_end"]["search"]["median_s"]
    print(json.dumps({
        "bench": "local_service_summary", "sizes": sizes,
        "search_large_vs_small": round(search_large / search_small, 2),
        "search_large_s": search_large,
        "cli_overhead_s": round(search_large - large["boto3_only"]["search"]["median_s"], 3),
        "service_start_large_s": large["service_start_s"],
        "targets": {"search_large_vs_small": 1.3, "search_large_s": 0.6, "service_start_large_s": 15},
    }), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Local service benchmark: does a command cost the same at 10,000 photos as at 50?

For catalogs of 50, 1,000 and 10,000 synthetic photos (scripts/bench_search.py's generator: 30 people,
200 labels, places, 11 years), seeded through the real write code (``persist_photo``, the persist step's
catalog write, plus an original and two thumbnails per photo in S3) into a fresh SHOEBOX_HOME, it
measures:
- the service's start (``shoebox up`` in a new process, wall time until it answers) and its RSS;
- end-to-end wall time of ``shoebox search``, ``shoebox show`` and ``shoebox people`` from a new CLI
  process each (median, p95), as a user runs them;
- the same calls through boto3 only (in this process: the API calls the commands make, without the
  CLI's own process start), the reference the CLI's overhead is read against.

Prints one JSON line per catalog size and a summary line with the ratios and targets:
search at 10,000 <= 1.3 x search at 50 and <= 0.6 s end to end; service start at 10,000 <= 15 s.
Usage: .venv/bin/python scripts/bench_local_service.py [--sizes 50,1000,10000] [--runs 7]
"""

from __future__ import annotations

import argparse
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
    """Through the service's durable write path (the runtime journals every write, as it serves them):
    the first photos with ``persist_photo`` (photo, index rows, people), the rest with the items
    ``Catalog.put_photo`` writes (``build_items``) in BatchWriteItem calls, which is what makes 10,000
    photos seedable in minutes rather than an hour."""
    from bench_search import make_records

    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.catalog.photos import persist_photo
    from shoebox.catalog.store import build_items
    from shoebox.local import LocalRuntime

    began = time.perf_counter()
    records = make_records(n, seed=1)
    with LocalRuntime(home, recognizer="none", workflows=False) as rt:
        catalog = Catalog(rt.table)
        ddb = aws.client("dynamodb")
        batch: list[dict] = []
        for i, record in enumerate(records):
            for key in (record.key, record.thumbnails["view"]["key"], record.thumbnails["grid"]["key"]):
                rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=b"\xff\xd8" + key.encode())
            if i < PEOPLE_SEEDED:
                persist_photo(catalog, record)
                continue
            item, rows = build_items(record)
            batch.extend({"PutRequest": {"Item": attrs}} for attrs in (item, *rows))
            while len(batch) >= 25:
                ddb.batch_write_item(RequestItems={rt.table: batch[:25]})
                del batch[:25]
        for start in range(0, len(batch), 25):
            ddb.batch_write_item(RequestItems={rt.table: batch[start:start + 25]})
    return {"seconds": round(time.perf_counter() - began, 1), "keys": [r.key for r in records]}


def shoebox(home: Path, *args: str) -> float:
    env = {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "0"}
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


def measure(n: int, runs: int, folder: Path) -> dict:
    from shoebox.local import client

    home = folder / f"home-{n}"
    seeded = seed(home, n)
    began = time.perf_counter()
    shoebox(home, "up")  # a fresh process: the journal replayed once, here
    start_s = time.perf_counter() - began
    status = client.status(client.running(home))
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
            "service_rss_mb": status["rss_mb"], "restored": status["restored"], "cli_end_to_end": e2e,
            "boto3_only": direct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,1000,10000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("SHOEBOX_RECOGNIZER_LOCAL", "none")
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        for n in sizes:
            lines.append(measure(n, args.runs, Path(tmp)))
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

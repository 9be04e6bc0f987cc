#!/usr/bin/env python3
"""Gallery benchmark: are the timeline's first page and a search results page served in <= 150 ms (p95)
from a 10,000-photo catalog?

The catalog is seeded through the real write code into a fresh SHOEBOX_HOME (scripts/bench_local_service.py's
``seed``: persist_photo and Catalog.put_photo's items), the local service is started (``shoebox up``)
and the gallery runs as users run it (``shoebox serve`` in its own process). Each page is then fetched
over HTTP on a kept-alive connection, as a browser does: the timeline page (``/``: first page of the
timeline, on-this-day, rediscover, the jump bar), the timeline's JSON page, a search results page and
its JSON. The reference, measured in the same run against the same service: one bare GetItem of a
photo through boto3 (the cheapest catalog read a page can make).

Prints one JSON line: p50/p95 per page, each p95's ratio to the reference's p95, and the target.
Usage: .venv/bin/python scripts/bench_gallery.py [--photos 10000] [--runs 60] [--homes DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
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
TARGET_P95_MS = 150


def stats_ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def timed(call, runs: int) -> list[float]:
    call()  # warm: clients made, models and templates loaded, the vocabulary read
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--homes", type=Path, help="keep the seeded home here and reuse it "
                        "(bench_local_service.py --homes makes the same homes)")
    args = parser.parse_args()
    os.environ.setdefault("SHOEBOX_RECOGNIZER_LOCAL", "none")
    import httpx
    from bench_local_service import seeded_home

    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.local import client
    from shoebox.local.template import REGION

    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as tmp:
        home, seeded = seeded_home(args.homes or Path(tmp), args.photos)
        env = {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "1"}
        subprocess.run([sys.executable, "-m", "shoebox", "up"], env=env, check=True, capture_output=True)
        port = free_port()
        gallery = subprocess.Popen([sys.executable, "-m", "shoebox", "serve", "--no-open", "--port", str(port)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as http:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        http.get("/api/suggest")
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline or gallery.poll() is not None:
                            raise RuntimeError(f"the gallery did not start: {gallery.stderr.read().decode()}")
                        time.sleep(0.2)

                def get(path: str, **params: str):
                    def call():
                        response = http.get(path, params=params)
                        response.raise_for_status()
                        return response
                    return call

                first = get("/api/timeline")().json()
                found = get("/api/search", q=QUERY)().json()
                pages = {"timeline_page": get("/"), "timeline_json": get("/api/timeline"),
                         "search_page": get("/search", q=QUERY), "search_json": get("/api/search", q=QUERY)}
                measured = {name: stats_ms(timed(call, args.runs)) for name, call in pages.items()}

            service = client.running(home)
            endpoint = aws.Endpoint(region=REGION, url=service.url, access_key=service.access_key,
                                    secret_key=service.secret_key)
            with aws.using(endpoint):
                table = json.loads((home / "stack-outputs.json").read_text())["outputs"]["TableName"]
                catalog = Catalog(table)
                key = seeded["keys"][len(seeded["keys"]) // 2]
                reference = stats_ms(timed(lambda: catalog.get_photo(key), args.runs))
        finally:
            gallery.terminate()
            gallery.wait(timeout=20)
            client.stop(home)
    worst = max(m["p95_ms"] for m in measured.values())
    print(json.dumps({
        "bench": "gallery", "photos": args.photos, "seed_s": seeded["seconds"], "runs": args.runs,
        "timeline_photos": len(first["photos"]), "search_photos": len(found["photos"]), "query": QUERY,
        "pages": {name: {**m, "ratio_p95_vs_getitem": round(m["p95_ms"] / max(reference["p95_ms"], 0.01), 1)}
                  for name, m in measured.items()},
        "reference_getitem": reference, "worst_p95_ms": worst, "target_p95_ms": TARGET_P95_MS,
        "met": worst <= TARGET_P95_MS,
    }), flush=True)


if __name__ == "__main__":
    main()

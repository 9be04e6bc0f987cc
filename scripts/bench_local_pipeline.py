"""Benchmark the local workflow: per-photo wall time split into step work and orchestration overhead,
and ingest throughput using all cores against the single-core rate measured in the same run.

Prints JSON lines. Targets: overhead <= 20 ms per state; throughput >= 0.6 x cores x single-core rate.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from shoebox import compute
from shoebox.local import LocalRuntime
from shoebox.samples import photo_bytes


def pin_process(cpus: set[int]) -> None:
    """Pin every thread of this process (ONNX Runtime and OpenCV keep their own pools) to ``cpus``."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--recognizer", default=os.environ.get("SHOEBOX_BENCH_RECOGNIZER", "local"))
    parser.add_argument("--size", default="4000x3000", help="generated photo size")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    cores = os.cpu_count() or 1
    photos = [photo_bytes(datetime(2010, 1, 1 + i % 28, 12, 0), seed=i, size=(w, h)) for i in range(args.photos)]

    with tempfile.TemporaryDirectory() as home, LocalRuntime(Path(home), recognizer=args.recognizer,
                                                             retry_sleep_scale=0, persist=False) as rt:
        # warm-up: model loading and first-call costs are not per-photo costs
        rt.wait([rt.upload(photos[0], "originals/2000/01/01/warmup.jpg")])

        # 1) one photo at a time, on ONE core: where does the time go, and what is the single-core rate?
        all_cpus = os.sched_getaffinity(0)
        pin_process({min(all_cpus)})
        walls, steps, overheads, per_state = [], [], [], []
        for i, body in enumerate(photos):
            rt.bridge.invocations.clear()
            started = time.perf_counter()
            arn = rt.upload(body, f"originals/2010/01/01/seq_{i:04d}.jpg")
            rt.wait([arn])
            wall = (time.perf_counter() - started) * 1000
            record = rt.execution_record(arn)
            states = sum(1 for e in record["events"] if e["type"].endswith("StateEntered"))
            step_ms = sum(inv.duration_ms for inv in rt.bridge.invocations)
            walls.append(wall)
            steps.append(step_ms)
            overheads.append(wall - step_ms)
            per_state.append((wall - step_ms) / states)
        single_rate = 1000 / statistics.median(walls)
        pin_process(all_cpus)
        print(json.dumps({
            "bench": "local_pipeline_sequential", "pinned_cores": 1, "photos": args.photos, "size": args.size,
            "recognizer": args.recognizer, "states_per_photo": states,
            "wall_ms": {"median": round(statistics.median(walls), 1), "p95": round(pct(walls, 0.95), 1)},
            "step_ms": {"median": round(statistics.median(steps), 1), "p95": round(pct(steps, 0.95), 1)},
            "overhead_ms": {"median": round(statistics.median(overheads), 1), "p95": round(pct(overheads, 0.95), 1)},
            "overhead_per_state_ms": {"median": round(statistics.median(per_state), 2),
                                      "p95": round(pct(per_state, 0.95), 2), "target": 20},
        }))

        # 2) ingest with all cores: several photos in flight, as `shoebox ingest` does
        from shoebox.cli.backends import LocalBackend, Upload

        folder = Path(home) / "in"
        folder.mkdir()
        uploads = []
        for i, body in enumerate(photos):
            path = folder / f"par_{i:04d}.jpg"
            path.write_bytes(body)
            uploads.append(Upload(path, f"originals/2011/01/01/par_{i:04d}.jpg"))
        compute.start_pool(cores)  # what `shoebox ingest` does for a batch: one worker process per core
        rt.wait([rt.upload(photos[0], "originals/2000/01/02/warmup.jpg")])
        rt.wait([rt.upload(photos[1], "originals/2000/01/03/warmup.jpg")])
        started = time.perf_counter()
        results = LocalBackend(rt).ingest(uploads, lambda r: None)
        elapsed = time.perf_counter() - started
        rate = len(uploads) / elapsed
        compute.stop_pool()
        assert all(r["status"] == "processed" for r in results), results[:2]
        print(json.dumps({
            "bench": "local_pipeline_ingest", "photos": len(uploads), "cores": cores,
            "photos_per_s": round(rate, 2), "single_core_photos_per_s": round(single_rate, 2),
            "ratio_vs_cores_x_single": round(rate / (cores * single_rate), 2), "target_ratio": 0.6,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

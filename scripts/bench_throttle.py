#!/usr/bin/env python3
"""Rate control under a Rekognition quota (issue 17 item 3), in the local runtime.

    python scripts/bench_throttle.py                          # 2,000 uploads at once, quota 10 calls/s
    python scripts/bench_throttle.py --uploads 100 --reference-uploads 0    # what tests/workflow/test_throttle.py runs

Every photo is uploaded at once (8 threads of PutObject) and goes the way it goes on AWS: the EventBridge
rule puts its event on the upload queue, the SQS event source hands batches to at most
UploadStarterConcurrency starters, which start ProcessPhoto executions at UploadStartsPerSecond (``--rate``,
default 80 % of the quota, as the template's 4 for Rekognition's default 5), holding back while
UploadMaxRunning executions run (``--max-running``, default the quota). The ``rekognition`` recognizer
runs against the emulated service (shoebox.local.rekognition_emulator), which answers
``ThrottlingException`` to any call beyond ``--quota`` in the last second, as Rekognition does; the
workflow's Retry waits are scaled by ``--sleep-scale`` (their shape is AWS's; 1 = real time).

The reference, measured in the same run, is the same upload with no rate (UploadStartsPerSecond 0: every
event starts its execution at once, as before the queue), on ``--reference-uploads`` photos.

Every Rekognition call first takes a slot from the shared rate limiter (recognition/rate_limit.py) at
RekognitionCallsPerSecond (``--calls-per-s``, default the quota), which the emulator counts per operation
as Rekognition's quotas are. The reference runs with neither the start rate nor the limiter.

Prints one JSON line: uploads, processed, failed, max calls answered in any 1 s window (never above the
quota by construction: the emulator throttles), max calls of one operation *made* in any 1 s window (the
limiter's cap: ok needs it at or under the quota), throttled calls, and the same for the reference, with
the throttled-calls-per-photo ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class Quota:
    """Rekognition's TPS quota: at most ``per_second`` calls of one operation answered in any 1 s window."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.answered: list[float] = []
        self.made: list[float] = []
        self.made_by_operation: dict[str, list[float]] = {}
        self.throttled = 0
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def fault(self, operation: str, photo: str | None) -> str | None:
        now = time.monotonic()
        with self._lock:
            self.made.append(now)
            self.made_by_operation.setdefault(operation, []).append(now)
            window = self._windows.setdefault(operation, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.per_second:
                self.throttled += 1
                return "ThrottlingException"
            window.append(now)
            self.answered.append(now)
            return None


def max_in_window(times: list[float], width: float = 1.0) -> int:
    """The most events in any half-open window [t, t + width)."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


def photo(n: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (n % 251, (n // 251) % 251, 90)).save(out, "JPEG")
    return out.getvalue()


def run(uploads: int, quota_per_s: int, rate: float, sleep_scale: float, max_running: int = 0,
        threads: int = 8, calls_per_s: float = 0.0) -> dict:
    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.local import LocalRuntime
    from shoebox.local.rekognition_emulator import Analysis, RekognitionEmulator
    from shoebox.recognition.registry import get_recognizer

    quota = Quota(quota_per_s)
    keys = [f"originals/2024/01/{1 + n % 28:02d}/upload-{n:05d}.jpg" for n in range(uploads)]
    with tempfile.TemporaryDirectory() as home:
        with LocalRuntime(Path(home), recognizer="rekognition", retry_sleep_scale=sleep_scale, persist=False,
                          upload_rate=rate, upload_max_running=max_running, rekognition_rate=calls_per_s) as rt:
            s3 = aws.client("s3")
            emulator = RekognitionEmulator(
                read_object=lambda bucket, key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
                analyse=lambda image: Analysis(labels=[{"Name": "Beach", "Confidence": 97.0, "Parents": []}]),
                fault=quota.fault)
            emulator.attach(get_recognizer("rekognition").client)
            try:
                began = time.perf_counter()
                with ThreadPoolExecutor(threads) as pool:  # "at once": as fast as PutObject goes
                    list(pool.map(lambda n: s3.put_object(Bucket=rt.bucket, Key=keys[n], Body=photo(n)), range(uploads)))
                uploaded_s = time.perf_counter() - began
                rt.wait_queued(timeout=3600)
                arns = [arn for key in keys for arn in rt.started.get(key, [])]
                statuses = rt.wait(arns, timeout=3600)
                seconds = time.perf_counter() - began
            finally:
                emulator.detach()
            catalog = Catalog(rt.table)
            rows = [catalog.get_photo(key) for key in keys]
    return {
        "uploads": uploads, "rate_per_s": rate, "max_running": max_running, "quota_per_s": quota_per_s,
        "processed": sum(1 for r in rows if r is not None and r.status == "processed"),
        "failed": sum(1 for r in rows if r is None or r.status != "processed"),
        "executions": len(arns), "executions_failed": sum(1 for s in statuses.values() if s != "SUCCEEDED"),
        "calls_per_s": calls_per_s, "max_answered_per_s": max_in_window(quota.answered),
        "max_made_per_s": max((max_in_window(t) for t in quota.made_by_operation.values()), default=0),
        "rekognition_calls": len(quota.answered), "throttled_calls": quota.throttled,
        "upload_s": round(uploaded_s, 1), "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uploads", type=int, default=2000)
    ap.add_argument("--quota", type=int, default=10, help="Rekognition calls answered per second (the TPS quota)")
    ap.add_argument("--rate", type=float, default=None, help="UploadStartsPerSecond (default: 80 %% of --quota)")
    ap.add_argument("--max-running", type=int, default=None, help="UploadMaxRunning (default: --quota)")
    ap.add_argument("--sleep-scale", type=float, default=0.2, help="Retry waits x this (1 = as in AWS)")
    ap.add_argument("--calls-per-s", type=float, default=None,
                    help="RekognitionCallsPerSecond, the shared limiter (default: --quota; 0 = off)")
    ap.add_argument("--reference-uploads", type=int, default=300, help="the same with no rate; 0 = skip")
    args = ap.parse_args(argv)
    rate = args.rate if args.rate is not None else 0.8 * args.quota
    max_running = args.max_running if args.max_running is not None else args.quota
    result = run(args.uploads, args.quota, rate, args.sleep_scale, max_running,
                 calls_per_s=args.quota if args.calls_per_s is None else args.calls_per_s)
    if args.reference_uploads:
        reference = run(args.reference_uploads, args.quota, 0.0, args.sleep_scale)
        result["reference_no_rate"] = reference
        per_photo = result["throttled_calls"] / max(1, result["uploads"])
        result["throttled_per_photo_vs_reference"] = round(
            per_photo / max(1e-9, reference["throttled_calls"] / max(1, reference["uploads"])), 4)
    result["ok"] = (result["failed"] == 0 and result["processed"] == result["uploads"]
                    and result["max_made_per_s"] <= args.quota)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

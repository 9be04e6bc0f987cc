#!/usr/bin/env python3
"""Estimate backfill time and AWS cost before starting (model: docs/backfill.md).

    python scripts/plan_backfill.py --photos 60000 --gigabytes 200 --json
    python scripts/plan_backfill.py --bucket my-shoebox --prefix originals/2007/ --json   # measure first

Prints the stable JSON ``{"photos", "gigabytes", "duration_s", "max_concurrency", "cost_usd": {...},
"recognizer", "modes": {mode: {"total", "one_off", "monthly", ...}}}``
with --json (add --assumptions for the model's inputs), else a short human summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    from shoebox.backfill.measure import measure_bucket
    from shoebox.backfill.plan import plan_modes
    from shoebox.formats import PLANNER_CLASSES as FORMATS
    from shoebox.recognition.registry import MODES as RECOGNIZERS
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
    from shoebox.backfill.measure import measure_bucket
    from shoebox.backfill.plan import plan_modes
    from shoebox.formats import PLANNER_CLASSES as FORMATS
    from shoebox.recognition.registry import MODES as RECOGNIZERS


def _mix(text: str) -> dict[str, float]:
    """``jpeg=0.85,raw=0.1,heic=0.05`` -> dict."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in FORMATS or not value:
            raise argparse.ArgumentTypeError(f"expected FORMAT=SHARE with FORMAT in {FORMATS}, got {part!r}")
        out[name] = float(value)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, help="number of originals (measured from --bucket when omitted)")
    ap.add_argument("--gigabytes", type=float, help="total size of the originals in GB")
    ap.add_argument("--max-concurrency", type=int, help="Distributed Map MaxConcurrency (derived when omitted)")
    ap.add_argument("--tps", type=float, default=5.0, help="Rekognition TPS quota per operation (default 5)")
    ap.add_argument("--mix", type=_mix, help="format mix, e.g. jpeg=0.85,raw=0.1,heic=0.05")
    ap.add_argument("--person-share", type=float, default=0.45, help="share of photos with a Person label")
    ap.add_argument("--faces-per-person-photo", type=float, default=2.0)
    ap.add_argument("--child-execution", choices=("STANDARD", "EXPRESS"), default="EXPRESS")
    ap.add_argument("--glacier-ir-after-days", type=int, default=30, help="-1 keeps originals in Standard")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--recognizer", choices=RECOGNIZERS, default="rekognition",
                    help="recognizer mode to cost (the template's Recognizer); every mode's total is listed too")
    ap.add_argument("--bucket", help="measure photos, GB and format mix from this bucket")
    ap.add_argument("--prefix", default="originals/")
    ap.add_argument("--json", action="store_true", help="print the stable JSON")
    ap.add_argument("--assumptions", action="store_true", help="with --json: include the assumptions")
    args = ap.parse_args(argv)

    mix = args.mix
    photos, gigabytes = args.photos, args.gigabytes
    if photos is None or gigabytes is None:
        if not args.bucket:
            ap.error("give --photos and --gigabytes, or --bucket to measure them")
        import boto3

        measured = measure_bucket(boto3.client("s3", region_name=args.region), args.bucket, args.prefix)
        photos = measured[0] if photos is None else photos
        gigabytes = measured[1] if gigabytes is None else gigabytes
        mix = mix or measured[2]

    try:
        d = plan_modes(
            photos,
            gigabytes,
            recognizer=args.recognizer,
            include_assumptions=True,
            format_mix=mix,
            max_concurrency=args.max_concurrency,
            rekognition_tps=args.tps,
            person_share=args.person_share,
            faces_per_person_photo=args.faces_per_person_photo,
            region=args.region,
            glacier_ir_after_days=None if args.glacier_ir_after_days < 0 else args.glacier_ir_after_days,
            child_execution=args.child_execution,
        )
    except ValueError as exc:
        ap.error(str(exc))

    if args.json:
        if not args.assumptions:
            d.pop("assumptions")
        print(json.dumps(d, indent=2))
        return 0
    a = d["assumptions"]
    hours = d["duration_s"] / 3600
    print(f"{d['photos']:,} photos, {d['gigabytes']:,} GB")
    print(f"duration  ~{hours:.1f} h at max_concurrency {d['max_concurrency']} "
          f"({a['photos_per_s']} photos/s, bound by {a['bottleneck']})")
    for name, usd in d["cost_usd"].items():
        print(f"  {name:<20} ${usd:>10,.2f}")
    print("  (total = the backfill once + one month of storage; see docs/backfill.md)")
    print(f"{'mode':<12} {'total':>9} {'one-off':>9} {'monthly':>9}  (60,000-photo figures in docs/backfill.md)")
    for mode, m in d["modes"].items():
        print(f"{mode:<12} ${m['total']:>8,.2f} ${m['one_off']:>8,.2f} ${m['monthly']:>8,.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

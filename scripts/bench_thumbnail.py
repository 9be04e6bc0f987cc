#!/usr/bin/env python3
"""Thumbnail benchmark: shoebox.imaging.pipeline.render() against a reference measured in the same run.

Prints one JSON object per line: one per case, then a summary with the Lambda memory suggestion.

Cases (inputs are generated, nothing is downloaded):
  jpeg-24mp  6000x4000 JPEG        reference: pyvips.Image.thumbnail (shrink-on-load) for both images
  jpeg-50mp  8660x5774 JPEG        reference: pyvips.Image.thumbnail
  raw-preview 6000x4000 DNG with a full-size embedded JPEG preview
                                   reference: rawpy extract_thumb + aspect-fitted Pillow draft + Lanczos
  heic-12mp  4032x3024 HEIC        reference: pillow-heif decode + Pillow Image.thumbnail (the pyvips
                                   wheel's libheif cannot decode HEVC, so pyvips does not apply)

Peak RSS: each (case, implementation) gets ``--rounds`` fresh subprocesses that import everything,
note their RSS, reset the high-water mark and render once; growth = VmHWM after − RSS before.
Time: one subprocess per case warms both implementations up, then alternates them run by run
(``--runs`` each) so background load on a shared machine hits both alike; medians of wall and CPU
time are reported. By default the measured processes are pinned to one CPU (``--cpus 1``), which is
what a Lambda function gets at up to 1769 MB; ``--cpus 0`` lets pyvips use every core.
Both sides produce both images (view 1920, grid 320, q85 progressive); on both sides the grid is made
from the in-memory view.

Usage:  .venv/bin/python scripts/bench_thumbnail.py [--runs 15] [--rounds 2] [--cases jpeg-24mp,...]
"""

from __future__ import annotations

import argparse
import io
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
sys.path.insert(0, str(ROOT / "tests" / "imaging"))  # imaging_samples: the DNG writer

VIEW, GRID, QUALITY = 1920, 320, 85

CASES = {
    "jpeg-24mp": {"kind": "jpeg", "size": (6000, 4000), "reference": "pyvips.thumbnail",
                  "target_time_ratio": 1.15, "target_rss_mb": 80},
    "jpeg-50mp": {"kind": "jpeg", "size": (8660, 5774), "reference": "pyvips.thumbnail",
                  "target_time_ratio": 1.15},
    "raw-preview": {"kind": "dng", "size": (6000, 4000), "reference": "rawpy.extract_thumb+draft+resize",
                    "target_time_ratio": 1.5},
    # pyvips-binary's libheif has no HEVC decoder, so HEIC's reference is pillow-heif + Pillow thumbnail.
    "heic-12mp": {"kind": "heic", "size": (4032, 3024), "reference": "pillow-heif+Image.thumbnail"},
}


# ------------------------------------------------------------------------------------------ inputs


def _photo(size):
    """Photo-like content (smooth colour gradients + sensor-like noise), built without huge temporaries."""
    from PIL import Image, ImageChops

    from imaging_samples import gradient

    w, h = size
    base = gradient((max(1, w // 16), max(1, h // 16))).resize(size, Image.Resampling.BILINEAR)
    noise = Image.effect_noise(size, 10).convert("L")
    return ImageChops.add(base, Image.merge("RGB", [noise] * 3), scale=1.0, offset=-128)


def make_input(case: str, workdir: Path) -> Path:
    spec = CASES[case]
    ext = {"jpeg": "jpg", "dng": "dng", "heic": "heic"}[spec["kind"]]
    path = workdir / f"{case}.{ext}"
    if path.exists():
        return path
    import shoebox.imaging  # noqa: F401  (registers the HEIF plugin for saving the HEIC input)
    from imaging_samples import exif_bytes, make_dng

    exif = exif_bytes(taken="2016:07:14 18:05:09", offset="+02:00", make="NIKON CORPORATION",
                      model="NIKON D750", gps=(48.8584, 2.2945), orientation=1)
    im = _photo(spec["size"])
    if spec["kind"] == "jpeg":
        im.save(path, "JPEG", quality=92, exif=exif)
    elif spec["kind"] == "heic":
        im.save(path, "HEIF", quality=80, exif=exif)
    else:
        path.write_bytes(make_dng(spec["size"], preview=im, scene=im, make="NIKON CORPORATION",
                                  model="NIKON D750", orientation=1))
    return path


# ------------------------------------------------------------------------------------------ worker


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
        return True
    except OSError:
        return False


def _impl(case: str, impl: str):
    kind = CASES[case]["kind"]
    if impl == "ours":
        import pillow_heif  # noqa: F401  (registered by shoebox.imaging)

        from shoebox.imaging.pipeline import render

        def run(path):
            r = render(path, view_edge=VIEW, grid_edge=GRID, quality=QUALITY)
            return len(r.view_jpeg) + len(r.grid_jpeg), r.path

        return run
    if kind == "heic":
        import pillow_heif
        from PIL import Image

        pillow_heif.register_heif_opener()

        def run(path):
            with Image.open(path) as im:
                im.thumbnail((VIEW, VIEW))
                a, b = io.BytesIO(), io.BytesIO()
                im.save(a, "JPEG", quality=QUALITY, progressive=True)
                im.thumbnail((GRID, GRID))
                im.save(b, "JPEG", quality=QUALITY, progressive=True)
            return a.tell() + b.tell(), "pillow-heif"

        return run
    if kind == "jpeg":
        import pyvips

        def run(path):
            view = pyvips.Image.thumbnail(str(path), VIEW).copy_memory()
            save = {"Q": QUALITY, "interlace": True, "keep": "none"}
            a = view.jpegsave_buffer(**save)
            b = view.thumbnail_image(GRID).jpegsave_buffer(**save)
            return len(a) + len(b), "pyvips"

        return run
    import rawpy
    from PIL import Image

    def run(path):
        with rawpy.imread(str(path)) as raw:
            data = raw.extract_thumb().data
        im = Image.open(io.BytesIO(data))
        # The known-good fast path: aspect-fitted draft, Lanczos resize. (Image.thumbnail() would
        # draft to 2x the box and decode this preview at full size: a much slower "reference".)
        w, h = im.size
        s = VIEW / max(w, h)
        target = (round(w * s), round(h * s))
        im.draft("RGB", target)
        view = im.resize(target, Image.Resampling.LANCZOS)
        a, b = io.BytesIO(), io.BytesIO()
        view.save(a, "JPEG", quality=QUALITY, progressive=True)
        view.thumbnail((GRID, GRID))
        view.save(b, "JPEG", quality=QUALITY, progressive=True)
        return a.tell() + b.tell(), "rawpy-thumb"

    return run


def worker_memory(case: str, impl: str, path: str) -> dict:
    """Fresh process, one (cold) render: how far above its settled RSS does the process peak?"""
    run = _impl(case, impl)
    before = _rss_kb("VmRSS")
    exact = _reset_peak()
    out_bytes, how = run(path)
    peak = _rss_kb("VmHWM")
    return {
        "peak_rss_growth_mb": round((peak - before) / 1024, 1),
        "baseline_rss_mb": round(before / 1024, 1),
        "peak_exact": exact,
        "output_bytes": out_bytes,
        "path": how,
    }


def worker_time(case: str, path: str, runs: int) -> dict:
    """One process, both implementations warmed up, then alternated run by run, so that background
    load (other jobs on a shared machine) hits both alike."""
    impls = {name: _impl(case, name) for name in ("ours", "reference")}
    for run in impls.values():
        run(path)
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in impls}
    for i in range(runs):
        order = list(impls) if i % 2 == 0 else list(reversed(impls))
        for name in order:
            c0, t0 = time.process_time(), time.perf_counter()
            impls[name](path)
            times[name]["wall"].append((time.perf_counter() - t0) * 1000)
            times[name]["cpu"].append((time.process_time() - c0) * 1000)
    return times


CPUS = 1  # set from --cpus


def _spawn(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), os.environ.get("PYTHONPATH", "")])}
    env["BENCH_CPUS"] = str(CPUS)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env, timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ driver


def bench(case: str, path: Path, runs: int, rounds: int) -> dict:
    spec = CASES[case]
    mem = {impl: [_spawn("memory", case, impl, str(path)) for _ in range(rounds)] for impl in ("ours", "reference")}
    timing = _spawn("time", case, "-", str(path), str(runs))

    def summary(impl):
        rs, times, cpu = mem[impl], timing[impl]["wall"], timing[impl]["cpu"]
        return {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "median_cpu_ms": round(statistics.median(cpu), 1),
            "peak_rss_growth_mb": round(statistics.median(r["peak_rss_growth_mb"] for r in rs), 1),
            "baseline_rss_mb": round(statistics.median(r["baseline_rss_mb"] for r in rs), 1),
            "output_bytes": rs[0]["output_bytes"],
            "path": rs[0]["path"],
        }

    ours, ref = summary("ours"), summary("reference")
    ratio = round(ours["median_ms"] / ref["median_ms"], 3)
    line = {
        "case": case,
        "input": {"file": path.name, "bytes": path.stat().st_size, "pixels": list(spec["size"])},
        "ours": ours,
        "reference": {"name": spec["reference"], **ref},
        "time_ratio": ratio,
        "cpu_time_ratio": round(ours["median_cpu_ms"] / ref["median_cpu_ms"], 3),
        "cpus": CPUS,
        "rss_ratio": round(ours["peak_rss_growth_mb"] / ref["peak_rss_growth_mb"], 3)
        if ref["peak_rss_growth_mb"] > 0 else None,
        "runs": runs,
    }
    checks = {}
    if "target_time_ratio" in spec:
        checks["time_ratio<=%s" % spec["target_time_ratio"]] = ratio <= spec["target_time_ratio"]
    if "target_rss_mb" in spec:
        checks["peak_rss_growth_mb<=%s" % spec["target_rss_mb"]] = ours["peak_rss_growth_mb"] <= spec["target_rss_mb"]
    line["targets"] = checks
    line["within_target"] = all(checks.values()) if checks else None
    return line


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="timed renders per implementation (alternating)")
    ap.add_argument("--rounds", type=int, default=2, help="fresh-process peak-RSS measurements per implementation")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    ap.add_argument("--cpus", type=int, default=1,
                    help="pin the measured processes to this many CPUs (default 1: what a Lambda function "
                         "gets up to 1769 MB; 0 = no pinning). pyvips is multi-threaded, Pillow is not.")
    ap.add_argument("--workdir", help="keep generated inputs here (default: a temporary directory)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        ncpu = int(os.environ.get("BENCH_CPUS", "0"))
        if ncpu and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:ncpu])
        what, case, impl, path, *rest = args.worker
        if what == "memory":
            print(json.dumps(worker_memory(case, impl, path)))
        else:
            print(json.dumps(worker_time(case, path, int(rest[0]))))
        return 0

    global CPUS
    CPUS = args.cpus
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    tmp = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-thumb-")
    workdir = Path(args.workdir or tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    lines = []
    try:
        for case in cases:
            line = bench(case, make_input(case, workdir), args.runs, args.rounds)
            lines.append(line)
            print(json.dumps(line), flush=True)
    finally:
        if tmp:
            tmp.cleanup()

    # Lambda memory: the worst process peak (baseline + growth) plus the original held in memory,
    # with headroom; CPU, not memory, then decides (Lambda gives 1 full vCPU at 1769 MB).
    worst = max(l["ours"]["baseline_rss_mb"] + l["ours"]["peak_rss_growth_mb"] + l["input"]["bytes"] / 2**20
                for l in lines)
    print(json.dumps({
        "summary": True,
        "machine_cpus": os.cpu_count(),
        "pinned_cpus": CPUS or None,
        "all_within_target": all(l["within_target"] is not False for l in lines),
        "worst_process_peak_mb_incl_original": round(worst, 1),
        "lambda_memory_floor_mb": int(-(-worst * 1.5 // 64) * 64),
        "lambda_memory_recommended_mb": 1769,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

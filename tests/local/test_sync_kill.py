"""`shoebox sync` killed with `kill -9` mid-way and run again, as real processes (the CLI and a background
service): every file ends up in the bucket exactly once, none missing; a file changed between the runs
is uploaded again (under its content-suffixed key: the first original is kept)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from photo_factory import jpeg_bytes

from shoebox.ingest.files import disambiguate, md5_hex, original_key

COUNT = 30


def _env(home: Path) -> dict:
    return {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "1",
            "SHOEBOX_RECOGNIZER_LOCAL": "none", "SHOEBOX_RETRY_SLEEP_SCALE": "0"}


def _photo(i: int, seed: bytes = b"") -> bytes:
    # a real JPEG (the workflow processes it) padded after its end marker to ~200 KB, so the transfer
    # takes long enough under --max-bandwidth to be cut
    return jpeg_bytes((64, 48), (i * 8 % 256, 90, 120), datetime(2012, 5, 1 + i % 28, 8, i)) + seed + os.urandom(200_000)


def _versions(home: Path) -> dict[str, int]:
    import boto3

    info = json.loads((home / "service.json").read_text())
    creds = json.loads((home / "credentials.json").read_text())
    s3 = boto3.session.Session(**creds, region_name="us-east-1").client("s3", endpoint_url=info["url"])
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("photobucket"))
    counts: dict[str, int] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="originals/"):
        for v in page.get("Versions", []):
            counts[v["Key"]] = counts.get(v["Key"], 0) + 1
    return counts


def test_kill_9_mid_sync_then_rerun_uploads_each_file_exactly_once(home, tmp_path):
    folder = tmp_path / "nas"
    folder.mkdir()
    paths = []
    for i in range(COUNT):
        path = folder / f"IMG_{i:03d}.jpg"
        path.write_bytes(_photo(i))
        paths.append(path)
    cmd = [sys.executable, "-m", "shoebox", "sync", str(folder), "--json", "--concurrency", "2",
           "--max-bandwidth", "0.5"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(home))
    reported = []
    for line in first.stdout:
        reported.append(json.loads(line))
        if len(reported) == 8:
            break
    first.send_signal(signal.SIGKILL)
    first.wait()
    first.stdout.close()
    first.stderr.close()
    assert {r["status"] for r in reported} == {"uploaded"}
    assert len(_versions(home)) < COUNT  # it was cut mid-way

    changed = Path(reported[0]["source"])  # confirmed by the first run, then edited (same name and date)
    index = int(changed.stem.split("_")[1])
    changed.write_bytes(_photo(index, b"edited"))

    second = subprocess.run(cmd[:-4], capture_output=True, text=True, env=_env(home), timeout=600)
    assert second.returncode == 0, second.stderr
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    summary = lines[-1]["summary"]
    files = {line["source"]: line for line in lines[:-1]}
    assert summary["failed"] == 0 and summary["unchanged"] == 7  # the other confirmed ones are not even read
    assert files[str(changed)]["status"] == "uploaded"
    assert not {r["source"] for r in reported[1:]} & set(files)

    versions = _versions(home)
    expected = {original_key(p) for p in paths} | {disambiguate(original_key(changed), md5_hex(changed))}
    assert set(versions) == expected  # none missing, nothing else
    assert set(versions.values()) == {1}  # each written exactly once (the bucket keeps versions)

    again = subprocess.run(cmd[:-4], capture_output=True, text=True, env=_env(home), timeout=600)
    assert json.loads(again.stdout.splitlines()[-1])["summary"]["unchanged"] == COUNT
    down = subprocess.run([sys.executable, "-m", "shoebox", "down"], capture_output=True, text=True, env=_env(home))
    assert down.returncode == 0

"""The local service as users meet it: real processes, `kill -9` of the CLI and of the service, commands
at once. Nothing a command reported may be lost, and no process may be left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import boto3
from photo_factory import jpeg_bytes


def _photos(folder: Path, count: int, prefix: str = "IMG") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # another folder's photos are other photos, not byte-identical duplicates: another hour in their EXIF
    shade, hour = sum(prefix.encode()) % 50, 8 + sum(prefix.encode()) % 10
    for i in range(count):
        when = datetime(2007, 1 + i % 12, 1 + i % 28, hour, i % 60)
        (folder / f"{prefix}_{i:04d}.jpg").write_bytes(jpeg_bytes((320, 240), (i * 7 % 256, 90 + shade, 200 - i), when))
    return folder


def _env(home: Path) -> dict:
    return {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "1",
            "SHOEBOX_RECOGNIZER_LOCAL": "none", "SHOEBOX_RETRY_SLEEP_SCALE": "0"}


def _shoebox(home: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shoebox", *args], capture_output=True, text=True, env=_env(home),
                          timeout=600, **kw)


def _popen(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "shoebox", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(home))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _wait_gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if not _gone(p)]


def _clients(home: Path) -> tuple:
    info = json.loads((home / "service.json").read_text())
    creds = json.loads((home / "credentials.json").read_text())
    session = boto3.session.Session(**creds, region_name="us-east-1")
    return (session.client("s3", endpoint_url=info["url"]), session.client("dynamodb", endpoint_url=info["url"]))


def _bucket_and_table(s3, ddb) -> tuple[str, str]:
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("photobucket"))
    table = next(t for t in ddb.list_tables()["TableNames"] if t.endswith("CatalogTable"))
    return bucket, table


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def test_kill_9_of_the_cli_then_the_service_loses_nothing_reported(home, tmp_path):
    folder = _photos(tmp_path / "photos", 60)
    ingest = _popen(home, "ingest", str(folder), "--json")
    reported = []
    for line in ingest.stdout:
        reported.append(json.loads(line))
        if len(reported) == 20:
            break
    ingest.send_signal(signal.SIGKILL)  # a laptop lid, an OOM kill
    ingest.wait()
    service_pid = json.loads((home / "service.json").read_text())["pid"]
    workers = _children(service_pid)
    os.kill(service_pid, signal.SIGKILL)  # then a power cut of the service
    assert _wait_gone([service_pid, *workers]) == []  # its worker processes die with it
    assert {r["status"] for r in reported} == {"processed"}

    assert _shoebox(home, "up").returncode == 0  # restart: the state is replayed once, here
    s3, ddb = _clients(home)
    bucket, table = _bucket_and_table(s3, ddb)
    for result in reported:
        row = ddb.get_item(TableName=table, Key={"pk": {"S": f"PHOTO#{result['key']}"}, "sk": {"S": "PHOTO"}})
        assert row["Item"]["status"]["S"] == "processed", result["key"]
        for kind in ("view", "grid"):
            assert s3.head_object(Bucket=bucket, Key=result["thumbnails"][kind])["ContentLength"] > 0
    # what was uploaded but not finished at the kill (queued, or running) the restart resumes, unasked
    uploaded = _keys(s3, bucket, "originals/")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        rows = [ddb.get_item(TableName=table, Key={"pk": {"S": f"PHOTO#{key}"}, "sk": {"S": "PHOTO"}}).get("Item")
                for key in uploaded]
        if all(row and row["status"]["S"] == "processed" for row in rows):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"{len(uploaded)} uploaded before the kill, not all processed after the restart")

    again = _shoebox(home, "ingest", str(folder), "--json")
    assert again.returncode == 0, again.stderr
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert len(lines) == 60 and {r["status"] for r in lines} <= {"processed", "skipped"}
    assert {r["key"] for r in lines if r["status"] == "skipped"} >= {r["key"] for r in reported}
    originals = _keys(s3, bucket, "originals/")
    assert len(originals) == len(set(originals)) == 60 and not any("~" in k for k in originals)  # no duplicates
    thumbnails = set(_keys(s3, bucket, "thumbnails/"))
    for key in originals:
        row = ddb.get_item(TableName=table, Key={"pk": {"S": f"PHOTO#{key}"}, "sk": {"S": "PHOTO"}})
        assert row["Item"]["status"]["S"] == "processed", key
        view = key.replace("originals/", "thumbnails/", 1) + ".jpg"
        assert {view, view[:-4] + ".sm.jpg"} <= thumbnails

    service_pid = json.loads((home / "service.json").read_text())["pid"]
    workers = _children(service_pid)
    assert _shoebox(home, "down").returncode == 0
    assert _wait_gone([service_pid, *workers]) == []  # no orphans after a normal stop either


def test_a_search_answers_while_an_ingest_runs_and_two_ingests_both_complete(home, tmp_path):
    assert _shoebox(home, "up").returncode == 0
    began = time.monotonic()
    assert _shoebox(home, "search", "photos from 2007", "--json").returncode == 0
    alone = time.monotonic() - began  # the same search with nothing else running
    lines: dict[str, list[dict]] = {"a": [], "b": []}
    started = threading.Event()

    def read(name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            lines[name].append(json.loads(line))
            if len(lines[name]) == 2:
                started.set()

    first = _popen(home, "ingest", str(_photos(tmp_path / "a", 40, "A")), "--json")
    readers = [threading.Thread(target=read, args=("a", first))]
    readers[0].start()
    assert started.wait(300)
    began = time.monotonic()
    found = _shoebox(home, "search", "photos from 2007", "--json")
    took = time.monotonic() - began
    assert found.returncode == 0, found.stderr
    assert first.poll() is None  # asked while the ingest was still running
    # it does not wait for the ingest (which takes far longer): 2 s, the bound, on a machine where
    # the search alone takes up to 0.67 s; where it takes longer (CI's other test worker on the same two
    # cores), three times that. Measured here, idle: 0.60 s alone, 1.20 s during the ingest
    assert took < max(2.0, 3 * alone), f"search took {took:.2f} s while an ingest ran ({alone:.2f} s alone)"

    second = _popen(home, "ingest", str(_photos(tmp_path / "b", 40, "B")), "--json")  # two at once
    readers.append(threading.Thread(target=read, args=("b", second)))
    readers[1].start()
    for reader in readers:
        reader.join(600)
    assert first.wait() == 0 and second.wait() == 0
    both = lines["a"] + lines["b"]
    assert len(both) == 80 and {r["status"] for r in both} == {"processed"}
    assert len({r["key"] for r in both}) == 80
    everything = json.loads(_shoebox(home, "search", "photos from 2007", "--json", "--limit", "500").stdout)
    assert len(everything) == 80

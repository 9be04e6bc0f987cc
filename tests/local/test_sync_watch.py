"""`shoebox sync --watch` as a real process: photos copied into the folder while it runs are uploaded
(once: a burst is one pass, a file still being written waits) and processed by the workflow."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from photo_factory import jpeg_bytes

from shoebox.ingest.files import original_key


def _env(home: Path) -> dict:
    return {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_SERVICE_AUTOSTART": "1",
            "SHOEBOX_RECOGNIZER_LOCAL": "none", "SHOEBOX_RETRY_SLEEP_SCALE": "0"}


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue, done, timeout: float = 120.0) -> list[dict]:
    seen, deadline = [], time.monotonic() + timeout
    while not done(seen):
        seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    return seen


@pytest.mark.parametrize("mode", ["--no-poll", "--poll"])
def test_files_copied_in_while_watching_are_uploaded_and_processed(home, tmp_path, mode):
    folder = tmp_path / "nas"
    folder.mkdir()
    (folder / "first.jpg").write_bytes(jpeg_bytes((64, 48), (10, 20, 30), datetime(2015, 6, 1, 12, 0)))
    watcher = subprocess.Popen([sys.executable, "-m", "shoebox", "sync", str(folder), "--watch", "--json",
                                "--settle", "0.5", mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=_env(home))
    try:
        lines = _lines(watcher)
        first = _until(lines, lambda seen: any("summary" in s for s in seen))
        assert [s["status"] for s in first if "status" in s] == ["uploaded"]

        staging = tmp_path / "card"
        staging.mkdir()
        for i in range(4):
            (staging / f"DSC_{i:04d}.jpg").write_bytes(
                jpeg_bytes((64, 48), (i * 50, 90, 120), datetime(2015, 6, 2 + i, 12, 0)))
        (folder / "card").mkdir()  # a burst: a camera card copied in, into a new folder
        copied = [Path(shutil.copy2(source, folder / "card" / source.name)) for source in sorted(staging.iterdir())]
        seen = _until(lines, lambda seen: len({s.get("source") for s in seen if s.get("status") == "uploaded"}) >= 4)
        uploaded = [s for s in seen if s.get("status") == "uploaded"]
        assert sorted(s["key"] for s in uploaded) == sorted(original_key(p) for p in copied)  # each once

        info = json.loads((home / "service.json").read_text())
        creds = json.loads((home / "credentials.json").read_text())
        ddb = boto3.session.Session(**creds, region_name="us-east-1").client("dynamodb", endpoint_url=info["url"])
        table = next(t for t in ddb.list_tables()["TableNames"] if t.endswith("CatalogTable"))
        deadline = time.monotonic() + 180
        pending = {s["key"] for s in uploaded}
        while pending and time.monotonic() < deadline:
            for key in list(pending):
                item = ddb.get_item(TableName=table, Key={"pk": {"S": f"PHOTO#{key}"}, "sk": {"S": "PHOTO"}})
                if item.get("Item", {}).get("status", {}).get("S") == "processed":
                    pending.discard(key)
            time.sleep(0.5)
        assert not pending, f"not processed: {pending}"
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(timeout=30)
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
    assert watcher.returncode == 0, watcher.stderr.read()
    watcher.stderr.close()
    assert subprocess.run([sys.executable, "-m", "shoebox", "down"], env=_env(home), capture_output=True).returncode == 0

"""The command line against the local runtime, state persisted between processes (SHOEBOX_HOME)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.cli.main import app


def _shoebox(*args: str, env: dict) -> subprocess.CompletedProcess:
    """The CLI as a user runs it: a new process, which starts the home's service in the background."""
    return subprocess.run([sys.executable, "-m", "shoebox", *args], capture_output=True, text=True,
                          env={**env, "SHOEBOX_SERVICE_AUTOSTART": "1"}, timeout=300)


def test_ingest_20_photos_then_search_in_a_second_process(home, tmp_path):
    folder = tmp_path / "photos"
    (folder / "2007").mkdir(parents=True)
    for i in range(20):
        year = 2007 if i < 12 else 2008
        target = folder / ("2007" if year == 2007 else "") / f"IMG_{i:04d}.jpg"
        target.write_bytes(jpeg_bytes(color=(i * 10, 100, 200 - i * 5), when=datetime(year, 1 + i % 12, 1 + i, 10, 0)))
    env = {**os.environ, "SHOEBOX_HOME": str(home), "SHOEBOX_RECOGNIZER_LOCAL": "none"}

    env.pop("SHOEBOX_LOG_LEVEL", None)
    ingest = _shoebox("ingest", str(folder), "--json", env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert '"level"' not in ingest.stderr  # the steps' INFO log lines stay out of the terminal by default
    lines = [json.loads(line) for line in ingest.stdout.splitlines()]
    assert len(lines) == 20 and {r["status"] for r in lines} == {"processed"}
    assert set(lines[0]) == {"source", "key", "status", "format", "thumbnails", "labels", "people", "faces",
                             "taken_at", "taken_source", "error", "execution", "recognition_calls", "duplicate_of"}
    assert {r["taken_source"] for r in lines} == {"exif"}
    assert all(r["recognition_calls"] == {} and r["faces"] == [] for r in lines)  # recognizer "none": no calls
    assert all(r["key"].startswith(("originals/2007/", "originals/2008/")) for r in lines)
    assert all(r["thumbnails"]["view"].startswith("thumbnails/") for r in lines)

    found = _shoebox("search", "2007", "--json", env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert len(rows) == 12
    assert set(rows[0]) == {"key", "taken_at", "labels", "people", "names", "place", "thumbnail"}
    assert [r["taken_at"] for r in rows] == sorted((r["taken_at"] for r in rows), reverse=True)

    again = _shoebox("ingest", str(folder), "--json", env=env)
    assert {(r["status"], r["recognition_calls"]) for r in map(json.loads, again.stdout.splitlines())} == {
        ("skipped", None)}  # not processed by this run: no calls to count


def test_cost_report_reads_an_ingest_run(home, tmp_path, service_factory):
    """`shoebox ingest --json` output is what scripts/report_recognition_cost.py reads: each photo processed
    by the run with the calls it made, the faces it indexed; photos the run skipped are not counted."""
    import importlib.resources
    import importlib.util
    from pathlib import Path

    pytest.importorskip("cv2")
    samples = importlib.resources.files("shoebox") / "data" / "samples"
    for name in ("astronaut.jpg", "coffee.jpg"):  # one face; no face
        (tmp_path / name).write_bytes((samples / name).read_bytes())
    service_factory("local")
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(tmp_path / "astronaut.jpg"), str(tmp_path / "coffee.jpg"), "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["ingest", str(tmp_path / "astronaut.jpg"), "--json"])
    (run := tmp_path / "runs").mkdir()
    (run / "first.jsonl").write_text(first.stdout)
    (run / "again.jsonl").write_text(again.stdout)
    by_name = {Path(r["source"]).name: r for r in map(json.loads, first.stdout.splitlines())}
    assert len(by_name["astronaut.jpg"]["faces"]) == 1 and by_name["coffee.jpg"]["faces"] == []
    shown = json.loads(runner.invoke(app, ["show", by_name["astronaut.jpg"]["key"], "--json"]).stdout)
    assert shown["recognition_calls"] == by_name["astronaut.jpg"]["recognition_calls"]
    assert shown["faces"] == by_name["astronaut.jpg"]["faces"]

    script = Path(__file__).resolve().parents[2] / "scripts" / "report_recognition_cost.py"
    spec = importlib.util.spec_from_file_location("report_recognition_cost", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.report(module.collect([run]), module.load_prices())
    assert result["photos"] == 2 and result["photos_by_status"] == {"processed": 2}
    # the local recognizer reports its calls under the Rekognition names they stand for
    assert result["calls"]["DetectLabels"] == 2 and result["calls"]["IndexFaces"] == 1
    assert result["faces_per_1000_photos"] == 500.0
    # priced as the mode the run used: local bills no Rekognition call; the modes price the same photos
    local = module.report(module.collect([run]), module.load_prices(), "local")
    assert local["usd_per_1000_photos"]["calls"] == 0 and local["offline_calls"]["IndexFaces"] == 1
    hybrid = module.report(module.collect([run]), module.load_prices(), "hybrid")
    assert hybrid["usd_per_1000_photos"]["by_api"] == {"DetectLabels": 1.0}  # 2 photos, $0.001 each
    modes = local["modes_usd_per_1000_photos"]
    assert modes["local"]["calls"] == 0 and modes["hybrid"]["calls"] == 1.0
    # rekognition would have made DetectLabels 2 + IndexFaces 1 + SearchFaces 1 (its default grouping)
    assert modes["rekognition"]["calls"] == pytest.approx(1000 * (0.002 + 0.001 + 0.001) / 2)


def test_failed_photo_is_listed_and_its_error_readable(home, tmp_path, service):
    good = jpeg_bytes((900, 700))
    (tmp_path / "broken.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "fine.jpg").write_bytes(good)
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(tmp_path / "broken.jpg"), str(tmp_path / "fine.jpg"), "--json"])
    assert result.exit_code == 2  # some failed
    by_name = {json.loads(l)["source"].rsplit("/", 1)[-1]: json.loads(l) for l in result.stdout.splitlines()}
    assert by_name["broken.jpg"]["status"] == "failed" and by_name["fine.jpg"]["status"] == "processed"

    listed = json.loads(runner.invoke(app, ["executions", "--failed", "--json"]).stdout)
    assert [(e["key"], e["status"], e["failed_state"]) for e in listed] == [(by_name["broken.jpg"]["key"], "FAILED", "Thumbnail")]
    assert listed[0]["error"].startswith("ImageError: truncated jpeg")
    assert set(listed[0]) == {"execution", "key", "status", "start", "stop", "duration_ms", "failed_state", "error"}

    shown = json.loads(runner.invoke(app, ["execution", "show", by_name["broken.jpg"]["key"], "--json"]).stdout)
    assert set(shown) >= {"execution", "status", "input", "output", "states"}
    thumb = next(s for s in shown["states"] if s["name"] == "Thumbnail")
    assert thumb["status"] == "failed" and thumb["error"].startswith("ImageError: truncated jpeg")
    assert set(thumb) == {"name", "status", "start", "duration_ms", "retries", "error"}

    record = json.loads(runner.invoke(app, ["show", by_name["fine.jpg"]["key"], "--json"]).stdout)
    assert record["status"] == "processed" and record["thumbnails"]["grid"]["width"] == 320
    out = tmp_path / "grid.jpg"
    assert runner.invoke(app, ["get", record["thumbnails"]["grid"]["key"], "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:2] == b"\xff\xd8"


def test_usage_errors_exit_1(home, tmp_path):
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "missing")])
    assert result.exit_code == 1


def test_file_names_with_brackets_print_as_they_are(home, tmp_path, service):
    """Rich reads "[...]" as markup: "IMG [edited].jpg" showed as "IMG .jpg" in the ingest table."""
    (tmp_path / "IMG [edited].jpg").write_bytes(jpeg_bytes((64, 48)))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "IMG [edited].jpg" in result.stdout


def test_an_ingest_line_counts_only_this_runs_calls():
    """A run whose execution failed before writing a record finds the earlier run's record: its calls were
    that run's, so the line carries none (the cost report does not count them twice)."""
    from pathlib import Path

    from shoebox.cli.backends import Upload, _result
    from shoebox.models import PhotoRecord

    old = PhotoRecord(key="originals/a.jpg", status="processed", execution="arn:old",
                      recognition_calls={"DetectLabels": 1})
    upload = Upload(Path("a.jpg"), "originals/a.jpg")
    assert _result(upload, old, execution="arn:old")["recognition_calls"] == {"DetectLabels": 1}
    assert _result(upload, old, execution="arn:new", status="failed")["recognition_calls"] is None
    assert _result(upload, old, status="skipped")["recognition_calls"] is None

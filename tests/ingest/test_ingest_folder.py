"""Acceptance (issue 19): a real-looking photo folder through `shoebox ingest`, then what the catalog,
search, on-this-day, duplicates and forget make of it."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path

from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.cli.main import app

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="4"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Low tide</rdf:li></rdf:Alt></dc:title>
  <dc:subject><rdf:Bag><rdf:li>Tidepool</rdf:li><rdf:li>Étretat</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""


def _folder(root: Path) -> Path:
    f = root / "photos"
    (f / "2018" / "05" / "06").mkdir(parents=True)
    (f / "takeout").mkdir()
    colour = iter(range(10, 250, 12))

    def jpeg(rel: str, when: datetime | None = None) -> Path:
        c = next(colour)
        (f / rel).write_bytes(jpeg_bytes((64, 48), (c, 255 - c, 90), when=when))
        return f / rel

    original = jpeg("a_original.jpg", datetime(2006, 10, 4, 14, 3))
    (f / "z_copy.jpg").write_bytes(original.read_bytes())  # same bytes, another name
    os.symlink(f / "gone.jpg", f / "dangling.jpg")
    os.mkfifo(f / "pipe.jpg")
    elsewhere = root / "elsewhere.jpg"
    elsewhere.write_bytes(jpeg_bytes((64, 48), (1, 2, 3), when=datetime(2010, 5, 5, 9, 0)))
    os.symlink(elsewhere, f / "link.jpg")
    jpeg("IMG_1.jpg", datetime(2012, 6, 1, 8, 0))
    (f / "IMG_1.xmp").write_text(XMP)
    jpeg("IMG_2.jpg", datetime(2013, 7, 2, 8, 0))
    (f / "IMG_2.AAE").write_text("<plist/>")
    (f / "IMG_2.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")
    (f / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    jpeg("takeout/beach.jpg")
    (f / "takeout" / "beach.jpg.json").write_text(json.dumps(
        {"title": "beach.jpg", "photoTakenTime": {"timestamp": str(int(datetime(2015, 3, 3, 12).timestamp()))}}))
    jpeg("IMG_20190803_142233.jpg")
    jpeg("2018/05/06/scan.jpg")
    jpeg("no_clue.jpg")  # fresh file time only: undated
    jpeg("future.jpg", datetime(2099, 1, 1))  # a 2099 clock is not believed: undated
    return f


def test_a_real_looking_folder(service, tmp_path):
    folder = _folder(tmp_path)
    runner = CliRunner()
    done: dict = {}
    # a FIFO in the folder must not hang ingest: run it with a deadline
    worker = threading.Thread(target=lambda: done.update(r=runner.invoke(app, ["ingest", str(folder), "--json"])))
    worker.start()
    worker.join(240)
    assert not worker.is_alive(), "ingest hung"
    result = done["r"]
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    by = {Path(r["source"]).relative_to(folder).as_posix(): r for r in map(json.loads, result.stdout.splitlines())}
    status = {name: r["status"] for name, r in by.items()}
    assert status == {
        "a_original.jpg": "processed", "z_copy.jpg": "duplicate", "dangling.jpg": "skipped", "pipe.jpg": "skipped",
        "link.jpg": "processed", "IMG_1.jpg": "processed", "IMG_1.xmp": "skipped", "IMG_2.jpg": "processed",
        "IMG_2.AAE": "skipped", "IMG_2.MOV": "skipped", "Thumbs.db": "skipped", "takeout/beach.jpg": "processed",
        "takeout/beach.jpg.json": "skipped", "IMG_20190803_142233.jpg": "processed",
        "2018/05/06/scan.jpg": "processed", "no_clue.jpg": "processed", "future.jpg": "processed"}
    assert by["z_copy.jpg"]["duplicate_of"] == by["a_original.jpg"]["key"] == "originals/2006/10/04/a_original.jpg"
    assert by["z_copy.jpg"]["key"] is None
    assert by["pipe.jpg"]["error"] == "named pipe (FIFO), not a file"
    assert by["dangling.jpg"]["error"].startswith("dangling symlink")
    assert by["IMG_2.MOV"]["error"] == "Live Photo video: kept as the companion of IMG_2.jpg"
    assert by["IMG_1.xmp"]["error"] == "XMP sidecar of IMG_1.jpg"
    sources = {name: (r["taken_at"], r["taken_source"]) for name, r in by.items() if r["status"] == "processed"}
    assert sources == {
        "a_original.jpg": ("2006-10-04T14:03:00", "exif"), "link.jpg": ("2010-05-05T09:00:00", "exif"),
        "IMG_1.jpg": ("2012-06-01T08:00:00", "exif"), "IMG_2.jpg": ("2013-07-02T08:00:00", "exif"),
        "takeout/beach.jpg": ("2015-03-03T12:00:00", "takeout"),
        "IMG_20190803_142233.jpg": ("2019-08-03T14:22:33", "filename"),
        "2018/05/06/scan.jpg": ("2018-05-06T00:00:00", "folder"),
        "no_clue.jpg": (None, None), "future.jpg": (None, None)}
    assert by["no_clue.jpg"]["key"] == "originals/undated/no_clue.jpg"
    assert by["IMG_20190803_142233.jpg"]["key"] == "originals/2019/08/03/IMG_20190803_142233.jpg"

    def cli(*args: str) -> object:
        r = runner.invoke(app, list(args))
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    one = cli("show", by["IMG_1.jpg"]["key"], "--json")
    assert (one["rating"], one["title"], one["keywords"]) == (4, "Low tide", ["Tidepool", "Étretat"])
    assert cli("show", by["IMG_2.jpg"]["key"], "--json")["companion"] == "IMG_2.MOV"
    assert "Tide" not in one["labels"]  # the title's words are searchable, shown as the title
    for words in ("tidepool", "low tide", "4 stars", "rated 3 or more", "starred photos from 2012"):
        assert [r["key"] for r in cli("search", words, "--json")] == [by["IMG_1.jpg"]["key"]], words
    assert cli("search", "5 stars", "--json") == []
    assert {r["key"] for r in cli("search", "undated photos", "--json")} == {
        "originals/undated/no_clue.jpg", "originals/undated/future.jpg"}
    assert [r["key"] for r in cli("on-this-day", "--date", "2024-08-03", "--json")] == [
        by["IMG_20190803_142233.jpg"]["key"]]
    assert cli("duplicates", "--json") == [{"source": str((folder / "z_copy.jpg").absolute()),
                                            "duplicate_of": "originals/2006/10/04/a_original.jpg",
                                            "seen_at": cli("duplicates", "--json")[0]["seen_at"]}]

    # again: nothing new is stored; the copy is still a duplicate
    again = runner.invoke(app, ["ingest", str(folder), "--json", "--exclude", "takeout"])
    assert again.exit_code == 0, again.output
    statuses = {Path(r["source"]).name: r["status"] for r in map(json.loads, again.stdout.splitlines())}
    assert "beach.jpg" not in statuses and statuses["a_original.jpg"] == "skipped"
    assert statuses["z_copy.jpg"] == "duplicate"

    # forget asks first; --yes for scripts; the copy can then be ingested as the photo
    key = by["a_original.jpg"]["key"]
    refused = runner.invoke(app, ["forget", key], input="n\n")
    assert refused.exit_code == 1 and cli("show", key, "--json")["key"] == key
    gone = runner.invoke(app, ["forget", key, "--yes", "--json"])
    assert gone.exit_code == 0, gone.output
    assert json.loads(gone.stdout)[0]["removed"] is True
    assert runner.invoke(app, ["show", key]).exit_code == 1
    assert cli("duplicates", "--json") == []
    assert runner.invoke(app, ["get", key, "-o", str(tmp_path / "x.jpg")]).exit_code == 1


def test_a_file_that_failed_before_is_reported_failed_again_or_retried(service, tmp_path):
    good = jpeg_bytes((300, 200), when=datetime(2020, 2, 2, 10, 0))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(good[: len(good) // 2])
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(broken), "--json"])
    assert first.exit_code == 2
    second = runner.invoke(app, ["ingest", str(broken), "--json"])
    assert second.exit_code == 2, second.output
    row = json.loads(second.stdout)
    assert row["status"] == "failed" and row["error"].startswith("failed in an earlier run: ImageError")
    assert row["recognition_calls"] is None
    third = runner.invoke(app, ["ingest", str(broken), "--json", "--retry-failed"])
    assert third.exit_code == 2
    rerun = json.loads(third.stdout)
    assert rerun["status"] == "failed" and rerun["execution"] != json.loads(first.stdout)["execution"]

"""`shoebox sync` against the local service (in-process): only what is new or changed is uploaded, with
checksums S3 keeps; a changed file is uploaded again under ingest's key rules; --dry-run uploads nothing;
--wait polls the catalog once per round."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.cli.main import app
from shoebox.ingest.files import original_key


def _photos(folder: Path, count: int, prefix: str = "IMG") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:03d}.jpg"
        path.write_bytes(jpeg_bytes((96, 64), (i * 40 % 256, 90, 200 - i), datetime(2011, 3, 1 + i, 9, 0)))
        paths.append(path)
    return paths


def _sync(*args: str) -> tuple[int, list[dict], dict]:
    result = CliRunner().invoke(app, ["sync", *args, "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    files = [line for line in lines if "summary" not in line]
    summary = next((line["summary"] for line in lines if "summary" in line), {})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, files, summary


def _versions(rt, prefix: str = "originals/") -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in rt.s3.get_paginator("list_object_versions").paginate(Bucket=rt.bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            counts[v["Key"]] = counts.get(v["Key"], 0) + 1
    return counts


def test_sync_uploads_new_files_once_and_a_changed_file_again(service, tmp_path):
    rt = service.runtime
    paths = _photos(tmp_path / "nas", 4)
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0
    assert sorted(f["status"] for f in files) == ["uploaded"] * 4
    assert {f["key"] for f in files} == {original_key(p) for p in paths}
    head = rt.s3.head_object(Bucket=rt.bucket, Key=original_key(paths[0]), ChecksumMode="ENABLED")
    import base64
    import hashlib

    digest = hashlib.sha256(paths[0].read_bytes()).digest()
    assert head["Metadata"]["sha256"] == digest.hex()
    assert head["ChecksumSHA256"] == base64.b64encode(digest).decode()  # S3 keeps the checksum sent

    code, files, summary = _sync(str(tmp_path / "nas"))  # nothing changed: nothing looked at
    assert code == 0 and files == [] and summary["unchanged"] == 4 and summary["uploaded"] == 0

    changed = paths[1]
    changed.write_bytes(jpeg_bytes((96, 64), (1, 2, 3), datetime(2011, 3, 2, 9, 0)))  # same name and date
    new = _photos(tmp_path / "more", 5)[-1].rename(tmp_path / "nas" / "IMG_004.jpg")
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0 and summary["unchanged"] == 3
    by_source = {f["source"]: f for f in files}
    assert set(by_source) == {str(changed), str(new)}
    assert {f["status"] for f in files} == {"uploaded"}
    changed_key = next(f["key"] for f in files if f["source"].endswith(changed.name))
    assert changed_key != original_key(changed) and "~" in changed_key  # both versions kept, no overwrite
    versions = _versions(rt)
    assert len(versions) == 6 and set(versions.values()) == {1}  # every object written exactly once


def test_a_file_already_in_the_archive_is_recorded_not_uploaded(service, tmp_path):
    rt = service.runtime
    path = _photos(tmp_path / "nas", 1)[0]
    rt.s3.put_object(Bucket=rt.bucket, Key=original_key(path), Body=path.read_bytes())  # e.g. an ingest
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0 and [f["status"] for f in files] == ["present"] and summary["uploaded"] == 0
    assert _versions(rt) == {original_key(path): 1}
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert files == [] and summary["unchanged"] == 1


def test_dry_run_uploads_nothing_and_prices_the_upload(service, tmp_path):
    rt = service.runtime
    _photos(tmp_path / "nas", 3)
    code, files, summary = _sync(str(tmp_path / "nas"), "--dry-run")
    assert code == 0 and [f["status"] for f in files] == ["would-upload"] * 3
    assert summary["estimate"]["photos"] == 3 and summary["estimate"]["cost_usd"]["total"] >= 0
    assert set(summary["estimate"]["cost_usd"]) >= {"total", "rekognition", "s3_storage_monthly"}
    assert _versions(rt) == {}
    code, files, summary = _sync(str(tmp_path / "nas"), "--dry-run")  # and remembered nothing
    assert len(files) == 3
    result = CliRunner().invoke(app, ["sync", str(tmp_path / "nas"), "--dry-run"])
    assert result.exit_code == 0 and "would upload" in result.stdout and "estimated $" in result.stdout


def test_large_files_go_in_parts_with_checksums(service, tmp_path):
    from shoebox.ingest.sync import SyncOptions, run_sync
    from shoebox.ingest.sync_state import SyncState

    rt = service.runtime
    folder = tmp_path / "raw"
    folder.mkdir()
    big = folder / "DSC_0001.nef"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    sent = []
    state = SyncState(tmp_path / "state.sqlite", "t")
    options = SyncOptions(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, concurrency=3)
    report = run_sync(rt.s3, rt.bucket, state, [folder], options, on_bytes=sent.append)
    assert [r.status for r in report.results] == ["uploaded"]
    key = report.results[0].key
    head = rt.s3.head_object(Bucket=rt.bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    assert rt.s3.get_object(Bucket=rt.bucket, Key=key)["Body"].read() == big.read_bytes()
    assert sum(sent) == big.stat().st_size
    again = run_sync(rt.s3, rt.bucket, state, [folder], options)
    assert again.results == [] and again.unchanged == 1
    state.close()
    # the state lost (a new machine): the same content is recognised in the bucket, not sent again
    fresh = SyncState(tmp_path / "other.sqlite", "t")
    report = run_sync(rt.s3, rt.bucket, fresh, [folder], options)
    assert [r.status for r in report.results] == ["present"]
    assert _versions(rt) == {key: 1}
    fresh.close()


def test_wait_polls_the_catalog_once_per_round(service, tmp_path):
    from shoebox.catalog import Catalog
    from shoebox.ingest.sync import SyncOptions, run_sync, wait_processed
    from shoebox.ingest.sync_state import SyncState

    rt = service.runtime
    _photos(tmp_path / "nas", 5)
    state = SyncState(tmp_path / "state.sqlite", "t")
    report = run_sync(rt.s3, rt.bucket, state, [tmp_path / "nas"], SyncOptions())
    uploaded = {r.key: r.etag for r in report.results}
    assert len(uploaded) == 5

    class Counting:
        def __init__(self) -> None:
            self.catalog = Catalog(rt.table)
            self.calls = 0

        def get_photos(self, keys):
            self.calls += 1
            return self.catalog.get_photos(keys)

    counting = Counting()
    rows = wait_processed(counting, uploaded, poll_seconds=0.05, timeout=120)
    assert set(rows) == set(uploaded) and all(r is not None and r.status == "processed" for r in rows.values())
    assert 1 <= counting.calls  # one BatchGetItem a round whatever the number of photos: no get_photo used
    state.close()


def test_sidecars_are_not_uploaded_and_copies_are_not_stored_again(service, tmp_path):
    """ingest's walk and duplicate rules: an XMP sidecar travels as metadata of its photo, a second copy
    of the same bytes is not stored again (and not read again by the next sync)."""
    rt = service.runtime
    photo = _photos(tmp_path / "nas" / "a", 1)[0]
    (photo.parent / (photo.stem + ".xmp")).write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/></rdf:RDF></x:xmpmeta>')
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0 and summary["skipped"] == 1  # the sidecar
    (uploaded,) = [f for f in files if f["status"] == "uploaded"]
    meta = rt.s3.head_object(Bucket=rt.bucket, Key=uploaded["key"])["Metadata"]
    assert meta.get("taken-at", "").startswith("2011-03-01") and '"rating": 4' in meta.get("xmp", "")
    # a copy of the same bytes found later (same name and day: its key holds these bytes) is not stored
    # again
    copy = tmp_path / "nas" / "b" / photo.name
    copy.parent.mkdir()
    copy.write_bytes(photo.read_bytes())
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0 and [f["status"] for f in files] == ["present"]
    assert list(_versions(rt)) == [uploaded["key"]]
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert files == [] and summary["unchanged"] == 2


def test_two_folders_with_the_same_name_and_day_keep_both(service, tmp_path):
    """Different photos under one name and day in two folders, synced at once: both kept (one under the
    content-suffixed key), none overwritten, whatever order the workers run in."""
    rt = service.runtime
    a = _photos(tmp_path / "nas" / "a", 1)[0]
    b = tmp_path / "nas" / "b" / a.name
    b.parent.mkdir()
    b.write_bytes(jpeg_bytes((96, 64), (250, 250, 0), datetime(2011, 3, 1, 9, 0)))
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0 and sorted(f["status"] for f in files) == ["uploaded", "uploaded"]
    keys = {f["key"] for f in files}
    assert len(keys) == 2 and original_key(a) in keys
    assert _versions(rt) == dict.fromkeys(keys, 1)


def test_identical_files_in_one_sync_store_the_first_in_walk_order_with_its_sidecar(service, tmp_path,
                                                                                    monkeypatch):
    """Copies synced together: the walk's first (here the one with an XMP sidecar) is stored, whatever
    hash finishes first (the first is made the slowest to read); the others are duplicates of it. Other
    files of the same size still upload."""
    import time

    import shoebox.ingest.sync as sync_module

    rt = service.runtime
    real_plan = sync_module.plan_photo

    def slow_first(photo_file, *args, **kwargs):
        if photo_file.path.parent.name == "a":
            time.sleep(0.5)
        return real_plan(photo_file, *args, **kwargs)

    monkeypatch.setattr(sync_module, "plan_photo", slow_first)
    photo = _photos(tmp_path / "nas" / "a", 1)[0]
    (photo.parent / (photo.stem + ".xmp")).write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>')
    for i in range(6):
        copy = tmp_path / "nas" / f"b{i}" / f"copy_{i}.jpg"
        copy.parent.mkdir()
        copy.write_bytes(photo.read_bytes())
    other = tmp_path / "nas" / "c" / "other.jpg"  # same size, other bytes: not a copy
    other.parent.mkdir()
    body = bytearray(photo.read_bytes())
    body[-3] ^= 0xFF
    other.write_bytes(bytes(body))
    code, files, summary = _sync(str(tmp_path / "nas"))
    assert code == 0
    by_source = {Path(f["source"]).relative_to(tmp_path / "nas").as_posix(): f for f in files}
    stored = by_source[f"a/{photo.name}"]
    assert stored["status"] == "uploaded" and stored["key"] == original_key(photo)
    assert all(by_source[f"b{i}/copy_{i}.jpg"]["status"] == "duplicate" for i in range(6))
    assert all(stored["key"] in by_source[f"b{i}/copy_{i}.jpg"]["error"] for i in range(6))
    assert by_source["c/other.jpg"]["status"] == "uploaded"
    meta = rt.s3.head_object(Bucket=rt.bucket, Key=stored["key"])["Metadata"]
    assert '"rating": 5' in meta.get("xmp", "")

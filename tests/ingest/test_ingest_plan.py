"""Keys, the S3 metadata hand-over to the workflow, and in-run duplicates."""

from __future__ import annotations

from datetime import date, datetime

from photo_factory import jpeg_bytes

from shoebox.ingest.dates import Dated
from shoebox.ingest.plan import duplicate_of, key_for, plan, read_s3_metadata, s3_metadata
from shoebox.ingest.walk import walk
from shoebox.ingest.xmp import XmpData
from shoebox.search.query import Vocabulary, parse
from shoebox.steps.records import capture, record_from_state
from shoebox.steps.state import PhotoState


def test_keys_dated_and_undated():
    assert key_for("IMG #1.jpg", datetime(2019, 8, 3, 14, 0)) == "originals/2019/08/03/IMG _1.jpg"
    assert key_for("scan.jpg", None) == "originals/undated/scan.jpg"


def test_metadata_round_trip_is_ascii_and_fits():
    xmp = XmpData(rating=5, title="Étretat", keywords=tuple(f"keyword {i}" for i in range(400)))
    meta = s3_metadata(Dated(datetime(2019, 8, 3, 14, 22, 33), "filename"), xmp, "IMG_1 é.MOV")
    assert all(v.isascii() for v in meta.values())
    assert sum(len(k) + len(v) for k, v in meta.items()) < 2048  # S3's limit on user metadata
    back = read_s3_metadata({k.upper(): v for k, v in meta.items()})  # S3 lower-cases; either way
    assert back["taken_at"] == "2019-08-03T14:22:33" and back["taken_source"] == "filename"
    assert back["title"] == "Étretat" and back["companion"] == "IMG_1 é.MOV" and back["rating"] == 5
    assert 0 < len(back["keywords"]) < 400 and back["keywords"][0] == "keyword 0"
    assert read_s3_metadata({"xmp": "{not json", "taken-at": "yesterday"}) == {}
    assert s3_metadata(Dated(None, None), XmpData(), None) == {}


def test_the_record_prefers_exif_then_ingest_then_the_key():
    ingested = {"taken_at": "2019-08-03T14:22:33", "taken_source": "filename"}
    assert capture({"taken_at": "2010-01-01T00:00:00", "taken_source": "exif"}, ingested) == ("2010-01-01T00:00:00", "exif")
    assert capture({"taken_at": "2019-08-03", "taken_source": "key"}, ingested) == ("2019-08-03T14:22:33", "filename")
    assert capture({"taken_at": "2019-08-03", "taken_source": "key"}, {}) == ("2019-08-03", "key")
    assert capture({}, {}) == (None, None)
    record = record_from_state(PhotoState.from_event({
        "key": "originals/undated/a.jpg", "labels": [{"name": "Beach", "confidence": 90}],
        "ingest": {"keywords": ["beach", "Holiday"], "rating": 3}}), status="processed")
    assert [label["name"] for label in record.labels] == ["Beach", "Holiday"] and record.rating == 3
    assert record.keywords == ["beach", "Holiday"]


def test_plan_dates_and_keys_the_photos_of_a_walk(tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(when=datetime(2006, 10, 4, 14, 3)))
    (tmp_path / "c.jpg").write_bytes(jpeg_bytes(color=(1, 2, 3)))
    planned = plan(walk([tmp_path]))
    assert [(p.key, p.dated.source) for p in planned] == [("originals/2006/10/04/a.jpg", "exif"),
                                                           ("originals/undated/c.jpg", None)]
    assert len(planned[0].sha256) == 64 and len(planned[0].md5) == 32


def test_which_key_a_copy_duplicates():
    k = "originals/2006/10/04/b.jpg"
    own = {k, "originals/2006/10/04/b~0123abcd.jpg"}
    assert duplicate_of(k, own, "originals/2006/10/04/a.jpg", []) == "originals/2006/10/04/a.jpg"  # earlier in run
    assert duplicate_of(k, own, None, ["originals/2001/01/01/x.jpg"]) == "originals/2001/01/01/x.jpg"  # archived
    assert duplicate_of(k, own, None, [k]) is None  # the same file again: a re-ingest
    assert duplicate_of(k, own, None, ["originals/2006/10/04/b~0123abcd.jpg"]) is None
    assert duplicate_of(k, own, None, []) is None


def test_undated_in_a_query():
    vocab = Vocabulary(resolve_place=None)
    q = parse("undated photos", today=date(2026, 1, 1), vocab=vocab)
    assert q.undated and not q.unknown and not q.is_empty
    assert parse("photos without a date", today=date(2026, 1, 1), vocab=vocab).undated
    assert not parse("photos from 2007", today=date(2026, 1, 1), vocab=vocab).undated

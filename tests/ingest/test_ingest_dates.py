"""Capture dates: the source order, names, folders, plausibility, QuickTime, Takeout, XMP."""

from __future__ import annotations

import json
import os
import struct
from datetime import datetime, timedelta, timezone

import pytest
from photo_factory import jpeg_bytes

from shoebox.imaging.metadata import plausible_capture
from shoebox.ingest.dates import Embedded, capture_date, choose, file_time, from_folder, from_name, quicktime_created
from shoebox.ingest.xmp import XmpData, parse

NOW = datetime(2026, 12, 2, 12, 0)


@pytest.mark.parametrize("name, expected", [
    ("IMG_20190803_142233.jpg", datetime(2019, 8, 3, 14, 22, 33)),
    ("PXL_20190803_142233123.jpg", datetime(2019, 8, 3, 14, 22, 33)),
    ("WhatsApp Image 2019-08-03 at 14.22.33.jpeg", datetime(2019, 8, 3, 14, 22, 33)),
    ("Screenshot_2019-08-03-14-22-33.png", datetime(2019, 8, 3, 14, 22, 33)),
    ("IMG-20190803-WA0001.jpg", datetime(2019, 8, 3)),
    ("20190803_142233.jpg", datetime(2019, 8, 3, 14, 22, 33)),
    ("IMG_0001.JPG", None),
    ("IMG_20191303_000000.jpg", None),  # month 13
    ("scan 201908031.jpg", None),
])
def test_dates_in_file_names(name, expected):
    assert from_name(name) == expected


def test_dates_in_folder_paths():
    assert from_folder("/home/u/Pictures/2019/08/03") == datetime(2019, 8, 3)
    assert from_folder("/p/2019-08-03 Beach") == datetime(2019, 8, 3)
    assert from_folder("/p/2019/holiday") is None
    assert from_folder("/p/2019/13/40") is None


def test_plausibility():
    assert not plausible_capture(datetime(2099, 1, 1), "NIKON D70", NOW)  # future: always unknown
    assert not plausible_capture(datetime(1980, 1, 1), None, NOW)
    assert plausible_capture(datetime(1985, 1, 1), "Canon EOS 650", NOW)
    assert plausible_capture(datetime(2019, 8, 3), None, NOW)


def test_file_time_of_a_fresh_copy_is_no_date():
    assert file_time((NOW - timedelta(hours=2)).timestamp(), NOW) is None
    assert file_time(datetime(2015, 5, 1).timestamp(), NOW) == datetime(2015, 5, 1)


def test_source_order_and_the_record_of_it():
    def pick(**kw):
        base = dict(embedded=Embedded(), sidecar=None, takeout=None, name="x.jpg", folder="/p",
                    mtime=datetime(2015, 5, 1).timestamp(), now=NOW)
        d = choose(**{**base, **kw})
        return d.when, d.source

    exif = Embedded(datetime(2010, 1, 1), "exif")
    assert pick(embedded=exif, name="IMG_20190803_000000.jpg") == (datetime(2010, 1, 1), "exif")
    assert pick(sidecar=XmpData(taken_at=datetime(2011, 2, 2))) == (datetime(2011, 2, 2), "xmp")
    assert pick(takeout=datetime(2012, 3, 3)) == (datetime(2012, 3, 3), "takeout")
    assert pick(name="IMG_20190803_101010.jpg", folder="/p/2018/01/01") == (datetime(2019, 8, 3, 10, 10, 10), "filename")
    assert pick(folder="/p/2018/01/01") == (datetime(2018, 1, 1), "folder")
    assert pick() == (datetime(2015, 5, 1), "file-time")
    assert pick(mtime=NOW.timestamp()) == (None, None)  # undated
    # a 2099 EXIF date is not believed: the next source decides
    assert pick(embedded=Embedded(datetime(2099, 1, 1), "exif", "NIKON D70"), folder="/p/2018/01/01") == (
        datetime(2018, 1, 1), "folder")
    assert pick(embedded=Embedded(datetime(1980, 1, 1), "exif"), mtime=NOW.timestamp()) == (None, None)
    assert pick(embedded=Embedded(datetime(1985, 1, 1), "exif", "Canon T90")) == (datetime(1985, 1, 1), "exif")


def test_capture_date_of_real_files(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg_bytes(when=datetime(2006, 10, 4, 14, 3)))
    assert capture_date(photo) .source == "exif"
    named = tmp_path / "IMG_20190803_142233.jpg"
    named.write_bytes(jpeg_bytes())
    assert (capture_date(named).when, capture_date(named).source) == (datetime(2019, 8, 3, 14, 22, 33), "filename")
    take = tmp_path / "b.jpg"
    take.write_bytes(jpeg_bytes())
    (tmp_path / "b.jpg.json").write_text(json.dumps({"photoTakenTime": {"timestamp": "1564842153"}}))
    dated = capture_date(take, takeout_json=tmp_path / "b.jpg.json")
    assert dated.source == "takeout" and dated.when == datetime.fromtimestamp(1564842153)
    stale = tmp_path / "c.jpg"
    stale.write_bytes(jpeg_bytes())
    os.utime(stale, (datetime(2011, 3, 9).timestamp(),) * 2)
    assert capture_date(stale).source == "file-time"
    fresh = tmp_path / "d.jpg"
    fresh.write_bytes(jpeg_bytes())
    assert capture_date(fresh).when is None


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_quicktime_creation_time(tmp_path):
    seconds = int((datetime(2019, 8, 3, 12, 0, tzinfo=timezone.utc) - datetime(1904, 1, 1, tzinfo=timezone.utc)).total_seconds())
    mvhd = _box(b"mvhd", b"\x00\x00\x00\x00" + struct.pack(">II", seconds, seconds) + b"\x00" * 88)
    movie = _box(b"ftyp", b"qt  \x00\x00\x00\x00") + _box(b"free", b"") + _box(b"moov", mvhd)
    (tmp_path / "v.mov").write_bytes(movie)
    expected = datetime(2019, 8, 3, 12, 0, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
    assert quicktime_created(tmp_path / "v.mov") == expected
    assert capture_date(tmp_path / "v.mov").source == "quicktime"
    (tmp_path / "zero.mov").write_bytes(_box(b"moov", _box(b"mvhd", b"\x00" * 100)))
    assert quicktime_created(tmp_path / "zero.mov") is None
    (tmp_path / "junk.mov").write_bytes(b"\x00\x00\x00\x01moov")
    assert quicktime_created(tmp_path / "junk.mov") is None


XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmp:Rating="4" photoshop:DateCreated="2018-06-01T09:30:00+02:00">
  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Sunset at Étretat</rdf:li></rdf:Alt></dc:title>
  <dc:subject><rdf:Bag><rdf:li>beach</rdf:li><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_xmp_rating_title_keywords_date():
    data = parse(XMP)
    assert data == XmpData(rating=4, title="Sunset at Étretat", keywords=("beach", "holiday"),
                           taken_at=datetime(2018, 6, 1, 9, 30))
    assert parse("not xml").is_empty()
    elements = parse(XMP.replace('xmp:Rating="4"', "").replace("</rdf:Description>",
                                                                "<xmp:Rating>5</xmp:Rating></rdf:Description>"))
    assert elements.rating == 5

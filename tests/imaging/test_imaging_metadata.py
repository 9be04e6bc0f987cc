"""Capture time, camera, lens and GPS from EXIF (JPEG, HEIC, RAW) and the key-date fallback."""

from __future__ import annotations

import io

import pytest

from imaging_samples import exif_bytes, jpeg_bytes, make_dng, marked
from shoebox.imaging import PhotoMetadata, date_from_key
from shoebox.imaging.pipeline import render
from shoebox.imaging.metadata import camera_name, gps_from_ifd, parse_exif_datetime


@pytest.mark.parametrize(
    "key, expected",
    [
        ("originals/2006/10/04/IMG_1.NEF", "2006-10-04"),
        ("originals/2016/02/29/a.jpg", "2016-02-29"),
        ("originals/2015/02/29/a.jpg", None),  # not a leap year
        ("originals/2006/13/04/a.jpg", None),
        ("originals/misc/a.jpg", None),
        ("originals/2006/10/a.jpg", None),
        ("", None),
    ],
)
def test_date_from_key(key, expected):
    assert date_from_key(key) == expected


@pytest.mark.parametrize(
    "value, offset, expected",
    [
        ("2006:10:04 12:34:56", None, "2006-10-04T12:34:56"),
        ("2006:10:04 12:34:56", "+02:00", "2006-10-04T12:34:56+02:00"),
        ("2006:10:04 12:34:56", "-05:30", "2006-10-04T12:34:56-05:30"),
        ("2006:10:04 12:34:56\x00", "   ", "2006-10-04T12:34:56"),
        (b"2006:10:04 12:34:56", None, "2006-10-04T12:34:56"),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        ("2006:02:30 10:00:00", None, None),
        (None, "+01:00", None),
    ],
)
def test_parse_exif_datetime(value, offset, expected):
    assert parse_exif_datetime(value, offset) == expected


@pytest.mark.parametrize(
    "make, model, expected",
    [
        ("NIKON CORPORATION", "NIKON D70", "NIKON D70"),
        ("Canon", "Canon EOS 5D Mark II", "Canon EOS 5D Mark II"),
        ("Apple", "iPhone 12", "Apple iPhone 12"),
        ("SONY", None, "SONY"),
        (None, "X100", "X100"),
        ("  ", "\x00", None),
    ],
)
def test_camera_name(make, model, expected):
    assert camera_name(make, model) == expected


def test_gps_signs_altitude_and_null_island():
    ifd = {1: "S", 2: (33.0, 51.0, 36.0), 3: "W", 4: (151.0, 12.0, 0.0), 5: b"\x01", 6: 10.0}
    assert gps_from_ifd(ifd) == {"lat": -33.86, "lon": -151.2, "alt": -10.0}
    assert gps_from_ifd({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}) is None
    assert gps_from_ifd({1: "N", 2: (1.0, 2.0)}) is None
    assert gps_from_ifd({}) is None


def _jpeg_with(**exif) -> bytes:
    return jpeg_bytes(marked((120, 80)), exif=exif_bytes(**exif))


def test_jpeg_metadata_full():
    data = _jpeg_with(
        taken="2007:07:14 18:05:09",
        offset="+02:00",
        make="NIKON CORPORATION",
        model="NIKON D70",
        lens="18-70mm f/3.5-4.5",
        gps=(48.8584, 2.2945),
    )
    md = render(data, key="originals/1999/01/01/x.jpg").metadata
    assert md.taken_at == "2007-07-14T18:05:09+02:00"
    assert md.camera == "NIKON D70"
    assert md.lens == "18-70mm f/3.5-4.5"
    assert md.gps["lat"] == pytest.approx(48.8584, abs=1e-5)
    assert md.gps["lon"] == pytest.approx(2.2945, abs=1e-5)
    assert md.gps["alt"] == pytest.approx(123.5)


def test_taken_at_falls_back_to_key_then_none():
    data = _jpeg_with(make="Canon", model="Canon PowerShot A80")
    assert render(data, key="originals/2004/05/06/IMG_0001.JPG").metadata.taken_at == "2004-05-06"
    assert render(data, key="originals/unsorted/IMG_0001.JPG").metadata.taken_at is None
    assert render(data).metadata == PhotoMetadata(None, "Canon PowerShot A80", None, None)


def test_heic_metadata():
    buf = io.BytesIO()
    marked((96, 64)).save(
        buf, "HEIF", exif=exif_bytes(taken="2019:08:01 09:10:11", offset="-07:00", make="Apple", model="iPhone XS",
                                     gps=(37.7749, -122.4194)), quality=60,
    )
    md = render(buf.getvalue()).metadata
    assert md.taken_at == "2019-08-01T09:10:11-07:00"
    assert md.camera == "Apple iPhone XS"
    assert md.gps["lat"] == pytest.approx(37.7749, abs=1e-5) and md.gps["lon"] == pytest.approx(-122.4194, abs=1e-5)


@pytest.mark.parametrize("with_preview", [True, False])
def test_raw_metadata_from_container(with_preview):
    dng = make_dng(
        (128, 96),
        preview=marked((128, 96)) if with_preview else None,
        make="NIKON CORPORATION",
        model="NIKON D70",
        taken="2006:10:04 07:08:09",
        gps=(-33.8568, 151.2153),
        lens="AF-S DX 18-70mm",
    )
    md = render(dng, key="originals/2001/01/01/x.dng").metadata
    assert md.taken_at == "2006-10-04T07:08:09"
    assert md.camera == "NIKON D70"
    assert md.lens == "AF-S DX 18-70mm"
    assert md.gps["lat"] == pytest.approx(-33.8568, abs=1e-4) and md.gps["lon"] == pytest.approx(151.2153, abs=1e-4)


def test_raw_without_exif_date_uses_key():
    dng = make_dng((64, 48), taken=None)
    assert render(dng, key="originals/2006/10/04/IMG_1.DNG").metadata.taken_at == "2006-10-04"

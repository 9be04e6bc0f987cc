"""Sharing: expiring presigned links only; albums as a page."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from photo_factory import jpeg_bytes
from shoebox.cli.main import app
from shoebox.sharing import album_html, parse_expiry, presign, SharedPhoto


def test_expiry_parsing_and_the_seven_day_cap():
    assert parse_expiry("30m") == 1800 and parse_expiry("7d") == 604800 and parse_expiry("90") == 90
    for bad in ("8d", "0", "soon", "-1h"):
        with pytest.raises(ValueError):
            parse_expiry(bad)


def test_presigned_link_expires_and_carries_no_public_grant():
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        url = presign(s3, "photos", "thumbnails/a.jpg.jpg", 3600)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query


def test_album_page_escapes_names_and_links_every_photo():
    page = album_html("Holiday <2007>", [SharedPhoto("originals/x/<b>.jpg", "2007-07-14", "https://v?a=1&b=2", "https://g")],
                      "2030-01-01")
    assert "Holiday &lt;2007&gt;" in page and "&lt;b&gt;.jpg" in page and "https://v?a=1&amp;b=2" in page


def test_share_from_the_local_runtime_writes_an_album_folder(home, tmp_path):
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(jpeg_bytes(when=datetime(2007, 7, 14, 10, 0)))
    runner = CliRunner()
    key = json.loads(runner.invoke(app, ["ingest", str(photo), "--json"]).stdout)["key"]
    result = runner.invoke(app, ["share", key, "--expires", "2d", "--out", str(tmp_path / "album"), "--json"])
    assert result.exit_code == 0, result.output
    shared = json.loads(result.stdout)
    assert shared["photos"][0]["key"] == key and "X-Amz-Expires=172800" in shared["photos"][0]["view"]
    page = (tmp_path / "album" / "index.html").read_text()
    assert "grid-originals_2007_07_14_IMG_1.jpg.jpg" in page
    assert (tmp_path / "album" / "view-originals_2007_07_14_IMG_1.jpg.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert runner.invoke(app, ["share", "originals/none.jpg"]).exit_code == 1

"""Sharing: expiring presigned links only; albums as a page."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from photo_factory import jpeg_bytes
from shoebox.cli.main import app
from shoebox.sharing import album_html, parse_expiry, presign, SharedPhoto


def test_expiry_parsing_and_the_seven_day_cap():
    assert parse_expiry("30m") == 1800 and parse_expiry("7d") == 604800 and parse_expiry("1w") == 604800
    for bad in ("8d", "0", "7", "90", "soon", "-1h", "0d"):
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


def test_share_from_the_local_runtime_writes_an_album_folder(home, tmp_path, service):
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(jpeg_bytes(when=datetime(2007, 7, 14, 10, 0)))
    runner = CliRunner()
    key = json.loads(runner.invoke(app, ["ingest", str(photo), "--json"]).stdout)["key"]
    result = runner.invoke(app, ["share", key, "--expires", "2d", "--out", str(tmp_path / "album"), "--json"])
    assert result.exit_code == 0, result.output
    shared = json.loads(result.stdout)
    # local: no S3 link (it could not work) and no expiry; the album's own file instead
    assert shared["photos"][0]["key"] == key and shared["expires"] is None
    assert shared["photos"][0]["view"].startswith(str(tmp_path / "album" / "view-"))
    assert "does not expire" in runner.invoke(app, ["share", key, "--out", str(tmp_path / "a2")]).stdout
    nothing = runner.invoke(app, ["share", "--query", "zebras in Lima"])
    assert nothing.exit_code == 1 and "no photo matches" in nothing.output
    page = (tmp_path / "album" / "index.html").read_text()
    (view,) = re.findall(r'<a href="([^"]+)"', page)
    (grid,) = re.findall(r'<img loading="lazy" src="([^"]+)"', page)
    assert view.startswith("view-") and grid.startswith("grid-")
    for name in (view, grid):
        assert (tmp_path / "album" / name).read_bytes()[:2] == b"\xff\xd8"
    assert runner.invoke(app, ["share", "originals/none.jpg"]).exit_code == 1


def test_local_file_names_are_one_per_key_short_and_safe_in_a_link():
    from shoebox.cli.common import local_name

    flattened_alike = ["thumbnails/Trip_2007/a.jpg.sm.jpg", "thumbnails/Trip/2007_a.jpg.sm.jpg"]
    assert len({local_name(k) for k in flattened_alike}) == 2
    for key in ["thumbnails/Scan #3?.jpg", "thumbnails/" + "x" * 1000 + ".jpg", "thumbnails/%41.JPG"]:
        name = local_name(key, "grid-")
        assert name == local_name(key, "grid-") and len(name) < 40 and name.startswith("grid-")
        assert re.fullmatch(r"[a-z0-9.-]+", name), name


def test_objects_that_are_gone_or_not_readable_are_left_out_and_other_errors_raised(tmp_path):
    """A deployed stack answers 403 AccessDenied for a missing key when the caller may not list the
    bucket: both that and NoSuchKey mean "no image", not a crash; a throttled S3 is an error."""
    import io

    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    from shoebox.cli.common import save_objects

    s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", "AccessDenied", http_status_code=403,
                              expected_params={"Bucket": "b", "Key": "k1"})
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404,
                              expected_params={"Bucket": "b", "Key": "k2"})
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(b"jpeg"), 4)},
                          expected_params={"Bucket": "b", "Key": "k3"})
        assert save_objects(s3, "b", {"k1": "1.jpg", "k2": "2.jpg", "k3": "3.jpg"}, tmp_path) == {"k3": "3.jpg"}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["3.jpg"]
        stub.add_client_error("get_object", "SlowDown", http_status_code=503)
        with pytest.raises(ClientError):
            save_objects(s3, "b", {"k4": "4.jpg"}, tmp_path)


def test_a_photo_whose_thumbnails_are_gone_is_left_out_of_a_local_album(home, tmp_path, service):
    runner = CliRunner()
    keys = []
    for day in (14, 15):
        photo = tmp_path / f"IMG_{day}.jpg"
        photo.write_bytes(jpeg_bytes(when=datetime(2007, 7, day, 10, 0)))
        keys.append(json.loads(runner.invoke(app, ["ingest", str(photo), "--json"]).stdout)["key"])
    rt = service.runtime
    grid = rt.s3.list_objects_v2(Bucket=rt.bucket, Prefix=keys[0].replace("originals/", "thumbnails/"))
    for obj in grid["Contents"]:
        rt.s3.delete_object(Bucket=rt.bucket, Key=obj["Key"])
    result = runner.invoke(app, ["share", *keys, "--out", str(tmp_path / "album"), "--json"])
    assert result.exit_code == 0, result.output
    assert [p["key"] for p in json.loads(result.stdout)["photos"]] == [keys[1]]
    assert "1 photo(s)" in (tmp_path / "album" / "index.html").read_text()
    alone = runner.invoke(app, ["share", keys[0], "--out", str(tmp_path / "none")])
    assert alone.exit_code == 1 and "nothing to share" in alone.output

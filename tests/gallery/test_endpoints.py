"""The gallery's endpoints without a browser: paging, jumps, photo view, images, the token, no Scan."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest


YEARS = (2019, 2020, 2021)
PER_YEAR = 20
UNDATED = 5
PARIS = {"city": "Paris", "region": "Île-de-France", "country": "France", "country_code": "FR"}


def _records(service):
    """65 photos written as the persist step writes them: 20 a year (a cat every fourth, in Paris), 5
    undated, a face of person p-1 on the newest cat and one of p-2 on the oldest."""
    from shoebox.catalog import Catalog
    from shoebox.catalog.photos import persist_photo
    from shoebox.models import PhotoRecord

    rt = service.runtime
    catalog = Catalog(rt.table)
    written = []
    for year in YEARS:
        for i in range(PER_YEAR):
            when = datetime(year, 1, 1, 9) + timedelta(days=18 * i)
            written.append((f"originals/{when:%Y/%m/%d}/IMG_{i:04d}.JPG", when.isoformat(), i % 4 == 0))
    written += [(f"originals/undated/SCAN_{i}.JPG", None, False) for i in range(UNDATED)]
    cats = sorted((w for w in written if w[2]), key=lambda w: w[1], reverse=True)
    newest_cat = cats[0]
    who = {cats[0][0]: "p-1", cats[-1][0]: "p-2"}  # p-2: the oldest cat, the same person as it turns out
    for key, taken, cat in written:
        grid = "thumbnails/" + key.split("/", 1)[1] + ".sm.jpg"
        faces = ([{"face_id": f"f-{who[key]}", "bbox": {"left": 0.1, "top": 0.2, "width": 0.3, "height": 0.3},
                   "confidence": 99.0, "person_id": who[key], "aliases": []}] if key in who else [])
        record = PhotoRecord(key=key, status="processed", taken_at=taken, format="jpeg", kind="lossy",
                             labels=[{"name": "Cat", "confidence": 95.0, "parents": []}] if cat else [],
                             faces=faces, gps={"lat": 48.8584, "lon": 2.2945} if cat else None,
                             place=PARIS if cat else None,
                             thumbnails={"view": {"key": grid.replace(".sm.jpg", ".jpg")}, "grid": {"key": grid}})
        persist_photo(catalog, record)
    rt.s3.put_object(Bucket=rt.bucket, Key="thumbnails/2021/01/01/IMG_0000.JPG.sm.jpg", Body=b"\xff\xd8grid")
    newest_first = sorted((w for w in written if w[1]), key=lambda w: w[1], reverse=True)
    undated = sorted((w for w in written if not w[1]), key=lambda w: w[0], reverse=True)
    return [w[0] for w in newest_first + undated], newest_cat[0]


@pytest.fixture(scope="module")
def seeded(gallery_service):
    return _records(gallery_service)  # one catalog for the module: the tests below only add to it


def test_timeline_pages_through_every_photo_newest_first_by_cursor(seeded, client, no_scan):
    order, _ = seeded
    keys, cursor, pages = [], None, 0
    while True:
        answer = client.get("/api/timeline", params={"limit": 25, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200
        body = answer.json()
        assert len(body["photos"]) <= 25
        keys += [p["key"] for p in body["photos"]]
        pages += 1
        cursor = body["next"]
        if not cursor:
            break
    assert keys == order and pages == 3  # 65 photos: 25 + 25 + 15, undated last
    assert [p for p in body["photos"] if p["month"] == "undated"] and "Scan" not in no_scan
    assert client.get("/api/timeline", params={"cursor": "not-a-cursor"}).status_code == 400


def test_the_first_page_and_the_jump_bar_render_with_month_headings(seeded, client):
    page = client.get("/").text
    assert re.findall(r'data-year="(\w+)"', page) == ["2021", "2020", "2019", "unknown"]
    assert len(re.findall(r'class="tile"', page)) == 60
    assert 'data-month="2021-12"' in page and "December 2021" in page
    # a jump to a month starts at its newest photo
    jumped = client.get("/api/timeline", params={"month": "2020-06", "limit": 3}).json()["photos"]
    order, _ = seeded
    expected = [k for k in order if k.startswith("originals/2020/0") and k[15:17] <= "06"][:3]
    assert [p["key"] for p in jumped] == expected
    assert client.get("/api/timeline", params={"month": "undated"}).json()["photos"][0]["month"] == "undated"


def test_search_shows_its_meaning_and_pages_by_offset(seeded, client, no_scan):
    body = client.get("/api/search", params={"q": "cats from 2020", "limit": 4}).json()
    assert [c["text"] for c in body["meaning"]] == ["Cat", "from 2020"]
    assert len(body["photos"]) == 4 and all(p["key"].startswith("originals/2020/") for p in body["photos"])
    rest = client.get("/api/search", params={"q": "cats from 2020", "offset": body["next_offset"], "limit": 20}).json()
    assert len(body["photos"]) + len(rest["photos"]) == 5 and rest["next_offset"] is None
    page = client.get("/search", params={"q": "cat in Paris"}).text
    assert 'class="chip label"' in page and "Paris, France" in page
    assert client.get("/api/suggest", params={"q": "photos of ca"}).json()[0]["query"] == "photos of Cat"
    assert "Scan" not in no_scan


def test_photo_view_neighbours_images_and_original_download(seeded, client, gallery_service):
    order, cat = seeded
    middle = order[50]
    page = client.get(f"/photo/{middle}").text
    assert f'href="/photo/{order[49]}"' in page and f'href="/photo/{order[51]}"' in page
    # opened from a search, previous/next walk its results
    cats = [p["href"] for p in client.get("/api/search", params={"q": "cats", "limit": 3}).json()["photos"]]
    assert cats[1].endswith("?q=cats&i=1")
    around = client.get(cats[1]).text
    assert f'id="newer" href="{html.escape(cats[0])}"' in around and f'id="older" href="{html.escape(cats[2])}"' in around
    last_dated = order[-UNDATED - 1]
    assert f'id="older" href="/photo/{order[-UNDATED]}"' in client.get(f"/photo/{last_dated}").text  # into undated
    cat_page = client.get(f"/photo/{cat}").text
    assert 'class="face"' in cat_page and "48.85840, 2.29450" in cat_page and "Paris" in cat_page
    image = client.get("/img/thumbnails/2021/01/01/IMG_0000.JPG.sm.jpg")
    assert image.status_code == 200 and image.content == b"\xff\xd8grid"
    # pages get thumbnails only: an original is never an <img>, only an explicit download
    assert client.get("/img/originals/2021/01/01/IMG_0000.JPG").status_code == 404
    # (an upload starts the workflow, which re-files this photo: checked last)
    rt = gallery_service.runtime
    rt.s3.put_object(Bucket=rt.bucket, Key="originals/2021/01/01/IMG_0000.JPG",
                                  Body=b"\xff\xd8original")
    download = client.get("/original/originals/2021/01/01/IMG_0000.JPG")
    assert download.content == b"\xff\xd8original"
    assert download.headers["content-disposition"] == 'attachment; filename="IMG_0000.JPG"'


def test_writes_need_the_page_token(seeded, client, token):
    page = client.get("/people").text
    assert f'content="{token}"' in page and 'data-id="p-1"' in page
    for headers in ({}, {"X-Shoebox-Token": "guess"}):
        refused = client.post("/api/people/p-1/name", json={"name": "Mittens"}, headers=headers)
        assert refused.status_code == 403
    assert client.get("/api/suggest", params={"q": "mitt"}).json() == []
    named = client.post("/api/people/p-1/name", json={"name": "Mittens"}, headers={"X-Shoebox-Token": token})
    assert named.status_code == 200 and named.json()["name"] == "Mittens"
    _, cat = seeded
    assert [p["key"] for p in client.get("/api/search", params={"q": "Mittens"}).json()["photos"]] == [cat]
    assert client.get("/api/suggest", params={"q": "mitt"}).json()[0]["kind"] == "person"
    taken = client.post("/api/people/p-1/name", json={"name": ""}, headers={"X-Shoebox-Token": token})
    assert taken.status_code == 409
    hidden = client.post("/api/people/p-1/hide", json={}, headers={"X-Shoebox-Token": token})
    assert hidden.json()["hidden"] is True and 'data-id="p-1"' not in client.get("/people").text
    assert 'data-id="p-1" data-hidden="1"' in client.get("/people", params={"hidden": "1"}).text
    shown = client.post("/api/people/p-1/hide", json={"hidden": False}, headers={"X-Shoebox-Token": token})
    assert shown.json()["hidden"] is False and 'data-id="p-1"' in client.get("/people").text


def test_merge_two_people_from_the_page(seeded, client, token):
    """(after the naming test: p-1 is Mittens)"""
    _, newest = seeded
    write = {"X-Shoebox-Token": token}
    assert client.post("/api/people/merge", json={"ids": ["p-1", "p-2"]}).status_code == 403
    assert client.post("/api/people/merge", json={"ids": ["p-1", "p-1"]}, headers=write).status_code == 400
    merged = client.post("/api/people/merge", json={"ids": ["p-1", "p-2"]}, headers=write).json()
    assert merged["id"] == "p-1" and merged["aliases"] == ["p-2"] and merged["photos"] == 2
    page = client.get("/people").text
    assert 'data-id="p-1"' in page and 'data-id="p-2"' not in page
    found = [p["key"] for p in client.get("/api/search", params={"q": "Mittens"}).json()["photos"]]
    assert len(found) == 2 and found[0] == newest
    refused = client.post("/api/people/apart", json={"a": "p-1", "b": "p-2"}, headers=write)
    assert refused.status_code == 409 and "one person now" in refused.json()["error"]


def test_only_loopback_host_names_are_answered(client):
    # a page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused
    assert client.get("/", headers={"Host": "evil.example:8000"}).status_code == 400


def test_share_a_photo_list_it_everywhere_and_revoke_it(seeded, client, gallery_service, token):
    import json

    from typer.testing import CliRunner

    from shoebox.cli.main import app

    rt = gallery_service.runtime
    key = "originals/2021/01/19/IMG_0001.JPG"
    for suffix in (".jpg", ".sm.jpg"):
        rt.s3.put_object(Bucket=rt.bucket, Key=f"thumbnails/2021/01/19/IMG_0001.JPG{suffix}", Body=b"\xff\xd8" + suffix.encode())
    asked = {"keys": [key], "expires": "1d", "title": "One <cat>"}
    assert client.post("/api/shares", json=asked).status_code == 403
    made = client.post("/api/shares", json=asked, headers={"X-Shoebox-Token": token}).json()
    assert made["expires"] is None and made["link"] == f"/shared/{made['share']}/index.html"  # local: a folder
    album = client.get(made["link"]).text
    assert "One &lt;cat&gt;" in album
    image = re.search(r'<img loading="lazy" src="([^"]+)"', album).group(1)
    assert client.get(f"/shared/{made['share']}/{image}").content == b"\xff\xd8.sm.jpg"
    assert client.get(f"/shared/{made['share']}/share.json").status_code == 404  # only the album's own files
    assert made["share"] in client.get("/shares").text
    listed = json.loads(CliRunner().invoke(app, ["shares", "--json"]).stdout)
    assert [s["share"] for s in listed] == [made["share"]] and listed[0]["photos"][0]["key"] == key
    gone = CliRunner().invoke(app, ["unshare", made["share"]])
    assert gone.exit_code == 0 and client.get(made["link"]).status_code == 404
    assert not Path(made["folder"]).exists() and made["share"] not in client.get("/shares").text
    assert CliRunner().invoke(app, ["unshare", made["share"]]).exit_code == 1


def test_on_a_stack_the_same_pages_come_from_aws_with_a_console_link(seeded, gallery_service, monkeypatch):
    """`shoebox serve --stack`: the Backend the CLI makes for AWS, where AWS is the local service here
    (AWS_ENDPOINT_URL and its credentials, as tests/local/test_service.py does)."""
    from starlette.testclient import TestClient

    from shoebox import aws
    from shoebox.cli.backends import connection, open_backend
    from shoebox.gallery.app import Gallery, create_app

    rt = gallery_service.runtime
    arn = rt.upload(b"\xff\xd8 not a photo", "originals/2022/02/02/BROKEN.JPG")
    assert rt.wait([arn])[arn] == "FAILED"
    for name, value in {"AWS_ENDPOINT_URL": gallery_service.url, "AWS_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": gallery_service.credentials["aws_access_key_id"],
                        "AWS_SECRET_ACCESS_KEY": gallery_service.credentials["aws_secret_access_key"]}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(connection, "region", None)
    try:
        with open_backend("shoebox-local") as backend:
            assert not backend.local
            with TestClient(create_app(Gallery(backend)), base_url="http://127.0.0.1") as stack_client:
                assert "stack shoebox-local" in stack_client.get("/").text
                run = stack_client.get(f"/executions/{arn.rsplit(':', 1)[-1]}").text
                assert "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/" \
                       + arn in run
                assert 'id="run-error"' in run
    finally:
        aws.reset_clients()

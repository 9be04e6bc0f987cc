"""Shares as things to list and revoke: making one (an expiring album of presigned links on a deployed
stack, a folder locally), and its record, ``shares/<id>/share.json`` in the bucket beside the album page,
so `shoebox shares`, `shoebox unshare` and the gallery see the same shares from any machine.

Revoking deletes the album page and the record: the album link stops working at once. The presigned
links of the photos inside it cannot be recalled (SigV4 links stay valid until they expire; at most 7
days); a local share's folder files are deleted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from shoebox.sharing import SharedPhoto, album_html, new_share_id, presign

PREFIX = "shares/"


class ShareError(Exception):
    """Said in one line: nothing to share, a photo that cannot be shared, an unknown share."""


@dataclass
class Share:
    share: str
    title: str
    created: str
    expires: str | None  # None: a local folder, which does not expire
    photos: list[dict]  # {"key", "view", "original"}
    album: str | None = None  # the album's link (or local index.html); None for a single photo's link
    folder: str | None = None  # a local share's folder
    files: list[str] = field(default_factory=list)  # what a local share wrote into its folder
    left_out: list[str] = field(default_factory=list)  # keys whose thumbnails could not be read

    def to_json(self) -> dict:
        return {"share": self.share, "title": self.title, "created": self.created, "expires": self.expires,
                "photos": self.photos, "album": self.album, "folder": self.folder, "files": self.files}

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires < datetime.now(timezone.utc).isoformat(timespec="minutes")


def record_key(share_id: str) -> str:
    return f"{PREFIX}{share_id}/share.json"


def create(backend: Any, keys: list[str], seconds: int, title: str, *, original: bool = False,
           folder: Path | None = None) -> Share:
    """Share processed photos: presigned links (one photo) or an album page (several) on a deployed
    stack; locally an album folder (``folder``, default ./shoebox-share-<id>). The share is recorded."""
    records = _shareable(backend, keys)
    now = datetime.now(timezone.utc)
    share_id = new_share_id()
    share = Share(share_id, title, now.isoformat(timespec="minutes"),
                  (now + timedelta(seconds=seconds)).isoformat(timespec="minutes"), [])
    if backend.local:
        # presigned links of the offline runtime point nowhere: the album is a folder of copies
        _album_folder(backend, share, records, (folder or Path(f"shoebox-share-{share_id}")).resolve())
    else:
        _presigned(backend, share, records, seconds, original)
    backend.s3.put_object(Bucket=backend.bucket, Key=record_key(share_id), Body=json.dumps(share.to_json()).encode(),
                          ContentType="application/json")
    return share


def _shareable(backend: Any, keys: list[str]) -> list:
    """The photo records of ``keys`` (each once), every one processed."""
    if not keys:
        raise ShareError("nothing to share: give photo keys or a query that finds photos")
    records = []
    for key in dict.fromkeys(keys):
        record = backend.catalog.get_photo(key)
        if record is None or record.status != "processed":
            raise ShareError(f"not shareable (no processed photo): {key}")
        records.append(record)
    return records


def _album_folder(backend: Any, share: Share, records: list, target: Path) -> None:
    """A local share: the photos' view and grid thumbnails copied into ``target`` with an album page."""
    from shoebox.cli.common import local_name, save_objects

    names = {r.thumbnails[kind]["key"]: local_name(r.thumbnails[kind]["key"], f"{kind}-")
             for r in records for kind in ("view", "grid")}
    saved = save_objects(backend.s3, backend.bucket, names, target)
    local = []
    for r in records:
        view, grid = (saved.get(r.thumbnails[kind]["key"]) for kind in ("view", "grid"))
        if view and grid:
            local.append(SharedPhoto(r.key, r.taken_at, view, grid))
        else:
            share.left_out.append(r.key)
    if not local:
        raise ShareError("nothing to share: no photo's thumbnails could be read")
    (target / "index.html").write_text(album_html(share.title, local, "never (a local folder)"))
    share.expires, share.folder, share.album = None, str(target), str(target / "index.html")
    share.files = ["index.html", *sorted(saved.values())]
    share.photos = [{"key": p.key, "view": str(target / p.view_url), "original": None} for p in local]


def _presigned(backend: Any, share: Share, records: list, seconds: int, original: bool) -> None:
    """A deployed share: presigned links, and for several photos an album page in the bucket."""
    s3, bucket = backend.s3, backend.bucket
    photos = [SharedPhoto(
        key=r.key, taken_at=r.taken_at,
        view_url=presign(s3, bucket, r.thumbnails["view"]["key"], seconds),
        grid_url=presign(s3, bucket, r.thumbnails["grid"]["key"], seconds),
        original_url=presign(s3, bucket, r.key, seconds, r.key.rsplit("/", 1)[-1]) if original else None,
    ) for r in records]
    share.photos = [{"key": p.key, "view": p.view_url, "original": p.original_url} for p in photos]
    if len(photos) > 1:
        page_key = f"{PREFIX}{share.share}/index.html"
        s3.put_object(Bucket=bucket, Key=page_key, Body=album_html(share.title, photos, share.expires).encode(),
                      ContentType="text/html; charset=utf-8")
        share.album = presign(s3, bucket, page_key, seconds)


def list_shares(backend: Any) -> list[Share]:
    """Every recorded share, newest first (a List of the shares/ prefix, a GET per share)."""
    s3, bucket = backend.s3, backend.bucket
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/share.json"):
                data = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                found.append(Share(**{k: v for k, v in data.items() if k in Share.__dataclass_fields__}))
    return sorted(found, key=lambda s: s.created, reverse=True)


def revoke(backend: Any, share_id: str) -> Share:
    """Delete the share's album page and record (and a local share's files); see the module's note on
    the photo links inside it."""
    from botocore.exceptions import ClientError

    s3, bucket = backend.s3, backend.bucket
    try:
        data = json.loads(s3.get_object(Bucket=bucket, Key=record_key(share_id))["Body"].read())
    except ClientError:
        raise ShareError(f"no share {share_id}") from None
    share = Share(**{k: v for k, v in data.items() if k in Share.__dataclass_fields__})
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PREFIX}{share_id}/"):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    if share.folder:  # only the files the share wrote: the folder may be one the user named
        folder = Path(share.folder)
        for name in share.files:
            (folder / name).unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
    return share

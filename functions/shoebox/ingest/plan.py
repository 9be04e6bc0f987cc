"""What ingest uploads, under which key and with which metadata; content duplicates within a run.

Pure apart from reading the files. Keys: ``originals/YYYY/MM/DD/NAME`` for a dated photo, and
``originals/undated/NAME`` for one no source dates (still under ``originals/``, so the upload rule
and the backfill see it; the catalog lists it under ``YEAR#unknown`` and never in "on this day").

What ingest learnt about a photo travels with the original as S3 user metadata (``SHOEBOX_META``), so
the workflow, a retry and a backfill all read it from the object: ``taken-at`` and ``taken-source``
(which source dated it), ``xmp`` (the sidecar's rating, title, keywords as ASCII JSON), ``companion``
(a Live Photo's video, URL-quoted). S3 allows 2 KB of user metadata: keywords are cut to fit.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote

from shoebox.ingest.dates import Dated, capture_date
from shoebox.ingest.walk import PhotoFile, Skipped, Walk
from shoebox.ingest.xmp import XmpData, read_sidecar
from shoebox.s3_layout import ORIGINALS

UNDATED = "undated"
_SAFE = re.compile(r"[^\w.\-+~() ]", re.UNICODE)
META_LIMIT = 1800  # bytes of user metadata we use, under S3's 2 KB (keys count too)


@dataclass
class Planned:
    source: Path
    key: str
    dated: Dated
    metadata: dict[str, str] = field(default_factory=dict)
    sha256: str = ""
    md5: str = ""


def safe_name(name: str) -> str:
    return _SAFE.sub("_", name) or "unnamed"


def key_for(name: str, when: datetime | None) -> str:
    folder = f"{when:%Y/%m/%d}" if when else UNDATED
    return f"{ORIGINALS}{folder}/{safe_name(name)}"


def digests(path: Path) -> tuple[str, str]:
    """(sha256, md5) in one read: sha256 finds content duplicates, md5 is what S3's ETag compares."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            sha.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), md5.hexdigest()


def s3_metadata(dated: Dated, xmp: XmpData, companion: str | None) -> dict[str, str]:
    meta: dict[str, str] = {}
    if dated.when:
        meta["taken-at"] = dated.when.isoformat()
        meta["taken-source"] = dated.source or ""
    if companion:
        meta["companion"] = quote(companion)
    fields = {"rating": xmp.rating, "title": xmp.title, "keywords": list(xmp.keywords)}
    fields = {k: v for k, v in fields.items() if v not in (None, [], "")}
    if fields:
        used = sum(len(k) + len(v) for k, v in meta.items())
        while fields.get("keywords") and used + len(json.dumps(fields)) > META_LIMIT:
            fields["keywords"].pop()
        text = json.dumps(fields)  # ASCII: S3 metadata values are ASCII
        if used + len(text) <= META_LIMIT:
            meta["xmp"] = text
    return meta


def read_s3_metadata(meta: dict[str, str] | None) -> dict:
    """The workflow's side: S3 user metadata → ``{taken_at, taken_source, rating, title, keywords,
    companion}`` (only what is there)."""
    meta = {k.lower(): v for k, v in (meta or {}).items()}
    out: dict = {}
    if meta.get("taken-at"):
        try:
            out["taken_at"] = datetime.fromisoformat(meta["taken-at"]).isoformat()
            out["taken_source"] = meta.get("taken-source") or None
        except ValueError:
            pass
    if meta.get("companion"):
        out["companion"] = unquote(meta["companion"])
    if meta.get("xmp"):
        try:
            fields = json.loads(meta["xmp"])
        except ValueError:
            fields = {}
        if isinstance(fields, dict):
            if isinstance(fields.get("rating"), int):
                out["rating"] = fields["rating"]
            if isinstance(fields.get("title"), str):
                out["title"] = fields["title"]
            if isinstance(fields.get("keywords"), list):
                out["keywords"] = [str(k) for k in fields["keywords"]]
    return out


def plan_photo(photo: PhotoFile, now: datetime | None = None) -> Planned:
    xmp = read_sidecar(photo.sidecar(".xmp")) if photo.sidecar(".xmp") else XmpData()
    dated = capture_date(photo.path, sidecar=xmp, takeout_json=photo.sidecar(".json"), now=now)
    sha, md5 = digests(photo.path)
    meta = s3_metadata(dated, xmp, photo.companion.name if photo.companion else None)
    return Planned(photo.path, key_for(photo.path.name, dated.when), dated, meta, sha, md5)


def plan(walked: Walk, now: datetime | None = None) -> list[Planned]:
    """One plan per photo, in walk order. A file that cannot be read now moves to ``walked.skipped``."""
    out = []
    for photo in walked.photos:
        try:
            out.append(plan_photo(photo, now))
        except OSError as exc:
            walked.skipped.append(Skipped(photo.path, f"cannot read: {exc.strerror or exc}"))
    return out


def duplicate_of(key: str, own_keys: set[str], earlier_in_run: str | None, archived: list[str]) -> str | None:
    """The key a file's bytes are already stored under, when that is another photo: an earlier file of
    this run (``earlier_in_run``: its final key), else a processed photo (``archived``: keys with the same
    content). None when nothing holds them, or when this file's own key does (``own_keys``: its key and
    the key it would get beside other content there): that is a re-ingest, not a copy."""
    if earlier_in_run is not None:
        return None if earlier_in_run == key else earlier_in_run
    if not archived or own_keys & set(archived):
        return None
    return archived[0]

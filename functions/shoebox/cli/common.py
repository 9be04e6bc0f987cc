"""What every command module shares: consoles, common options, result rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from shoebox.cli.backends import dumps

out = Console()
err = Console(stderr=True)

StackOpt = Annotated[Optional[str], typer.Option("--stack", help="Deployed stack name (default: local runtime).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _search_row(row: dict, refs: dict | None = None) -> dict:
    """A photo as lists print it. ``refs`` (``People.refs``): its people as they are now, canonical ids
    (a merged-away group's id reads as the person it joined) with their names; without it, the ids as
    filed."""
    from shoebox.catalog.people import canonical_people

    people = canonical_people(row.get("people", []), refs or {})
    return {"key": row["key"], "taken_at": row.get("taken_at"), "labels": row.get("labels", []),
            "people": [p.id for p in people], "names": [p.name for p in people if p.name],
            "place": row.get("place"), "thumbnail": row.get("thumbnail")}


def _print_rows(rows: list[dict], as_json: bool, title: str, refs: dict | None = None) -> None:
    from shoebox.catalog.people import canonical_people

    if as_json:
        print(dumps([_search_row(r, refs) for r in rows]))
        return
    table = Table(title=f"{title} — {len(rows)} photo(s)")
    for column in ("key", "taken", "labels", "people", "place"):
        table.add_column(column)
    for row in rows:
        place = row.get("place") or {}
        people = canonical_people(row.get("people", []), refs or {})
        table.add_row(row["key"], (row.get("taken_at") or "")[:10], ", ".join(row.get("labels", [])[:5]),
                      ", ".join(p.label for p in people),
                      ", ".join(v for v in (place.get("city"), place.get("country")) if v))
    out.print(table)


def local_name(key: str, prefix: str = "") -> str:
    """A file name for an object copied into a local folder: one-to-one with the key (flattening "/"
    is not: a/b_c and a_b/c), short whatever the key's length, and safe in a URL (no #, ?, %)."""
    import hashlib

    suffix = Path(key).suffix.lower()
    suffix = suffix if suffix.isascii() and suffix[1:].isalnum() else ""
    return f"{prefix}{hashlib.sha256(key.encode()).hexdigest()[:20]}{suffix}"


def save_objects(s3, bucket: str, names: dict[str, str], folder: Path) -> dict[str, str]:
    """Copy objects out of the bucket into ``folder`` (``names``: key -> file name), for pages that must
    work from a local folder. Returns the keys saved; a key that is gone, or that these credentials may
    not read (S3 answers 403 for a missing key without s3:ListBucket), is left out."""
    from botocore.exceptions import ClientError

    from shoebox.aws import object_missing

    folder.mkdir(parents=True, exist_ok=True)
    saved: dict[str, str] = {}
    for key, name in names.items():
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if object_missing(exc):
                continue
            raise
        (folder / name).write_bytes(body)
        saved[key] = name
    return saved

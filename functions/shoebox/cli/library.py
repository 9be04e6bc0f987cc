"""`shoebox duplicates` and `shoebox forget`: what ingest did not store again, and removing a photo the
user asks to remove."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, err, esc, out
from shoebox.s3_layout import ORIGINALS


def duplicates(as_json: JsonOpt = False, stack: StackOpt = None) -> None:
    """Files ingest found to be byte-identical copies of an archived photo (not stored again)."""
    from shoebox.catalog.duplicates import list_duplicates

    with open_backend(stack) as backend:
        found = list_duplicates(backend.catalog)
    rows = [{"source": d.source, "duplicate_of": d.duplicate_of, "seen_at": d.seen_at} for d in found]
    if as_json:
        print(dumps(rows))
        return
    table = Table(title=f"duplicates — {len(rows)} file(s)")
    table.add_column("duplicate of", no_wrap=True)  # a key is what `show` and `get` take: never cut
    table.add_column("file", overflow="fold")
    table.add_column("seen", overflow="fold")
    for r in rows:
        table.add_row(esc(r["duplicate_of"]), esc(r["source"]), r["seen_at"][:10])
    out.print(table)


def _versions(s3, bucket: str, key: str) -> list[dict]:
    """Every stored version and delete marker of exactly this key (the bucket is versioned)."""
    found: list[dict] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if item["Key"] == key:
                found.append({"Key": key, "VersionId": item["VersionId"]})
    return found


def forget(
    keys: Annotated[list[str], typer.Argument(help="Photo keys (originals/…) to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")] = False,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the catalog to let go of each photo.",
                                           min=1)] = 300.0,
) -> None:
    """Remove photos for good: the original (every stored version), thumbnails, catalog rows and faces.

    Shoebox never deletes an original on its own; this command is the user's explicit request to, for
    junk that should never have been uploaded. It asks first (--yes for scripts). Deleting the original
    runs the remove-photo workflow, which takes the thumbnails, rows and faces."""
    keys = list(dict.fromkeys(keys))
    with open_backend(stack) as backend:
        s3, bucket, catalog = backend.s3, backend.bucket, backend.catalog
        unknown = [k for k in keys if not k.startswith(ORIGINALS)
                   or (catalog.get_photo(k) is None and not _versions(s3, bucket, k))]
        if unknown:
            err.print(f"[red]no photo {esc(', '.join(unknown))} (forget takes keys under originals/)[/red]")
            raise typer.Exit(1)
        if not yes and not _confirmed(keys):
            err.print("[red]nothing removed (confirm, or pass --yes)[/red]")
            raise typer.Exit(1)
        results = [_forget_one(s3, bucket, catalog, key, timeout) for key in keys]
    if as_json:
        print(dumps(results))
    else:
        for r in results:
            out.print(esc(f"{r['key']}: removed" if r["removed"] else f"{r['key']}: {r['error']}"))
    if any(not r["removed"] for r in results):
        raise typer.Exit(2)


def _confirmed(keys: list[str]) -> bool:
    listing = "\n  ".join(keys)
    try:
        return typer.confirm(f"Remove for good (original, thumbnails, catalog rows, faces):\n  {listing}\n",
                             default=False, err=True)
    except typer.Abort:
        return False


def _forget_one(s3, bucket: str, catalog, key: str, timeout: float) -> dict:
    """Delete one original (its delete marker's event runs remove-photo, which takes the rest), wait for
    its catalog rows to go, then delete every stored version."""
    from shoebox.catalog.duplicates import forget_duplicates_of

    had_row = catalog.get_photo(key) is not None
    s3.delete_object(Bucket=bucket, Key=key)  # a delete marker: its event runs remove-photo
    deadline = time.monotonic() + timeout
    while had_row and catalog.get_photo(key) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    left = catalog.get_photo(key) is not None
    versions = _versions(s3, bucket, key)
    for i in range(0, len(versions), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": versions[i:i + 1000], "Quiet": True})
    forget_duplicates_of(catalog, key)
    return {"key": key, "removed": not left, "versions_deleted": len(versions),
            "error": f"catalog rows still there after {timeout:.0f}s" if left else None}


def register(app: typer.Typer) -> None:
    app.command()(duplicates)
    app.command()(forget)

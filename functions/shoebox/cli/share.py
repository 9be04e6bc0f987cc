"""`shoebox share`: expiring links for photos, or an album page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, err, esc, local_name, out, save_objects
from shoebox.sharing import SharedPhoto, album_html, new_share_id, parse_expiry, presign


def share(
    keys: Annotated[Optional[list[str]], typer.Argument(help="Photo keys (originals/…).")] = None,
    query: Annotated[Optional[str], typer.Option("--query", "-q", help="Share what this search finds.")] = None,
    expires: Annotated[str, typer.Option(
        help="Link lifetime with a unit: 30m, 12h, 7d or 1w (at most 7d). Deployed stacks only: "
             "a local share is a folder, which does not expire.")] = "7d",
    title: Annotated[str, typer.Option(help="Album title.")] = "Shared photos",
    original: Annotated[bool, typer.Option(
        help="Also link the full-resolution originals (unlike thumbnails they keep all EXIF, GPS included).")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Local runtime: where to write the album.")] = None,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Share photos by expiring links; several photos (or a query) become an album page."""
    try:
        seconds = parse_expiry(expires)
    except ValueError as exc:
        err.print(f"[red]{esc(str(exc))}[/red]")
        raise typer.Exit(1)
    expires_at = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat(timespec="minutes")
    with open_backend(stack) as backend:
        selected = list(keys or [])
        if query:
            from shoebox.cli.search_cmds import find

            selected += [row["key"] for row in find(backend.catalog, query)]
        if not selected:
            if query:
                err.print(f"[red]nothing to share: no photo matches {esc(repr(query))}[/red]")
            else:
                err.print("[red]nothing to share: give photo keys or --query[/red]")
            raise typer.Exit(1)
        records = []
        for key in dict.fromkeys(selected):
            record = backend.catalog.get_photo(key)
            if record is None or record.status != "processed":
                err.print(f"[red]not shareable (no processed photo): {esc(key)}[/red]")
                raise typer.Exit(1)
            records.append(record)

        share_id = new_share_id()
        s3, bucket = backend.s3, backend.bucket
        photos = [SharedPhoto(
            key=r.key, taken_at=r.taken_at,
            view_url=presign(s3, bucket, r.thumbnails["view"]["key"], seconds),
            grid_url=presign(s3, bucket, r.thumbnails["grid"]["key"], seconds),
            original_url=presign(s3, bucket, r.key, seconds, r.key.rsplit("/", 1)[-1]) if original else None,
        ) for r in records]
        result: dict = {"share": share_id, "expires": expires_at,
                        "photos": [{"key": p.key, "view": p.view_url, "original": p.original_url} for p in photos]}
        if backend.local:
            # Presigned links of the offline runtime point nowhere: write the album as a folder instead.
            folder = (out_dir or Path(f"shoebox-share-{share_id}")).resolve()
            saved = save_objects(s3, bucket, {r.thumbnails[kind]["key"]: local_name(r.thumbnails[kind]["key"], f"{kind}-")
                                              for r in records for kind in ("view", "grid")}, folder)
            local = []
            for r in records:
                view, grid = (saved.get(r.thumbnails[kind]["key"]) for kind in ("view", "grid"))
                if view and grid:
                    local.append(SharedPhoto(r.key, r.taken_at, view, grid))
                else:
                    err.print(f"[yellow]left out (its thumbnails are missing; `shoebox retry` remakes them): {esc(r.key)}[/yellow]")
            if not local:
                err.print("[red]nothing to share: no photo's thumbnails could be read[/red]")
                raise typer.Exit(1)
            included = {p.key for p in local}
            photos = [p for p in photos if p.key in included]
            result["photos"] = [row for row in result["photos"] if row["key"] in included]
            (folder / "index.html").write_text(album_html(title, local, "never (a local folder)"))
            result["album"] = str(folder / "index.html")
            # presigned links of the offline runtime point nowhere: name the album's own files instead
            result["expires"] = None
            result["photos"] = [{"key": p.key, "view": str(folder / p.view_url), "original": None} for p in local]
        elif len(photos) > 1:
            page_key = f"shares/{share_id}/index.html"
            s3.put_object(Bucket=bucket, Key=page_key, Body=album_html(title, photos, expires_at).encode(),
                          ContentType="text/html; charset=utf-8")
            result["album"] = presign(s3, bucket, page_key, seconds)
    if as_json:
        print(dumps(result))
        return
    if "album" in result and result["expires"] is None:
        out.print(f"album ({len(photos)} photo(s)) written to a local folder (it does not expire):\n"
                  f"{esc(result['album'])}")
    elif "album" in result:
        out.print(f"album ({len(photos)} photos, until {expires_at}):\n{esc(result['album'])}")
    else:
        out.print(f"until {expires_at}:\n{esc(photos[0].view_url)}")


def register(app: typer.Typer) -> None:
    app.command()(share)

"""`shoebox share`, `shoebox shares`, `shoebox unshare`: expiring links for photos, or an album page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, err, esc, out
from shoebox.sharing import parse_expiry


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
    from shoebox.shares import ShareError, create

    try:
        seconds = parse_expiry(expires)
    except ValueError as exc:
        err.print(f"[red]{esc(str(exc))}[/red]")
        raise typer.Exit(1)
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
        try:
            made = create(backend, selected, seconds, title, original=original, folder=out_dir)
        except ShareError as exc:
            err.print(f"[red]{esc(str(exc))}[/red]")
            raise typer.Exit(1)
    for key in made.left_out:
        err.print(f"[yellow]left out (its thumbnails are missing; `shoebox retry` remakes them): {esc(key)}[/yellow]")
    result: dict = {"share": made.share, "expires": made.expires, "photos": made.photos}
    if made.album:
        result["album"] = made.album
    if as_json:
        print(dumps(result))
        return
    if made.album and made.expires is None:
        out.print(f"album ({len(made.photos)} photo(s)) written to a local folder (it does not expire):\n"
                  f"{esc(made.album)}")
    elif made.album:
        out.print(f"album ({len(made.photos)} photos, until {made.expires}):\n{esc(made.album)}")
    else:
        out.print(f"until {made.expires}:\n{esc(made.photos[0]['view'])}")


def shares(as_json: JsonOpt = False, stack: StackOpt = None) -> None:
    """The shares made (`share`, the gallery), newest first: id, title, photos, expiry, link."""
    from shoebox.shares import list_shares

    with open_backend(stack) as backend:
        found = list_shares(backend)
    if as_json:
        print(dumps([{**s.to_json(), "expired": s.expired} for s in found]))
        return
    if not found:
        out.print("no shares")
        return
    for s in found:
        state = "never expires (local folder)" if s.expires is None else \
            (f"expired {s.expires}" if s.expired else f"until {s.expires}")
        out.print(f"{s.share}  {len(s.photos)} photo(s)  {state}  {s.title}", markup=False)
        if s.album or s.photos:
            out.print(f"    {s.album or s.photos[0]['view']}", markup=False, soft_wrap=True)


def unshare(share_id: Annotated[str, typer.Argument(help="The share's id (`shoebox shares`).")],
            as_json: JsonOpt = False, stack: StackOpt = None) -> None:
    """Revoke a share: its album page and record are deleted (the album link stops working); the photo
    links inside an album cannot be recalled and stop working when they expire."""
    from shoebox.shares import ShareError, revoke

    with open_backend(stack) as backend:
        try:
            gone = revoke(backend, share_id)
        except ShareError as exc:
            err.print(f"[red]{esc(str(exc))}[/red]")
            raise typer.Exit(1)
    if as_json:
        print(dumps(gone.to_json()))
        return
    out.print(f"revoked {gone.share} ({gone.title})", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(share)
    app.command()(shares)
    app.command()(unshare)

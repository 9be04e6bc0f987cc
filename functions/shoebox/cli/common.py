"""What every command module shares: consoles, common options, result rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape as esc  # user text (names, keys, queries) must not be read as markup
from rich.table import Table

from shoebox.cli.backends import dumps
from shoebox.s3_layout import THUMBNAILS

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line (the terminal wraps it, not rich)

StackOpt = Annotated[Optional[str], typer.Option("--stack", help="Deployed stack name (default: local runtime).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _search_row(row: dict, refs: dict | None = None) -> dict:
    """A photo as lists print it. ``refs`` (``People.refs``): its people as they are now, canonical ids
    (a merged-away group's id reads as the person it joined) and ``names`` beside them (``names[i]`` is
    ``people[i]``'s, null when unnamed); without it, the ids as filed."""
    from shoebox.catalog.people_rules import canonical_people

    people = canonical_people(row.get("people", []), refs or {})
    return {"key": row["key"], "taken_at": row.get("taken_at"), "labels": row.get("labels", []),
            "people": [p.id for p in people], "names": [p.name for p in people],
            "place": row.get("place"), "thumbnail": row.get("thumbnail")}


def keys_fit(keys: list[str], others: int = 48) -> bool:
    """Whether a table with these keys whole (never cut: show, get and retry take them) still leaves
    ``others`` columns of the terminal for the rest; else ``print_listing`` is used."""
    return out.width >= max((len(k) for k in keys), default=0) + others


def print_listing(title: str, items: list[tuple[str, list[str]]]) -> None:
    """A narrow terminal's table: each item's key (or name) on its own line, its details on the next.
    Nothing is cut or folded by rich (the terminal wraps a long line)."""
    out.print(title, markup=False, soft_wrap=True)
    for head, details in items:
        out.print(head, markup=False, soft_wrap=True)
        out.print("    " + " · ".join(d for d in details if d), markup=False, soft_wrap=True)


def _photo_cells(row: dict, refs: dict | None) -> dict[str, str]:
    """A search row's date (YYYY-MM-DD, "" when undated), people, first five labels and place, as printed."""
    from shoebox.catalog.people_rules import canonical_people

    place = row.get("place") or {}
    return {"taken": (row.get("taken_at") or "")[:10],
            "people": ", ".join(p.label for p in canonical_people(row.get("people", []), refs or {})),
            "labels": ", ".join(row.get("labels", [])[:5]),
            "place": ", ".join(v for v in (place.get("city"), place.get("country")) if v)}


def _print_rows(rows: list[dict], as_json: bool, title: str, refs: dict | None = None) -> None:
    if as_json:
        print(dumps([_search_row(r, refs) for r in rows]))
        return
    cells = [_photo_cells(row, refs) for row in rows]
    if not keys_fit([r["key"] for r in rows]):
        print_listing(f"{title} — {len(rows)} photo(s)",
                      [(row["key"], [c["taken"] or "undated", c["people"], c["labels"], c["place"]])
                       for row, c in zip(rows, cells)])
        return
    table = Table(title=f"{esc(title)} — {len(rows)} photo(s)")
    table.add_column("key", no_wrap=True)  # what show, get and retry take: never cut; the others fold
    for column in ("taken", "labels", "people", "place"):
        table.add_column(column, overflow="fold")
    for row, c in zip(rows, cells):
        table.add_row(esc(row["key"]), c["taken"], esc(c["labels"]), esc(c["people"]), esc(c["place"]))
    out.print(table)


def local_name(key: str, prefix: str = "") -> str:
    """A file name for an object copied into a local folder: one-to-one with the key (flattening "/"
    is not: a/b_c and a_b/c), short whatever the key's length, and safe in a URL (no #, ?, %)."""
    import hashlib

    suffix = Path(key).suffix.lower()
    suffix = suffix if suffix.isascii() and suffix[1:].isalnum() else ""
    return f"{prefix}{hashlib.sha256(key.encode()).hexdigest()[:20]}{suffix}"


@dataclass
class Copied:
    """What ``copy_objects`` did: the keys saved (key -> file name) and the keys it could not read."""

    saved: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # 404: not in the bucket
    denied: list[str] = field(default_factory=list)  # 403: not readable with these credentials, or missing


def copy_objects(s3, bucket: str, names: dict[str, str], folder: Path) -> Copied:
    """Copy objects out of the bucket into ``folder`` (``names``: key -> file name), for pages that must
    work from a local folder. A key that is gone, or that these credentials may not read (S3 answers 403
    for a missing key without s3:ListBucket), is left out and reported; other S3 errors raise."""
    from botocore.exceptions import ClientError

    from shoebox.aws import access_denied, object_missing

    folder.mkdir(parents=True, exist_ok=True)
    copied = Copied()
    for key, name in names.items():
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if object_missing(exc):
                (copied.denied if access_denied(exc) else copied.missing).append(key)
                continue
            raise
        (folder / name).write_bytes(body)
        copied.saved[key] = name
    return copied


def save_objects(s3, bucket: str, names: dict[str, str], folder: Path) -> dict[str, str]:
    """``copy_objects``, for callers that only need the keys saved."""
    return copy_objects(s3, bucket, names, folder).saved


def not_copied_warning(copied: Copied, prefix: str = f"{THUMBNAILS}*") -> str | None:
    """One line saying how many images a page lacks, or None. A 403 cannot be told apart from a missing
    key (without s3:ListBucket), so the permission is named as a possible cause, not as the cause."""
    count = len(copied.missing) + len(copied.denied)
    if not count:
        return None
    why = (f"missing, or no s3:GetObject permission: the CLI's credentials need s3:GetObject on {prefix}"
           if copied.denied else "missing from the bucket")
    return f"{count} image(s) could not be copied ({why}); the page is written without them"


STATUSES = ("processed", "skipped", "duplicate", "failed")


def _print_ingest_table(results: list[dict]) -> None:
    if not keys_fit([r["key"] or "" for r in results], others=56):
        print_listing("ingest", [(r["key"] or Path(r["source"]).name, [
            Path(r["source"]).name, r["status"],
            (r["taken_at"] or "")[:10] + (f" ({r['taken_source']})" if r.get("taken_source") else ""),
            ", ".join(r["labels"][:4]), ", ".join(r["people"]), r["error"] or ""]) for r in results])
        _print_counts(results)
        return
    table = Table(title="ingest")
    table.add_column("key", no_wrap=True)  # never cut: show, get and retry take it
    for column in ("file", "status", "taken", "labels", "people", "error"):
        table.add_column(column, overflow="fold")
    colours = {"processed": "green", "skipped": "yellow", "duplicate": "yellow", "failed": "red"}
    for r in results:
        taken = (r["taken_at"] or "")[:10] + (f" ({r['taken_source']})" if r.get("taken_source") else "")
        table.add_row(esc(r["key"] or ""), esc(Path(r["source"]).name),
                      f"[{colours.get(r['status'], 'white')}]{r['status']}[/]", taken, esc(", ".join(r["labels"][:4])),
                      esc(", ".join(r["people"])), esc(r["error"] or ""))
    out.print(table)
    _print_counts(results)


def _print_counts(results: list[dict]) -> None:
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    out.print(" · ".join(f"{n} {s}" for s, n in counts.items() if n or s in ("processed", "failed")))

"""`shoebox search`, `shoebox on-this-day`, `shoebox rediscover`: lists of photos as Queries."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Optional

import typer

from shoebox.cli.backends import open_backend
from shoebox.cli.common import JsonOpt, StackOpt, _print_rows, err, esc, out

LimitOpt = Annotated[int, typer.Option(help="At most this many results.", min=1)]


def _parse_date(value: str | None, option: str) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option} wants YYYY-MM-DD, got {esc(repr(value))}[/red]")
        raise typer.Exit(1)


def _explain(result, as_json: bool) -> None:
    report = result.explain()
    if as_json:  # stdout stays the result array
        err.print_json(json.dumps(report, default=str))
        return
    out.print("[bold]parsed[/bold]")
    out.print_json(json.dumps(report["parsed"], default=str))
    out.print("[bold]plan[/bold] " + esc(f"{report['plan'].get('path')}  estimate={report['plan'].get('estimate')}  "
                                         f"filters={report['plan'].get('filters', [])}"))
    for q in report["queries"]:
        out.print(esc(f"  Query pk={q['partition']!r} sk∈[{q['sk_from'] or ''} .. {(q['sk_to'] or '').rstrip(chr(0xffff))}]"
                      f"  pages={q['pages']}  items read={q['items_read']}"))
    out.print(f"items read {report['items_read']} for {report['returned']} returned"
              f" (+{report['vocabulary_items_read']} vocabulary)")


def people_refs(catalog) -> dict:
    from shoebox.catalog.people import refs

    return refs(catalog)


def find(catalog, query: str, limit: int = 500) -> list[dict]:
    """Search rows for a query (used by `share --query`)."""
    from shoebox.search.execute import Searcher

    return Searcher(catalog).search(query, limit=limit).rows


def search(
    query: Annotated[str, typer.Argument(help='e.g. "photos of Natalie from 2007", "dogs in Paris last summer"')],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: LimitOpt = 50,
    offset: Annotated[int, typer.Option(help="Skip this many results first.", min=0)] = 0,
    explain: Annotated[bool, typer.Option("--explain", help="Print the parsed query and the Queries run.")] = False,
    today: Annotated[Optional[str], typer.Option(help="Resolve relative dates against this day (YYYY-MM-DD).")] = None,
) -> None:
    """Find photos with an English query: people, things, places, dates, camera, format."""
    from shoebox.search.execute import Searcher

    day = _parse_date(today, "--today")
    with open_backend(stack) as backend:
        searcher = Searcher(backend.catalog)
        result = searcher.search(query, today=day, limit=limit, offset=offset)
    if result.unknown:
        err.print(f"[yellow]not understood: {esc(', '.join(result.unknown))}[/yellow]")
    _print_rows(result.rows, as_json, f'"{query}"', searcher.vocabulary.people_refs)
    if explain:
        _explain(result, as_json)


def on_this_day(
    day: Annotated[Optional[str], typer.Option("--date", help="The day (YYYY-MM-DD; default today).")] = None,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: LimitOpt = 50,
) -> None:
    """Photos taken on this month and day in earlier years (and this year up to the day)."""
    from shoebox.search.execute import on_this_day as run

    when = _parse_date(day, "--date")
    with open_backend(stack) as backend:
        result = run(backend.catalog, when, limit=limit)
        refs = people_refs(backend.catalog)
    _print_rows(result.rows, as_json, f"on this day ({when:%d %B})", refs)


def rediscover(
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: LimitOpt = 20,
) -> None:
    """Photos nobody has looked at for the longest time (never viewed first; `shoebox show` marks a view)."""
    from shoebox.search.execute import rediscover as run

    with open_backend(stack) as backend:
        result = run(backend.catalog, limit=limit)
        refs = people_refs(backend.catalog)
    _print_rows(result.rows, as_json, "rediscover", refs)


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command("on-this-day")(on_this_day)
    app.command()(rediscover)

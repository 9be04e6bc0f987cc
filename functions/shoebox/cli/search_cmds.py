"""`shoebox search` (and, later, on-this-day / rediscover)."""

from __future__ import annotations

from typing import Annotated

import typer

from shoebox.cli.backends import open_backend
from shoebox.cli.common import JsonOpt, StackOpt, _print_rows


def search(
    query: Annotated[str, typer.Argument(help='e.g. "dogs 2007"')],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
) -> None:
    """Find photos by what is in them and when."""
    from shoebox.cli.simple_search import search as run_search

    with open_backend(stack) as backend:
        rows = run_search(backend.catalog, query, limit=limit)
    _print_rows(rows, as_json, f'"{query}"')


def register(app: typer.Typer) -> None:
    app.command()(search)

"""`shoebox up`, `shoebox down`, `shoebox status`: the local service of SHOEBOX_HOME."""

from __future__ import annotations

import typer
from rich.table import Table

from shoebox.cli.backends import dumps
from shoebox.cli.common import JsonOpt, err, esc, out


def _home():
    from shoebox.config import shoebox_home

    return shoebox_home()


def up(as_json: JsonOpt = False) -> None:
    """Start the local service (the first command that needs it also does)."""
    from shoebox.local import client

    try:
        service = client.start(_home(), announce=lambda line: err.print(esc(line)))
    except client.ServiceError as exc:
        err.print(f"[red]{esc(str(exc))}[/red]")
        raise typer.Exit(1) from None
    _print_status(client.status(service), as_json)


def down() -> None:
    """Stop the local service (what it has acknowledged is on disk already)."""
    from shoebox.local import client

    home = _home()
    pid = client.stop(home)
    err.print(esc(f"stopped the local service of {home} (pid {pid})" if pid else f"no local service runs for {home}"))


def status(as_json: JsonOpt = False) -> None:
    """Whether the local service runs, and what it holds. Exit 3 when it does not run."""
    from shoebox.local import client

    home = _home()
    service = client.running(home)
    if service is None:
        if as_json:
            print(dumps({"running": False, "home": str(home)}))
        else:
            err.print(esc(f"no local service runs for {home} (`shoebox up` starts it)"))
        raise typer.Exit(3)
    _print_status(client.status(service), as_json)


def _print_status(info: dict, as_json: bool) -> None:
    if as_json:
        print(dumps({"running": True, **info}))
        return
    table = Table(show_header=False, title="local service")
    for field in ("url", "home", "pid", "uptime_s", "start_s", "rss_mb", "restored", "executions_running",
                  "executions_started", "workers", "recognizer"):
        value = info.get(field)
        table.add_row(field, esc(value if isinstance(value, str) else dumps(value)))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)

"""`shoebox`: the command line. Local runtime by default; `--stack NAME` for a deployed stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from shoebox import executions as views
from shoebox.cli.backends import Upload, _result, dumps, face_summaries, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, _print_ingest_table, err, esc, keys_fit, out, print_listing

app = typer.Typer(help="Shoebox: a serverless photo archive, also runnable offline.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def connection_options(
    profile: Annotated[Optional[str], typer.Option(
        "--profile", help="AWS profile for --stack (default: AWS_PROFILE, else the default profile).")] = None,
    region: Annotated[Optional[str], typer.Option(
        "--region", help="AWS region for --stack (default: AWS_REGION, else the profile's region).")] = None,
) -> None:
    """Shoebox: a serverless photo archive, also runnable offline (a local service per SHOEBOX_HOME)."""
    from shoebox.cli.backends import connection

    connection.profile, connection.region = profile, region


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to upload to originals/.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    force: Annotated[bool, typer.Option(help="Re-process files already in the archive.")] = False,
    exclude: Annotated[Optional[list[str]], typer.Option(
        "--exclude", help="Skip files or folders matching this glob (name or path below the folder); repeatable.")] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Re-run files whose earlier ingest failed (else they are reported failed again).")] = False,
) -> None:
    """Upload photos and run each through the workflow; one result per file.

    Only regular files are read (symlinks to files followed; dangling links, pipes and devices are
    skipped). Sidecars (.xmp, .AAE, Takeout .json) are read, not uploaded; a Live Photo's video is kept
    as its still's companion; a byte-identical copy is reported as a duplicate, not stored again.
    The capture date comes from EXIF/XMP/QuickTime, else a date in the file name, else a
    YYYY/MM/DD or YYYY-MM-DD folder, else the file time (unless it is a fresh copy's); a photo none
    of them dates is stored under originals/undated/."""
    from shoebox.ingest.plan import plan
    from shoebox.ingest.walk import walk

    try:
        walked = walk(paths, exclude or ())
    except FileNotFoundError as exc:
        err.print(f"[red]{esc(str(exc))}[/red]")
        raise typer.Exit(1)
    planned = plan(walked)
    if not planned and not walked.skipped:
        err.print("[red]nothing to ingest[/red]")
        raise typer.Exit(1)
    uploads = [Upload(p.source, p.key, p.metadata, p.sha256, p.md5) for p in planned]
    skipped = [_result(Upload(s.path, None), None, status="skipped", error=s.reason) for s in walked.skipped]
    results: list[dict] = []
    if not uploads:
        results = skipped
        if as_json:
            for result in results:
                print(dumps(result), flush=True)
        else:
            _print_ingest_table(results)
        return
    with open_backend(stack) as backend:
        if as_json:
            def emit(result: dict) -> None:
                print(dumps(result), flush=True)

            for result in skipped:
                emit(result)
            results = skipped + backend.ingest(uploads, emit, force=force, retry_failed=retry_failed)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            progress = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.description}", markup=False), console=err)
            with progress:
                task = progress.add_task("", total=len(uploads))

                def tick(result: dict) -> None:
                    progress.update(task, advance=1, description=Path(result["source"]).name)

                results = skipped + backend.ingest(uploads, tick, force=force, retry_failed=retry_failed)
            _print_ingest_table(results)
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(2)




def _show_shape(record) -> dict:
    return {
        "key": record.key, "status": record.status, "format": record.format, "width": record.width,
        "height": record.height, "taken_at": record.taken_at, "taken_source": record.taken_source,
        "camera": record.camera, "gps": record.gps,
        "place": record.place, "people": record.people,
        # the title's words are labels only so search finds them; the title is shown whole
        "labels": [label["name"] for label in record.labels if label.get("source") != "title"],
        "faces": face_summaries(record), "error": record.error, "rating": record.rating,
        "title": record.title, "keywords": record.keywords, "companion": record.companion,
        "thumbnails": {name: {"key": t.get("key"), "width": t.get("width"), "height": t.get("height")}
                       for name, t in record.thumbnails.items()},
        "recognition_calls": dict(record.recognition_calls),
    }


@app.command()
def show(key: str, as_json: JsonOpt = False, stack: StackOpt = None) -> None:
    """The catalog record of one photo (and mark it viewed)."""
    with open_backend(stack) as backend:
        record = backend.catalog.get_photo(key)
        if record is None:
            err.print(f"[red]no photo {esc(key)}[/red]")
            raise typer.Exit(1)
        backend.catalog.mark_viewed(key)
    shape = _show_shape(record)
    if as_json:
        print(dumps(shape))
        return
    table = Table(show_header=False, title=esc(key))
    for field, value in shape.items():
        table.add_row(field, esc(value if isinstance(value, str) else json.dumps(value, default=str)))
    out.print(table)


@app.command()
def get(key: str, output: Annotated[Optional[Path], typer.Option("-o", "--output")] = None,
        stack: StackOpt = None) -> None:
    """Write a stored object (original or thumbnail) to a file."""
    from botocore.exceptions import ClientError

    target = output or Path(key.rsplit("/", 1)[-1])
    with open_backend(stack) as backend:
        try:
            body = backend.s3.get_object(Bucket=backend.bucket, Key=key)["Body"].read()
        except ClientError:
            err.print(f"[red]no object {esc(key)}[/red]")
            raise typer.Exit(1)
    try:
        target.write_bytes(body)
    except OSError as exc:
        err.print(f"[red]cannot write {esc(str(target))}: {esc(exc.strerror or str(exc))}[/red]")
        raise typer.Exit(1)
    err.print(f"wrote {esc(str(target))} ({len(body)} bytes)")


@app.command("executions")
def executions_cmd(
    failed: Annotated[bool, typer.Option("--failed", help="Only failed executions.")] = False,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
) -> None:
    """Workflow runs, newest first, like the Step Functions console."""
    with open_backend(stack) as backend:
        rows = [views.summary(r) for r in backend.execution_records(failed_only=failed, limit=limit)]
        deployed = not backend.local
    if deployed:  # on AWS: where to look at each run in the console
        for r in rows:
            r["console"] = views.console_url(r["execution"])
    if as_json:
        print(dumps(rows))
        return
    if deployed and failed:
        _print_console_links(rows)
    tabled = _print_executions(rows, f"executions{' (failed)' if failed else ''}")
    if deployed and failed and tabled:
        _print_console_links(rows)


def _execution_cells(r: dict, ms_unit: str) -> list[str]:
    """A run's status, start, duration, failed state and error, as printed."""
    return [r["status"], (r["start"] or "")[:19], f"{r['duration_ms']}{ms_unit}" if r["duration_ms"] else "",
            r["failed_state"] or "", r["error"] or ""]


def _print_executions(rows: list[dict], title: str) -> bool:
    """A table keyed by photo key, or one block per run when the keys would not fit a table's column.
    Returns whether it printed a table."""
    if not keys_fit([r["key"] or "" for r in rows]):
        print_listing(title, [(r["key"] or "", _execution_cells(r, " ms")) for r in rows])
        return False
    table = Table(title=title)
    table.add_column("key", no_wrap=True)  # never cut: retry and show take it
    for column in ("status", "start", "ms", "failed state", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        cells = _execution_cells(r, "")
        table.add_row(esc(r["key"] or ""), *cells[:3], *map(esc, cells[3:]))
    out.print(table)
    return True


def _print_console_links(rows: list[dict]) -> None:
    """One line per run, unwrapped (a folded link cannot be clicked): key, then its console page."""
    for r in rows:
        out.print(f"{esc(r['key'] or r['execution'])}  {r['console']}", soft_wrap=True, highlight=False)


execution_app = typer.Typer(help="One workflow run in detail.", no_args_is_help=True)
app.add_typer(execution_app, name="execution")


@execution_app.command("show")
def execution_show(ref: Annotated[str, typer.Argument(help="Execution ARN, name, or photo key.")],
                   as_json: JsonOpt = False, stack: StackOpt = None) -> None:
    """Each state of one execution: status, duration, retries, error."""
    with open_backend(stack) as backend:
        record = backend.execution_record(ref)
        deployed = not backend.local
    if record is None:
        err.print(f"[red]no execution for {esc(ref)}[/red]")
        raise typer.Exit(1)
    detail = views.detail(record)
    if deployed:
        detail["console"] = views.console_url(detail["execution"])
    if as_json:
        print(dumps(detail))
        return
    table = Table(title=f"{esc(detail['execution'].rsplit(':', 1)[-1])} — {detail['status']}")
    for column in ("state", "status", "ms", "retries", "error"):
        table.add_column(column, overflow="fold")
    for s in detail["states"]:
        table.add_row(esc(s["name"]), s["status"], str(s["duration_ms"] if s["duration_ms"] is not None else ""),
                      str(s["retries"]), esc(s["error"] or ""))
    out.print(table)
    if detail["error"]:
        out.print(f"[red]{esc(str(detail['error']))}[/red]")
    if deployed:
        out.print(f"console: {detail['console']}", soft_wrap=True, highlight=False)


@app.command()
def demo(
    home: Annotated[Optional[Path], typer.Option(help="Where the demo keeps its state (fresh each run).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fresh local stack: ingest the bundled sample photos through the real workflow, then search."""
    from shoebox.demo import run_demo

    if home is not None and home.exists() and not home.is_dir():
        err.print(f"[red]--home {esc(str(home))} is a file, not a folder[/red]")
        raise typer.Exit(1)
    code = run_demo(home=home, as_json=as_json, console=out)
    raise typer.Exit(code)


# Command groups that live in their own modules register themselves here (each has `register(app)`).
COMMAND_MODULES = ("shoebox.cli.search_cmds", "shoebox.cli.people", "shoebox.cli.backfill", "shoebox.cli.share",
                   "shoebox.cli.ops", "shoebox.cli.service_cmds", "shoebox.cli.library",
                   "shoebox.cli.sync_cmd", "shoebox.cli.serve")
# Which module a top-level command lives in, so that `shoebox search …` imports and builds only its own
# module (typer turns every registered command into click objects on each run: a tenth of a second for
# all of them). A command missing here still works: every module is registered then.
COMMAND_HOMES = {
    "search": "shoebox.cli.search_cmds", "on-this-day": "shoebox.cli.search_cmds",
    "rediscover": "shoebox.cli.search_cmds", "people": "shoebox.cli.people", "backfill": "shoebox.cli.backfill",
    "share": "shoebox.cli.share", "retry": "shoebox.cli.ops", "validate": "shoebox.cli.ops",
    "up": "shoebox.cli.service_cmds", "down": "shoebox.cli.service_cmds", "status": "shoebox.cli.service_cmds",
    "duplicates": "shoebox.cli.library", "forget": "shoebox.cli.library", "sync": "shoebox.cli.sync_cmd",
    "shares": "shoebox.cli.share", "unshare": "shoebox.cli.share", "serve": "shoebox.cli.serve",
}
OWN_COMMANDS = ("ingest", "show", "get", "executions", "execution", "demo")  # defined above
_VALUE_OPTIONS = ("--profile", "--region")  # the global options that take a value


def command_named(argv: list[str]) -> str | None:
    """The command a `shoebox` command line runs (after the global options), or None (none, or --help)."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUE_OPTIONS:
            next(args, None)
        elif arg.startswith("-"):
            if not arg.startswith(tuple(option + "=" for option in _VALUE_OPTIONS)):
                return None  # --help, --version, or an option typer will refuse: show everything
        else:
            return arg
    return None


def modules_for(argv: list[str] | None) -> tuple[str, ...]:
    """The command modules to register: the one the command line needs when it is `shoebox`'s own (the
    console script, or ``python -m shoebox``), else all (an import by tests, `--help`, a typo)."""
    if argv is None:
        return COMMAND_MODULES
    command = command_named(argv)
    if command in OWN_COMMANDS:
        return ()
    if command in COMMAND_HOMES:
        return (COMMAND_HOMES[command],)
    return COMMAND_MODULES


def _own_argv() -> list[str] | None:
    """sys.argv's arguments when this process is the `shoebox` command, else None."""
    program = Path(sys.argv[0] if sys.argv else "")
    if program.name == "shoebox" or (program.name == "__main__.py" and program.parent.name == "shoebox"):
        return sys.argv[1:]
    return None


def _register_command_modules(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_command_modules(modules_for(_own_argv()))


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

"""`shoebox backfill`: everything already under originals/ through the per-photo steps (issue 7).

    shoebox backfill                          # start, live progress, summary
    shoebox backfill --prefix 2007/ --json    # one year; prints {"run","status","processed","skipped","failed","duration_s"}
    shoebox backfill --plan [--photos N --gigabytes G] [--json]   # estimate only (measured from the bucket when omitted)
    shoebox backfill status RUN [--json]
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from shoebox.backfill.run import BackfillError, Target, normalise_prefix, result_json

out = Console()
err = Console(stderr=True)

StackOpt = Annotated[Optional[str], typer.Option("--stack", help="Deployed stack name (default: local runtime).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def local_max_concurrency() -> int:
    """Locally there is no Rekognition quota: enough photos in flight to keep every core busy."""
    return max(2, 2 * (os.cpu_count() or 1))


@contextlib.contextmanager
def open_target(stack: str | None) -> Iterator[Target]:
    from shoebox.backfill.run import backend_target
    from shoebox.cli.backends import open_backend

    with open_backend(stack) as backend:
        yield backend_target(backend)


def _dumps(value: object) -> str:
    import json

    return json.dumps(value, default=str, ensure_ascii=False)


def _plan(target: Target | None, prefix: str, photos: int | None, gigabytes: float | None,
          max_concurrency: int | None, tps: float, recognizer: str = "rekognition") -> dict:
    from shoebox.backfill.measure import measure_bucket
    from shoebox.backfill.plan import plan_modes

    mix = None
    if photos is None or gigabytes is None:
        assert target is not None
        measured = measure_bucket(target.s3, target.bucket, prefix)
        photos = measured[0] if photos is None else photos
        gigabytes = measured[1] if gigabytes is None else gigabytes
        mix = measured[2] or None
    return plan_modes(photos, gigabytes, recognizer=recognizer, format_mix=mix, max_concurrency=max_concurrency,
                      rekognition_tps=tps)


def register(app: typer.Typer) -> None:
    backfill_app = typer.Typer(help="Backfill: process what is already under originals/ (resumable).",
                               invoke_without_command=True, no_args_is_help=False)
    app.add_typer(backfill_app, name="backfill")

    @backfill_app.callback()
    def backfill(
        ctx: typer.Context,
        prefix: Annotated[Optional[str], typer.Option(help="Only keys under this prefix, e.g. 2007/ or originals/2007/.")] = None,
        plan_only: Annotated[bool, typer.Option("--plan", help="Only estimate time and AWS cost; start nothing.")] = False,
        max_concurrency: Annotated[Optional[int], typer.Option(help="Photos in flight (Map MaxConcurrency).", min=1)] = None,
        retry_failed: Annotated[bool, typer.Option(help="Also re-process photos recorded as failed.")] = False,
        photos: Annotated[Optional[int], typer.Option(help="--plan: number of photos (measured when omitted).")] = None,
        gigabytes: Annotated[Optional[float], typer.Option(help="--plan: total GB (measured when omitted).")] = None,
        tps: Annotated[float, typer.Option(help="--plan: Rekognition TPS quota per operation.")] = 5.0,
        recognizer: Annotated[Optional[str], typer.Option(
            help="--plan: recognizer mode to cost (rekognition, hybrid, local; the template's Recognizer): "
                 "the stack's with --stack, else rekognition. Every mode's total is listed too.")] = None,
        as_json: JsonOpt = False,
        stack: StackOpt = None,
    ) -> None:
        """Start a backfill run (or --plan it), show live progress, then the counts."""
        if ctx.invoked_subcommand is not None:
            return
        try:
            prefix_n = normalise_prefix(prefix)
        except BackfillError as exc:
            err.print(f"[red]{esc(str(exc))}[/red]")
            raise typer.Exit(1)
        if plan_only:
            from shoebox.recognition.registry import MODES as RECOGNIZERS, deployed_mode

            recognizer = recognizer or (deployed_mode(stack) if stack else "rekognition")
            if recognizer not in RECOGNIZERS:
                err.print(f"[red]--recognizer must be one of {', '.join(RECOGNIZERS)}[/red]")
                raise typer.Exit(2)
            if photos is not None and gigabytes is not None:
                estimate = _plan(None, prefix_n, photos, gigabytes, max_concurrency, tps, recognizer)
            else:
                with open_target(stack) as target:
                    estimate = _plan(target, prefix_n, photos, gigabytes, max_concurrency, tps, recognizer)
            if as_json:
                print(_dumps(estimate))
            else:
                _print_plan(estimate)
            return
        from shoebox.backfill.run import run_backfill

        with open_target(stack) as target:
            concurrency = max_concurrency or (local_max_concurrency() if target.local else None)
            if as_json:
                summary = run_backfill(target, prefix_n, max_concurrency=concurrency, retry_failed=retry_failed)
            else:
                summary = _run_with_progress(target, prefix_n, concurrency, retry_failed)
        if as_json:
            print(_dumps(result_json(summary)))
        else:
            _print_summary(summary)
        if summary["status"] not in ("SUCCEEDED", "EMPTY"):
            raise typer.Exit(2)

    @backfill_app.command("status")
    def status(run: Annotated[str, typer.Argument(help="Run id (as printed by `shoebox backfill`) or execution ARN.")],
               as_json: JsonOpt = False, stack: StackOpt = None) -> None:
        """Counts of one backfill run (finished or still running)."""
        from shoebox.backfill.run import run_status

        with open_target(stack) as target:
            try:
                summary = run_status(target, run)
            except BackfillError as exc:
                err.print(f"[red]{esc(str(exc))}[/red]")
                raise typer.Exit(1)
        if as_json:
            print(_dumps(result_json(summary)))
        else:
            _print_summary(summary)


def _run_with_progress(target: Target, prefix: str, concurrency: int | None, retry_failed: bool) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from shoebox.backfill.run import run_backfill

    bar = Progress(TextColumn("[bold]backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err)
    with bar:
        task = bar.add_task("", total=None, info="listing…")

        def tick(p: dict) -> None:
            rate = p["done"] / p["elapsed_s"] if p["elapsed_s"] > 0 else 0.0
            info = (f"[red]{p['failed']} failed[/red] · ~{p['expected_skips']} skipped (already done) · "
                    f"{rate:.1f}/s")
            bar.update(task, total=p["total"], completed=p["done"], info=info)

        return run_backfill(target, prefix, max_concurrency=concurrency, retry_failed=retry_failed, on_progress=tick)


def _print_summary(s: dict) -> None:
    colour = "green" if s.get("status") in ("SUCCEEDED", "EMPTY") else "yellow" if s.get("status") == "RUNNING" else "red"
    out.print(f"[bold]{esc(str(s['run']))}[/bold] [{colour}]{s.get('status')}[/] — {s.get('processed')} processed · "
              f"{s.get('skipped')} skipped · {s.get('failed')} failed · {s.get('duration_s')} s")
    if s.get("message") or s.get("error"):
        out.print(esc(s["message"]) if s.get("message") else f"[red]{esc(str(s['error']))}[/red]")
    if s.get("skips"):
        out.print("skipped: " + ", ".join(f"{n} {reason}" for reason, n in s["skips"].items()))
    if s.get("failures"):
        table = Table(title="failed (recorded in the catalog; `--retry-failed` re-processes them)")
        table.add_column("key", overflow="fold")
        table.add_column("error", overflow="fold")
        for f in s["failures"][:20]:
            table.add_row(esc(f["key"]), esc(f["error"] or ""))
        out.print(table)


def _print_plan(d: dict) -> None:
    out.print(f"{d['photos']:,} photos, {d['gigabytes']:,} GB: about {d['duration_s'] / 3600:.1f} h at "
              f"max_concurrency {d['max_concurrency']}")
    out.print(f"recognizer {d.get('recognizer', 'rekognition')}:")
    for name, usd in d["cost_usd"].items():
        out.print(f"  {name:<20} ${usd:>10,.2f}")
    out.print("  (total = the backfill once + one month of storage; see docs/backfill.md)")
    if d.get("modes"):
        out.print(f"  {'mode':<12} {'total':>9} {'one-off':>9} {'monthly':>9} {'per 1,000':>10}")
        for mode, m in d["modes"].items():
            out.print(f"  {mode:<12} ${m['total']:>8,.2f} ${m['one_off']:>8,.2f} ${m['monthly']:>8,.2f} "
                      f"${m['per_1000_photos']:>9,.2f}")
        rek = d["modes"].get("rekognition", {})
        for key, total in rek.items():
            if key.startswith("total_with_"):
                grouping = key.removeprefix("total_with_").removesuffix("_grouping")
                out.print(f"  (rekognition with FaceGrouping {grouping}: ${total:,.2f}; docs/rekognition.md \"Grouping\")")

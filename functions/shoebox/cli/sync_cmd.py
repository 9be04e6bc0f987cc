"""`shoebox sync`: upload what is new or changed in folders, then return (the workflow processes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, err, esc, out


def _state(backend):
    from shoebox.config import shoebox_home
    from shoebox.ingest.sync_state import STATE_FILE, SyncState

    home = backend.home or shoebox_home()
    target = f"local|{backend.bucket}" if backend.local else f"aws|{backend.endpoint.region}|{backend.bucket}"
    return SyncState(Path(home) / STATE_FILE, target)


def sync(
    paths: Annotated[list[Path], typer.Argument(help="Folders (or files) to upload to originals/.")],
    stack: StackOpt = None,
    as_json: JsonOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be uploaded and what it would cost.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Then wait until the workflow has processed them.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Files uploaded at once.")] = 8,
    max_bandwidth: Annotated[Optional[float], typer.Option(help="Upload limit in MB/s (all files together).")] = None,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 3600.0,
    watch: Annotated[bool, typer.Option("--watch", help="Keep running: upload new or changed files as they appear (Ctrl-C stops).")] = False,
    poll: Annotated[Optional[bool], typer.Option("--poll/--no-poll", help="With --watch: poll the folders instead of "
                                                 "file-system events (default: poll on network shares).")] = None,
    settle: Annotated[float, typer.Option(help="With --watch: seconds without changes before a burst is synced, and "
                                          "the age a file must reach (a copy in progress is not uploaded).")] = 2.0,
) -> None:
    """Upload what is new or changed since the last sync (resumable: a killed sync continues where it
    stopped), then return; the workflow processes each photo in the background."""
    from shoebox.ingest.sync import MB, SyncOptions, estimate, run_sync, wait_processed

    _check_arguments(paths, watch, dry_run, wait)
    options = SyncOptions(concurrency=concurrency, dry_run=dry_run,
                          max_bandwidth=int(max_bandwidth * MB) if max_bandwidth else None)
    with open_backend(stack) as backend:
        state = _state(backend)
        try:
            def one_pass(min_age: float = 0.0):
                if as_json:
                    return run_sync(backend.s3, backend.bucket, state, paths, options, min_age=min_age,
                                    catalog=backend.catalog, on_result=lambda r: print(dumps(r.to_json()), flush=True))
                return _with_progress(backend, state, paths, options, min_age)

            if watch:
                _watch(paths, one_pass, settle, poll, as_json)
                return
            report = one_pass()
            summary = report.summary()
            if dry_run:
                pending = [r for r in report.results if r.status == "would-upload"]
                summary["estimate"] = estimate(_as_candidates(pending), backend.endpoint.region)
            if wait and not dry_run:
                uploaded = {r.key: r.etag for r in report.results if r.status == "uploaded"}
                summary.update(_processing(wait_processed(backend.catalog, uploaded, backend.poll_seconds, timeout)))
        finally:
            state.close()
    if as_json:
        print(dumps({"summary": summary}), flush=True)
    else:
        _print_summary(report, summary, dry_run)
    if summary["failed"] or summary.get("processing_failed") or summary.get("not_processed_in_time"):
        raise typer.Exit(2)


def _check_arguments(paths: list[Path], watch: bool, dry_run: bool, wait: bool) -> None:
    for path in paths:
        if not path.exists():
            err.print(f"[red]no such file or folder: {esc(str(path))}[/red]")
            raise typer.Exit(1)
    if watch and (dry_run or wait):
        err.print("[red]--watch cannot be combined with --dry-run or --wait[/red]")
        raise typer.Exit(1)


def _processing(rows: dict) -> dict[str, int]:
    """``wait_processed``'s rows (key -> photo record, None when not processed in time) counted."""
    done = [r for r in rows.values() if r is not None]
    return {"processed": sum(1 for r in done if r.status != "failed"),
            "processing_failed": sum(1 for r in done if r.status == "failed"),
            "not_processed_in_time": len(rows) - len(done)}


def _watch(paths, one_pass, settle: float, poll, as_json: bool) -> None:
    """First a pass over everything, then one per burst of changes, until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from shoebox.ingest.sync import network_filesystem, watch

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    polling = poll if poll is not None else any(network_filesystem(p) for p in paths)

    def run():
        report = one_pass(settle)
        if as_json:
            print(dumps({"summary": report.summary()}), flush=True)
        else:
            _print_summary(report, report.summary(), False)
        return report

    err.print(esc(f"watching {', '.join(str(p) for p in paths)} ({'polling' if polling else 'file-system events'}); "
                  "Ctrl-C stops"))
    try:
        watch([Path(p) for p in paths], run, stop, settle=settle, polling=polling)
    except KeyboardInterrupt:
        pass


def _as_candidates(results):
    from shoebox.ingest.sync import Candidate

    return [Candidate(Path(r.source), r.size, 0) for r in results]


def _with_progress(backend, state, paths, options, min_age: float = 0.0):
    """One display: files and bytes done, MB/s, ETA (over the bytes to send)."""
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    from shoebox.ingest.sync import run_sync

    progress = Progress(TextColumn("[bold]sync"), BarColumn(), TextColumn("{task.fields[files]}"), DownloadColumn(),
                        TransferSpeedColumn(), TimeRemainingColumn(), console=err, transient=False)
    with progress:
        task = progress.add_task("", total=None, files="scanning")
        counts = {"done": 0, "total": 0}

        def start(candidates):
            counts["total"] = len(candidates)
            progress.update(task, total=sum(c.size for c in candidates) or 1, files=f"0/{len(candidates)} files")

        def result(r):
            counts["done"] += 1
            progress.update(task, files=f"{counts['done']}/{counts['total']} files")
            if r.status == "failed":
                progress.console.print(f"[red]{esc(r.source)}: {esc(r.error or '')}[/red]")
            elif r.status == "present":  # bytes not sent: count them as done for the ETA
                progress.update(task, advance=r.size)

        def sent(n):
            progress.update(task, advance=n)

        return run_sync(backend.s3, backend.bucket, state, paths, options, on_result=result, on_start=start,
                        on_bytes=sent, min_age=min_age, catalog=backend.catalog)


def _print_summary(report, summary, dry_run: bool) -> None:
    if dry_run:
        for r in report.results:
            if r.status == "would-upload":
                out.print(f"would upload {esc(r.source)} -> {esc(r.key or '')} ({r.size} bytes)")
        estimate = summary["estimate"]
        out.print(f"{summary['would-upload']} file(s), {estimate['gigabytes']} GB would be uploaded; "
                  f"estimated ${estimate['cost_usd']['total']} (processing once + a month of storage)")
    line = (f"{summary['uploaded']} uploaded ({summary['uploaded_bytes'] / 1e6:.1f} MB), {summary['present']} already "
            f"there, {summary['duplicate']} duplicate(s) not stored again, {summary['unchanged']} unchanged, "
            f"{summary['skipped']} not photos (sidecars, companions), {summary['failed']} failed "
            f"in {summary['seconds']:.1f}s")
    if "processed" in summary:
        line += (f"; processed {summary['processed']}, failed {summary['processing_failed']}, "
                 f"not yet {summary['not_processed_in_time']}")
    out.print(esc(line))


def register(app: typer.Typer) -> None:
    app.command()(sync)

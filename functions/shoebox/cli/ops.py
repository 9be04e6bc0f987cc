"""`shoebox retry` and `shoebox validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import JsonOpt, StackOpt, err, esc, out


def _object_exists(backend, key: str) -> bool:
    from botocore.exceptions import ClientError

    from shoebox.aws import object_missing

    try:
        backend.s3.head_object(Bucket=backend.bucket, Key=key)
        return True
    except ClientError as exc:
        if object_missing(exc):
            return False
        raise


def retry(
    keys: Annotated[Optional[list[str]], typer.Argument(help="Photo keys to re-run (default: all failed).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Also every failed photo (the default without keys).")] = False,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Re-run photos through the workflow (the failed ones by default). Originals are never modified."""
    with open_backend(stack) as backend:
        targets = _targets(backend, keys, failed)
        if not targets:
            err.print("no failed photos")
            return
        missing = [key for key in targets if not _object_exists(backend, key)]
        if missing:  # checked before any run starts
            err.print(f"[red]no such photo: {esc(', '.join(missing))}[/red] (not in the bucket)")
            raise typer.Exit(1)
        started = [(key, backend.start_photo(key)) for key in targets]
        backend.wait([arn for _, arn in started])
        results = [_outcome(backend, key, arn) for key, arn in started]
    if as_json:
        print(dumps(results))
    else:
        for r in results:
            out.print(esc(f"{r['key']}: {r['status']}" + (f" — {r['error']}" if r["error"] else "")))
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(2)


def _targets(backend, keys: list[str] | None, failed: bool) -> list[str]:
    """The keys given, then (with --failed, or when none are given) every failed photo not among them."""
    targets = list(keys or [])
    if failed or not targets:
        targets += [r.key for r in backend.catalog.list_failed() if r.key not in targets]
    return targets


def _outcome(backend, key: str, arn: str) -> dict:
    record = backend.catalog.get_photo(key)
    return {"key": key, "execution": arn, "status": record.status if record else None,
            "error": record.error if record else None}


def validate(root: Annotated[Optional[Path], typer.Option(help="Project folder.")] = None, as_json: JsonOpt = False) -> None:
    """Offline checks: cfn-lint, the SAM transform, and every state machine loads in the ASL interpreter."""
    from shoebox.validate import run_checks

    if root is not None and not (root / "template.yaml").is_file():
        err.print(f"[red]--root {esc(str(root))} has no template.yaml (give the project folder)[/red]")
        raise typer.Exit(1)
    results = run_checks(root)
    if as_json:
        print(dumps(results))
    else:
        for name, problems in results.items():
            out.print(f"[{'green' if not problems else 'red'}]{'ok  ' if not problems else 'FAIL'}[/] {name}")
            for problem in problems:
                out.print(f"      {esc(str(problem))}")
    if any(results.values()):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(retry)
    app.command()(validate)

"""Every command, given wrong input, answers with a one-line error and a non-zero exit, never a traceback
(issue 19). The command list is read from the app, so a new command without a case here fails."""

from __future__ import annotations

import os

import pytest
import typer.main
from typer.testing import CliRunner

from shoebox.cli.main import app


def _command_paths(cmd, path=()):
    if getattr(cmd, "commands", None):
        if getattr(cmd, "invoke_without_command", False):
            yield " ".join(path)
        for name, sub in cmd.commands.items():
            yield from _command_paths(sub, (*path, name))
    else:
        yield " ".join(path)


def _cases(tmp):
    fifo_dir = tmp / "only-a-pipe"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "p.jpg")
    return {
        "ingest": [["ingest", str(tmp / "missing")], ["ingest", str(tmp), "--retry-failed", "--exclude"]],
        "sync": [["sync", str(tmp / "missing")], ["sync", str(tmp), "--concurrency", "0"],
                 ["sync", str(tmp), "--watch", "--dry-run"]],
        "show": [["show", "originals/nope.jpg"]],
        "get": [["get", "originals/nope.jpg"], ["get", "originals/nope.jpg", "-o", str(tmp / "no" / "dir" / "x.jpg")]],
        "executions": [["executions", "--limit", "lots"]],
        "demo": [["demo", "--home", str(tmp / "a-file")]],
        "search": [["search", "dogs", "--today", "yesterday"], ["search", "dogs", "--limit", "0"]],
        "on-this-day": [["on-this-day", "--date", "31/12/2020"]],
        "rediscover": [["rediscover", "--limit", "-3"]],
        "share": [["share", "originals/nope.jpg"], ["share", "--expires", "7"], ["share", "--query", "zebras"],
                  ["share", "originals/nope.jpg", "--expires", "9d"]],
        "shares": [["shares", "--stack", "no-such-stack"]],
        "unshare": [["unshare", "no-such-share"]],
        "serve": [["serve", "--port", "70000"], ["serve", "--stack", "no-such-stack", "--no-open"]],
        "retry": [["retry", "originals/nope.jpg"]],
        "validate": [["validate", "--root", str(tmp / "missing")]],
        "duplicates": [["duplicates", "--stack"], ["duplicates", "--stack", "no-such-stack"]],
        "forget": [["forget", "originals/nope.jpg", "--yes"], ["forget", "thumbnails/x.jpg", "--yes"],
                   ["forget", "--timeout", "0", "originals/x.jpg"]],
        "execution show": [["execution", "show", "originals/nope.jpg"]],
        "people": [["people", "--limit", "0"]],
        "people name": [["people", "name", "p-nope", "Bob"]],
        "people merge": [["people", "merge", "p-x", "p-x"], ["people", "merge", "p-x"], ["people", "merge", "p-x", "p-y"]],
        "people unmerge": [["people", "unmerge", "p-nope"]],
        "people apart": [["people", "apart", "p-x", "p-x"], ["people", "apart", "p-x", "p-y"]],
        "people hide": [["people", "hide", "p-nope"]],
        "people unhide": [["people", "unhide", "p-nope"]],
        "people suggest": [["people", "suggest", "--limit", "none"]],
        "people show": [["people", "show", "p-nope"]],
        "backfill": [["backfill", "--max-concurrency", "0"], ["backfill", "--plan", "--photos", "many"]],
        "backfill status": [["backfill", "status", "no-such-run"]],
        # the local service's commands take no arguments (a usage error runs nothing: the service stays up)
        "up": [["up", "extra"]],
        "down": [["down", "now"]],
        "status": [["status", "--verbose"]],
    }


def _error_lines(text: str) -> list[str]:
    """The error's own lines: click's usage block does not count, and the box it draws around its
    message holds one message (rich wraps it inside the box)."""
    out: list[str] = []
    boxed: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("╭"):
            boxed = []
        elif line.startswith("╰") and boxed is not None:
            out.append(" ".join(boxed))
            boxed = None
        elif boxed is not None:
            boxed.append(line.strip("│ "))
        elif line.startswith("127.0.0.1 - - ["):
            continue  # the test's in-process service logs its requests (a real one is another process)
        elif line.strip() and not line.startswith(("Usage:", "Try '")):
            out.append(line.strip())
    return out


def test_every_command_has_wrong_input_cases(tmp_path):
    assert set(_command_paths(typer.main.get_command(app))) - {""} == set(_cases(tmp_path))


# --stack: a closed local port answers at once where AWS would (there is no network here)
NO_AWS = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1", "AWS_ACCESS_KEY_ID": "x",
          "AWS_SECRET_ACCESS_KEY": "x"}


def test_wrong_input_gives_one_line_and_a_non_zero_exit(service, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    runner = CliRunner()
    problems = []
    for name, invocations in _cases(tmp_path).items():
        for args in invocations:
            result = runner.invoke(app, args, env=NO_AWS if "--stack" in args else None)
            text = result.stderr + result.stdout
            crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
            lines = _error_lines(result.stderr)
            if crashed or result.exit_code == 0 or "Traceback" in text or len(lines) != 1:
                problems.append((args, result.exit_code, repr(result.exception) if crashed else None, text[-600:]))
    assert not problems, "\n".join(map(str, problems))


@pytest.fixture(autouse=True)
def _forget_stack_clients():
    """The --stack cases cache clients aimed at the closed port: later tests must not get them."""
    yield
    from shoebox import aws

    aws.reset_clients()

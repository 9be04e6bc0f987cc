"""Console-like views of executions, from DescribeExecution + GetExecutionHistory (pure).

The same shapes come from AWS and from the local runtime, so one reader serves both.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from shoebox.s3_layout import ORIGINALS


NAME_LIMIT = 80  # Step Functions: execution names are 1-80 characters


def _readable(key: str, room: int) -> str:
    """The key without ``originals/``, in the characters CloudWatch-logged names keep ([A-Za-z0-9_-]), cut
    from the left so the file name survives: ``2020-01-02-my-photo--1--jpg``."""
    text = unquote_plus(key)
    text = text[len(ORIGINALS):] if text.startswith(ORIGINALS) else text
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[-room:].lstrip("-_") or "photo"


def execution_name(key: str) -> str:
    """A readable, unique execution name for a re-run of a photo (``shoebox retry``, ingest): a new one
    each call, as each is a new run."""
    return f"{_readable(key, NAME_LIMIT - 13)}-{uuid.uuid4().hex[:12]}"


def event_execution_name(key: str, etag: str | None, sequencer: str | None) -> str:
    """The execution name for one S3 upload event: readable and deterministic. A second delivery of the
    same event (EventBridge and SQS deliver at least once) gets the same name, so Step Functions refuses
    it (``ExecutionAlreadyExists``) instead of running the photo twice; another upload of the same key has
    another sequencer, hence another name. The digest covers the exact key (sanitizing may merge two keys)."""
    digest = hashlib.sha256(f"{key}\n{etag or ''}\n{sequencer or ''}".encode()).hexdigest()[:16]
    return f"{_readable(key, NAME_LIMIT - 17)}-{digest}"


_CONSOLE_DOMAINS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn",
                    "aws-us-gov": "console.amazonaws-us-gov.com"}


def console_url(execution_arn: str) -> str:
    """The Step Functions console page of an execution (its graph, events, input and output)."""
    _, partition, _, region, *_ = execution_arn.split(":")
    domain = _CONSOLE_DOMAINS.get(partition, "console.aws.amazon.com")
    return f"https://{region}.{domain}/states/home?region={region}#/v2/executions/details/{execution_arn}"


def logged_events(records: list[str]) -> list[dict]:
    """Step Functions' CloudWatch Logs records of one execution -> GetExecutionHistory's events, which
    :func:`states` reads. An Express execution (a backfill item) has no history, only these records:
    ``{"id", "type", "details", "previous_event_id", "event_timestamp" (ms), "execution_arn"}``."""
    from datetime import timezone

    out = []
    for text in records:
        record = json.loads(text)
        etype = record["type"]
        if etype.endswith("StateEntered"):
            details_key = "stateEnteredEventDetails"
        elif etype.endswith("StateExited"):
            details_key = "stateExitedEventDetails"
        else:
            details_key = etype[0].lower() + etype[1:] + "EventDetails"
        event = {"id": int(record["id"]), "type": etype,
                 "timestamp": datetime.fromtimestamp(int(record["event_timestamp"]) / 1000, tz=timezone.utc),
                 "previousEventId": int(record.get("previous_event_id") or 0)}
        if record.get("details"):
            event[details_key] = record["details"]
        out.append(event)
    return sorted(out, key=lambda e: e["id"])


def _ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _iso(value: Any) -> str | None:
    ts = _ts(value)
    return ts.isoformat() if ts else None


def _ms(start: Any, stop: Any) -> int | None:
    a, b = _ts(start), _ts(stop)
    return int((b - a).total_seconds() * 1000) if a and b else None


def input_key(describe: dict) -> str | None:
    """The photo an execution is about: from the EventBridge event or a backfill item."""
    try:
        data = json.loads(describe.get("input") or "{}")
    except ValueError:
        return None
    return ((data.get("detail") or {}).get("object") or {}).get("key") or data.get("key") or data.get("Key")


def _error_text(details: dict) -> str | None:
    error = details.get("error")
    cause = details.get("cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            cause = parsed.get("errorMessage") or cause
    except ValueError:
        pass
    if not error and not cause:
        return None
    return f"{error}: {cause}" if cause and not cause.startswith(f"{error}:") else (cause or error)


_SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled")
_TASK_FAILED = ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut")
_EXECUTION_ENDED = ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")


def states(events: list[dict]) -> list[dict]:
    """Each state the execution entered: name, status, start, duration, retries, error."""
    out: list[dict] = []
    current: dict | None = None
    for event in events:
        if event["type"].endswith("StateEntered"):
            if current is not None and current["status"] == "running":
                current["status"] = "failed"  # left through a Catch
            current = {"name": event["stateEnteredEventDetails"]["name"], "status": "running",
                       "start": _iso(event["timestamp"]), "duration_ms": None, "retries": 0, "error": None,
                       "_start": event["timestamp"], "_attempts": 0}
            out.append(current)
        elif current is not None:
            _apply(current, event)
    return [_finished(state) for state in out]


def _apply(current: dict, event: dict) -> None:
    """One event of the state being run: an attempt, a failed attempt, the exit, or the execution's end."""
    etype = event["type"]
    if etype in _SCHEDULED:
        current["_attempts"] += 1
        current["retries"] = max(0, current["_attempts"] - 1)
    elif etype in _TASK_FAILED:
        key = next((k for k in event if k.endswith("EventDetails")), None)
        current["error"] = _error_text(event.get(key, {}) if key else {})
        current["duration_ms"] = _ms(current["_start"], event["timestamp"])
    elif etype.endswith("StateExited"):
        current["status"] = "succeeded"
        current["duration_ms"] = _ms(current["_start"], event["timestamp"])
        if current["error"] and current["retries"] == 0:
            current["status"] = "failed"
    elif etype in _EXECUTION_ENDED and current["status"] == "running":
        current["status"] = "failed"
        current["duration_ms"] = _ms(current["_start"], event["timestamp"])
        details = event.get("executionFailedEventDetails") or {}
        current["error"] = current["error"] or _error_text(details)


def _finished(state: dict) -> dict:
    state.pop("_start", None)
    state.pop("_attempts", None)
    if state["status"] == "succeeded" and state["retries"] and state["error"]:
        state["error"] = f"recovered after {state['retries']} retr{'y' if state['retries'] == 1 else 'ies'}: {state['error']}"
    return state


def summary(record: dict) -> dict:
    """One row of `shoebox executions`."""
    describe, events = record["describe"], record.get("events") or []
    failed_state = None
    error = None
    if describe.get("status") == "FAILED":
        walked = states(events)
        failing = [s for s in walked if s["status"] == "failed" and s["name"] not in ("Failed", "FailedUnrecorded")]
        if failing:
            failed_state = failing[0]["name"]
            error = failing[0]["error"]
        error = _error_text({"error": describe.get("error"), "cause": describe.get("cause")}) or error
    return {
        "execution": describe["executionArn"],
        "key": input_key(describe),
        "status": describe.get("status"),
        "start": _iso(describe.get("startDate")),
        "stop": _iso(describe.get("stopDate")),
        "duration_ms": _ms(describe.get("startDate"), describe.get("stopDate")),
        "failed_state": failed_state,
        "error": error,
    }


def detail(record: dict) -> dict:
    """`shoebox execution show`."""
    describe = record["describe"]

    def parse(text: str | None) -> Any:
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text

    return {
        "execution": describe["executionArn"],
        "status": describe.get("status"),
        "input": parse(describe.get("input")),
        "output": parse(describe.get("output")),
        "error": _error_text({"error": describe.get("error"), "cause": describe.get("cause")}),
        "states": states(record.get("events") or []),
    }

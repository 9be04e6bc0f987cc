"""Start, follow and count a backfill run (statemachine/backfill.asl.json), locally or on a deployed stack.

The same code serves both; a :class:`Target` says where. Counting never trusts the Map's status alone
(moto swallows failing children, and "succeeded" mixes processed with skipped): the final numbers come
from what the children recorded in the catalog, per listed object:

* the row was written by this run (its ``execution`` is one of the run's ARNs): ``processed``,
  ``skipped`` (a video, with its reason) or ``failed`` (with its error), as the row says;
* no row and the object gone meanwhile: ``skipped`` (deleted since listed; its run wrote nothing);
* a row from before that matches the object (same ETag and pipeline version): ``skipped``, already done;
* no row, or a stale one: ``failed`` (the child died without recording, e.g. an EXPRESS child timing out).

Live progress polls DescribeMapRun (items done and failed); the expected number of skips is known
before the run starts, from the same catalog check the item processor makes (``pre_scan``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shoebox.catalog import keys as catalog_keys
from shoebox.s3_layout import ORIGINALS
from shoebox.steps.versions import current_etag

SUMMARY_PREFIX = "backfill/"  # s3://bucket/backfill/<run>/summary.json; the bucket expires backfill/ after 30 days
DONE_STATES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

Progress = Callable[[dict], None]


class BackfillError(ValueError):
    """A run that cannot start (bad prefix, unknown run)."""


@dataclass
class Target:
    """Where a backfill runs: clients, names, and how to wait for an execution."""

    sfn: Any
    s3: Any
    ddb: Any
    bucket: str
    table: str
    state_machine_arn: str
    local: bool = False
    # wait(arn, timeout) -> status or None on timeout. Locally event-driven (LocalRuntime.wait); else polling.
    wait: Callable[[str, float], str | None] | None = None

    def wait_for(self, arn: str, timeout: float) -> str | None:
        if self.wait is not None:
            return self.wait(arn, timeout)
        time.sleep(timeout)
        status = self.sfn.describe_execution(executionArn=arn)["status"]
        return status if status in DONE_STATES else None


@dataclass
class Listed:
    key: str
    size: int
    etag: str


@dataclass
class Tally:
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[dict] = field(default_factory=list)  # {"key", "error"}
    skips: dict[str, int] = field(default_factory=dict)  # reason -> count

    def add_skip(self, reason: str) -> None:
        self.skipped += 1
        self.skips[reason] = self.skips.get(reason, 0) + 1


# ---------------------------------------------------------------------------------------------- listing
def normalise_prefix(prefix: str | None) -> str:
    """``None``/"" -> originals/; "2007/" -> originals/2007/; thumbnails/ or backfill/ are refused."""
    prefix = (prefix or "").lstrip("/")
    if prefix in ("", "originals"):
        return ORIGINALS
    if prefix.startswith(ORIGINALS):
        return prefix
    if prefix.split("/", 1)[0] in ("thumbnails", "backfill"):
        raise BackfillError(f"only originals/ is backfilled, not {prefix!r}")
    return ORIGINALS + prefix


def backend_target(backend: Any) -> Target:
    """A :class:`Target` on an open Backend (the local service or a deployed stack)."""
    from shoebox import aws

    if not backend.backfill_arn:
        raise BackfillError(f"stack {backend.stack} has no BackfillStateMachineArn output: deploy the current template")

    def wait(arn: str, timeout: float) -> str | None:
        return backend.wait([arn], timeout=timeout).get(arn)

    return Target(sfn=backend.sfn, s3=backend.s3, ddb=aws.client("dynamodb"), bucket=backend.bucket,
                  table=backend.table, state_machine_arn=backend.backfill_arn, local=backend.local, wait=wait)


def local_target(rt: Any) -> Target:
    """A :class:`Target` on an in-process LocalRuntime (tests, benchmarks)."""
    from shoebox import aws

    def wait(arn: str, timeout: float) -> str | None:
        try:
            return rt.wait([arn], timeout=timeout)[arn]
        except TimeoutError:
            return None

    return Target(sfn=rt.sfn, s3=rt.s3, ddb=aws.client("dynamodb"), bucket=rt.bucket, table=rt.table,
                  state_machine_arn=rt.state_machine_arn("BackfillStateMachine"), local=True, wait=wait)


def list_objects(s3: Any, bucket: str, prefix: str) -> list[Listed]:
    out: list[Listed] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", ()):
            out.append(Listed(obj["Key"], int(obj.get("Size", 0)), obj.get("ETag", "").strip('"')))
    return out


# ---------------------------------------------------------------------------------------------- catalog
def _rows(ddb: Any, table: str, keys: Iterable[str]) -> dict[str, dict]:
    """key -> {status, etag, pipeline_version, execution, error} via BatchGetItem (100 keys a call)."""
    wanted = list(dict.fromkeys(keys))
    out: dict[str, dict] = {}
    for start in range(0, len(wanted), 100):
        request = {table: {
            "Keys": [{"pk": {"S": catalog_keys.photo_pk(k)}, "sk": {"S": catalog_keys.PHOTO_SK}}
                     for k in wanted[start : start + 100]],
            "ProjectionExpression": "#k, #s, etag, pipeline_version, doc",
            "ExpressionAttributeNames": {"#k": "key", "#s": "status"},
            "ConsistentRead": True,
        }}
        while request:
            response = ddb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                doc = json.loads(item["doc"]["S"]) if "doc" in item else {}
                out[item["key"]["S"]] = {
                    "status": item["status"]["S"],
                    "etag": item.get("etag", {}).get("S"),
                    "pipeline_version": int(item["pipeline_version"]["N"]),
                    "execution": doc.get("execution"),
                    "error": doc.get("error"),
                }
            request = response.get("UnprocessedKeys") or {}
    return out


def pre_scan(target: Target, objects: list[Listed], retry_failed: bool = False) -> int:
    """How many of ``objects`` the item processor will skip as already done (the same rule, in Python)."""
    from shoebox.steps.check_done import decide  # the step module loads Powertools: not at CLI start

    rows = _rows(target.ddb, target.table, [o.key for o in objects if not o.key.endswith("/")])
    skipped = 0
    for obj in objects:
        row = rows.get(obj.key) or {}
        done, _ = decide(obj.key, obj.etag, (row.get("status"), row.get("etag"), row.get("pipeline_version")),
                         retry_failed)
        skipped += done
    return skipped


def tally(target: Target, run_arns: Iterable[str], objects: list[Listed]) -> Tally:
    """Final counts from the catalog (see the module docstring)."""
    from shoebox.steps.check_done import decide

    arns = set(run_arns)
    rows = _rows(target.ddb, target.table, [o.key for o in objects if not o.key.endswith("/")])
    out = Tally()
    for obj in objects:
        if obj.key.endswith("/"):
            out.add_skip("folder marker")
            continue
        row = rows.get(obj.key)
        if row is None and current_etag(target.bucket, obj.key, target.s3) is None:
            out.add_skip("deleted since listed")  # its run found it gone and wrote nothing (steps/supersede.py)
        elif row is None:
            out.failed += 1
            out.failures.append({"key": obj.key, "error": "no catalog row: the item failed without recording"})
        elif row["execution"] in arns:
            if row["status"] == "failed":
                out.failed += 1
                out.failures.append({"key": obj.key, "error": row["error"]})
            elif row["status"] == "skipped":
                out.add_skip(row["error"] or "skipped")
            else:
                out.processed += 1
        else:
            done, reason = decide(obj.key, obj.etag, (row["status"], row["etag"], row["pipeline_version"]))
            if done:
                out.add_skip(reason)
            else:
                out.failed += 1
                out.failures.append({"key": obj.key, "error": f"not processed by this run ({reason})"})
    return out


# ---------------------------------------------------------------------------------------------- map runs
def map_run(sfn: Any, execution_arn: str) -> dict | None:
    """DescribeMapRun of the execution's Map Run (None until the Map state has started)."""
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:
        return None
    return sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])


def _counts(described: dict | None) -> dict[str, int]:
    items = (described or {}).get("itemCounts") or {}
    failed = int(items.get("failed", 0)) + int(items.get("timedOut", 0)) + int(items.get("aborted", 0))
    return {"done": int(items.get("succeeded", 0)) + failed, "failed": failed}


def new_run_id() -> str:
    return f"backfill-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def _summary_key(run: str) -> str:
    return f"{SUMMARY_PREFIX}{run}/summary.json"


def result_json(summary: dict) -> dict:
    """The stable `shoebox backfill --json` shape."""
    return {k: summary.get(k) for k in ("run", "status", "processed", "skipped", "failed", "duration_s")}


# ---------------------------------------------------------------------------------------------- a run
def run_backfill(target: Target, prefix: str | None = None, *, max_concurrency: int | None = None,
                 retry_failed: bool = False, on_progress: Progress | None = None, poll_s: float = 1.0,
                 run_id: str | None = None) -> dict:
    """Start a run, follow it to the end, count it from the catalog, save and return its summary."""
    prefix = normalise_prefix(prefix)
    run = run_id or new_run_id()
    started = time.monotonic()
    objects = list_objects(target.s3, target.bucket, prefix)
    summary: dict[str, Any] = {"run": run, "prefix": prefix, "objects": len(objects), "executions": []}
    if not objects:
        # AWS would run an empty Map; moto's ItemReader fails on an empty listing. Nothing to do either way.
        summary.update(status="EMPTY", processed=0, skipped=0, failed=0, duration_s=0.0,
                       message=f"no objects under {prefix}")
        _save_summary(target, summary)
        return summary
    expected_skips = pre_scan(target, objects, retry_failed)
    prefixes = [prefix]  # one execution; kept a list so counting can span several if ever needed
    run_input: dict[str, Any] = {"prefix": prefix, "retry_failed": retry_failed}
    if max_concurrency:
        run_input["max_concurrency"] = int(max_concurrency)

    progress = {"run": run, "total": len(objects), "done": 0, "failed": 0, "expected_skips": expected_skips,
                "elapsed_s": 0.0}
    finished = {"done": 0, "failed": 0}
    statuses: list[str] = []
    tolerated: float | None = None
    for index, part in enumerate(prefixes):
        name = run if len(prefixes) == 1 else f"{run}-part{index + 1:03d}"
        arn = target.sfn.start_execution(stateMachineArn=target.state_machine_arn, name=name,
                                         input=json.dumps({**run_input, "prefix": part}))["executionArn"]
        summary["executions"].append(arn)
        status, seen = _follow(target, arn, poll_s, progress, finished, started, on_progress)
        tolerated = tolerated if tolerated is not None else seen
        finished = {"done": progress["done"], "failed": progress["failed"]}
        statuses.append(status)
        if status != "SUCCEEDED":
            describe = target.sfn.describe_execution(executionArn=arn)
            summary["error"] = f"{describe.get('error') or status}: {describe.get('cause') or ''}".strip(": ")
            break

    counts = tally(target, summary["executions"], objects)
    status = next((s for s in statuses if s != "SUCCEEDED"), "SUCCEEDED")
    over = _over_tolerance(tolerated, counts.failed, len(objects))
    if status == "SUCCEEDED" and over:
        # AWS fails the Map Run past the tolerance; moto ignores it. Say what AWS would have said.
        status, summary["error"] = "FAILED", over
    summary.update(status=status, processed=counts.processed, skipped=counts.skipped, failed=counts.failed,
                   duration_s=round(time.monotonic() - started, 3), skips=counts.skips,
                   failures=counts.failures[:100], expected_skips=expected_skips)
    _save_summary(target, summary)
    return summary


def _follow(target: Target, arn: str, poll_s: float, progress: dict, finished: dict, started: float,
            on_progress: Progress | None) -> tuple[str, float | None]:
    """Wait for one execution, reporting progress each poll (its Map Run's counts on top of the earlier
    executions' ``finished``). Returns its status and its Map Run's tolerated failure percentage."""
    status, tolerated = None, None
    while status is None:
        status = target.wait_for(arn, poll_s)
        described = map_run(target.sfn, arn)
        if described is not None and tolerated is None:
            tolerated = described.get("toleratedFailurePercentage")
        live = _counts(described)
        progress.update(done=finished["done"] + live["done"], failed=finished["failed"] + live["failed"],
                        elapsed_s=time.monotonic() - started)
        if on_progress:
            on_progress(dict(progress))
    return status, tolerated


def _over_tolerance(tolerated: float | None, failed: int, total: int) -> str | None:
    """The error AWS fails a Map Run with when more than ``tolerated`` % of its items failed; else None."""
    if tolerated is None or failed * 100.0 <= tolerated * total:
        return None
    return f"States.ExceedToleratedFailureThreshold: {failed} of {total} failed (tolerated {tolerated:g} %)"


def _save_summary(target: Target, summary: dict) -> None:
    target.s3.put_object(Bucket=target.bucket, Key=_summary_key(summary["run"]),
                         Body=json.dumps(summary, default=str).encode(), ContentType="application/json")


def run_status(target: Target, run: str) -> dict:
    """A run's summary: saved at its end by the command that followed it, else from its execution now."""
    from botocore.exceptions import ClientError

    try:
        body = target.s3.get_object(Bucket=target.bucket, Key=_summary_key(run))["Body"].read()
        return json.loads(body)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
    # Not finished (or its command was interrupted): the execution and its Map Run as they are now.
    arn = run if run.startswith("arn:") else \
        target.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run}"
    try:
        describe = target.sfn.describe_execution(executionArn=arn)
    except ClientError as err:
        raise BackfillError(f"no backfill run {run!r}") from err
    run_input = json.loads(describe.get("input") or "{}")
    summary: dict[str, Any] = {"run": describe["name"], "prefix": run_input.get("prefix"), "executions": [arn],
                               "status": describe["status"]}
    end = describe.get("stopDate") or datetime.now(timezone.utc)
    summary["duration_s"] = round((end - describe["startDate"]).total_seconds(), 3)
    if describe["status"] == "RUNNING":
        live = _counts(map_run(target.sfn, arn))
        summary.update(processed=None, skipped=None, failed=live["failed"], done=live["done"])
        return summary
    objects = list_objects(target.s3, target.bucket, run_input.get("prefix") or ORIGINALS)
    counts = tally(target, [arn], objects)
    summary.update(processed=counts.processed, skipped=counts.skipped, failed=counts.failed, skips=counts.skips,
                   failures=counts.failures[:100])
    return summary

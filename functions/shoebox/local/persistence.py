"""Finished executions, kept under SHOEBOX_HOME and served back through the Step Functions API.

moto keeps executions in memory, each with its whole event history: a long-lived service would grow with
every photo it ever processed, and a restart would forget them. When an execution ends, the runtime
writes it here (describe + history, one JSON file, plus a summary line in ``index.jsonl``, synced) and
drops it from moto. ``install`` makes ``ListExecutions``, ``DescribeExecution`` and
``GetExecutionHistory`` answer from this archive for what moto no longer holds, so the CLI reads the
same API on the local service as on AWS, and history survives restarts.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from shoebox.local.durable import Journal, _read_lines, fsync_path  # noqa: PLC2701 - one package


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _dates(value: Any, keys: tuple[str, ...]) -> Any:
    """ISO strings back to datetimes (moto's serializer turns those into the API's epoch numbers)."""
    if isinstance(value, dict):
        return {k: (datetime.fromisoformat(v) if k in keys and isinstance(v, str) else _dates(v, keys))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v, keys) for v in value]
    return value


class ExecutionArchive:
    def __init__(self, home: Path) -> None:
        self.folder = home / "executions"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.summaries: dict[str, dict] = {}  # execution arn -> ListExecutions entry (ISO dates)
        index = self.folder / "index.jsonl"
        if index.exists():
            for line in _read_lines(index):
                self.summaries[line["executionArn"]] = line
        self._index = Journal(index)

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def save(self, record: dict) -> None:
        describe = record["describe"]
        path = self._path(describe["name"])
        tmp = path.with_suffix(".tmp")
        data = json.dumps(record, default=_json_default).encode()
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        fsync_path(path)
        summary = {k: describe.get(k) for k in ("executionArn", "stateMachineArn", "name", "status",
                                                "startDate", "stopDate")}
        summary = json.loads(json.dumps(summary, default=_json_default))
        with self._lock:
            self.summaries[summary["executionArn"]] = summary
        self._index.sync(self._index.append([summary]))

    def record(self, arn: str) -> dict | None:
        summary = self.summaries.get(arn)
        if summary is None:
            return None
        try:
            return json.loads(self._path(summary["name"]).read_text())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self._index.close()
        fsync_path(self.folder)


# ------------------------------------------------------------------ the API answers from the archive
_archive: ExecutionArchive | None = None
_installed = False


def use(archive: ExecutionArchive | None) -> None:
    global _archive
    _archive = archive


def install() -> None:
    """Patch moto's Step Functions responses (once per process); with no archive in use they are moto's."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.exceptions import ExecutionAlreadyExists, ExecutionDoesNotExist
    from moto.stepfunctions.responses import StepFunctionResponse
    from moto.core.responses import ActionResult

    original_describe = StepFunctionResponse.describe_execution
    original_history = StepFunctionResponse.get_execution_history
    original_start = StepFunctionResponse.start_execution

    def archived(arn: str) -> dict | None:
        return _archive.record(arn) if _archive is not None else None

    def describe_execution(self: Any) -> Any:
        try:
            return original_describe(self)
        except ExecutionDoesNotExist:
            record = archived(self._get_param("executionArn"))
            if record is None:
                raise
            describe = {k: v for k, v in record["describe"].items() if k != "ResponseMetadata"}
            return ActionResult(_dates(describe, ("startDate", "stopDate")))

    def get_execution_history(self: Any) -> Any:
        try:
            return original_history(self)
        except ExecutionDoesNotExist:
            record = archived(self._get_param("executionArn"))
            if record is None:
                raise
            events = _dates(record["events"], ("timestamp",))
            if self._get_param("reverseOrder"):
                events = list(reversed(events))
            return ActionResult({"events": events})

    def start_execution(self: Any) -> Any:
        """A name is taken while its execution is archived too, as on AWS (90 days): a second delivery
        of an upload's event must not run the photo again (steps/start_upload.py)."""
        name = self._get_param("name")
        if name:
            arn = self._get_param("stateMachineArn").replace(":stateMachine:", ":execution:") + ":" + name
            if archived(arn) is not None:
                raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        return original_start(self)

    def list_executions(self: Any) -> Any:
        arn = self._get_param("stateMachineArn")
        status = self._get_param("statusFilter")
        max_results = self._get_int_param("maxResults") or 100
        start = int(self._get_param("nextToken") or 0)
        machine = self.stepfunction_backend.describe_state_machine(arn)
        rows: dict[str, dict] = {}
        if _archive is not None:
            for summary in list(_archive.summaries.values()):
                if summary.get("stateMachineArn") == arn:
                    rows[summary["executionArn"]] = _dates(summary, ("startDate", "stopDate"))
        for execution in list(machine.executions):
            row = {"executionArn": execution.execution_arn, "name": execution.name,
                   "startDate": execution.start_date, "stateMachineArn": machine.arn, "status": execution.status}
            if execution.stop_date:
                row["stopDate"] = execution.stop_date
            rows[execution.execution_arn] = row
        chosen = [r for r in rows.values() if not status or r.get("status") == status]
        chosen.sort(key=lambda r: _sortable(r.get("startDate")), reverse=True)
        page = [{k: v for k, v in r.items() if v is not None} for r in chosen[start:start + max_results]]
        result: dict[str, Any] = {"executions": page}
        if start + max_results < len(chosen):
            result["nextToken"] = str(start + max_results)
        return ActionResult(result)

    StepFunctionResponse.describe_execution = describe_execution
    StepFunctionResponse.get_execution_history = get_execution_history
    StepFunctionResponse.list_executions = list_executions
    StepFunctionResponse.start_execution = start_execution
    _installed = True


def _sortable(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return 0.0
    return 0.0



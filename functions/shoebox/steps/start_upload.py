"""StartUpload: the upload queue's consumer; starts one ProcessPhoto execution per S3 event, no faster than
the configured rate (docs/deploy.md, "Rate control").

EventBridge puts each "Object Created" event on an SQS queue; Lambda's SQS event source hands batches to
at most ``SHOEBOX_STARTER_CONCURRENCY`` instances of this function (ScalingConfig MaximumConcurrency), and
each spaces its StartExecution calls at ``SHOEBOX_STARTS_PER_SECOND / concurrency``: together they start no
more than the rate, which is set below Rekognition's TPS quota, so a 60,000-photo upload waits in the queue
(free, 14 days) instead of burning the workflow's Retry budget on throttles.

Starts are also held back while ``SHOEBOX_MAX_RUNNING`` executions run (ListExecutions, at most once a
second): pacing alone is open loop, and when the steps fall behind the rate (a slow stretch of big RAWs,
Lambda throttling) the backlog would move from the queue into running executions whose Rekognition calls
then bunch up. With the cap it stays in the queue.

Execution names are the event's (steps: executions.event_execution_name): a duplicate delivery answers
``ExecutionAlreadyExists`` and counts as started. A message whose start fails otherwise is reported in
``batchItemFailures`` and comes back after the queue's visibility timeout (then, after maxReceiveCount,
to the dead-letter queue with its alarm).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from shoebox import aws
from shoebox.config import Settings
from shoebox.executions import event_execution_name
from shoebox.steps.common import logger, step

# stop starting when less than this is left of the invocation: the rest goes back to the queue
RESERVE_MS = 3000


@dataclass
class Pacer:
    """Spaces events ``1 / per_second`` apart (0: no limit). Pure apart from the clock it is given."""

    per_second: float
    clock: Any = time.monotonic
    sleep: Any = time.sleep
    _next: float | None = None

    def wait(self) -> None:
        if self.per_second <= 0:
            return
        now = self.clock()
        if self._next is not None and now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + 1.0 / self.per_second


@dataclass
class RunningGate:
    """Waits while ``cap`` executions run (0: no cap). ``count()`` asks how many run (up to the cap); it is
    asked at most once per ``every`` seconds, and each start counts as one more meanwhile."""

    cap: int
    count: Any
    clock: Any = time.monotonic
    sleep: Any = time.sleep
    every: float = 1.0
    _running: int = 0
    _asked: float | None = None

    def room(self, keep_waiting: Any = lambda: True) -> bool:
        """True when one more may start; False when ``keep_waiting()`` says to give up first."""
        if self.cap <= 0:
            return True
        if self._asked is None:  # each invocation asks before its first start
            self._asked, self._running = self.clock(), self.count()
        while True:
            if self._running < self.cap:
                return True
            now = self.clock()
            if self._asked is None or now - self._asked >= self.every:
                self._asked, self._running = now, self.count()
                if self._running < self.cap:
                    return True
            if not keep_waiting():
                return False
            self.sleep(max(0.0, self._asked + self.every - now))

    def started(self) -> None:
        self._running += 1


def running_executions(sfn: Any, machine: str, cap: int) -> int:
    """How many executions of ``machine`` run, counted up to ``cap`` (one ListExecutions page)."""
    page = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=min(max(cap, 1), 1000))
    return len(page["executions"])


def per_instance_rate(starts_per_second: float, concurrency: int) -> float:
    """Each of ``concurrency`` instances gets an equal share of the rate (0 = no limit)."""
    return starts_per_second / max(1, concurrency) if starts_per_second > 0 else 0.0


def event_name(s3_event: dict) -> tuple[str, str]:
    """(object key as the event has it, execution name) of an S3 EventBridge event."""
    obj = (s3_event.get("detail") or {}).get("object") or {}
    key = obj.get("key") or "event"
    return key, event_execution_name(key, obj.get("etag"), obj.get("sequencer"))


def execution_arn(state_machine_arn: str, name: str) -> str:
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


@step("start_upload")
def handler(event: dict, context: Any) -> dict:
    from botocore.exceptions import ClientError

    settings = Settings.from_env()
    machine = settings.state_machine_arn
    pacer = Pacer(per_instance_rate(settings.starts_per_second, settings.starter_concurrency))
    sfn = aws.client("stepfunctions")
    cap = settings.max_running
    gate = RunningGate(cap, lambda: running_executions(sfn, machine, cap))
    failures: list[dict] = []
    started: list[dict] = []
    records = event.get("Records") or []
    for index, record in enumerate(records):
        if (context.get_remaining_time_in_millis() < RESERVE_MS
                or not gate.room(lambda: context.get_remaining_time_in_millis() >= RESERVE_MS)):
            # back to the queue: they return after its visibility timeout
            failures.extend({"itemIdentifier": r["messageId"]} for r in records[index:])
            break
        pacer.wait()
        body = record["body"]
        key, name = event_name(json.loads(body))
        try:
            arn = sfn.start_execution(stateMachineArn=machine, name=name, input=body)["executionArn"]
            gate.started()
            started.append({"key": key, "execution": arn, "duplicate": False})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                started.append({"key": key, "execution": execution_arn(machine, name), "duplicate": True})
                continue
            logger.warning("start failed; the message returns to the queue",
                           extra={"photo": key, "error": str(exc)})
            failures.append({"itemIdentifier": record["messageId"]})
    # batchItemFailures is what Lambda's event source reads; "started" is for logs and the local runtime
    return {"batchItemFailures": failures, "started": started}

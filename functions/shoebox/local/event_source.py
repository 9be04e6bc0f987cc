"""Lambda's SQS event source mapping, which moto does not run: poll a queue, invoke the function with a
batch, delete what it handled.

As on AWS: at most ``max_concurrency`` invocations at once (ScalingConfig MaximumConcurrency), batches of
up to ``batch_size`` records shaped like Lambda's SQS event, ``ReportBatchItemFailures`` semantics (the
messages the function lists in ``batchItemFailures`` stay in the queue and come back after the visibility
timeout; a function error keeps the whole batch), and the queue's redrive policy moves a message received
too often to its dead-letter queue (moto does that on receive).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from shoebox import aws

_log = logging.getLogger(__name__)

Invoke = Callable[[str, dict], tuple[bool, Any]]  # (function arn, event) -> (ok, result): LambdaBridge.invoke


class SqsEventSource:
    def __init__(self, queue_url: str, queue_arn: str, function_arn: str, *, batch_size: int, max_concurrency: int,
                 invoke: Invoke, on_result: Callable[[dict, Any], None] | None = None, region: str = "us-east-1") -> None:
        self.queue_url, self.queue_arn, self.function_arn = queue_url, queue_arn, function_arn
        self.batch_size, self.max_concurrency = batch_size, max_concurrency
        self.invoke = invoke
        self.on_result = on_result  # (event, result) after each successful invocation
        self.region = region
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.max_concurrency):
            thread = threading.Thread(target=self._poll, name=f"sqs-event-source-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _poll(self) -> None:
        sqs = aws.client("sqs")
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
                                               WaitTimeSeconds=1, AttributeNames=["All"]).get("Messages", [])
                if messages:
                    self.deliver(sqs, messages)
            except Exception:  # noqa: BLE001 - a poller outlives any one failure, as Lambda's does
                if self._stop.is_set():
                    return  # the mock went away at stop
                _log.exception("SQS event source %s", self.queue_arn)
                self._stop.wait(0.5)

    def event(self, messages: list[dict]) -> dict:
        """The Lambda event for a batch, as the SQS event source builds it."""
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes") or {}, "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody"),
            "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": self.region,
        } for m in messages]}

    def deliver(self, sqs: Any, messages: list[dict]) -> None:
        event = self.event(messages)
        try:
            ok, result = self.invoke(self.function_arn, event)
        except Exception:  # noqa: BLE001 - the Lambda service failing the invoke (LambdaBridge InvokeError)
            ok, result = False, None
        if not ok:
            return  # the whole batch returns after the visibility timeout
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
        if self.on_result is not None:
            self.on_result(event, result)

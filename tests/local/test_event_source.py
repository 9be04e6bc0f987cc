"""local/event_source.py plays Lambda's SQS event source: batches, ReportBatchItemFailures, concurrency."""

from __future__ import annotations

import threading
import time

from moto import mock_aws

from shoebox import aws
from shoebox.local.event_source import SqsEventSource


def test_batches_deliver_and_failures_stay_in_the_queue(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws.reset_clients()
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        for n in range(25):
            sqs.send_message(QueueUrl=url, MessageBody=f"body-{n}")
        seen: list[list[str]] = []
        running, most = [0], [0]
        lock = threading.Lock()

        def invoke(function_arn, event):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            bodies = [r["body"] for r in event["Records"]]
            with lock:
                seen.append(bodies)
                running[0] -= 1
            assert all(r["eventSource"] == "aws:sqs" for r in event["Records"])
            # body-3 fails the first time: it must come back (after the visibility timeout), its batch must not
            failed = [r["messageId"] for r in event["Records"]
                      if r["body"] == "body-3" and [b for batch in seen for b in batch].count("body-3") == 1]
            return True, {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

        source = SqsEventSource(url, "arn:aws:sqs:us-east-1:123456789012:q", "fn", batch_size=10, max_concurrency=2,
                                invoke=invoke)
        source.start()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and sum(len(b) for b in seen) < 26:
                time.sleep(0.05)
        finally:
            source.stop()
        delivered = [body for batch in seen for body in batch]
        assert sorted(delivered) == sorted([f"body-{n}" for n in range(25)] + ["body-3"])
        assert all(len(batch) <= 10 for batch in seen) and most[0] <= 2
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "0"
    aws.reset_clients()

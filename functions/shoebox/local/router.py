"""S3 -> EventBridge -> (SQS | Step Functions) delivery, as AWS does it, where moto stops short.

moto already turns an S3 write into an EventBridge event (bucket notifications with EventBridge on),
matches it against each rule's own pattern and delivers to SQS targets, but it cannot deliver to a Step
Functions target, and its event differs from AWS's in two fields the pipeline reads (``as_aws_sends_it``).
We extend the rule's delivery: the event gets AWS's shape for every target; a Step Functions target starts
an execution of the state machine with the event as input; after an SQS delivery (the upload queue) the
``queued`` listener hears of it (the local runtime waits for the queue's starter with it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from moto.events import models as events_models


_lock = threading.Lock()
_starter: Callable[[str, dict], None] | None = None
_queued: Callable[[str, dict], None] | None = None
_installed = False
paused = threading.Event()  # set while restoring state: restored objects must not re-run the pipeline
_sequence = 0


def next_sequencer() -> str:
    """S3's ``sequencer``: per bucket, later events of a key have greater values (18 hex digits, so they
    compare as strings too). From the clock in nanoseconds, strictly increasing within the process, so it
    keeps increasing across service restarts."""
    global _sequence
    with _lock:
        _sequence = max(_sequence + 1, time.time_ns())
        return f"{_sequence:018X}"


def as_aws_sends_it(event: dict) -> dict:
    """moto's S3 event says ``eTag`` where AWS's EventBridge event says ``etag`` (the field the steps and
    the catalog's "already done?" check read), and has one constant ``sequencer`` where AWS's increases
    (execution names and ordering use it). Everything else moto sends already has AWS's shape."""
    obj = (event.get("detail") or {}).get("object")
    if isinstance(obj, dict):
        obj = {("etag" if k == "eTag" else k): v for k, v in obj.items()}
        ours = str(obj.get("sequencer", "")).startswith("shoebox-")  # a re-send that names its run (s3_events)
        if ("sequencer" in obj or "etag" in obj) and not ours:
            obj["sequencer"] = next_sequencer()
        event = {**event, "detail": {**event["detail"], "object": obj}}
    return event


def install(starter: Callable[[str, dict], None], queued: Callable[[str, dict], None] | None = None) -> None:
    """``starter(state_machine_arn, event)`` is called for every event a rule with a Step Functions target
    matches; ``queued(queue_arn, event)`` after moto delivered an event to an SQS target."""
    global _starter, _queued, _installed
    with _lock:
        _starter, _queued = starter, queued
        if _installed:
            return
        original = events_models.Rule.send_to_targets

        def send_to_targets(self: Any, original_event: dict, transform_input: bool = True) -> None:
            if paused.is_set() or not self.event_pattern.matches_event(original_event):
                return
            event = as_aws_sends_it(original_event)  # one sequencer per event, whichever targets it has
            states = [t for t in self.targets if ":states:" in t["Arn"]]
            others = [t for t in self.targets if ":states:" not in t["Arn"]]
            for target in states:
                if _starter is not None:
                    _starter(target["Arn"], event)
            if others:
                saved = self.targets
                self.targets = others
                try:
                    original(self, event, transform_input)
                finally:
                    self.targets = saved
                for target in others:
                    if ":sqs:" in target["Arn"] and _queued is not None:
                        _queued(target["Arn"], event)

        events_models.Rule.send_to_targets = send_to_targets
        _installed = True

"""S3 -> EventBridge -> Step Functions delivery, which moto stops short of.

moto already turns an S3 write into an EventBridge event (bucket notifications with EventBridge on) and
matches it against each rule's own pattern, but it cannot deliver to a Step Functions target. We extend
the rule's delivery with exactly that: a matching event starts an execution of the target state
machine, named like EventBridge would (unique), with the event as input.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from moto.events import models as events_models

_lock = threading.Lock()
_starter: Callable[[str, dict], None] | None = None
_installed = False
paused = threading.Event()  # set while restoring state: restored objects must not re-run the pipeline


def execution_name(key: str) -> str:
    """A readable, unique execution name (<= 80 chars of [A-Za-z0-9-_])."""
    tail = re.sub(r"[^A-Za-z0-9_-]", "-", key.rsplit("/", 1)[-1])[:50]
    return f"{tail}-{uuid.uuid4().hex[:12]}"


def aws_shaped(event: dict) -> dict:
    """moto names the object's ETag ``eTag`` in S3's EventBridge events; AWS names it ``etag``."""
    obj = (event.get("detail") or {}).get("object")
    if isinstance(obj, dict) and "eTag" in obj and "etag" not in obj:
        obj = {("etag" if name == "eTag" else name): value for name, value in obj.items()}
        return {**event, "detail": {**event["detail"], "object": obj}}
    return event


def install(starter: Callable[[str, dict], None]) -> None:
    """``starter(state_machine_arn, event)`` is called for every matching event."""
    global _starter, _installed
    with _lock:
        _starter = starter
        if _installed:
            return
        original = events_models.Rule.send_to_targets

        def send_to_targets(self: Any, original_event: dict, transform_input: bool = True) -> None:
            states = [t for t in self.targets if ":states:" in t["Arn"]]
            others = [t for t in self.targets if ":states:" not in t["Arn"]]
            if states and not paused.is_set() and self.event_pattern.matches_event(original_event):
                for target in states:
                    if _starter is not None:
                        _starter(target["Arn"], aws_shaped(original_event))
            if others:
                saved = self.targets
                self.targets = others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = saved

        events_models.Rule.send_to_targets = send_to_targets
        _installed = True

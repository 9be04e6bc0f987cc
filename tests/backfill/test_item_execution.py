"""A backfill item's row keeps its own execution (issue 17 item 6), so `execution show <key>` reads that
item alone rather than the whole backfill run."""

from __future__ import annotations

import json
from pathlib import Path

from shoebox.steps.records import record_from_state
from shoebox.steps.state import PhotoState

ROOT = Path(__file__).resolve().parents[2]
PARENT = "arn:aws:states:us-east-1:123456789012:execution:shoebox-backfill:run-1"
CHILD = "arn:aws:states:us-east-1:123456789012:express:shoebox-backfill/Photos:9f1e:0c2a"


def test_the_item_processor_hands_its_own_execution_to_check_done():
    definition = json.loads((ROOT / "statemachine" / "backfill.asl.json").read_text())
    photos = definition["States"]["Photos"]
    assert photos["Label"] == "Photos"
    check = photos["ItemProcessor"]["States"]["CheckDone"]["Parameters"]["Payload"]
    assert check == {"item.$": "$", "item_execution.$": "$$.Execution.Id"}
    # the ItemSelector's $$ is the parent's: the run's ARN, which `shoebox backfill` counts by
    assert photos["ItemSelector"]["execution.$"] == "$$.Execution.Id"


def test_the_row_keeps_the_items_execution_only_when_it_is_its_own():
    state = {"key": "originals/a.jpg", "execution": PARENT, "item_execution": CHILD}

    def record(event: dict):
        return record_from_state(PhotoState.from_event(event), status="processed")

    assert record(state).item_execution == CHILD
    assert record(state).execution == PARENT
    # moto runs a Map's children inside the parent: the same ARN, nothing more to show
    assert record({**state, "item_execution": PARENT}).item_execution is None
    assert record({"key": "originals/a.jpg", "execution": PARENT}).item_execution is None


def test_check_done_unwraps_the_item(runtime):
    from shoebox.steps.check_done import handler

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "check", 256, "r"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:check"

        @staticmethod
        def get_remaining_time_in_millis():
            return 10000

    item = {"bucket": runtime.bucket, "key": "originals/b.jpg", "object": {"Key": "originals/b.jpg", "ETag": '"e"'},
            "execution": PARENT, "retry_failed": False}
    out = handler({"item": item, "item_execution": CHILD}, Context())
    assert out["item_execution"] == CHILD and out["execution"] == PARENT and out["done"] is False
    assert out["object"] == {"key": "originals/b.jpg", "size": None, "etag": "e"}

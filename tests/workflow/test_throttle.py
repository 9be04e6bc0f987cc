"""Issue 17 item 3: uploads go through a queue and a rate-limited starter, so a burst stays under the quota."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from photo_factory import jpeg_bytes
from shoebox.steps.start_upload import Pacer, RunningGate, per_instance_rate

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_throttle.py"


def load():
    spec = importlib.util.spec_from_file_location("bench_throttle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_burst_of_uploads_under_a_quota_ends_with_every_photo_processed():
    bench = load()
    result = bench.run(uploads=60, quota_per_s=10, rate=8.0, sleep_scale=0.2, max_running=10, calls_per_s=10)
    assert result["max_running"] == 10
    assert result["failed"] == 0 and result["processed"] == result["executions"] == 60
    assert result["executions_failed"] == 0
    assert result["max_answered_per_s"] <= 10  # the emulated Rekognition answers no more than its quota
    assert result["max_made_per_s"] <= 10  # the shared limiter: no more calls *made* than the quota either
    assert result["rekognition_calls"] == 60  # one DetectLabels per photo (no Person: no face calls)
    # paced starts: 60 photos at 8/s cannot all have started in less than ~7 s
    assert result["seconds"] >= 59 / 8


def test_the_quota_window_and_its_measure():
    bench = load()
    quota = bench.Quota(2)
    answers = [quota.fault("DetectLabels", None) for _ in range(3)]
    assert answers == [None, None, "ThrottlingException"] and quota.throttled == 1
    assert bench.max_in_window([0.0, 0.5, 1.0]) == 2  # [t, t + 1): 1.0 is the next second
    assert bench.max_in_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4  # 0.5 .. 1.2


def test_pacer_spaces_starts_and_instances_share_the_rate():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(per_instance_rate(4, 2), clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        pacer.wait()
    assert slept == [0.5, 0.5, 0.5]  # 2 per second in each of 2 instances
    unlimited = Pacer(per_instance_rate(0, 2), clock=lambda: now[0], sleep=sleep)
    unlimited.wait(), unlimited.wait()
    assert len(slept) == 3


def test_a_duplicate_delivery_starts_nothing_new(runtime):
    """SQS and EventBridge deliver at least once: the same event twice is one execution."""
    key = "originals/2021/03/04/twice.jpg"
    arn = runtime.upload(jpeg_bytes((64, 48)), key)
    runtime.wait([arn])
    body = runtime.sfn.describe_execution(executionArn=arn)["input"]
    starter = runtime.stack.functions["StartUploadFunction"]
    records = [{"messageId": f"m{n}", "receiptHandle": f"r{n}", "body": body} for n in range(2)]
    ok, result = runtime.bridge.invoke(starter.arn, {"Records": records})
    assert ok and result["batchItemFailures"] == []
    assert [(s["execution"], s["duplicate"]) for s in result["started"]] == [(arn, True), (arn, True)]
    machine = runtime.state_machine_arn()
    listed = runtime.sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["executionArn"] for e in listed].count(arn) <= 1
    assert json.loads(body)["detail"]["object"]["key"] == key


def test_running_gate_holds_starts_while_the_cap_runs():
    now = [0.0]
    counts = iter([2, 2, 1])  # ListExecutions answers: full, still full a second later, then one finished
    asked: list[float] = []

    def count():
        asked.append(now[0])
        return next(counts)

    def sleep(seconds):
        now[0] += seconds

    gate = RunningGate(2, count, clock=lambda: now[0], sleep=sleep)
    assert gate.room()  # asks first (2 run), waits a second, asks again (2), then 1: room
    assert asked == [0.0, 1.0, 2.0] and now[0] == 2.0
    gate.started()
    assert gate.room(keep_waiting=lambda: False) is False  # 2 running again, and not waiting
    assert RunningGate(0, count).room()  # no cap: never asks

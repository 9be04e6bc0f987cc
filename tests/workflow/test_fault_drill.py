"""scripts/fault_drill.py at 30 photos: every planned fault, nothing lost, nothing left behind."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fault_drill.py"


def load():
    spec = importlib.util.spec_from_file_location("fault_drill", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_fault_drill_at_30_photos_loses_nothing_and_leaves_nothing(tmp_path):
    drill = load()
    result, details = drill.run(photos=30, seed=7, home=tmp_path / "home")
    assert details["problems"] == [] and details["orphans"] == []
    injected = details["injected"]
    # every kind of fault was really injected, and answered
    assert injected["corrupt"] >= 1 and injected["throttles"] > injected["throttled_photos"]  # bursts, too
    assert injected["lambda_faults"] >= 1 and injected["duplicates"] == 20
    errors = details["rekognition_errors"]  # each planned throttle was answered once (and retried)
    assert errors.get("ThrottlingException", 0) + errors.get("ProvisionedThroughputExceededException", 0) == \
        injected["throttles"]
    assert any(step != "after" for step in injected["deletes"].values())  # some deletes land mid-run
    assert result == {"photos": 30, "processed": 30 - injected["corrupt"] - 5, "failed": injected["corrupt"],
                      "duplicates_collapsed": 20, "deleted": 5, "replaced": 5, "lost": 0, "orphans": 0}
    assert details["failed_listed"] == injected["corrupt"]  # `shoebox executions --failed`: exactly those


def test_the_plan_is_fixed_by_its_seed():
    drill = load()
    first, again = drill.plan(30, 7, 20, 5, 5), drill.plan(30, 7, 20, 5, 5)
    assert [(p.key, p.body, p.throttle, p.lambda_fault, p.delete, p.duplicate) for p in first] == \
           [(p.key, p.body, p.throttle, p.lambda_fault, p.delete, p.duplicate) for p in again]

"""The ASL files come from one Python definition (scripts/build_asl.py), and moto can run them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shoebox.local.asl_rewrites import for_moto

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_asl.py"


def _load_build_asl():
    spec = importlib.util.spec_from_file_location("build_asl", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _committed(name: str) -> dict:
    return json.loads((ROOT / "statemachine" / name).read_text())


def test_committed_asl_equals_generated_with_the_builtin_builder():
    build = _load_build_asl()
    generated = build.generate("lite")
    for name, definition in generated.items():
        assert _committed(name) == definition, f"{name} differs: run `python scripts/build_asl.py`"


def _sdk_python() -> str | None:
    for candidate in (os.environ.get("SHOEBOX_ASL_PYTHON"), "/tmp/sdkvenv/bin/python"):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "-c", "import importlib.util as u; print(bool(u.find_spec('stepfunctions')))"],
                                   capture_output=True, text=True)
            if probe.stdout.strip() == "True":
                return candidate
    return None


def test_the_real_sdk_generates_the_same_files(tmp_path):
    python = _sdk_python()
    if python is None and os.environ.get("SHOEBOX_ASL_PYTHON"):
        pytest.fail(f"SHOEBOX_ASL_PYTHON={os.environ['SHOEBOX_ASL_PYTHON']} cannot import stepfunctions")  # `make test` sets it
    if python is None:
        pytest.skip("no interpreter with the stepfunctions SDK (set SHOEBOX_ASL_PYTHON; recipe in docs/backfill.md)")
    done = subprocess.run([python, str(SCRIPT), "--sdk", "require", "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"builder": "sdk", "stale": []}
    # Byte for byte, too: the two builders are interchangeable.
    subprocess.run([python, str(SCRIPT), "--sdk", "require", "--out", str(tmp_path / "sdk")], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, str(SCRIPT), "--sdk", "lite", "--out", str(tmp_path / "lite")], check=True,
                   capture_output=True)
    for name in ("process_photo.asl.json", "backfill.asl.json"):
        assert (tmp_path / "sdk" / name).read_text() == (tmp_path / "lite" / name).read_text()


def test_backfill_items_run_exactly_the_process_photo_states():
    """Single source of truth, checked on the committed files without any builder."""
    photo = _committed("process_photo.asl.json")
    processor = _committed("backfill.asl.json")["States"]["Photos"]["ItemProcessor"]
    per_photo = {n: s for n, s in photo["States"].items() if n != "ExtractObject"}
    extra = {"CheckDone", "IsDone", "Skipped"}

    def without_retry(states):
        return {n: {k: v for k, v in s.items() if k != "Retry"} for n, s in states.items()}

    items = {n: s for n, s in processor["States"].items() if n not in extra}
    assert without_retry(items) == without_retry(per_photo)
    # the same errors are retried; only the Standard workflow waits longer on throttles (Express stops at 5 min)
    for name, state in items.items():
        if "Retry" in state:
            (shared,) = state["Retry"]
            throttled, others = per_photo[name]["Retry"]
            assert set(shared["ErrorEquals"]) == set(throttled["ErrorEquals"]) | set(others["ErrorEquals"]), name
            assert {k: v for k, v in others.items() if k != "ErrorEquals"} == \
                {k: v for k, v in shared.items() if k != "ErrorEquals"}, name
    assert processor["StartAt"] == "CheckDone"
    assert processor["States"]["IsDone"]["Default"] == photo["States"]["ExtractObject"]["Next"]
    assert processor["States"]["CheckDone"]["Catch"][0]["Next"] == "RecordFailure"


def test_backfill_map_is_distributed_express_with_parameters():
    photos = _committed("backfill.asl.json")["States"]["Photos"]
    assert photos["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert photos["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert photos["MaxConcurrencyPath"] == "$.max_concurrency"
    assert photos["ToleratedFailurePercentagePath"] == "$.tolerated_failure_percentage"
    assert photos["ResultWriter"]["Parameters"] == {"Bucket": "${BucketName}", "Prefix": "backfill"}
    text = (ROOT / "statemachine" / "backfill.asl.json").read_text()
    assert "States.StringToJson('${MaxConcurrency}')" in text


def test_rewrite_for_moto_touches_only_what_moto_rejects():
    definition = _committed("backfill.asl.json")
    definition["States"]["Photos"]["ToleratedFailurePercentage"] = 5
    rewritten = for_moto(definition)
    assert rewritten["States"]["Photos"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    assert rewritten["States"]["Photos"]["ToleratedFailurePercentage"] == 5.0
    assert isinstance(rewritten["States"]["Photos"]["ToleratedFailurePercentage"], float)
    assert definition["States"]["Photos"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "EXPRESS"  # a copy
    rewritten["States"]["Photos"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    del rewritten["States"]["Photos"]["ToleratedFailurePercentage"], definition["States"]["Photos"]["ToleratedFailurePercentage"]
    assert rewritten == definition
    photo = _committed("process_photo.asl.json")
    assert for_moto(photo) == photo


def test_local_template_loads_the_rewritten_backfill():
    from shoebox.local.template import load_template

    stack = load_template()
    spec = stack.state_machines["BackfillStateMachine"]
    photos = spec.definition["States"]["Photos"]
    assert photos["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    assert photos["ItemReader"]["Parameters"]["Bucket"] == stack.bucket
    assert "States.StringToJson('16')" in json.dumps(spec.definition)
    assert photos["ItemProcessor"]["States"]["CheckDone"]["Parameters"]["FunctionName"] == \
        stack.functions["CheckDoneFunction"].arn

"""One input and output per process-photo step (tests/steps/samples/), checked against the ASL's paths
and, where the step's logic is pure, against that logic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shoebox.formats import BY_NAME
from shoebox.steps.common import thumbnail_keys
from shoebox.steps.detect_labels import person_seen
from shoebox.steps.records import describe_failure, record_from_state, result_summary
from shoebox.steps.state import FIELDS, PhotoState

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "samples"
ASL = json.loads((ROOT / "statemachine" / "process_photo.asl.json").read_text())
STATES = ASL["States"]
TASKS = {name: s for name, s in STATES.items() if s["Type"] == "Task"}
STATE_STEPS = ("classify", "thumbnail", "detect_labels", "index_faces")  # they return the state grown


def step_of(state_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", state_name).lower()


def sample(step: str, which: str) -> dict:
    return json.loads((SAMPLES / f"{step}.{which}.json").read_text())


def path_value(doc: dict, path: str):
    """The value at a JSONPath like $.a.b (KeyError when absent)."""
    value = doc
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def test_every_task_has_a_sample_and_passes_the_whole_state_in_and_its_payload_on():
    assert sorted(step_of(n) for n in TASKS) == sorted(p.name.split(".")[0] for p in SAMPLES.glob("*.input.json"))
    for name, task in TASKS.items():
        assert task["Parameters"]["Payload.$"] == "$" and task["OutputPath"] == "$.Payload", name


def reached(name: str) -> set[str]:
    """The Task states a Task's output goes to: its Next, or through a Choice, any of its branches."""
    nxt = STATES[TASKS[name]["Next"]]
    if nxt["Type"] != "Choice":
        return {TASKS[name]["Next"]} & set(TASKS)
    return {c["Next"] for c in nxt["Choices"]} | {nxt["Default"]}


def test_each_sample_input_is_the_output_the_asl_hands_on():
    extract = STATES["ExtractObject"]["Parameters"]
    assert set(sample("classify", "input")) == {k.removesuffix(".$") for k in extract}
    path = ("Classify", "Thumbnail", "DetectLabels", "IndexFaces", "Persist")  # a photo with a person
    for before, after in zip(path, path[1:]):
        assert after in reached(before)
        assert sample(step_of(after), "input") == sample(step_of(before), "output"), (before, after)


def test_the_choices_find_what_they_read_in_the_step_before():
    for name, task in TASKS.items():
        nxt = STATES[task["Next"]]
        if nxt["Type"] != "Choice":
            continue
        output = sample(step_of(name), "output")
        for choice in nxt["Choices"]:
            for rule in choice.get("And", [choice]):
                path_value(output, rule["Variable"])  # present in what the step returns
    failed = STATES["Failed"]
    output = sample("record_failure", "output")
    assert path_value(output, failed["ErrorPath"]) == "ImageError" and path_value(output, failed["CausePath"])


def test_a_catch_puts_the_failure_where_record_failure_reads_it():
    paths = {c["ResultPath"] for task in TASKS.values() for c in task.get("Catch", []) if c["Next"] == "RecordFailure"}
    assert paths == {f"$.failure.{step_of(n)}" for n in TASKS if n != "RecordFailure"}
    failure = sample("record_failure", "input")["failure"]
    assert [f"$.failure.{step}" for step in failure] == [p for p in sorted(paths) if p.split(".")[-1] in failure]


@pytest.mark.parametrize("step", [*STATE_STEPS, "persist", "record_failure"])
def test_every_state_sample_is_a_photo_state_that_round_trips(step):
    for which in ("input", "output") if step in STATE_STEPS else ("input",):
        doc = sample(step, which)
        assert set(doc) <= set(FIELDS)
        assert PhotoState.from_event(doc).to_event() == doc


def test_each_step_adds_what_its_logic_says():
    classify = sample("classify", "output")
    assert BY_NAME[classify["format"]].kind == classify["kind"]
    thumb = sample("thumbnail", "output")
    assert (thumb["thumbnails"]["view"]["key"], thumb["thumbnails"]["grid"]["key"]) == thumbnail_keys(thumb["key"])
    labels = sample("detect_labels", "output")
    assert labels["person_seen"] == person_seen(labels["labels"])


def test_persist_and_record_failure_outputs_are_the_records_the_state_makes():
    state = PhotoState.from_event(sample("persist", "input"))
    assert result_summary(record_from_state(state, status="processed")) == sample("persist", "output")
    failed = PhotoState.from_event(sample("record_failure", "input"))
    step, message = describe_failure(failed.failure)
    record = record_from_state(failed, status="failed")
    record.error = message
    expected = {**result_summary(record), "failed_step": step, "error_type": message.split(":", 1)[0]}
    assert expected == sample("record_failure", "output")

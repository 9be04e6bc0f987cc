#!/usr/bin/env python3
"""PROTOTYPE (issue 7, phase 1): generate process-photo and backfill ASL from ONE Python definition.

Build-time only. Lambda code and the CLI never import this file or the ``stepfunctions`` SDK.
It does not write into statemachine/ yet: it prints (or writes to --out DIR) what it generates, so the
output can be compared with the hand-written statemachine/process_photo.asl.json.

Install recipe for the ``build`` environment (see docs/backfill.md, "ASL generator"):

    python3 -m venv /tmp/sdkvenv
    /tmp/sdkvenv/bin/pip install "boto3>=1.35,<2" "PyYAML>=6,<7"
    /tmp/sdkvenv/bin/pip install --no-deps "stepfunctions==2.3.0"
    /tmp/sdkvenv/bin/python scripts/build_asl.py --out /tmp/asl

``--no-deps`` skips sagemaker (2.x works but is ~300 MB and prints INFO lines; 3.x breaks the import).
The SDK imports sagemaker only for its SageMaker steps and pipeline templates, which we never use;
:func:`_import_shims` registers empty stand-in modules before ``import stepfunctions`` when the real
package is absent, and answers the SDK's ``pkg_resources.require`` (which would raise DistributionNotFound
for the missing sagemaker requirement) from importlib.metadata, so setuptools is not needed either.

What the SDK cannot say, added by :func:`_post_process` on the plain dict: Retry ``JitterStrategy`` and
``MaxDelaySeconds``, Fail ``ErrorPath``/``CausePath`` (``ResultSelector`` would go the same way), and the
whole Distributed Map (``ItemReader``,
``ItemProcessor`` + ``ProcessorConfig``, ``ItemSelector``, ``ResultWriter``,
``ToleratedFailurePercentage``). Task resources are written as literal ARNs rather than via
``LambdaStep``: that helper asks the local boto3 session for the partition, so its output would depend
on the machine's AWS region settings.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import sys
import types
from pathlib import Path


def _import_shims() -> None:
    """Make ``import stepfunctions`` work in a ``--no-deps`` install (no sagemaker distribution).

    Two things stand in the way, and both are only about sagemaker:
    * ``stepfunctions/__init__`` runs ``pkg_resources.require("stepfunctions")`` for its version string;
      that resolves the declared requirements and raises DistributionNotFound for ``sagemaker>=2.1.0``
      (and ``pkg_resources`` itself is gone from setuptools >= 81). A stand-in ``pkg_resources`` that
      answers from ``importlib.metadata`` is put in place for the duration of the import only.
    * ``stepfunctions.steps`` / ``stepfunctions.template`` import ``sagemaker.*`` names for SageMaker
      steps and pipeline templates that we never use: empty stand-in modules cover them.
    With the real sagemaker 2.x installed nothing is shimmed.
    """
    from importlib import metadata

    try:
        metadata.version("sagemaker")
        return
    except metadata.PackageNotFoundError:
        pass

    class _Unavailable:  # any name the SDK imports from sagemaker.*
        def __init__(self, *args, **kwargs):
            raise RuntimeError("sagemaker is stubbed out in the ASL build environment")

    def module(name: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__path__ = []  # a package, so submodules resolve
        mod.__getattr__ = lambda attr: _Unavailable  # type: ignore[method-assign]  # PEP 562
        return mod

    for name in ("sagemaker", "sagemaker.workflow", "sagemaker.workflow.airflow", "sagemaker.model",
                 "sagemaker.model_monitor", "sagemaker.utils", "sagemaker.pipeline", "sagemaker.sklearn",
                 "sagemaker.sklearn.estimator"):
        sys.modules.setdefault(name, module(name))

    shim = types.ModuleType("pkg_resources")
    shim.require = lambda name: [types.SimpleNamespace(version=metadata.version(name))]  # type: ignore[attr-defined]
    saved = sys.modules.get("pkg_resources")
    sys.modules["pkg_resources"] = shim
    try:
        import stepfunctions  # noqa: F401
    finally:
        if saved is None:
            sys.modules.pop("pkg_resources", None)
        else:
            sys.modules["pkg_resources"] = saved


_import_shims()
from stepfunctions.steps import Catch, Choice, ChoiceRule, Fail, Pass, Retry, Succeed, Task  # noqa: E402
from stepfunctions.steps.states import Graph  # noqa: E402

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
RETRYABLE = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
             "Lambda.TooManyRequestsException", "RecognitionThrottled"]
# What the SDK's Retry cannot carry; added to every retrier in _post_process.
RETRY_EXTRA = {"MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
# What the SDK's Fail cannot carry (it knows only Error/Cause); added to Fail states named "...Failed".
FAIL_PATHS = {"ErrorPath": "$.error_type", "CausePath": "$.error"}


def _lambda_task(name: str, function_param: str, *, record_failure=None, failure_key: str = "",
                 result_path: str | None = None) -> Task:
    task = Task(
        name,
        resource=LAMBDA_INVOKE,
        parameters={"FunctionName": f"${{{function_param}}}", "Payload.$": "$"},
        output_path="$.Payload",
        **({"result_path": result_path} if result_path else {}),
    )
    task.add_retry(Retry(error_equals=RETRYABLE, interval_seconds=2, max_attempts=6, backoff_rate=2.0))
    if record_failure is not None:
        task.add_catch(Catch(error_equals=["States.ALL"], result_path=f"$.failure.{failure_key}",
                             next_step=record_failure))
    return task


def per_photo(prefix: str = "") -> Task:
    """The per-photo states, returned as their first state (Classify).

    ``prefix`` is for a copy inside another graph whose state names must not collide; an SDK state object
    belongs to one graph, and a Fail reused in two Parallel/Map branches yields duplicate state ids.
    """
    # ErrorPath/CausePath are not SDK fields: added by _post_process from FAIL_PATHS.
    failed = Fail(f"{prefix}Failed", comment="Error and cause are the photo's own, as recorded in the catalog.")
    unrecorded = Fail(f"{prefix}FailedUnrecorded", error="RecordFailureFailed",
                      cause="The photo failed and its failure could not be recorded in the catalog; see this "
                            "execution's history.")
    record_failure = Task(f"{prefix}RecordFailure", resource=LAMBDA_INVOKE,
                          parameters={"FunctionName": "${RecordFailureFunctionArn}", "Payload.$": "$"},
                          output_path="$.Payload")
    record_failure.add_retry(Retry(error_equals=RETRYABLE, interval_seconds=2, max_attempts=6, backoff_rate=2.0))
    record_failure.add_catch(Catch(error_equals=["States.ALL"], result_path="$.record_failure_error",
                                   next_step=unrecorded))
    record_failure.next(failed)

    def step(name: str, key: str) -> Task:
        return _lambda_task(f"{prefix}{name}", f"{name}FunctionArn", record_failure=record_failure, failure_key=key)

    classify, thumbnail = step("Classify", "classify"), step("Thumbnail", "thumbnail")
    detect, faces = step("DetectLabels", "detect_labels"), step("IndexFaces", "index_faces")
    persist = step("Persist", "persist")
    done = Succeed(f"{prefix}Done")

    is_video = Choice(f"{prefix}IsVideo", comment="Videos are recorded as skipped, not processed.")
    is_video.add_choice(ChoiceRule.StringEquals(variable="$.kind", value="video"), next_step=persist)
    is_video.default_choice(thumbnail)

    person_seen = Choice(f"{prefix}PersonSeen",
                         comment="Face calls only when a Person label was seen (about half the photos).")
    person_seen.add_choice(
        ChoiceRule.And([ChoiceRule.IsPresent(variable="$.person_seen", value=True),
                        ChoiceRule.BooleanEquals(variable="$.person_seen", value=True)]),
        next_step=faces,
    )
    person_seen.default_choice(persist)

    classify.next(is_video)
    thumbnail.next(detect)
    detect.next(person_seen)
    faces.next(persist)
    persist.next(done)
    return classify


def process_photo_definition() -> dict:
    extract = Pass("ExtractObject", comment="EventBridge event -> the small state every step shares.", parameters={
        "bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key",
        "object.$": "$.detail.object", "execution.$": "$$.Execution.Id",
    })
    extract.next(per_photo())
    comment = ("Shoebox process-photo: one original in, thumbnails + labels + faces + catalog row out. "
               "Input is the S3 'Object Created' EventBridge event.")
    return _post_process(Graph(extract, comment=comment).to_dict())


def backfill_definition(*, max_concurrency: int = 16, tolerated_failure_percentage: float = 5.0) -> dict:
    # The item processor: "already done?" check, then the same per-photo states (a fresh copy).
    check = Task("AlreadyDone", resource="arn:aws:states:::dynamodb:getItem", parameters={
        "TableName": "${CatalogTableName}",
        "Key": {"pk": {"S.$": "States.Format('PHOTO#{}', $.key)"}, "sk": {"S": "PHOTO"}},
        "ProjectionExpression": "etag, pipeline_version",
    }, result_path="$.existing")
    skip = Succeed("Skipped")
    is_done = Choice("IsDone")
    is_done.add_choice(ChoiceRule.And([
        ChoiceRule.IsPresent(variable="$.existing.Item", value=True),
        ChoiceRule.StringEqualsPath(variable="$.existing.Item.etag.S", value="$.object.etag"),
    ]), next_step=skip)
    is_done.default_choice(per_photo())
    check.next(is_done)
    processor = Graph(check).to_dict()

    # The parent: one Map state. The SDK's Map would emit the legacy inline "Iterator"; build it as a dict.
    parent = {
        "Comment": "Shoebox backfill (generated by scripts/build_asl.py)",
        "StartAt": "Photos",
        "States": {
            "Photos": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.prefix"},
                },
                "ItemSelector": {
                    "bucket.$": "$.bucket",
                    "key.$": "$$.Map.Item.Value.Key",
                    "object": {"key.$": "$$.Map.Item.Value.Key", "size.$": "$$.Map.Item.Value.Size",
                               "etag.$": "$$.Map.Item.Value.Etag"},
                    "execution.$": "$$.Execution.Id",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **processor,
                },
                "MaxConcurrency": max_concurrency,
                "ToleratedFailurePercentage": float(tolerated_failure_percentage),
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    # Literal values: moto 5.2.5 resolves ".$" paths here against the Map's *output* (the
                    # results array), AWS against its input. AWS appends the Map Run id itself, so the
                    # results land in backfill/<run id>/ (manifest.json, SUCCEEDED_n.json, FAILED_n.json).
                    "Parameters": {"Bucket": "${BucketName}", "Prefix": "backfill"},
                },
                "End": True,
            }
        },
    }
    return _post_process(parent)


def _post_process(definition: dict) -> dict:
    """Add what the SDK cannot express, recursively (Map item processors included)."""
    out = copy.deepcopy(definition)

    def walk(states: dict) -> None:
        for name, state in states.items():
            if state["Type"] == "Fail" and name.endswith("Failed") and "Error" not in state:
                state.update(FAIL_PATHS)
            for retrier in state.get("Retry", ()):
                for key, value in RETRY_EXTRA.items():
                    retrier.setdefault(key, value)
            for sub in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", ())):
                if sub:
                    walk(sub["States"])

    walk(out["States"])
    return _canonical(out)


# Key order of the emitted JSON (the SDK's own order puts "Type" after "Parameters"); unknown keys keep
# their relative order after the known ones. Stable order = committed files diff cleanly.
_ORDER = ["ErrorEquals", "Type", "Comment", "Resource", "QueryLanguage", "StartAt", "ItemReader", "ItemSelector",
          "ItemProcessor", "ProcessorConfig", "Mode", "ExecutionType", "Parameters", "InputPath", "ItemsPath",
          "MaxConcurrency", "ToleratedFailurePercentage", "ResultWriter", "ResultSelector", "ResultPath",
          "OutputPath", "Choices", "Default", "Variable", "Error", "ErrorPath", "Cause", "CausePath",
          "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Retry", "Catch"]
_TAIL = ["Next", "End", "States"]  # unknown keys (choice operators, And/Or/Not) go between _ORDER and _TAIL


def _rank(key: str) -> int:
    if key in _ORDER:
        return _ORDER.index(key)
    return len(_ORDER) + 1 + _TAIL.index(key) if key in _TAIL else len(_ORDER)


def _canonical(node, *, _free: bool = False):
    """Reorder ASL keys; the contents of Parameters/ItemSelector (user data) keep their order."""
    if isinstance(node, list):
        return [_canonical(v, _free=_free) for v in node]
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if not _free:
        keys.sort(key=_rank)
    return {k: _canonical(node[k], _free=_free or k in ("Parameters", "ItemSelector", "Result", "States"))
            if k != "States" else {n: _canonical(st) for n, st in node[k].items()} for k in keys}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate ASL (prototype)")
    ap.add_argument("--out", type=Path, help="write process_photo.asl.json and backfill.asl.json here")
    args = ap.parse_args(argv)
    docs = {"process_photo.asl.json": process_photo_definition(), "backfill.asl.json": backfill_definition()}
    for name, definition in docs.items():
        text = json.dumps(definition, indent=2) + "\n"
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / name).write_text(text)
        else:
            print(f"// {name}\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

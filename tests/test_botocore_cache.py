"""The CLI's botocore data cache: the same models as botocore's own loader, read from pickles the next time."""

from __future__ import annotations

import botocore.session
from botocore.loaders import JSONFileLoader, Loader

from shoebox import botocore_cache


def test_cached_models_equal_botocores_and_come_from_the_cache_the_second_time(tmp_path, monkeypatch):
    first = botocore_cache.CachingLoader(tmp_path)
    model = first.load_service_model("dynamodb", "service-2")
    assert model == Loader().load_service_model("dynamodb", "service-2")
    assert "dynamodb" in first.list_available_services("service-2")

    def no_json(self, file_path):
        raise AssertionError(f"parsed {file_path} again")

    monkeypatch.setattr(JSONFileLoader, "load_file", no_json)
    monkeypatch.setattr(Loader, "list_available_services", lambda self, type_name: [])
    second = botocore_cache.CachingLoader(tmp_path)
    assert second.load_service_model("dynamodb", "service-2") == model
    assert "dynamodb" in second.list_available_services("service-2")


def test_a_session_with_the_cache_makes_working_clients(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    session = botocore.session.Session()
    botocore_cache.install(session)
    client = session.create_client("s3", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert client.meta.region_name == "eu-west-1" and "GetObject" in client.meta.service_model.operation_names
    assert list((tmp_path / "shoebox").glob("botocore-*/*.pickle"))
    unreadable = tmp_path / "ro"
    unreadable.write_text("not a folder")  # a cache that cannot be written is skipped, not an error
    assert botocore_cache.CachingLoader(unreadable / "x").load_service_model("sts", "service-2")["metadata"]

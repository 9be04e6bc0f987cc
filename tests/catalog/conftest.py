"""Catalog fixtures: the table exactly as template.yaml declares it, in moto; Scan forbidden."""

from __future__ import annotations

import pytest


@pytest.fixture
def catalog(no_scan, monkeypatch):
    from moto import mock_aws

    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.local.template import load_template

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        aws.reset_clients()
        spec = load_template().table
        aws.client("dynamodb").create_table(**spec)
        yield Catalog(spec["TableName"])
    aws.reset_clients()


@pytest.fixture
def table_items(catalog):
    """Every item in the moto table, read from moto's model (not an API Scan)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    def read() -> list[dict]:
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(catalog.table)
        return [item.to_json()["Attributes"] for item in table.all_items()]

    return read

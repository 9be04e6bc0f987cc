"""Fixtures for the people tests: a local stack (moto, resources from template.yaml)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from people_helpers import Photos


@pytest.fixture
def stack():
    """The catalog table and bucket from template.yaml in moto (no workflow: tests write PhotoRecords
    through the persist code path)."""
    from moto import mock_aws

    from shoebox import aws
    from shoebox.local.template import load_template

    template = load_template()
    with mock_aws():
        aws.reset_clients()
        aws.client("dynamodb").create_table(**template.table)
        aws.client("s3").create_bucket(Bucket=template.bucket)
        yield SimpleNamespace(table=template.table["TableName"], bucket=template.bucket, s3=aws.client("s3"))
    aws.reset_clients()


@pytest.fixture
def photos(stack):
    return Photos(stack)


@pytest.fixture
def local_photos(service):
    """Write people straight into the local service the CLI talks to (its runtime, in this process), as
    the persist step would, without the workflow or a recognizer: ``with local_photos() as photos: …``."""
    import contextlib

    @contextlib.contextmanager
    def opened():
        yield Photos(service.runtime)

    return opened

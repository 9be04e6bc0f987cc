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
def local_photos(home):
    """Write people straight into the local runtime the CLI opens (under SHOEBOX_HOME), as the persist
    step would, without the workflow or a recognizer: ``with local_photos() as photos: photos.persist(…)``.
    The runtime is closed again before the CLI runs (one runtime per home at a time)."""
    import contextlib

    from shoebox.local import LocalRuntime

    @contextlib.contextmanager
    def opened():
        with LocalRuntime(home, recognizer="none", retry_sleep_scale=0, workflows=False) as rt:
            yield Photos(rt)

    return opened

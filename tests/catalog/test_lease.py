"""The per-photo lease (catalog/lease.py) against moto's DynamoDB: one holder at a time, and a holder that
died blocks nobody for longer than the lease lasts."""

from __future__ import annotations

import time

import pytest
from moto import mock_aws

from shoebox import aws
from shoebox.catalog import lease
from shoebox.errors import PhotoBusy
from shoebox.local.template import load_template


@pytest.fixture
def table():
    template = load_template()
    with mock_aws():
        aws.reset_clients()
        aws.client("dynamodb").create_table(**template.table)
        yield template.table["TableName"]
    aws.reset_clients()


def held(table: str, key: str) -> bool:
    return "Item" in aws.client("dynamodb").get_item(TableName=table, Key=lease.lease_key(key))


def test_one_holder_at_a_time_and_released_after(table):
    ddb = aws.client("dynamodb")
    with lease.photo_lease(ddb, table, "originals/a.jpg"):
        assert held(table, "originals/a.jpg")
        with pytest.raises(PhotoBusy, match="originals/a.jpg"):
            with lease.photo_lease(ddb, table, "originals/a.jpg", wait_s=0.05):
                pass
        with lease.photo_lease(ddb, table, "originals/b.jpg", wait_s=0.05):  # another photo: not blocked
            pass
    assert not held(table, "originals/a.jpg")
    with lease.photo_lease(ddb, table, "originals/a.jpg", wait_s=0.05):
        pass


def test_a_lease_its_holder_never_released_expires(table, monkeypatch):
    ddb = aws.client("dynamodb")
    monkeypatch.setattr(lease, "HOLD_S", 0.2)
    dead = lease.photo_lease(ddb, table, "originals/a.jpg")
    dead.__enter__()  # a Lambda that timed out holding it: never exits
    started = time.monotonic()
    with lease.photo_lease(ddb, table, "originals/a.jpg", wait_s=5):
        assert time.monotonic() - started < 2
    dead.__exit__(None, None, None)  # too late: the new holder's lease is not its to delete

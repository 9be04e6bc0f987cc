"""The moto adjustments (functions/shoebox/local/moto_patches.py) still fit the moto we pin.

When one of these fails after a moto upgrade, re-check every patch against the new interpreter before
changing MOTO_VERSION: the local runtime's correctness and speed depend on them."""

from __future__ import annotations

import time
from importlib.metadata import version

from photo_factory import jpeg_bytes
from shoebox.local import moto_patches


def test_pinned_moto_version_is_the_one_the_patches_were_written_for():
    assert version("moto") == moto_patches.MOTO_VERSION


def test_patches_are_installed_on_every_module_that_builds_clients(runtime):
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    assert lambda_eval_utils.boto_client_for is moto_patches._cached_boto_client_for
    assert boto_client.boto_client_for is moto_patches._cached_boto_client_for
    assert isinstance(retrier_decl.time, moto_patches._ScaledTime)
    # one client per service, reused by every Task
    first = moto_patches._cached_boto_client_for("us-east-1", "lambda")
    assert moto_patches._cached_boto_client_for("us-east-1", "lambda") is first


def test_retry_sleeps_are_scaled(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0.5")
    moto_patches._ScaledTime.sleep(4)
    monkeypatch.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
    moto_patches._ScaledTime.sleep(4)
    assert slept == [2.0]


def test_consecutive_executions_of_one_state_machine_all_complete(runtime):
    # moto < 5.2.5 crashed deep-copying an RLock on the second execution (getmoto/moto#10077).
    arns = [runtime.upload(jpeg_bytes(), f"originals/2021/01/0{i}/p.jpg") for i in range(1, 4)]
    assert set(runtime.wait(arns).values()) == {"SUCCEEDED"}


def test_completion_is_signalled_not_polled(runtime):
    ended: list[tuple[str, str]] = []
    moto_patches.on_execution_end(lambda arn, status: ended.append((arn, status)))
    try:
        arn = runtime.upload(jpeg_bytes(), "originals/2021/02/02/p.jpg")
        runtime.wait([arn])
        assert (arn, "SUCCEEDED") in ended
    finally:
        moto_patches._listeners.pop()


def test_item_reader_pages_through_listings_and_accepts_an_empty_one(runtime):
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
        ResourceEvalS3,
    )

    class Env:
        def __init__(self, params):
            self.stack = [params]

    class Part:
        region = "us-east-1"

    for i in range(1003):
        runtime.s3.put_object(Bucket=runtime.bucket, Key=f"thumbnails/page/{i:04d}.jpg", Body=b"x")
    env = Env({"Bucket": runtime.bucket, "Prefix": "thumbnails/page/"})
    ResourceEvalS3._handle_list_objects_v2(env, Part(), None)
    assert len(env.stack[0]) == 1003
    env = Env({"Bucket": runtime.bucket, "Prefix": "thumbnails/none/"})
    ResourceEvalS3._handle_list_objects_v2(env, Part(), None)
    assert env.stack == [[]]


def test_dynamodb_query_patch_is_installed_and_agrees_with_moto(runtime):
    from moto.dynamodb.models import table as table_module

    from shoebox import aws

    assert getattr(table_module.Table.query, "_shoebox_fast", False)
    ddb = aws.client("dynamodb")
    for i in range(30):
        ddb.put_item(TableName=runtime.table, Item={"pk": {"S": "P"}, "sk": {"S": f"{i:03d}"}})
    got = ddb.query(TableName=runtime.table, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                    ExpressionAttributeValues={":p": {"S": "P"}, ":a": {"S": "005"}, ":b": {"S": "011"}},
                    ScanIndexForward=False, Limit=4)
    assert [i["sk"]["S"] for i in got["Items"]] == ["011", "010", "009", "008"]
    assert got["LastEvaluatedKey"]["sk"]["S"] == "008"


def test_transactions_roll_back_only_what_they_touched_and_writers_can_run_concurrently(runtime):
    import threading

    import pytest
    from botocore.exceptions import ClientError

    from shoebox import aws

    ddb = aws.client("dynamodb")
    table = runtime.table
    ddb.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as failed:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "A"}, "sk": {"S": "2"}, "v": {"N": "2"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :n", "ExpressionAttributeValues": {":n": {"N": "9"}, ":old": {"N": "5"}},
                        "ConditionExpression": "v = :old"}},
        ])
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "A"}, "sk": {"S": "2"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "A"}, "sk": {"S": "1"}})["Item"]["v"] == {"N": "1"}

    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            for i in range(60):
                ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {
                    "pk": {"S": "B"}, "sk": {"S": f"{n}-{i:03d}"}}}}])
                ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "B"}})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ddb.query(TableName=table, KeyConditionExpression="pk = :p", Select="COUNT",
                     ExpressionAttributeValues={":p": {"S": "B"}})["Count"] == 240

"""State under SHOEBOX_HOME survives between runtimes, whatever the keys look like."""

from __future__ import annotations

from shoebox.local import LocalRuntime


def test_objects_items_and_odd_keys_survive_a_restart(home):
    keys = ["originals/2021/", "originals/2021/a b/ü?.jpg", "originals/x/../y.jpg"]
    with LocalRuntime(home, recognizer="none") as rt:
        from shoebox.local import router

        router.paused.set()
        try:
            for key in keys:
                rt.s3.put_object(Bucket=rt.bucket, Key=key, Body=key.encode())
        finally:
            router.paused.clear()
        rt.s3.put_object(Bucket=rt.bucket, Key="thumbnails/t.jpg", Body=b"t")
        rt.sfn  # noqa: B018
        import boto3  # noqa: F401

        from shoebox import aws

        aws.client("dynamodb").put_item(TableName=rt.table, Item={"pk": {"S": "X"}, "sk": {"S": "Y"}, "n": {"N": "3"}})
    with LocalRuntime(home, recognizer="none") as rt:
        for key in keys:
            assert rt.s3.get_object(Bucket=rt.bucket, Key=key)["Body"].read() == key.encode()
        from shoebox import aws

        item = aws.client("dynamodb").get_item(TableName=rt.table, Key={"pk": {"S": "X"}, "sk": {"S": "Y"}})["Item"]
        assert item["n"] == {"N": "3"}
        # restoring emits no events for what it loads; only the originals never processed are resumed
        # (local/resume.py): not the folder marker, not the thumbnail
        rt._resuming.join()
        rt.wait_queued()
        assert set(rt.started) == set(keys[1:]) and all(len(arns) == 1 for arns in rt.started.values())
        rt.wait([arn for arns in rt.started.values() for arn in arns])


def test_catalog_commands_start_without_workflows_and_still_persist_edits(home):
    from shoebox import aws

    with LocalRuntime(home, recognizer="none", workflows=False) as rt:
        import pytest

        with pytest.raises(RuntimeError):
            rt.state_machine_arn()
        aws.client("dynamodb").put_item(TableName=rt.table, Item={"pk": {"S": "E"}, "sk": {"S": "1"}})
    with LocalRuntime(home, recognizer="none") as rt:
        assert "Item" in aws.client("dynamodb").get_item(TableName=rt.table, Key={"pk": {"S": "E"}, "sk": {"S": "1"}})

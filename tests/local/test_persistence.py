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
        assert rt.started == {}  # restoring never re-runs the pipeline

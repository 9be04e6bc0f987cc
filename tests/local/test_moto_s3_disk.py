"""The local bucket keeps object bodies on disk (memory must not grow with the archive)."""

from __future__ import annotations

import os

from shoebox.local import router
from shoebox.local.moto_s3_disk import DiskBuffer


def test_objects_live_in_files_and_read_back_exactly(runtime, tmp_path):
    from moto.s3.models import s3_backends

    router.paused.set()
    try:
        body = os.urandom(3 * 1024 * 1024)
        runtime.s3.put_object(Bucket=runtime.bucket, Key="originals/a.bin", Body=body)
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(9 * 1024 * 1024))  # over boto3's multipart threshold
        from boto3.s3.transfer import S3Transfer

        S3Transfer(runtime.s3).upload_file(str(big), runtime.bucket, "originals/big.bin")
        runtime.s3.copy_object(Bucket=runtime.bucket, Key="originals/copy.bin",
                               CopySource={"Bucket": runtime.bucket, "Key": "originals/a.bin"})
    finally:
        router.paused.clear()
    s3 = runtime.s3
    assert s3.get_object(Bucket=runtime.bucket, Key="originals/a.bin")["Body"].read() == body
    assert s3.get_object(Bucket=runtime.bucket, Key="originals/a.bin", Range="bytes=10-19")["Body"].read() == body[10:20]
    assert s3.get_object(Bucket=runtime.bucket, Key="originals/big.bin")["Body"].read() == big.read_bytes()
    assert s3.get_object(Bucket=runtime.bucket, Key="originals/copy.bin")["Body"].read() == body
    key = next(iter(s3_backends["123456789012"]["aws"].buckets[runtime.bucket].keys.getlist("originals/a.bin")))
    assert isinstance(key._value_buffer, DiskBuffer) and key._value_buffer.path.stat().st_size == len(body)


def test_a_closed_buffer_behaves_like_a_closed_file(tmp_path):
    buffer = DiskBuffer(tmp_path)
    buffer.write(b"hello")
    buffer.seek(0)
    assert buffer.read(2) == b"he" and buffer.read() == b"llo"
    buffer.seek(0)
    buffer.truncate()
    assert buffer.read() == b""
    buffer.close()
    assert not buffer.path.exists()
    import pytest

    with pytest.raises(ValueError):
        buffer.read()


def test_an_etag_asked_by_many_threads_at_once_is_the_body_md5(runtime):
    """moto computes an ETag on first use from the shared buffer; unlocked, two threads asking at once
    (an upload's event and another run's HeadObject) each read part of the body and one keeps a wrong ETag
    (the fault drill's lost re-upload). Without the lock this failed most rounds."""
    import hashlib
    import threading

    from moto.s3.models import FakeKey

    body = os.urandom(3 * 1024 * 1024)
    want = f'"{hashlib.md5(body).hexdigest()}"'
    for _ in range(40):
        key = FakeKey("originals/a.jpg", body, account_id="123456789012", region_name="us-east-1")
        key._etag = None  # as a fresh upload's key is before anyone asked
        barrier, seen = threading.Barrier(4), []

        def ask() -> None:
            barrier.wait()
            seen.append(key.etag)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [want] * 4 and key.etag == want

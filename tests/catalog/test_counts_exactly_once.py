"""VOCAB counts (the search vocabulary and the planner's estimates) include each photo exactly once,
through crashes, retries and concurrent writers of the same photo."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from shoebox.catalog import keys
from shoebox.models import PhotoRecord


def photo(key: str, *labels: str, taken: str = "2010-05-01T10:00:00") -> PhotoRecord:
    return PhotoRecord(key=key, status="processed", taken_at=taken, format="jpeg", kind="lossy",
                       labels=[{"name": name, "confidence": 90.0, "parents": []} for name in labels])


def count(catalog, pk: str) -> int:
    item = catalog.client.get_item(TableName=catalog.table, Key={"pk": {"S": keys.VOCAB_PK}, "sk": {"S": pk}}).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_a_retry_after_a_crash_before_the_counts_counts_once(catalog, monkeypatch):
    original = catalog.client.transact_write_items
    crashes = {"left": 1}

    def crash_once(**kwargs):
        if crashes["left"]:
            crashes["left"] -= 1
            raise ConnectionError("Lambda timed out here")
        return original(**kwargs)

    monkeypatch.setattr(catalog.client, "transact_write_items", crash_once)
    record = photo("originals/2010/05/01/a.jpg", "Dog", "Beach")
    with pytest.raises(ConnectionError):
        catalog.put_photo(record)
    assert count(catalog, keys.label_pk("Dog")) == 0  # rows written, counts not yet
    catalog.put_photo(record)  # Step Functions retries the step
    catalog.put_photo(record)  # and again, for good measure: nothing changes
    assert count(catalog, keys.label_pk("Dog")) == 1 and count(catalog, keys.ALL_COUNT) == 1


def test_reprocessing_moves_counts_and_delete_takes_them_away(catalog):
    catalog.put_photo(photo("originals/2010/05/01/a.jpg", "Dog"))
    catalog.put_photo(photo("originals/2010/05/01/a.jpg", "Cat"))
    assert (count(catalog, keys.label_pk("Dog")), count(catalog, keys.label_pk("Cat"))) == (0, 1)
    catalog.delete_photo("originals/2010/05/01/a.jpg")
    assert (count(catalog, keys.label_pk("Cat")), count(catalog, keys.ALL_COUNT)) == (0, 0)


@pytest.fixture
def atomic_moto():
    """DynamoDB gives transactions atomicity and conditional writes isolation; plain moto does not under
    threads. The local runtime installs these fixes (shoebox/local/moto_dynamodb.py); so do we here."""
    from shoebox.local import moto_dynamodb

    uninstall = moto_dynamodb.install()
    yield
    uninstall()


def test_concurrent_writers_of_one_photo_leave_counts_matching_the_final_record(atomic_moto, catalog):
    key = "originals/2010/05/01/a.jpg"
    versions = [photo(key, "Dog"), photo(key, "Cat"), photo(key, "Dog", "Cat"), photo(key, "Beach")]
    errors: list[Exception] = []
    barrier = threading.Barrier(len(versions))

    def write(record: PhotoRecord) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                catalog.put_photo(record)
        except (ClientError, Exception) as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = {label["name"] for label in catalog.get_photo(key).labels}
    for name in ("Dog", "Cat", "Beach"):
        assert count(catalog, keys.label_pk(name)) == (1 if name in final else 0), name
    assert count(catalog, keys.ALL_COUNT) == 1

"""A short per-photo lease in the catalog table, so the runs that write what is derived from one original
(thumbnails, the catalog row, people rows, faces; or remove them) do it one at a time.

Step Functions may run several executions of one photo at once: EventBridge delivers at least once, a
re-upload starts a run while the first version's is still going, a delete starts remove-photo meanwhile.
Each writer checks under the lease that the original is still the version it processed, then writes, so
the last writer is always the newest version's run (or the removal), and what it replaces is exactly
what it read. The lease expires by itself (a crashed holder blocks nobody for longer than ``HOLD_S``).

Item: pk ``LOCK#<key>``, sk ``LOCK``, ``owner`` (random), ``expires`` (epoch seconds).
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from shoebox.errors import PhotoBusy

HOLD_S = 60.0  # a Lambda's timeout: no holder can still be working after this
WAIT_S = 20.0  # then PhotoBusy, which the state machine retries with backoff


def lease_key(key: str) -> dict:
    return {"pk": {"S": f"LOCK#{key}"}, "sk": {"S": "LOCK"}}


@contextlib.contextmanager
def photo_lease(client: Any, table: str, key: str, wait_s: float = WAIT_S) -> Iterator[None]:
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait_s
    attempt = 0
    while True:
        now = time.time()
        try:
            client.put_item(TableName=table, Item={**lease_key(key), "owner": {"S": owner},
                                                   "expires": {"N": f"{now + HOLD_S:.3f}"}},
                            ConditionExpression="attribute_not_exists(pk) OR expires < :now",
                            ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}})
            break
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            if time.monotonic() >= deadline:
                raise PhotoBusy(f"{key} is being written by another run") from err
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2 ** attempt)))
            attempt += 1
    try:
        yield
    finally:
        try:
            client.delete_item(TableName=table, Key=lease_key(key), ConditionExpression="#o = :me",
                               ExpressionAttributeNames={"#o": "owner"},
                               ExpressionAttributeValues={":me": {"S": owner}})
        except ClientError as err:  # expired and taken over: not ours to delete
            if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

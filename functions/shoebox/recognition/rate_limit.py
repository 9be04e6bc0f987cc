"""A hard cap on Rekognition calls per second, shared by every Lambda that calls it (issue 17).

Rekognition's TPS quotas are per operation (per account and region), so each operation has its own
bucket: one item in the catalog table, pk ``RATE#rekognition#<Operation>``, sk ``RATE``, ``next_at`` =
the epoch second from which the next call may go. A caller books a slot with one atomic UpdateItem:

* bucket busy (``now < next_at <= now + bound``): ``next_at += 1/N``, and the slot is the old ``next_at``;
* bucket idle (no item, or ``next_at <= now``): ``next_at = now + 1/N``, the slot is now;
* booked beyond the bound: ``RecognitionThrottled`` at once, so the workflow's Retry waits (free) instead
  of the Lambda sleeping (billed); nothing is booked for it.

Then it sleeps until its slot. DynamoDB applies updates of one item one at a time, so slots are at least
1/N apart across all callers: no half-open one-second window holds more than N of them. Clocks of Lambdas
differ by milliseconds (NTP); a slot booked by a fast clock only spaces calls more.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shoebox.errors import RecognitionThrottled

BOUND_S = 5.0  # sleep at most this long in a Lambda for a slot; beyond it the state machine's Retry waits


def spacing(per_second: float) -> float:
    """Seconds between two slots, rounded up to the microsecond (``next_at`` is stored in decimal)."""
    return math.ceil(1e6 / per_second) / 1e6


def rate_key(operation: str) -> dict:
    return {"pk": {"S": f"RATE#rekognition#{operation}"}, "sk": {"S": "RATE"}}


def _number(value: float) -> dict:
    return {"N": f"{value:.6f}"}


def book(client: Any, table: str, operation: str, per_second: float, now: float, bound_s: float = BOUND_S) -> float:
    """Book the next slot of ``operation``'s bucket; returns its epoch second (>= ``now``)."""
    step = spacing(per_second)
    key = rate_key(operation)
    try:  # busy: after the last booked slot (the common case under load: one write)
        response = client.update_item(
            TableName=table, Key=key, UpdateExpression="SET next_at = next_at + :step",
            ConditionExpression="next_at > :now AND next_at <= :latest", ReturnValues="UPDATED_NEW",
            ExpressionAttributeValues={":step": _number(step), ":now": _number(now), ":latest": _number(now + bound_s)})
        return float(response["Attributes"]["next_at"]["N"]) - step
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    try:  # idle: now
        client.update_item(
            TableName=table, Key=key, UpdateExpression="SET next_at = :next",
            ConditionExpression="attribute_not_exists(next_at) OR next_at <= :now",
            ExpressionAttributeValues={":next": _number(now + step), ":now": _number(now)})
        return now
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    # booked beyond the bound (or another caller made the bucket busy in between: the Retry is cheap)
    raise RecognitionThrottled(f"{operation}: Rekognition calls are booked more than {bound_s:g} s ahead "
                               f"(at most {per_second:g} a second)")


@dataclass
class RateLimiter:
    """``take(operation)`` before each Rekognition call. The rate, table and client are asked for at each
    call (the recognizer is built once per process; the local runtime changes them between runs);
    a rate of 0 or no table: no limit."""

    per_second: Callable[[], float]
    table: Callable[[], str]
    client: Callable[[], Any]
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    bound_s: float = BOUND_S

    def take(self, operation: str) -> float:
        """Wait for a slot; returns the seconds waited."""
        rate, table = self.per_second(), self.table()
        if rate <= 0 or not table:
            return 0.0
        now = self.clock()
        slot = book(self.client(), table, operation, rate, now, self.bound_s)
        wait = slot - now
        if wait > 0:
            self.sleep(wait)
        return max(0.0, wait)

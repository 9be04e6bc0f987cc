"""A hard cap on Rekognition calls per second, shared by every Lambda (issue 17): slots in the catalog table.

Rekognition's TPS quotas are per API operation (5 by default in most regions), so there is one bucket per
operation: item pk ``RATE#rekognition#<Operation>``, sk ``RATE``, ``next_at`` (epoch seconds), the
earliest time the next call may start. A caller takes slot ``max(now, next_at)`` and moves ``next_at`` on
by ``(1 + SLACK_S)/rate`` in one conditional UpdateItem, then sleeps until its slot: calls of one operation
start that far apart across all executions. A call reaches Rekognition a little after its slot (waking up,
the network): up to ``SLACK_S`` later and still no one-second window holds more than ``rate`` calls, since
``rate + 1`` slots span ``1 + SLACK_S`` seconds. That costs ~9 % of the rate and makes the cap hard.

Two conditional updates split the cases so that one of them always holds (no read first, no lost update):
``next_at >= now`` (busy: add the gap to it, atomically) and ``next_at < now`` or no item (idle: set it
to ``now + gap``). A failed condition returns the item as it is (ReturnValuesOnConditionCheckFailure),
which says which case to try next. A slot further than ``max_wait_s`` away is not taken: sleeping in
Lambda is billed, so ``RecognitionThrottled`` hands the wait to the state machine's Retry instead.

The clocks of the Lambdas agree to a few milliseconds (NTP), well inside ``SLACK_S``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shoebox.errors import RecognitionThrottled

SLACK_S = 0.1  # how late after its slot a call may reach Rekognition with the cap still held
DEFAULT_MAX_WAIT_S = 5.0  # at most this much Lambda time asleep for one call
LATE_S = SLACK_S / 2  # woken later than this after its slot, a caller books another (half the slack: the
# other half is for the call's way to Rekognition)
LATE_REBOOKINGS = 5
ATTEMPTS = 8  # conditional updates for one slot before giving up (each failure moves to the other case)


def gap_for(rate: float) -> float:
    """The time between two slots, rounded *up* to the microseconds stored."""
    return math.ceil(1e6 * (1 + SLACK_S) / rate) / 1e6


def slot_for(now: float, next_at: float | None, rate: float) -> tuple[float, float]:
    """The slot a call takes and the new ``next_at``, given the bucket's ``next_at`` (None: no item)."""
    slot = now if next_at is None else max(now, next_at)
    return slot, slot + gap_for(rate)


def rate_key(operation: str) -> dict:
    return {"pk": {"S": f"RATE#rekognition#{operation}"}, "sk": {"S": "RATE"}}


@dataclass
class RateLimiter:
    """``wait(operation)`` returns once the caller holds a slot for one call of that operation."""

    client: Any  # a DynamoDB client
    table: str
    rate: float  # calls per second per operation
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("a rate limiter needs a rate above 0 (0 means no limiter)")
        self._seen: dict[str, float | None] = {}  # the last next_at seen per operation: which case first

    def wait(self, operation: str) -> float:
        for _ in range(LATE_REBOOKINGS):
            slot = self.reserve(operation)
            delay = slot - self.clock()
            if delay > 0:
                self.sleep(delay)
            # A thread woken (or a booking answered) too late would use up the slack before the call has
            # even left: that slot is given up, unused (it only costs throughput), and another booked.
            if self.clock() - slot <= LATE_S:
                return slot
        raise RecognitionThrottled(f"{operation}: late for {LATE_REBOOKINGS} call slots in a row (a busy host)")

    def reserve(self, operation: str) -> float:
        gap = gap_for(self.rate)
        for _ in range(ATTEMPTS):
            now = math.ceil(self.clock() * 1e6) / 1e6  # stored to the microsecond: never earlier than now
            seen = self._seen.get(operation)
            busy = seen is not None and seen >= now
            try:
                if busy:
                    response = self._update(operation, "SET next_at = next_at + :gap",
                                            "next_at >= :now AND next_at <= :limit",
                                            {":gap": gap, ":now": now, ":limit": now + self.max_wait_s})
                    self._seen[operation] = float(response["Attributes"]["next_at"]["N"])
                    return self._seen[operation] - gap
                slot, after = slot_for(now, None, self.rate)
                self._update(operation, "SET next_at = :after", "attribute_not_exists(next_at) OR next_at < :now",
                             {":after": after, ":now": now})
                self._seen[operation] = after
                return slot
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                item = err.response.get("Item") or {}
                current = float(item["next_at"]["N"]) if "next_at" in item else None
                self._seen[operation] = current
                if current is not None and current > now + self.max_wait_s:
                    raise RecognitionThrottled(
                        f"{operation}: the next of {self.rate:g} calls/s is {current - now:.1f} s away") from err
        raise RecognitionThrottled(f"{operation}: no call slot after {ATTEMPTS} attempts (contention)")

    def _update(self, operation: str, expression: str, condition: str, values: dict[str, float]) -> dict:
        return self.client.update_item(
            TableName=self.table, Key=rate_key(operation), UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues={name: {"N": f"{value:.6f}"} for name, value in values.items()},
            ReturnValues="UPDATED_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")

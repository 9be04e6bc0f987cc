"""The shared Rekognition rate limiter (recognition/rate_limit.py) against moto's DynamoDB: threads that
share one table never start more than the rate's calls of one operation in any second."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from moto import mock_aws

from shoebox import aws
from shoebox.errors import RecognitionThrottled
from shoebox.local.template import load_template
from shoebox.recognition.rate_limit import RateLimiter, gap_for, rate_key, slot_for


@pytest.fixture
def table():
    """DynamoDB isolates conditional writes; plain moto does not under threads, so its fixes the local
    runtime installs (shoebox/local/moto_dynamodb.py) are installed here too."""
    from shoebox.local import moto_dynamodb

    template = load_template()
    uninstall = moto_dynamodb.install()
    try:
        with mock_aws():
            aws.reset_clients()
            aws.client("dynamodb").create_table(**template.table)
            yield template.table["TableName"]
    finally:
        uninstall()
        aws.reset_clients()


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_slots_follow_the_bucket_and_the_gap_rounds_up():
    assert slot_for(10.0, None, 4) == (10.0, 10.275)  # no item yet: now (gap (1 + 0.1 slack) / 4)
    assert slot_for(10.0, 9.0, 4) == (10.0, 10.275)  # idle since 9: now
    assert slot_for(10.0, 11.5, 4) == (11.5, 11.775)  # busy: queue behind the last slot taken
    assert gap_for(3) == 0.366667  # rounded up to the microsecond, never down


def test_threads_sharing_the_table_stay_under_the_rate(table):
    """8 threads (8 Lambdas) x 10 calls at 20/s: every call made, never more than 20 in a second."""
    started: list[float] = []
    lock = threading.Lock()

    def worker(_):
        limiter = RateLimiter(aws.client("dynamodb"), table, rate=20, max_wait_s=30)
        for _ in range(10):
            limiter.wait("DetectLabels")
            with lock:
                started.append(time.time())

    began = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert len(started) == 80
    assert most_in_one_second(started) <= 20
    assert time.time() - began >= 79 * 1.1 / 20  # paced, not merely counted
    # one bucket per operation: another operation's calls do not wait behind these
    other = RateLimiter(aws.client("dynamodb"), table, rate=20)
    before = time.time()
    other.wait("IndexFaces")
    assert time.time() - before < 0.5


def test_a_stale_view_of_the_bucket_is_corrected_by_the_failed_condition(table):
    """Two limiters (two Lambdas): one believes the bucket idle while the other has queued slots ahead; its
    idle-case update fails, the item it gets back puts it behind them, and no slot is given twice."""
    now = [1000.0]
    ddb = aws.client("dynamodb")
    first = RateLimiter(ddb, table, rate=5, clock=lambda: now[0], sleep=lambda s: None)
    second = RateLimiter(ddb, table, rate=5, clock=lambda: now[0], sleep=lambda s: None)
    assert [first.reserve("SearchUsers") for _ in range(3)] == pytest.approx([1000.0, 1000.22, 1000.44])
    assert second.reserve("SearchUsers") == pytest.approx(1000.66)  # tried idle, was told 1000.66
    now[0] = 1010.0  # the bucket went idle; first still remembers it busy
    assert first.reserve("SearchUsers") == 1010.0  # the busy-case update fails, then the idle one holds
    item = ddb.get_item(TableName=table, Key=rate_key("SearchUsers"))["Item"]
    assert float(item["next_at"]["N"]) == pytest.approx(1010.22)


def test_a_slot_beyond_the_bound_is_left_to_the_state_machine(table):
    now = [2000.0]
    slept: list[float] = []
    ddb = aws.client("dynamodb")
    limiter = RateLimiter(ddb, table, rate=2, max_wait_s=1.1, clock=lambda: now[0], sleep=slept.append)
    slots = [limiter.wait("DetectLabels") for _ in range(3)]  # 2000, 2000.55, 2001.1 (1.1 s away: allowed)
    assert slots == pytest.approx([2000.0, 2000.55, 2001.1]) and slept == pytest.approx([0.55, 1.1])
    with pytest.raises(RecognitionThrottled, match="DetectLabels"):
        limiter.wait("DetectLabels")  # 1.65 s away
    item = ddb.get_item(TableName=table, Key=rate_key("DetectLabels"))["Item"]
    assert float(item["next_at"]["N"]) == pytest.approx(2001.65)  # the refused call took no slot
    with pytest.raises(ValueError):
        RateLimiter(ddb, table, rate=0)

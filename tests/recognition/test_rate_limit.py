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
    slots: list[float] = []
    late: list[float] = []
    lock = threading.Lock()

    def worker(_):
        limiter = RateLimiter(aws.client("dynamodb"), table, rate=20, max_wait_s=30)
        for _ in range(10):
            slot = limiter.wait("DetectLabels")
            woke = time.time()
            with lock:
                slots.append(slot)
                late.append(woke - slot)

    began = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert len(slots) == 80 and len(set(slots)) == 80  # every call made, no slot given twice
    # the cap holds on the slots; the calls themselves start no earlier than their slot (and a call up to
    # SLACK_S late keeps it too; a busy test machine can wake a thread later than that)
    assert most_in_one_second(slots) <= 20 and min(late) >= 0
    assert max(slots) - min(slots) >= 79 * 1.1 / 20 - 1e-6  # spaced by (1 + slack) / rate
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


def test_a_caller_woken_too_late_for_its_slot_books_another(table):
    """Woken 0.2 s after its slot (a busy host), a call would reach Rekognition past the slack, in the same
    second as calls booked after it: it gives that slot up and takes another, which it is on time for."""
    now = [3000.0]
    late = iter([0.2, 0.0])  # late once, then on time

    def sleep(seconds: float) -> None:
        now[0] += seconds + next(late)

    ddb = aws.client("dynamodb")
    others = RateLimiter(ddb, table, rate=10, clock=lambda: now[0], sleep=lambda s: None)
    limiter = RateLimiter(ddb, table, rate=10, clock=lambda: now[0], sleep=sleep)
    assert [others.reserve("IndexFaces") for _ in range(2)] == pytest.approx([3000.0, 3000.11])
    # booked 3000.22, woken at 3000.42: that slot is given up and 3000.42, free now, is taken instead
    assert limiter.wait("IndexFaces") == pytest.approx(3000.42) and now[0] == pytest.approx(3000.42)
    item = ddb.get_item(TableName=table, Key=rate_key("IndexFaces"))["Item"]
    assert float(item["next_at"]["N"]) == pytest.approx(3000.53)


def test_the_recognizer_takes_a_slot_before_each_call_and_none_when_refused(table):
    from shoebox.recognition.base import ImageRef
    from shoebox.recognition.rekognition import RekognitionRecognizer

    called: list[str] = []

    class Client:  # the Rekognition side is not under test here: what reaches it, and when
        def detect_labels(self, **params):
            called.append("DetectLabels")
            return {"Labels": []}

    now = [3000.0]
    ddb = aws.client("dynamodb")
    limiter = RateLimiter(ddb, table, rate=1, max_wait_s=1.1, clock=lambda: now[0], sleep=lambda s: None)
    rec = RekognitionRecognizer("c", client=Client(), limiter=limiter)
    image = ImageRef(bucket="b", key="thumbnails/view/a.jpg")
    rec.detect_labels(image)
    rec.detect_labels(image)  # 1.1 s away: sleeps for it
    item = ddb.get_item(TableName=table, Key=rate_key("DetectLabels"))["Item"]
    assert called == ["DetectLabels"] * 2 and float(item["next_at"]["N"]) == pytest.approx(3002.2)
    with pytest.raises(RecognitionThrottled):
        rec.detect_labels(image)  # 2.2 s away: the state machine waits instead, and no call is made
    assert len(called) == 2 and rec.calls() == {"DetectLabels": 2}

"""Per-photo recognition call accounting is exact while photos share a recognizer across threads."""

from __future__ import annotations

import threading

from shoebox.recognition.base import CallCounter
from shoebox.steps.counting import count_calls


class Fake(CallCounter):
    name = "fake"

    def detect(self, n: int) -> None:
        for _ in range(n):
            self._count("DetectLabels")


def test_each_thread_counts_only_its_own_calls():
    rec = Fake()
    barrier = threading.Barrier(4)
    seen: dict[int, dict] = {}

    def photo(n: int) -> None:
        with count_calls(rec, {"recognition_calls": {"IndexFaces": 1}}) as calls:
            barrier.wait()
            rec.detect(n)
            barrier.wait()
        seen[n] = calls

    threads = [threading.Thread(target=photo, args=(n,)) for n in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {n: {"IndexFaces": 1, "DetectLabels": n} for n in (1, 2, 3, 4)}
    assert rec.calls() == {"DetectLabels": 10}

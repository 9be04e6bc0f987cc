"""Per-photo accounting of recognition API calls (what the cost report adds up)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from shoebox.recognition import Recognizer


@contextlib.contextmanager
def count_calls(recognizer: Recognizer, event: dict) -> Iterator[dict[str, int]]:
    """Yields the photo's running call counts, updated with what the block called.

    Recognizers count per instance and instances are shared by concurrent photos in the local runtime,
    so the delta is approximate there; in Lambda one invocation runs at a time and it is exact."""
    totals: dict[str, int] = dict(event.get("recognition_calls") or {})
    before = dict(recognizer.calls())
    try:
        yield totals
    finally:
        for name, count in recognizer.calls().items():
            delta = count - before.get(name, 0)
            if delta:
                totals[name] = totals.get(name, 0) + delta

"""Per-photo accounting of recognition API calls (what the cost report adds up)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from shoebox.recognition import Recognizer


@contextlib.contextmanager
def count_calls(recognizer: Recognizer, event: dict) -> Iterator[dict[str, int]]:
    """Yields the photo's running call counts; when the block ends they include the calls this thread
    made inside it (exact even while other photos use the same recognizer on other threads)."""
    totals: dict[str, int] = dict(event.get("recognition_calls") or {})
    with recognizer.track() as used:
        yield totals
    for name, count in used.items():
        totals[name] = totals.get(name, 0) + count

"""Errors that cross step boundaries.

The state machine matches on the exception *class name* (Lambda reports it as ``errorType``), so these
names are part of the ASL contract: keep them stable.
"""

from __future__ import annotations


class ShoeboxError(Exception):
    """Base for errors we raise on purpose; ``reason`` is the human-readable text recorded on the photo."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImageError(ShoeboxError):
    """The original cannot be turned into thumbnails (corrupt, truncated, bomb, ...). Permanent."""


class UnsupportedFormat(ShoeboxError):
    """Content is not a format we handle. Permanent; recorded, not retried."""


class SkippedMedia(ShoeboxError):
    """Content we recognise but deliberately do not process (videos). Recorded as skipped."""


class RecognitionThrottled(ShoeboxError):
    """The recognition API throttled us. Retryable: the state machine's Retry backs off on this name."""


class RecognitionError(ShoeboxError):
    """The recognition API rejected the image (bad format, too large, ...). Permanent."""


class PhotoBusy(ShoeboxError):
    """Another run holds the photo's lease (catalog/lease.py) for longer than a step waits. Retryable: the
    state machine's Retry backs off on this name."""


class PhotoChanged(ShoeboxError):
    """The original changed (re-uploaded or deleted) while this run was processing an earlier version. The
    run stops without writing: the newer version's own run (or the removal) is what counts."""


# Failures that say nothing about the photo, only that a service was busy when its retries ran out. A photo
# recorded failed with one of these is run again by the next backfill (steps/check_done.py); other failures
# wait for `shoebox backfill --retry-failed` or `shoebox retry`.
TRANSIENT_FAILURES = frozenset({
    "RecognitionThrottled", "PhotoBusy", "Lambda.TooManyRequestsException", "Lambda.ServiceException",
    "Lambda.AWSLambdaException", "Lambda.SdkClientException",
})


def is_transient(error: str | None) -> bool:
    """``error`` as a failed photo's row records it: "RecognitionThrottled: Rate exceeded"."""
    return (error or "").split(":", 1)[0].strip() in TRANSIENT_FAILURES

"""S3's EventBridge "Object Created" event, for an object already stored: what a re-run (`shoebox retry`,
ingest of an object never catalogued) starts an execution with, and what the local service sends again
for an upload a crash left unprocessed. The steps read only ``detail.bucket`` and ``detail.object``."""

from __future__ import annotations


# The sequencer of the event that finishes an upload whose run was lost (the local service's resume, an
# ingest meeting an object with no catalog row): the same for both, so their executions get one name
# (executions.event_execution_name) and the second start is refused instead of running the photo twice.
UNFINISHED_SEQUENCER = "shoebox-unfinished"


def object_created_detail(bucket: str, key: str, size: int, etag: str, reason: str,
                          sequencer: str | None = None) -> dict:
    obj = {"key": key, "size": size, "etag": etag.strip('"')}
    if sequencer:
        obj["sequencer"] = sequencer
    return {"version": "0", "bucket": {"name": bucket}, "reason": reason, "object": obj}


def object_created_event(bucket: str, key: str, size: int, etag: str, reason: str,
                         sequencer: str | None = None) -> dict:
    return {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": object_created_detail(bucket, key, size, etag, reason, sequencer)}

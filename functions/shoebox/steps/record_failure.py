"""RecordFailure: the Catch target. A failed photo becomes a catalog row you can list and retry."""

from __future__ import annotations

from typing import Any

from shoebox.catalog import Catalog
from shoebox.config import Settings
from shoebox.steps.common import logger, step
from shoebox.steps.records import describe_failure, record_from_state, result_summary


@step("record_failure")
def handler(event: dict, context: Any) -> dict:
    failed_step, message = describe_failure(event.get("failure") or {})
    record = record_from_state(event, status="failed")
    record.error = message
    record.failed_step = failed_step
    logger.warning("photo failed", extra={"failed_step": failed_step, "error": message})
    Catalog(Settings.from_env().table).put_photo(record)
    return {**result_summary(record), "failed_step": failed_step, "error_type": message.split(":", 1)[0]}

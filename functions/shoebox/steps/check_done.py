"""CheckDone: the backfill's "already done?" test, the first state of each Distributed Map item.

A photo is skipped when its catalog row has the listed object's ETag and this code's PIPELINE_VERSION
(so a re-run only does what is left, and bumping the version reprocesses everything). Failed rows count as
done too unless the run asks for ``retry_failed`` or the failure was transient (a throttle outlasting the
retries: errors.TRANSIENT_FAILURES), which the next backfill simply runs again; any other failed photo is
retried by fixing the cause and running ``shoebox backfill --retry-failed`` (or re-uploading it). Folder markers (keys ending in "/") are
not photos and are skipped. Done in Python rather than a DynamoDB GetItem service integration because the
listing's ETag is quoted ("\\"abc\\"") and the catalog's is not, which JSONPath cannot compare, and the
pipeline version lives in the code, not in the ASL.
"""

from __future__ import annotations

from typing import Any

from shoebox import PIPELINE_VERSION
from shoebox.catalog import Catalog
from shoebox.config import Settings
from shoebox.errors import is_transient
from shoebox.steps.common import step


def decide(key: str, etag: str | None, row: tuple[str | None, str | None, int | None],
           retry_failed: bool = False, failure: str | None = None) -> tuple[bool, str]:
    """Pure: (done, reason) for a listed object and its catalog row ``(status, etag, pipeline_version)``;
    ``failure`` is a failed row's recorded error."""
    if key.endswith("/"):
        return True, "folder marker"
    status, row_etag, version = row
    if status is None:
        return False, "not in the catalog"
    if (etag or "").strip('"') != (row_etag or "").strip('"'):
        return False, "changed since it was processed"
    if version != PIPELINE_VERSION:
        return False, f"processed by pipeline version {version}, now {PIPELINE_VERSION}"
    if status == "failed" and retry_failed:
        return False, "failed before; retrying"
    if status == "failed" and is_transient(failure):
        return False, f"failed on a busy service ({(failure or '').split(':', 1)[0]}); retrying"
    return True, f"already {status}"


def listed_object(entry: dict) -> dict:
    """An S3 listing entry as the Map's ItemReader hands it over -> the ``object`` the steps read.

    AWS's ItemReader names the field ``Etag``, moto's (boto's) ``ETag``. The quotes S3 puts around an ETag
    are dropped, as in the EventBridge event process_photo gets, so failed rows store it the same way."""
    etag = entry.get("etag", entry.get("Etag", entry.get("ETag")))
    etag = etag.strip('"') if isinstance(etag, str) else etag
    out = {"key": entry.get("key", entry.get("Key")), "size": entry.get("size", entry.get("Size")), "etag": etag}
    storage_class = entry.get("storage_class", entry.get("StorageClass"))
    if storage_class:
        out["storage_class"] = storage_class
    return out


@step("check_done")
def handler(payload: dict, context: Any) -> dict:
    # {"item": the Map item, "item_execution": this child's own execution} (the item as is from older ASL)
    event = {**payload["item"], "item_execution": payload.get("item_execution")} if "item" in payload else payload
    key = event["key"]
    obj = listed_object(event.get("object") or {})
    catalog = Catalog(Settings.from_env().table)
    row = catalog.photo_state(key) if not key.endswith("/") else (None, None, None)
    failure = None
    if row[0] == "failed":  # one more read, for failed photos only: was it a throttle?
        record = catalog.get_photo(key)
        failure = record.error if record else None
    done, reason = decide(key, obj.get("etag"), row, bool(event.get("retry_failed")), failure)
    return {**event, "object": obj, "done": done, "reason": reason}

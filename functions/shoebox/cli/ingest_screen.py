"""Ingest's checks before an upload, shared by both backends (kept out of backends.py on purpose):
content duplicates (in this run or already archived), the same content already at its key, and a file
whose earlier run failed."""

from __future__ import annotations

from typing import Any

from shoebox.catalog.duplicates import keys_with_content, record_duplicate
from shoebox.cli.backends import Upload, _result
from shoebox.ingest.files import disambiguate
from shoebox.ingest.plan import duplicate_of


def duplicate_result(upload: Upload, of: str) -> dict:
    result = _result(upload, None, status="duplicate",
                     error=f"same bytes as {of}: not stored again")
    result.update(key=None, duplicate_of=of)
    return result


def screen(backend: Any, upload: Upload, *, force: bool, retry_failed: bool, seen: dict[str, str]
           ) -> tuple[Upload, str | None, dict | None]:
    """(upload with its final key, "upload", "rerun" or "unfinished", None) when the workflow is to run, else
    (…, None, the result to report). ``seen``: content hash → key of this run's earlier files, updated."""
    if upload.sha256 and upload.key:
        earlier = seen.get(upload.sha256)
        own = {upload.key} | ({disambiguate(upload.key, upload.md5)} if upload.md5 else set())
        held = [] if earlier else keys_with_content(backend.catalog, upload.sha256)
        of = duplicate_of(upload.key, own, earlier, held)
        if of is not None:
            record_duplicate(backend.catalog, str(upload.source.absolute()), of)
            return upload, None, duplicate_result(upload, of)
    final, action = backend.plan_upload(upload, force)
    if upload.sha256:
        seen[upload.sha256] = final.key
    if action != "present":
        return final, action, None
    record = backend.catalog.get_photo(final.key)
    if record is None:  # there but never catalogued (an ingest cut short): finish it, unless already under way
        return final, "unfinished", None
    if record.status == "failed":
        if retry_failed:
            return final, "rerun", None
        result = _result(final, record, status="failed",
                         error=f"failed in an earlier run: {record.error} "
                               "(`shoebox ingest --retry-failed` or `shoebox retry KEY` runs it again)")
        result["recognition_calls"] = None  # counted by the run that processed it
        return final, None, result
    return final, None, _result(final, record, status="skipped",
                                error="already in the archive with the same content")

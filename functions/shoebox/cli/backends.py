"""Where commands run: the embedded local runtime (default) or a deployed stack (--stack NAME).

Both expose the same operations over the same AWS APIs; only waiting differs (local executions signal
their end, deployed ones are followed through the catalog).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from shoebox import aws
from shoebox.catalog import Catalog
from shoebox.ingest.files import disambiguate, md5_hex

ResultCallback = Callable[[dict], None]


@dataclass
class Upload:
    source: Path
    key: str


def _head_etag(s3: Any, bucket: str, key: str) -> str | None:
    """The object's content MD5: its ETag for a single-part upload, else the md5 we stored as metadata
    (a multipart upload's ETag is not an MD5, and large RAW files upload in parts)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    etag = head["ETag"].strip('"')
    return head.get("Metadata", {}).get("md5") or etag


def _result(upload: Upload, record: Any | None, status: str | None = None, error: str | None = None,
            execution: str | None = None) -> dict:
    """One `shoebox ingest --json` line. ``recognition_calls`` is what processing this photo in this run
    called ({api: count}, for scripts/report_recognition_cost.py), null when this run did not process it
    (skipped: already in the archive) or the record is an earlier run's."""
    if record is None:
        return {"source": str(upload.source), "key": upload.key, "status": status or "failed", "format": None,
                "thumbnails": {"view": None, "grid": None}, "labels": [], "people": [], "faces": [],
                "taken_at": None, "error": error, "execution": execution, "recognition_calls": None}
    status = status or record.status
    # the record may be an earlier run's (this run's execution failed before writing one): its calls
    # were counted then
    this_run = status != "skipped" and (execution is None or record.execution in (None, execution))
    return {
        "source": str(upload.source),
        "key": record.key,
        "status": status,
        "format": record.format,
        "thumbnails": {"view": (record.thumbnails.get("view") or {}).get("key"),
                       "grid": (record.thumbnails.get("grid") or {}).get("key")},
        "labels": record.label_names,
        "people": record.people,
        "faces": face_summaries(record),
        "taken_at": record.taken_at,
        "error": error if error is not None else record.error,
        "execution": execution or record.execution,
        "recognition_calls": dict(record.recognition_calls) if this_run else None,
    }


def face_summaries(record: Any) -> list[dict]:
    """A photo's faces as outputs give them: id, the person it was filed under, box (ratios of the view)."""
    return [{"face_id": f.get("face_id"), "person_id": f.get("person_id"), "bbox": f.get("bbox")}
            for f in record.faces]


class BaseBackend:
    bucket: str
    table: str
    collection_id: str | None = None  # the stack's Rekognition collection (deployed only)

    def keep_apart(self, person_ids: list[str]) -> list:
        """Deployed, the recognizer is Rekognition, which never merges groups by itself: nothing to tell."""
        return []

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        """Rekognition never moves a face after IndexFaces: the catalog's filing stands."""
        return {}

    def similar_people(self, person_ids: list[str]) -> list:
        """Rekognition's SearchUsers on the stack's collection, one call per person."""
        if not self.collection_id:
            return []
        from shoebox.recognition.rekognition import RekognitionRecognizer

        return RekognitionRecognizer(self.collection_id).similar_people(person_ids)

    @property
    def s3(self) -> Any:
        return aws.client("s3")

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.table)

    def plan_upload(self, upload: Upload, force: bool = False) -> tuple[Upload, bool]:
        """(upload with its final key, whether it needs uploading). Same content already there → skip;
        different content under the same name and day → a new key, never an overwrite."""
        existing = _head_etag(self.s3, self.bucket, upload.key)
        if existing is None:
            return upload, True
        digest = md5_hex(upload.source)
        if existing == digest:
            return upload, force
        other = Upload(upload.source, disambiguate(upload.key, digest))
        again = _head_etag(self.s3, self.bucket, other.key)
        return other, (again != digest) or force

    state_machine_arn: str

    @property
    def sfn(self) -> Any:
        return aws.client("stepfunctions")

    def start_photo(self, key: str) -> str:
        """Run the workflow for an object already in the bucket, as its upload event would; returns the
        execution ARN. The original is not touched."""
        from shoebox.local.router import execution_name

        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        event = {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
                 "resources": [f"arn:aws:s3:::{self.bucket}"],
                 "detail": {"version": "0", "bucket": {"name": self.bucket}, "reason": "ShoeboxRetry",
                            "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"')}}}
        return self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=execution_name(key),
                                        input=json.dumps(event))["executionArn"]

    def wait(self, arns: list[str], timeout: float = 900.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        done: dict[str, str] = {}
        while len(done) < len(arns) and time.monotonic() < deadline:
            for arn in arns:
                if arn not in done:
                    status = self.sfn.describe_execution(executionArn=arn)["status"]
                    if status != "RUNNING":
                        done[arn] = status
            if len(done) < len(arns):
                time.sleep(2)
        return done

    def execution_records(self, failed_only: bool = False, limit: int = 200) -> list[dict]:
        raise NotImplementedError

    def execution_record(self, ref: str) -> dict | None:
        raise NotImplementedError


class LocalBackend(BaseBackend):
    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self.bucket = runtime.bucket
        self.table = runtime.table

    def keep_apart(self, person_ids: list[str]) -> list:
        """The local recognizer (the runtime's, under SHOEBOX_HOME) may have merged them: undo it there;
        the faces it moves are returned for the catalog to move too."""
        from shoebox.recognition import get_recognizer

        return get_recognizer(self.rt.recognizer).keep_apart(person_ids)

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        from shoebox.recognition import get_recognizer

        return get_recognizer(self.rt.recognizer).filed_as(face_ids)

    def similar_people(self, person_ids: list[str]) -> list:
        from shoebox.recognition import get_recognizer

        return get_recognizer(self.rt.recognizer).similar_people(person_ids)

    @property
    def state_machine_arn(self) -> str:  # type: ignore[override]
        return self.rt.state_machine_arn()

    def wait(self, arns: list[str], timeout: float = 900.0) -> dict[str, str]:
        return self.rt.wait(arns, timeout)

    def ingest(self, uploads: list[Upload], on_result: ResultCallback, force: bool = False,
               window: int | None = None) -> list[dict]:
        """Upload with a bounded number of photos in flight; each upload starts its own execution."""
        window = window or max(2, 2 * (os.cpu_count() or 1))
        results: list[dict] = []
        in_flight: list[tuple[Upload, str]] = []

        def drain(keep: int) -> None:
            while len(in_flight) > keep:
                upload, arn = in_flight.pop(0)
                status = self.rt.wait([arn])[arn]
                record = self.catalog.get_photo(upload.key)
                result = _result(upload, record, execution=arn)
                if status != "SUCCEEDED" and result["status"] == "processed":
                    result["status"] = "failed"
                results.append(result)
                on_result(result)

        for upload in uploads:
            final, needed = self.plan_upload(upload, force)
            if not needed:
                record = self.catalog.get_photo(final.key)
                result = _result(final, record, status="skipped",
                                 error="already in the archive with the same content")
                results.append(result)
                on_result(result)
                continue
            arn = self.rt.upload(final.source, final.key)
            if arn is None:
                result = _result(final, None, error="upload did not start a workflow (key outside originals/?)")
                results.append(result)
                on_result(result)
                continue
            in_flight.append((final, arn))
            drain(window - 1)
        drain(0)
        return results

    def execution_records(self, failed_only: bool = False, limit: int = 200) -> list[dict]:
        records = self.rt.store.load_executions() if self.rt.store else []
        if failed_only:
            records = [r for r in records if r["describe"].get("status") == "FAILED"]
        records.sort(key=lambda r: str(r["describe"].get("startDate")), reverse=True)
        return records[:limit]

    def execution_record(self, ref: str) -> dict | None:
        for record in self.execution_records(limit=10**9):
            describe = record["describe"]
            if ref in (describe["executionArn"], describe.get("name")):
                return record
        record = self.catalog.get_photo(ref)
        if record and record.execution:
            return self.execution_record(record.execution)
        return None


class AwsBackend(BaseBackend):
    """A deployed stack, found by its CloudFormation outputs."""

    def __init__(self, stack: str) -> None:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in
                   aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}
        self.bucket = outputs["BucketName"]
        self.table = outputs["TableName"]
        self.state_machine_arn = outputs["ProcessPhotoStateMachineArn"]
        self.collection_id = outputs.get("CollectionId")

    def ingest(self, uploads: list[Upload], on_result: ResultCallback, force: bool = False,
               timeout: float = 900.0) -> list[dict]:
        pending: list[tuple[Upload, str]] = []
        results: list[dict] = []
        for upload in uploads:
            final, needed = self.plan_upload(upload, force)
            if not needed:
                result = _result(final, self.catalog.get_photo(final.key), status="skipped",
                                 error="already in the archive with the same content")
                results.append(result)
                on_result(result)
                continue
            self.s3.upload_file(str(final.source), self.bucket, final.key,
                                ExtraArgs={"Metadata": {"md5": md5_hex(final.source)}})
            pending.append((final, self.s3.head_object(Bucket=self.bucket, Key=final.key)["ETag"].strip('"')))
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            still = []
            for upload, etag in pending:
                record = self.catalog.get_photo(upload.key)
                if record and (record.etag or "") == etag:
                    results.append(_result(upload, record))
                    on_result(results[-1])
                else:
                    still.append((upload, etag))
            pending = still
            if pending:
                time.sleep(2)
        for upload, _ in pending:
            results.append(_result(upload, None, error=f"no catalog row after {timeout:.0f}s"))
            on_result(results[-1])
        return results

    def _record(self, arn: str) -> dict:
        sfn = aws.client("stepfunctions")
        describe = sfn.describe_execution(executionArn=arn)
        events = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        return {"describe": describe, "events": events}

    def execution_records(self, failed_only: bool = False, limit: int = 200) -> list[dict]:
        sfn = aws.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": min(limit, 100)}
        if failed_only:
            kwargs["statusFilter"] = "FAILED"
        arns = []
        for page in sfn.get_paginator("list_executions").paginate(**kwargs):
            arns.extend(e["executionArn"] for e in page["executions"])
            if len(arns) >= limit:
                break
        return [self._record(arn) for arn in arns[:limit]]

    def execution_record(self, ref: str) -> dict | None:
        if ref.startswith("arn:"):
            return self._record(ref)
        record = self.catalog.get_photo(ref)
        return self._record(record.execution) if record and record.execution else None


@contextlib.contextmanager
def open_backend(stack: str | None, home: str | None = None, *, workers: int = 0,
                 workflows: bool = False) -> Iterator[BaseBackend]:
    """``workflows``: the command runs photos through the state machines (ingest, retry); reading and
    editing the catalog does not need them locally. ``workers``: worker processes for CPU-heavy steps
    in the local runtime (worth it for many photos)."""
    if stack:
        yield AwsBackend(stack)
        return
    from shoebox.local import LocalRuntime

    with LocalRuntime(home, workers=workers, workflows=workflows) as runtime:
        yield LocalBackend(runtime)


def workers_for(photos: int) -> int:
    """One worker process per core when there is enough work to amortise starting them (~2 s)."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 and photos >= 4 * cores else 0


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)

"""Where commands run: the local service (default) or a deployed stack (--stack NAME).

One :class:`Backend` for both: boto3 clients pointed at an endpoint (``aws.using``), and the stack found
by its CloudFormation Outputs. Only how the endpoint is found differs (``open_backend``): the local
service of SHOEBOX_HOME (started on first use), or AWS with the user's profile and region.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from shoebox import aws
from shoebox.catalog import Catalog
from shoebox.config import shoebox_home
from shoebox.executions import event_execution_name, execution_name
from shoebox.s3_events import UNFINISHED_SEQUENCER, object_created_event
from shoebox.s3_layout import ORIGINALS
from shoebox.executions import logged_events as views_logged_events
from shoebox.ingest.files import disambiguate, md5_hex

ResultCallback = Callable[[dict], None]
SUGGEST_MAX_WAIT_S = 600.0  # `people suggest` on a stack waits for its Rekognition call slots this long at most


def screen(*args: Any, **kwargs: Any) -> tuple["Upload", str | None, dict | None]:
    from shoebox.cli.ingest_screen import screen as run  # issue 19's checks live there

    return run(*args, **kwargs)


@dataclass
class Upload:
    source: Path
    key: str | None
    # issue 19: what ingest planned (shoebox.ingest.plan): S3 user metadata, content hashes
    metadata: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None
    md5: str | None = None


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
                "taken_at": None, "taken_source": None, "error": error, "execution": execution,
                "recognition_calls": None, "duplicate_of": None}
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
        "taken_source": record.taken_source,
        "error": error if error is not None else record.error,
        "execution": execution or record.execution,
        "recognition_calls": dict(record.recognition_calls) if this_run else None,
        "duplicate_of": None,
    }


def face_summaries(record: Any) -> list[dict]:
    """A photo's faces as outputs give them: id, the person it was filed under, box (ratios of the view)."""
    return [{"face_id": f.get("face_id"), "person_id": f.get("person_id"), "bbox": f.get("bbox")}
            for f in record.faces]


class BackendError(RuntimeError):
    """Said in one line by the CLI: stack not found, no credentials, the service would not start."""


@dataclass
class _Pending:
    upload: Upload
    etag: str | None  # the uploaded object's ETag: its catalog row is this upload's once it carries it
    arn: str | None  # an execution started directly (a re-run of an object already there)
    since: float


class Backend:
    def __init__(self, endpoint: aws.Endpoint, stack: str, *, home: Path | None = None,
                 recognizer: str | None = None, outputs: dict[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.stack = stack
        self.home = home  # the local service's SHOEBOX_HOME (its face index lives there), None on AWS
        self.recognizer_name = recognizer
        outputs = outputs if outputs is not None else stack_outputs(stack, endpoint.region)
        try:
            self.bucket = outputs["BucketName"]
            self.table = outputs["TableName"]
            self.state_machine_arn = outputs["ProcessPhotoStateMachineArn"]
        except KeyError as exc:
            raise BackendError(f"stack {stack} has no {exc.args[0]} output: deploy the current template") from None
        self.backfill_arn = outputs.get("BackfillStateMachineArn")
        self.backfill_log_group = outputs.get("BackfillLogGroupName")  # where the backfill's items log
        # the stack's Rekognition collection: deployed only (locally the recognizer is the offline one)
        self.collection_id = None if endpoint.local else outputs.get("CollectionId")
        self.poll_seconds = 0.2 if endpoint.local else 2.0

    @property
    def local(self) -> bool:
        return self.endpoint.local

    # ------------------------------------------------------------------ clients
    @property
    def s3(self) -> Any:
        return aws.client("s3")

    @property
    def sfn(self) -> Any:
        return aws.client("stepfunctions")

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.table)

    def people(self) -> Any:
        """The catalog's people, with this backend's recognizer for merges and keeping apart. No S3 client
        unless a cover is made (People makes it on first use: S3's model is a third of a second to load,
        and listing people needs none)."""
        from shoebox.catalog.people import People

        return People(self.catalog, bucket=self.bucket, keep_apart=self.keep_apart, filed_as=self.filed_as)

    # ------------------------------------------------------------------ the recognizer's side of people
    def _local_recognizer(self) -> Any | None:
        """The local service's offline recognizer: its face index is files under SHOEBOX_HOME, shared with
        the service's steps (FaceIndex locks and replays them), so the CLI edits it directly."""
        from shoebox.recognition import registry

        if not self.local:
            # a hybrid/local stack keeps faces in its DynamoDB face index; rekognition: None
            return registry.stack_index_recognizer(self.stack, self.table)
        return registry.get_recognizer(self.recognizer_name or "none")

    def keep_apart(self, person_ids: list[str]) -> list:
        """The local recognizer may have merged them: undo it there; the faces it moves are returned for
        the catalog to move too. Rekognition never merges groups by itself: nothing to tell."""
        recognizer = self._local_recognizer()
        return recognizer.keep_apart(person_ids) if recognizer else []

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        """Where the local recognizer files these faces now; Rekognition never moves a face after
        IndexFaces, so there the catalog's filing stands."""
        recognizer = self._local_recognizer()
        return recognizer.filed_as(face_ids) if recognizer else {}

    def similar_people(self, person_ids: list[str]) -> list:
        """Locally, the offline index's centroids; deployed, Rekognition's SearchFaces (or SearchUsers) on
        the stack's collection, one call per person."""
        recognizer = self._local_recognizer()
        if recognizer is not None:
            return recognizer.similar_people(person_ids)
        if not self.collection_id:
            return []
        from shoebox.recognition.face_search import FaceMap
        from shoebox.recognition.rate_limit import RateLimiter
        from shoebox.recognition.registry import deployed_calls_per_second
        from shoebox.recognition.rekognition import RekognitionRecognizer

        # the face -> person items (FaceGrouping faces); people still in user vectors are asked by UserId
        face_map = FaceMap(aws.client("dynamodb"), self.table) if self.table else None
        # the calls take their slots from the stack's shared limiter, as the Lambdas' do, so a suggestion
        # asked during a backfill does not push it over the quota; a command may wait (it is not billed)
        rate = deployed_calls_per_second(self.stack)
        limiter = RateLimiter(aws.client("dynamodb"), self.table, rate, max_wait_s=SUGGEST_MAX_WAIT_S) \
            if rate > 0 and self.table else None
        return RekognitionRecognizer(self.collection_id, face_map=face_map, limiter=limiter).similar_people(person_ids)

    # ------------------------------------------------------------------ uploads
    def plan_upload(self, upload: Upload, force: bool = False) -> tuple[Upload, str]:
        """(upload with its final key, what to do: "upload", "present" (the same content is there) or
        "rerun" (present, and --force)). Different content under the same name and day gets a new key,
        never an overwrite."""
        existing = _head_etag(self.s3, self.bucket, upload.key)
        if existing is None:
            return upload, "upload"
        digest = upload.md5 or md5_hex(upload.source)
        if existing != digest:
            upload = Upload(upload.source, disambiguate(upload.key, digest), upload.metadata, upload.sha256, upload.md5)
            existing = _head_etag(self.s3, self.bucket, upload.key)
            if existing != digest:
                return upload, "upload"
        return upload, "rerun" if force else "present"

    def _put(self, uploader: Any, upload: Upload) -> str:
        """Upload the file with sync's uploader (transfer manager, S3-verified SHA-256); returns its ETag."""
        from shoebox.ingest.plan import digests

        if not (upload.sha256 and upload.md5):
            upload.sha256, upload.md5 = digests(upload.source)
        return uploader.put(upload.source, upload.key, upload.source.stat().st_size, upload.metadata,
                            upload.sha256, upload.md5)

    def ingest(self, uploads: list[Upload], on_result: ResultCallback, force: bool = False,
               window: int | None = None, timeout: float = 900.0, retry_failed: bool = False) -> list[dict]:
        """Upload with a bounded number of photos in flight; each upload's own event starts its workflow
        (S3 → EventBridge → Step Functions, here as on AWS), and its result is its catalog row once that
        row carries the uploaded ETag. An object already there with no catalog row (an ingest cut short
        before its photo was processed) is run again directly."""
        window = window or (max(2, 2 * (os.cpu_count() or 1)) if self.local else 32)
        results: list[dict] = []
        pending: list[_Pending] = []

        def report(result: dict) -> None:
            results.append(result)
            on_result(result)

        def finished(p: _Pending, rows: dict) -> dict | None:
            record = rows.get(p.upload.key)
            if p.arn is not None:
                status = self.sfn.describe_execution(executionArn=p.arn)["status"]
                if status == "RUNNING":
                    return None
                record = self.catalog.get_photo(p.upload.key)
                result = _result(p.upload, record, execution=p.arn)
                if status != "SUCCEEDED" and result["status"] == "processed":
                    result["status"] = "failed"
                return result
            if record is not None and (record.etag or "") == p.etag:
                return _result(p.upload, record)
            return None

        def drain(keep: int) -> None:
            while len(pending) > keep:
                rows = self.catalog.get_photos([p.upload.key for p in pending if p.arn is None])  # one request
                for p in list(pending):
                    result = finished(p, rows)
                    if result is None and time.monotonic() - p.since > timeout:
                        result = _result(p.upload, None, error=f"no catalog row after {timeout:.0f}s")
                    if result is not None:
                        pending.remove(p)
                        report(result)
                if len(pending) > keep:
                    time.sleep(self.poll_seconds)

        from shoebox.ingest.upload import Uploader

        uploader = Uploader(self.s3, self.bucket)  # one transfer manager for the run, as sync's
        try:
            seen: dict[str, str] = {}
            for upload in uploads:
                # issue 19: duplicates, earlier failures, the same content (shoebox.cli.ingest_screen)
                final, action, screened = screen(self, upload, force=force, retry_failed=retry_failed, seen=seen)
                if screened is not None:
                    report(screened)
                    continue
                if action == "upload":
                    pending.append(_Pending(final, self._put(uploader, final), None, time.monotonic()))
                elif action == "unfinished":  # there but never catalogued: its run, or the one already going
                    etag, arn = self.finish_photo(final.key)
                    pending.append(_Pending(final, etag, arn, time.monotonic()))
                else:  # "rerun": --force, --retry-failed
                    pending.append(_Pending(final, None, self.start_photo(final.key), time.monotonic()))
                drain(window - 1)
        finally:
            uploader.close()
        drain(0)
        return results

    # ------------------------------------------------------------------ executions
    def start_photo(self, key: str) -> str:
        """Run the workflow for an object already in the bucket, as its upload event would; returns the
        execution ARN. The original is not touched."""
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        event = object_created_event(self.bucket, key, head["ContentLength"], head["ETag"], "ShoeboxRetry")
        return self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=execution_name(key),
                                        input=json.dumps(event))["executionArn"]

    def finish_photo(self, key: str) -> tuple[str, str]:
        """(ETag, execution ARN) of the run that finishes an object its upload's run never catalogued. Its
        name is the one the local service's resume gives that run too (s3_events.UNFINISHED_SEQUENCER), so
        when the resume started it already, Step Functions refuses a second and the ingest follows that one
        while it runs; one that ended without a row is not followed again."""
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        etag = head["ETag"].strip('"')
        event = object_created_event(self.bucket, key, head["ContentLength"], etag, "ShoeboxIngest",
                                     UNFINISHED_SEQUENCER)
        name = event_execution_name(key, etag, UNFINISHED_SEQUENCER)
        try:
            return etag, self.sfn.start_execution(stateMachineArn=self.state_machine_arn, input=json.dumps(event),
                                                  name=name)["executionArn"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        if self.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            return etag, arn
        return etag, self.start_photo(key)  # that run ended without a row (its name is spent): a new one

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
                time.sleep(self.poll_seconds)
        return done

    def _record(self, arn: str) -> dict:
        describe = self.sfn.describe_execution(executionArn=arn)
        describe.pop("ResponseMetadata", None)
        events = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events.extend(page["events"])
        return {"describe": describe, "events": events}

    def execution_records(self, failed_only: bool = False, limit: int = 200) -> list[dict]:
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": min(limit, 100)}
        if failed_only:
            kwargs["statusFilter"] = "FAILED"
        arns: list[str] = []
        for page in self.sfn.get_paginator("list_executions").paginate(**kwargs):
            arns.extend(e["executionArn"] for e in page["executions"])
            if len(arns) >= limit:
                break
        return [self._record(arn) for arn in arns[:limit]]

    def execution_record(self, ref: str) -> dict | None:
        """By execution ARN, execution name, or photo key (its catalog row keeps its execution)."""
        from botocore.exceptions import ClientError

        if not ref.startswith("arn:") and not ref.startswith(ORIGINALS):
            ref = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + ref
        if ref.startswith("arn:"):
            try:
                return self._record(ref)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "InvalidArn"):
                    return None
                raise
        record = self.catalog.get_photo(ref)
        if record and record.item_execution:  # a backfill item: its own run, not the whole backfill's
            return self._item_record(record.item_execution)
        return self.execution_record(record.execution) if record and record.execution else None

    def _item_record(self, arn: str) -> dict:
        """A Distributed Map child: DescribeExecution answers for it; an Express child has no history, so
        its events come from the backfill's log group (BackfillLogLevel decides how many there are)."""
        from botocore.exceptions import ClientError

        describe = self.sfn.describe_execution(executionArn=arn)
        describe.pop("ResponseMetadata", None)
        try:
            events = [e for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
                      for e in page["events"]]
            return {"describe": describe, "events": events}
        except ClientError:  # Express: "not supported by EXPRESS state machines"
            if self.backfill_log_group is None:
                return {"describe": describe, "events": []}
        start = describe.get("startDate")
        kwargs: dict[str, Any] = {"logGroupName": self.backfill_log_group,
                                  "filterPattern": f'{{ $.execution_arn = "{arn}" }}'}
        if start is not None:
            kwargs["startTime"] = int(start.timestamp() * 1000) - 1000
        messages = [e["message"] for page in aws.client("logs").get_paginator("filter_log_events").paginate(**kwargs)
                    for e in page["events"]]
        return {"describe": describe, "events": views_logged_events(messages)}


def stack_outputs(stack: str, region: str) -> dict[str, str]:
    """The stack's Outputs (the same call on the local service and on AWS)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            raise BackendError(f"stack {stack} not found in {region} (check --region or --profile)") from None
        raise BackendError(f"cannot read stack {stack} in {region}: {message}") from None
    except BotoCoreError as exc:
        raise BackendError(f"cannot reach AWS for stack {stack} in {region}: {exc}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def _local_outputs(home: Path, started_at: float) -> dict[str, str]:
    """The local stack's Outputs, read once per service start (describe_stacks needs the CloudFormation
    model, a tenth of a second of every command's start otherwise) and kept beside its service.json."""
    from shoebox.local.template import REGION, STACK

    cache = home / "stack-outputs.json"
    try:
        saved = json.loads(cache.read_text())
        if saved.get("started_at") == started_at:
            return saved["outputs"]
    except (OSError, ValueError, KeyError):
        pass
    outputs = stack_outputs(STACK, REGION)
    tmp = cache.with_name(f".stack-outputs.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"started_at": started_at, "outputs": outputs}))
    os.replace(tmp, cache)
    return outputs


@dataclass
class Connection:
    """How this CLI process reaches AWS: set once by the global options (--profile, --region)."""

    profile: str | None = None
    region: str | None = None


connection = Connection()


@contextlib.contextmanager
def open_backend(stack: str | None = None, home: Path | str | None = None) -> Iterator[Backend]:
    """The deployed stack ``stack`` on AWS, or the local service of ``home`` (SHOEBOX_HOME by default;
    started in the background if none answers). Clients made inside the block go to that endpoint.
    Setup problems (no credentials, no region, no such stack, a service that will not start) print one
    line and exit 1."""
    import typer

    from shoebox.cli.common import err, esc

    try:
        if stack:
            endpoint = aws.resolve_aws(connection.profile, connection.region)
            with aws.using(endpoint):
                backend = Backend(endpoint, stack)
        else:
            from shoebox.local.client import ServiceError, connect
            from shoebox.local.template import REGION, STACK

            root = Path(home) if home else shoebox_home()
            try:
                service = connect(root, announce=lambda line: err.print(esc(line)))
            except ServiceError as exc:
                raise BackendError(str(exc)) from None
            endpoint = aws.Endpoint(region=REGION, url=service.url, access_key=service.access_key,
                                    secret_key=service.secret_key)
            with aws.using(endpoint):
                backend = Backend(endpoint, STACK, home=root, recognizer=service.recognizer,
                                  outputs=_local_outputs(root, service.started_at))
    except (BackendError, aws.AwsSetupError) as exc:
        err.print(f"[red]{esc(str(exc))}[/red]")
        raise typer.Exit(1) from None
    try:
        with aws.using(endpoint):
            yield backend
    except (EndpointUnreachable, HTTPClientError) as exc:  # the endpoint went away mid-command (a killed service, a dropped network)
        where = f"AWS ({endpoint.region})" if stack else "the local service (what it acknowledged is kept)"
        err.print(f"[red]lost {where} in the middle of the command: {esc(str(exc))}; run it again[/red]")
        raise typer.Exit(1) from None


def workers_for(photos: int) -> int:
    """One worker process per core when there is enough work to amortise starting them (~2 s)."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 and photos >= 4 * cores else 0


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)

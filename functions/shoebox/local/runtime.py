"""LocalRuntime: moto in-process, resources from template.yaml, our handlers behind Lambda invokes.

    with LocalRuntime() as rt:
        arn = rt.upload("photo.jpg", "originals/2024/05/01/photo.jpg")   # the upload starts the workflow
        rt.wait([arn])
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import sys
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shoebox import aws, compute
from shoebox.executions import execution_name
from shoebox.config import setting, shoebox_home
from shoebox.local import moto_patches, moto_s3_disk, router
from shoebox.local.durable import DurableStore
from shoebox.local.lambda_bridge import LambdaBridge
from shoebox.local.persistence import ExecutionArchive
from shoebox.local.template import ACCOUNT, REGION, LocalStack, load_template
from shoebox.recognition import registry

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"reset_boto3_session": True, "service_whitelist": None},
}

_LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "SHOEBOX_LOCAL": "1",
}


class HomeBusy(RuntimeError):
    """Another runtime (a local service, or a test's) holds this SHOEBOX_HOME."""


_log = logging.getLogger(__name__)
_held: set[Path] = set()  # homes a runtime of this process holds (flock would block on itself, not fail)


class LocalRuntime:
    def __init__(self, home: Path | str | None = None, *, recognizer: str | None = None,
                 retry_sleep_scale: float | None = None, persist: bool = True, log_level: str | None = None,
                 workers: int = 0, workflows: bool = True, lock_blocking: bool = True,
                 upload_rate: float = 0.0, upload_max_running: int = 0, rekognition_rate: float = 0.0) -> None:
        self.home = Path(home).resolve() if home else shoebox_home()
        self.recognizer = recognizer or setting("SHOEBOX_RECOGNIZER_LOCAL") or registry.default_local()
        self.retry_sleep_scale = retry_sleep_scale
        self.persist = persist
        self.workers = workers  # >0: CPU-heavy step work runs in that many worker processes (shoebox.compute)
        # False: storage only (bucket, table), for commands that read or edit the catalog; starting the
        # Step Functions interpreter (its import and ASL parsing) costs about a second
        self.workflows = workflows
        self.log_level = log_level or setting("SHOEBOX_LOG_LEVEL", "ERROR")
        self.lock_blocking = lock_blocking  # False: fail with HomeBusy instead of waiting for the home
        # the template's UploadStartsPerSecond; 0 (no limit) by default: the offline recognizers have no
        # quota (the worker pool bounds the work). scripts/bench_throttle.py sets one.
        self.upload_rate = upload_rate
        self.upload_max_running = upload_max_running  # UploadMaxRunning; 0 (no cap) by default, likewise
        self.rekognition_rate = rekognition_rate  # RekognitionCallsPerSecond; 0 (no cap) by default, likewise
        self.stack: LocalStack | None = None
        self.bridge: LambdaBridge | None = None
        self.store: DurableStore | None = None
        self.archive: ExecutionArchive | None = None
        self.restored = {"objects": 0, "items": 0, "seconds": 0.0}
        self.execution_listeners: list = []  # called with (state machine arn, event) as an execution starts
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._lock_file: Any = None
        self._resuming: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._ended: dict[str, str] = {}  # execution arn -> final status
        self.started: dict[str, list[str]] = {}  # object key -> execution arns, in start order
        self._queued: dict[str, int] = {}  # object key -> upload events in the queue, not yet started
        self._state_machine_arns: dict[str, str] = {}
        self._event_sources: list = []

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "LocalRuntime":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        from moto import mock_aws

        self.home.mkdir(parents=True, exist_ok=True)
        from shoebox.ingest.files import HOME_MARKER

        (self.home / HOME_MARKER).touch()
        if self.home in _held:
            raise HomeBusy(f"{self.home} is already open in this process (use that runtime, or its service's)")
        self._lock_file = open(self.home / ".lock", "a+")
        try:  # one runtime per home at a time
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | (0 if self.lock_blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip()
            self._lock_file.close()
            self._lock_file = None
            raise HomeBusy(f"{self.home} is in use by another Shoebox process ({holder or 'pid unknown'})") from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}")
        self._lock_file.flush()
        _held.add(self.home)
        self.stack = load_template(overrides={"UploadStartsPerSecond": str(self.upload_rate),
                                              "UploadMaxRunning": str(self.upload_max_running),
                                              "RekognitionCallsPerSecond": str(self.rekognition_rate)})
        # Only the Globals go process-wide; each invocation gets its function's own variables (lambda_bridge).
        env = dict(_LOCAL_ENV)
        env.update(self.stack.global_environment)
        env.update({
            "SHOEBOX_RECOGNIZER": self.recognizer,
            "SHOEBOX_HOME": str(self.home),
            "POWERTOOLS_LOG_LEVEL": self.log_level,
        })
        if self.retry_sleep_scale is not None:
            env["SHOEBOX_RETRY_SLEEP_SCALE"] = str(self.retry_sleep_scale)
        self._set_env(env)
        # The step logger reads POWERTOOLS_LOG_LEVEL once, when first imported: the CLI may have imported
        # it before this, and then every photo's INFO lines would reach the terminal.
        steps_common = sys.modules.get("shoebox.steps.common")
        if steps_common is not None:
            steps_common.logger.setLevel(self.log_level)

        # moto logs every failed execution as an error with its internals; our own records say it better.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        from shoebox import botocore_cache

        botocore_cache.install_everywhere()  # models for our clients and moto's: parsed JSON costs seconds
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        # object bodies on disk: the bucket must not cost as much RAM as the photos in it; with persist,
        # in the durable store's folder, where they stay
        if self.persist:
            self.store = DurableStore(self.home)
            moto_s3_disk.install(self.store.bodies, persistent=True)
        else:
            moto_s3_disk.install(self.home / ".objects" / f"{os.getpid()}-{id(self):x}")
        aws.reset_clients()
        registry.get_recognizer.cache_clear()
        if self.workflows:
            self.bridge = LambdaBridge(self.stack.functions, set(self.stack.global_environment))
            moto_patches.install(self.bridge.before_call_hook)
            moto_patches.on_execution_end(self._on_execution_end)
            router.install(self._start_from_event, self._on_queued)
        else:
            from shoebox.local import moto_dynamodb

            moto_dynamodb.install()
        self._create_resources()
        if self.workers:
            compute.start_pool(self.workers)
        if self.store:
            self._restore()
        for source in self._event_sources:
            source.start()
        if self.store and self.workflows:
            # what a kill -9 of the last service left unprocessed (its queue and executions were in memory):
            # the originals there now, before any upload of this runtime, checked against the catalog meanwhile
            from moto.s3.models import s3_backends

            from shoebox.local.resume import stored_originals

            originals = stored_originals(s3_backends[ACCOUNT]["aws"].get_bucket(self.bucket))
            if originals:
                self._resuming = threading.Thread(target=self._resume, args=(originals,), name="shoebox-resume",
                                                  daemon=True)
                self._resuming.start()

    def _restore(self) -> None:
        """Load the durable state once, then journal every change (shoebox.local.durable)."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends

        from shoebox.local import journaling, persistence

        assert self.store is not None
        began = time.perf_counter()
        s3_backend = s3_backends[ACCOUNT]["aws"]
        # millions of new objects, none of them garbage: the cyclic GC would walk the growing heap again
        # and again (a third of the restore's time), and after it, at every full collection (a pause of
        # seconds in someone's search); they go out of its way until stop() (gc.freeze)
        collecting = gc.isenabled()
        gc.disable()
        try:
            state = self.store.load()
            self.restored["objects"] = journaling.restore_s3(state, s3_backend, ACCOUNT, REGION,
                                                                 self.store.bodies)
            self.restored["items"] = journaling.restore_dynamodb(state, dynamodb_backends[ACCOUNT][REGION])
            gc.freeze()
        finally:
            if collecting:
                gc.enable()
        journaling.install(self.store)
        journaling.track_bucket(s3_backend.get_bucket(self.bucket))
        self.archive = ExecutionArchive(self.home)
        persistence.install()
        persistence.use(self.archive)
        self.store.snapshot_in_background(state)
        self.restored["seconds"] = round(time.perf_counter() - began, 3)

    def _resume(self, originals: list[dict]) -> None:
        from shoebox.catalog import Catalog
        from shoebox.local.resume import resume_unfinished

        try:
            self.restored["resumed"] = resume_unfinished(originals, aws.client("events"), Catalog(self.table),
                                                         self.bucket, stop=self._stopping)
        except Exception:  # noqa: BLE001 - the service runs on; the next ingest or backfill finds them
            _log.exception("resuming unfinished uploads")

    def stop(self) -> None:
        self._stopping.set()
        if self._resuming is not None:  # it must not outlive the mock (its calls would go to AWS)
            self._resuming.join()
            self._resuming = None
        try:
            for source in self._event_sources:
                source.stop()
            self._event_sources.clear()
            moto_patches.remove_listener(self._on_execution_end)
            if self.workers:
                compute.stop_pool()
            if self.store is not None:
                from shoebox.local import journaling, persistence

                self.store.wait_for_snapshot()
                journaling.uninstall()
                persistence.use(None)
                self.store.close()
                if self.archive is not None:
                    self.archive.close()
                gc.unfreeze()  # what restore put out of the GC's way is collectable again
        finally:
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
                moto_s3_disk.uninstall()
            aws.reset_clients()
            self._restore_env()
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
                self._lock_file = None
                _held.discard(self.home)

    def _set_env(self, env: dict[str, str]) -> None:
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # ------------------------------------------------------------------ resources from template.yaml
    def _create_resources(self) -> None:
        stack = self.stack
        assert stack is not None
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=stack.bucket)
        s3.put_bucket_versioning(Bucket=stack.bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(Bucket=stack.bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_notification_configuration(
            Bucket=stack.bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
        aws.client("dynamodb").create_table(**stack.table)
        # moto checks the role ARN's shape, not that the role exists: no IAM client (its model costs ~0.2 s)
        role = f"arn:aws:iam::{ACCOUNT}:role/shoebox-local-states"
        if not self.workflows:
            return
        sfn = aws.client("stepfunctions")
        for logical, spec in stack.state_machines.items():
            # moto's ASL parser prints notes about fields it ignores; stdout belongs to --json output
            with contextlib.redirect_stdout(sys.stderr if self.log_level == "DEBUG" else io.StringIO()):
                arn = sfn.create_state_machine(name=spec.name, definition=json.dumps(spec.definition), roleArn=role,
                                               type=spec.type)["stateMachineArn"]
            self._state_machine_arns[logical] = arn
        sqs = aws.client("sqs")
        queues: dict[str, tuple[str, str]] = {}  # logical id -> (url, arn)
        for logical, queue in stack.queues.items():  # dead-letter queues exist before a redrive names them
            url = sqs.create_queue(QueueName=queue.name, Attributes={
                k: v for k, v in queue.attributes.items() if k != "RedrivePolicy"})["QueueUrl"]
            queues[logical] = (url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue.name}")
        for logical, queue in stack.queues.items():
            if "RedrivePolicy" in queue.attributes:
                sqs.set_queue_attributes(QueueUrl=queues[logical][0],
                                         Attributes={"RedrivePolicy": queue.attributes["RedrivePolicy"]})
        events = aws.client("events")
        for rule in stack.rules:
            events.put_rule(Name=rule.logical_id, EventPattern=json.dumps(rule.pattern), State="ENABLED")
            target = ({"Id": "queue", "Arn": queues[rule.target_queue][1]} if rule.target_queue else
                      {"Id": "statemachine", "Arn": self._state_machine_arns[rule.target_state_machine or ""],
                       "RoleArn": role})
            events.put_targets(Rule=rule.logical_id, Targets=[target])
        from shoebox.local.event_source import SqsEventSource

        assert self.bridge is not None
        for source in stack.event_sources:
            url, arn = queues[source.queue]
            self._event_sources.append(SqsEventSource(
                url, arn, stack.functions[source.function].arn, batch_size=source.batch_size,
                max_concurrency=source.max_concurrency, invoke=self.bridge.invoke, on_result=self._on_started,
                region=REGION))

    # ------------------------------------------------------------------ accessors
    @property
    def bucket(self) -> str:
        assert self.stack is not None
        return self.stack.bucket

    @property
    def table(self) -> str:
        assert self.stack is not None
        return self.stack.table["TableName"]

    @property
    def s3(self) -> Any:
        return aws.client("s3")

    @property
    def sfn(self) -> Any:
        return aws.client("stepfunctions")

    def state_machine_arn(self, logical_id: str = "ProcessPhotoStateMachine") -> str:
        if not self.workflows:
            raise RuntimeError("this LocalRuntime was started without workflows (workflows=False)")
        return self._state_machine_arns[logical_id]

    # ------------------------------------------------------------------ executions
    def _start_from_event(self, state_machine_arn: str, event: dict) -> None:
        for listener in self.execution_listeners:
            listener(state_machine_arn, event)
        key = event.get("detail", {}).get("object", {}).get("key", "event")
        arn = self.sfn.start_execution(stateMachineArn=state_machine_arn, name=execution_name(key),
                                       input=json.dumps(event, default=str))["executionArn"]
        with self._cond:
            self.started.setdefault(key, []).append(arn)

    def _on_queued(self, queue_arn: str, event: dict) -> None:
        key = event.get("detail", {}).get("object", {}).get("key", "event")
        with self._cond:
            self._queued[key] = self._queued.get(key, 0) + 1

    def _on_started(self, batch: dict, result: Any) -> None:
        """The upload queue's starter handled a batch (its result lists what it started)."""
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []}
        events = {r["messageId"]: json.loads(r["body"]) for r in batch["Records"]}
        machine = self._state_machine_arns.get("ProcessPhotoStateMachine", "")
        for message_id, event in events.items():
            if message_id not in failed:
                for listener in self.execution_listeners:
                    listener(machine, event)
        with self._cond:
            for started in (result or {}).get("started") or []:
                arns = self.started.setdefault(started["key"], [])
                if started["execution"] not in arns:
                    arns.append(started["execution"])
            for message_id, event in events.items():
                key = event.get("detail", {}).get("object", {}).get("key", "event")
                if message_id not in failed and self._queued.get(key):
                    self._queued[key] -= 1
            self._cond.notify_all()

    def _on_execution_end(self, arn: str, status: str) -> None:
        if self.archive is not None:
            try:
                self.archive.save(self.execution_record(arn))
                self._forget_execution(arn)
            except Exception:  # noqa: BLE001 - a history we cannot save must not hang waiters
                pass
        with self._cond:
            self._ended[arn] = status
            self._cond.notify_all()

    def _forget_execution(self, arn: str) -> None:
        """Drop an archived per-photo execution from moto's memory (the archive answers for it now), so
        a long-lived service does not grow with every photo it processed. Backfill runs stay: their map
        runs are read from moto."""
        machine_arn = arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
        if machine_arn == self._state_machine_arns.get("BackfillStateMachine"):
            return
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        for machine in backend.state_machines:
            if machine.arn == machine_arn:
                machine.executions[:] = [e for e in machine.executions if e.execution_arn != arn]

    def execution_record(self, arn: str) -> dict:
        """describe + history, as the CLI's execution views read them (same shapes as AWS)."""
        describe = self.sfn.describe_execution(executionArn=arn)
        describe.pop("ResponseMetadata", None)
        events: list[dict] = []
        kwargs: dict[str, Any] = {"executionArn": arn}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return {"describe": describe, "events": events}

    def wait(self, arns: Iterable[str], timeout: float = 600.0) -> dict[str, str]:
        """Block until every execution has ended; returns their final statuses."""
        wanted = list(arns)
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(arn not in self._ended for arn in wanted):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"executions still running after {timeout}s")
                self._cond.wait(remaining)
            return {arn: self._ended[arn] for arn in wanted}

    def wait_queued(self, timeout: float = 120.0) -> None:
        """Block until every upload event in the queue has had its execution started."""
        with self._cond:
            if not self._cond.wait_for(lambda: not any(self._queued.values()), timeout=timeout):
                raise TimeoutError(f"uploads still queued after {timeout}s: {sum(self._queued.values())}")

    def upload(self, data: bytes | str | Path, key: str) -> str | None:
        """Put an object like a user's upload would; returns the execution it started (if any)."""
        body = Path(data).read_bytes() if isinstance(data, (str, Path)) else data
        before = len(self.started.get(key, []))
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        with self._cond:  # an upload goes through the queue: wait for its starter
            self._cond.wait_for(lambda: len(self.started.get(key, [])) > before or not self._queued.get(key),
                                timeout=120)
            arns = self.started.get(key, [])
            return arns[before] if len(arns) > before else None

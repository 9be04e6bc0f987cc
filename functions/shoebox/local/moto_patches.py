"""Every adjustment we make to moto's in-process Step Functions interpreter, in one place.

Written against moto 5.2.5 (`MOTO_VERSION`). tests/local/test_moto_patches.py fails loudly when an
upgrade moves what these patches touch. What each one is for:

1. ``boto_client_for`` — the interpreter builds a fresh boto3 client for *every* Task it runs (tens of
   milliseconds each, most of the per-state overhead we measured). We hand it one cached client per
   (service, region) instead.
2. Lambda invokes — the interpreter calls ``lambda.Invoke``; a ``before-call`` hook on our cached Lambda
   client answers it from our in-process handler (see lambda_bridge). Nothing reaches moto's Lambda.
3. Retry sleeps — ``Retry`` waits with real ``time.sleep``; the local runtime scales them
   (``SHOEBOX_RETRY_SLEEP_SCALE``: 1 = as in AWS, 0 = no wait, what tests use).
4. Completion — the interpreter runs each execution on a thread and only sets a status; we wrap the
   worker's ``terminated`` callback to signal waiters, so nobody polls with sleeps.
5. Distributed Map ItemReader ``s3:listObjectsV2`` — moto reads one page (1,000 keys) and fails on an
   empty listing; AWS reads every page and an empty prefix is an empty Map. We page through.
6. DynamoDB Query — moto walks the whole table for every Query (O(table): seconds per search page on
   a 60,000-photo catalog); ``moto_dynamodb.install`` answers base-table Queries from a sorted key list
   per partition with moto's own paging semantics.
7. S3 delete markers — deleting from a versioned bucket (ours is) creates a delete marker, and AWS then
   emits "Object Deleted" (deletion-type "Delete Marker Created"); moto emits nothing. We send it, so the
   remove-photo rule sees deletions locally too.
8. S3 object bodies — moto keeps them in memory; ``moto_s3_disk`` keeps them in files (installed by the
   runtime around its mock), so the bucket does not cost as much RAM as the photos in it.

Executions also need an explicit name (moto builds the ARN from it); the router always gives one.
moto 5.2.5 already fixed the RLock deep-copy crash on a second execution (getmoto/moto#10077); the
test keeps checking that two executions in a row work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config

from shoebox.config import setting

MOTO_VERSION = "5.2.5"

_installed = False
_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}
_lambda_hook: Callable[..., Any] | None = None
_listeners: list[Callable[[str, str], None]] = []


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    key = (service, region)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                from shoebox import aws

                client = aws.new_client(
                    service,
                    region_name=region,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",
                    config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}),
                )
                if service == "lambda" and _lambda_hook is not None:
                    client.meta.events.register("before-call.lambda.Invoke", _lambda_hook)
                _clients[key] = client
    return client


class _ScaledTime:
    """Stands in for the `time` module inside moto's retrier: only sleep is scaled."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        scale = float(setting("SHOEBOX_RETRY_SLEEP_SCALE", "1"))
        if seconds > 0 and scale > 0:
            time.sleep(seconds * scale)


def install(lambda_hook: Callable[..., Any]) -> None:
    """Apply the patches once per process. ``lambda_hook`` is a botocore before-call handler."""
    global _installed, _lambda_hook
    with _lock:
        _lambda_hook = lambda_hook
        _clients.clear()
        if _installed:
            return
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
            resource_eval_s3 as item_reader_s3,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
            resource_eval_s3 as result_writer_s3,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_aws_sdk,
            state_task_service_dynamodb,
            state_task_service_sfn,
        )
        from moto.stepfunctions.parser.asl.utils import boto_client
        from moto.stepfunctions.parser.backend import execution as execution_module

        for module in (boto_client, lambda_eval_utils, item_reader_s3, result_writer_s3,
                       state_task_service_aws_sdk, state_task_service_dynamodb, state_task_service_sfn):
            if not hasattr(module, "boto_client_for"):
                raise RuntimeError(f"moto changed: {module.__name__} has no boto_client_for (written for {MOTO_VERSION})")
            module.boto_client_for = _cached_boto_client_for

        if not hasattr(retrier_decl, "time"):
            raise RuntimeError(f"moto changed: retrier_decl no longer sleeps via time (written for {MOTO_VERSION})")
        retrier_decl.time = _ScaledTime()

        reader = item_reader_s3.ResourceEvalS3
        if not hasattr(reader, "_handle_list_objects_v2"):
            raise RuntimeError(f"moto changed: ItemReader has no _handle_list_objects_v2 (written for {MOTO_VERSION})")

        def _handle_list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
            s3 = reader._get_s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
            parameters = dict(env.stack.pop())
            contents: list[dict] = []
            while True:
                page = s3.list_objects_v2(**parameters)
                contents.extend(page.get("Contents", []))
                if not page.get("IsTruncated"):
                    break
                parameters["ContinuationToken"] = page["NextContinuationToken"]
            env.stack.append(contents)

        reader._handle_list_objects_v2 = staticmethod(_handle_list_objects_v2)

        from shoebox.local import moto_checksums, moto_dynamodb

        moto_dynamodb.install()
        moto_checksums.install()
        _emit_delete_marker_events()

        comm = execution_module.BaseExecutionWorkerCommunication
        original_terminated = comm.terminated

        def terminated(self: Any) -> None:
            original_terminated(self)
            execution = self.execution
            for listener in list(_listeners):
                listener(execution.exec_arn, execution.exec_status.value)

        comm.terminated = terminated
        _installed = True


def _emit_delete_marker_events() -> None:
    from moto.s3 import models as s3_models
    from moto.s3 import notifications

    backend = s3_models.S3Backend
    if not hasattr(backend, "delete_object"):
        raise RuntimeError(f"moto changed: S3Backend has no delete_object (written for {MOTO_VERSION})")
    original = backend.delete_object

    def delete_object(self: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                      bypass: bool = False) -> Any:
        bucket = self.get_bucket(bucket_name)
        before = bucket.keys.get(key_name) if version_id is None else None
        ok, meta = original(self, bucket_name, key_name, version_id, bypass)
        if isinstance(before, s3_models.FakeKey) and meta.get("delete-marker") == "true":
            notifications.send_event(
                self.account_id, notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                bucket, before)
        return ok, meta

    backend.delete_object = delete_object


def on_execution_end(listener: Callable[[str, str], None]) -> None:
    """Call ``listener(execution_arn, status)`` when any execution ends (from the worker thread)."""
    _listeners.append(listener)


def remove_listener(listener: Callable[[str, str], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)

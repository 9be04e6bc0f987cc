"""Answer the interpreter's lambda.Invoke calls from our handlers, in-process (no Docker).

A handled error comes back the way Lambda reports it — ``FunctionError: Unhandled`` and an
``{"errorType", "errorMessage"}`` payload — so the ASL's Retry/Catch match on the error's class name
exactly as they do in AWS.
"""

from __future__ import annotations

import importlib
import io
import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from shoebox.config import function_env
from shoebox.local.template import FunctionSpec

Handler = Callable[[dict, Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_s: int
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _HttpResponse:
    headers: dict[str, str] = {}
    raw = None
    content = b""

    def __init__(self, status_code: int = 200) -> None:
        self.status_code = status_code


class InvokeError(Exception):
    """Raised by an interceptor to fail the Invoke call itself, as the Lambda service does when it errs or
    throttles (HTTP 500 ``ServiceException``, 429 ``TooManyRequestsException``, ...): the function does not
    run, and Step Functions reports ``Lambda.<code>``, the names the ASL's Retry lists."""

    def __init__(self, code: str = "ServiceException", status: int = 500, message: str = "") -> None:
        super().__init__(message or f"{code} (injected)")
        self.code, self.status, self.message = code, status, message or f"{code} (injected)"


@dataclass
class Invocation:
    function: str
    duration_ms: float
    error: str | None


class LambdaBridge:
    def __init__(self, functions: dict[str, FunctionSpec], global_keys: set[str] | None = None) -> None:
        self.global_keys = global_keys or set()  # Globals variables: the runtime sets (or overrides) these
        self._by_arn: dict[str, tuple[FunctionSpec, Handler]] = {}
        for spec in functions.values():
            module_name, _, attr = spec.handler.rpartition(".")
            handler = getattr(importlib.import_module(module_name), attr)
            for ref in (spec.arn, spec.arn.rsplit(":", 1)[-1]):
                self._by_arn[ref] = (spec, handler)
        # Tests use this to inject faults (e.g. a throttle on the first attempt of one step).
        self.interceptors: list[Callable[[FunctionSpec, dict], None]] = []
        self.invocations: list[Invocation] = []

    def replace_handler(self, logical_id: str, handler: Handler) -> None:
        """Answer one function's invokes with ``handler`` (scripts/rehearse.py: its own process)."""
        for ref, (spec, _) in list(self._by_arn.items()):
            if spec.logical_id == logical_id:
                self._by_arn[ref] = (spec, handler)

    def invoke(self, function_ref: str, payload: dict) -> tuple[bool, Any]:
        """Run the handler; returns (ok, result-or-error-payload)."""
        spec, handler = self._by_arn[function_ref]
        context = LambdaContext(function_name=spec.arn.rsplit(":", 1)[-1], memory_limit_in_mb=spec.memory_mb,
                                invoked_function_arn=spec.arn, aws_request_id=str(uuid.uuid4()),
                                timeout_s=spec.timeout_s)
        started = time.perf_counter()
        # the function's own variables (Globals are process-wide, where the runtime may override them)
        own = {k: v for k, v in spec.environment.items() if k not in self.global_keys}
        token = function_env.set(own)
        try:
            for interceptor in self.interceptors:
                interceptor(spec, payload)
            result = handler(payload, context)
            self.invocations.append(Invocation(spec.logical_id, (time.perf_counter() - started) * 1000, None))
            return True, result
        except InvokeError:
            raise  # the service's error, not the function's: before_call_hook answers the call with it
        except Exception as exc:  # noqa: BLE001 - every handler error is reported like Lambda does
            message = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            self.invocations.append(Invocation(spec.logical_id, (time.perf_counter() - started) * 1000,
                                               type(exc).__name__))
            return False, {
                "errorType": type(exc).__name__,
                "errorMessage": message,
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
        finally:
            function_env.reset(token)

    def before_call_hook(self, model: Any, params: dict, **kwargs: Any) -> tuple[_HttpResponse, dict] | None:
        """botocore ``before-call.lambda.Invoke`` handler: returning a response skips the HTTP call."""
        path = params.get("url_path", "")
        # /2015-03-31/functions/<FunctionName>/invocations
        function_ref = unquote(path.split("/functions/", 1)[1].split("/", 1)[0])
        if function_ref not in self._by_arn:
            return None
        body = params.get("body") or b"{}"
        payload = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
        try:
            ok, result = self.invoke(function_ref, payload)
        except InvokeError as err:
            return _HttpResponse(err.status), {
                "Error": {"Code": err.code, "Message": err.message},
                "ResponseMetadata": {"HTTPStatusCode": err.status, "RequestId": str(uuid.uuid4())},
            }
        response: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": io.BytesIO(json.dumps(result).encode()),
        }
        if not ok:
            response["FunctionError"] = "Unhandled"
        return _HttpResponse(), response

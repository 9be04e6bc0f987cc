"""The local service: the emulated AWS of one SHOEBOX_HOME behind an HTTP endpoint on 127.0.0.1.

It holds a :class:`LocalRuntime` (moto with our adjustments, the stack made from template.yaml, the step
handlers, the durable store) and serves moto's API for it, so every CLI command is a plain boto3 client
of an endpoint, here or on AWS. What it adds to moto's server:

- it listens on 127.0.0.1 only, and answers only requests signed (SigV4, checked like AWS does) with the
  credentials generated for this home (``credentials.json``, readable by its owner only);
- the stack's Outputs (bucket, table, state machines) are published through CloudFormation, where the
  CLI reads them on AWS too;
- the worker pool for CPU-heavy steps starts with the first photo and stops when idle;
- ``/_shoebox/status`` and ``/_shoebox/shutdown`` for ``shoebox status`` / ``shoebox down``.

Run it with ``python -m shoebox.local.service --home DIR`` (``shoebox up`` does, and so does the first
command that needs it); it writes ``service.json`` (pid, port) once it answers.
"""

from __future__ import annotations

import argparse
import hmac
import io
import json
import logging
import os
import queue
import re
import secrets
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shoebox.config import setting

SERVICE_FILE = "service.json"
CREDENTIALS_FILE = "credentials.json"
IDLE_POOL_SECONDS = float(setting("SHOEBOX_POOL_IDLE_SECONDS", "300"))
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
                   r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<headers>[^,]+),\s*"
                   r"Signature=(?P<sig>[0-9a-f]{64})")
MAX_SKEW_SECONDS = 15 * 60  # as AWS: a signed request older or newer than this is refused

log = logging.getLogger("shoebox.service")


# ------------------------------------------------------------------------------------ credentials
def credentials(home: Path) -> dict[str, str]:
    """This home's service credentials, made on first use (0600: another local user cannot read them)."""
    path = home / CREDENTIALS_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    made = {"aws_access_key_id": "SBX" + secrets.token_hex(8).upper(),
            "aws_secret_access_key": secrets.token_urlsafe(30)}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made them meanwhile
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as out:
        json.dump(made, out)
    return made


def _header(environ: dict, name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def signature_ok(environ: dict, body: bytes, key_id: str, secret: str, now: float | None = None) -> bool:
    """Whether the request is SigV4-signed with these credentials (header auth, what boto3 sends)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    match = _AUTH.match(environ.get("HTTP_AUTHORIZATION", ""))
    if not match or not hmac.compare_digest(match["key"], key_id):
        return False
    headers: dict[str, str] = {}
    for name in match["headers"].split(";"):
        value = _header(environ, name)
        if value is None:
            return False
        headers[name] = value
    stamp = headers.get("x-amz-date") or ""
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return False
    if abs((now or time.time()) - signed_at) > MAX_SKEW_SECONDS:
        return False
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=f"http://{environ.get('HTTP_HOST', '')}{raw}",
                         headers=headers, data=body)
    request.context["timestamp"] = stamp
    signer_class = S3SigV4Auth if match["service"] == "s3" else SigV4Auth
    signer = signer_class(Credentials(key_id, secret, headers.get("x-amz-security-token")), match["service"],
                          match["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, match["sig"])


def _deny(start_response: Any, status: str, message: str, service: str | None = None) -> list[bytes]:
    """A refusal in the protocol the caller's SDK parses: S3's XML, the query services' XML
    (CloudFormation), else JSON (DynamoDB, Step Functions)."""
    if service == "s3":
        body = f"<Error><Code>InvalidAccessKeyId</Code><Message>{message}</Message></Error>".encode()
        kind = "application/xml"
    elif service in ("cloudformation", "sts", "iam", "sns", "sqs"):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                f"<Message>{message}</Message></Error></ErrorResponse>").encode()
        kind = "text/xml"
    else:
        body = json.dumps({"__type": "UnrecognizedClientException", "message": message}).encode()
        kind = "application/x-amz-json-1.0"
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


class _Gate:
    """WSGI middleware: the admin paths, and a signature check in front of moto's app."""

    def __init__(self, app: Any, service: "LocalService") -> None:
        self.app, self.service = app, service

    def __call__(self, environ: dict, start_response: Any) -> Any:
        creds = self.service.credentials
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_shoebox/"):
            token = environ.get("HTTP_X_SHOEBOX_SECRET", "")
            if not hmac.compare_digest(token, creds["aws_secret_access_key"]):
                return _deny(start_response, "403 Forbidden", "wrong or missing service secret")
            return self.service.admin(path, environ, start_response)
        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if not signature_ok(environ, body, creds["aws_access_key_id"], creds["aws_secret_access_key"]):
            scope = _AUTH.match(environ.get("HTTP_AUTHORIZATION", ""))
            return _deny(start_response, "403 Forbidden", "the request is not signed with this Shoebox home's "
                         "credentials", scope["service"] if scope else None)
        self.service.requests += 1
        return self.app(environ, start_response)


# ------------------------------------------------------------------------------------ the service
class LocalService:
    def __init__(self, home: Path | str, *, port: int = 0, recognizer: str | None = None,
                 retry_sleep_scale: float | None = None, pool: bool | None = None) -> None:
        self.home = Path(home).resolve()
        self.port = port
        self.recognizer = recognizer
        self.retry_sleep_scale = retry_sleep_scale
        # the worker pool (one process per core) for CPU-heavy steps: by default only on a multi-core machine
        self.pool = (os.cpu_count() or 1) > 1 if pool is None else pool
        self.runtime: Any = None
        self.credentials: dict[str, str] = {}
        self.requests = 0
        self.started_at = 0.0
        self.start_seconds = 0.0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._last_work = 0.0
        self._pool_commands: "queue.Queue[str | None]" = queue.Queue()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "LocalService":
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from shoebox.local.runtime import LocalRuntime

        began = time.perf_counter()
        self.started_at = time.time()
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        self.credentials = credentials(self.home)
        self.runtime = LocalRuntime(self.home, recognizer=self.recognizer, retry_sleep_scale=self.retry_sleep_scale,
                                    lock_blocking=False)
        self.runtime.start()
        try:
            self.runtime.execution_listeners.append(self._on_work)
            self._publish_stack()
            app = _Gate(DomainDispatcherApplication(create_backend_app), self)
            self._server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=MotoRequestHandler)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, name="shoebox-service", daemon=True)
            self._thread.start()
            threading.Thread(target=self._run_pool, name="shoebox-pool", daemon=True).start()
        except BaseException:
            self.runtime.stop()
            raise
        self.start_seconds = round(time.perf_counter() - began, 3)
        self._write_service_file()
        return self

    def stop(self) -> None:
        from shoebox import compute  # not at the top: the CLI imports this module for its file names

        self._stopping.set()
        self._pool_commands.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        compute.stop_pool()
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        path = self.home / SERVICE_FILE
        try:
            if json.loads(path.read_text()).get("port") == self.port:
                path.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> "LocalService":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _write_service_file(self) -> None:
        info = {"pid": os.getpid(), "port": self.port, "url": self.url, "home": str(self.home),
                "started_at": self.started_at, "recognizer": self.runtime.recognizer}
        tmp = self.home / f".{SERVICE_FILE}.tmp"
        tmp.write_text(json.dumps(info))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.home / SERVICE_FILE)

    def _publish_stack(self) -> None:
        """The stack's Outputs, through the emulator's CloudFormation: the CLI finds the bucket, the table
        and the state machines as it does on AWS (describe_stacks)."""
        import contextlib

        from shoebox import aws
        from shoebox.local.template import STACK

        outputs = dict(self.runtime.stack.outputs)
        template = {"Resources": {"LocalStack": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                    "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
        import warnings

        cfn = aws.client("cloudformation")
        # moto says it ignores the placeholder resource: it is there only because a stack needs one
        warnings.filterwarnings("ignore", message=".*WaitConditionHandle.*")
        with contextlib.suppress(Exception):
            cfn.delete_stack(StackName=STACK)
        cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template))

    # ------------------------------------------------------------------ worker pool
    def _on_work(self, state_machine_arn: str, event: dict) -> None:
        from shoebox import compute

        self._last_work = time.monotonic()
        if self.pool and not compute.pool_active():
            self._pool_commands.put("start")  # executions run inline until the workers are up (about 2 s)

    def _run_pool(self) -> None:
        """Starts and stops the worker pool from one thread that lives as long as the service: workers
        die with the thread that started them (compute._die_with_parent)."""
        from shoebox import compute

        while not self._stopping.is_set():
            try:
                command = self._pool_commands.get(timeout=min(30.0, IDLE_POOL_SECONDS))
            except queue.Empty:
                command = "idle?"
            if command is None:
                break
            if command == "start" and not compute.pool_active():
                compute.start_pool()
            elif command == "idle?" and compute.pool_active() and time.monotonic() - self._last_work > IDLE_POOL_SECONDS:
                compute.stop_pool()  # ~350 MB a worker: give it back while nothing is processed
        compute.stop_pool()

    # ------------------------------------------------------------------ admin
    def status(self) -> dict:
        from shoebox import compute
        from shoebox.local.template import STACK

        rss_kb = 0
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
        except OSError:
            pass
        running = 0
        with self.runtime._cond:
            started = sum(len(arns) for arns in self.runtime.started.values())
            running = started - sum(1 for arns in self.runtime.started.values() for a in arns
                                    if a in self.runtime._ended)
        return {"pid": os.getpid(), "url": self.url, "home": str(self.home), "stack": STACK,
                "started_at": self.started_at, "uptime_s": round(time.time() - self.started_at, 1),
                "start_s": self.start_seconds, "restored": self.runtime.restored,
                "snapshot_pending": bool(self.runtime.store and self.runtime.store.snapshot_pending),
                "rss_mb": round(rss_kb / 1024, 1),
                "requests": self.requests, "executions_started": started, "executions_running": running,
                "workers": compute.pool_active(), "recognizer": self.runtime.recognizer}

    def admin(self, path: str, environ: dict, start_response: Any) -> list[bytes]:
        if path == "/_shoebox/status":
            payload = self.status()
        elif path == "/_shoebox/shutdown" and environ.get("REQUEST_METHOD") == "POST":
            threading.Thread(target=self._shutdown_soon, daemon=True).start()
            payload = {"stopping": True, "pid": os.getpid()}
        else:
            return _deny(start_response, "404 Not Found", f"no such admin path {path}")
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _shutdown_soon(self) -> None:
        time.sleep(0.05)  # let the response go out first
        self._stopping.set()
        if _main_stop is not None:
            _main_stop.set()
        else:
            self.stop()


_main_stop: threading.Event | None = None  # set in a service process: its main thread does the stopping


def main(argv: list[str] | None = None) -> int:
    global _main_stop
    parser = argparse.ArgumentParser(prog="python -m shoebox.local.service", description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=setting("SHOEBOX_SERVICE_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # many threads share one interpreter here (executions, requests): a shorter switch interval lets a
    # request thread answer while executions compute (a search during an ingest)
    sys.setswitchinterval(0.001)
    _main_stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: _main_stop.set())
    from shoebox.local.runtime import HomeBusy

    service = LocalService(args.home, port=args.port)
    try:
        service.start()
    except HomeBusy as exc:
        print(f"shoebox service: {exc}", file=sys.stderr)
        return 3
    print(f"shoebox service: {service.url} for {service.home} (pid {os.getpid()}, "
          f"started in {service.start_seconds} s)", file=sys.stderr, flush=True)
    try:
        _main_stop.wait()
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

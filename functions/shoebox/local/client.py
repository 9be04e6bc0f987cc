"""Find, start and stop the local service of a SHOEBOX_HOME (the client side of shoebox.local.service).

The CLI stays small: this module imports no moto, and talks to the service's admin paths with the
standard library.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from shoebox.config import setting
from shoebox.local.service import CREDENTIALS_FILE, SERVICE_FILE, credentials

START_TIMEOUT = float(setting("SHOEBOX_SERVICE_START_TIMEOUT", "180"))


class ServiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class Service:
    home: Path
    url: str
    port: int
    pid: int
    access_key: str
    secret_key: str
    recognizer: str
    started_at: float


def _request(port: int, secret: str, path: str, method: str = "GET", timeout: float = 5.0) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers={"X-Shoebox-Secret": secret})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise ServiceError(f"{path}: HTTP {response.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def running(home: Path) -> Service | None:
    """The service answering for ``home``, or None (a stale service.json is ignored)."""
    try:
        info = json.loads((home / SERVICE_FILE).read_text())
        creds = json.loads((home / CREDENTIALS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(info.get("pid", 0))):
        return None
    try:
        status = _request(int(info["port"]), creds["aws_secret_access_key"], "/_shoebox/status")
    except (OSError, ServiceError, ValueError, http.client.HTTPException):
        return None
    if Path(status.get("home", "")) != home.resolve():
        return None
    return Service(home=home, url=info["url"], port=int(info["port"]), pid=int(info["pid"]),
                   access_key=creds["aws_access_key_id"], secret_key=creds["aws_secret_access_key"],
                   recognizer=status.get("recognizer", "none"), started_at=float(status.get("started_at", 0)))


def status(service: Service) -> dict:
    return _request(service.port, service.secret_key, "/_shoebox/status")


def start(home: Path, announce: Callable[[str], None] | None = None) -> Service:
    """Start the service for ``home`` in the background (unless one answers already) and wait for it.
    Two commands starting at once start one service: the second waits on the first's start lock."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    credentials(home)
    with open(home / ".service-start.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = running(home)
        if found is not None:
            return found
        if announce:
            announce(f"starting the local Shoebox service for {home} (it keeps running; `shoebox down` stops it)")
        log = open(home / "service.log", "ab")
        env = {**os.environ, "SHOEBOX_HOME": str(home)}
        process = subprocess.Popen([sys.executable, "-m", "shoebox.local.service", "--home", str(home)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                   start_new_session=True, close_fds=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                tail = (home / "service.log").read_text(errors="replace").strip().splitlines()[-5:]
                raise ServiceError(f"the local service for {home} exited ({code}): " + " | ".join(tail))
            found = running(home)
            if found is not None and found.pid == process.pid:
                return found
            time.sleep(0.05)
        process.kill()
        raise ServiceError(f"the local service for {home} did not answer within {START_TIMEOUT:.0f} s "
                           f"(see {home / 'service.log'})")


def connect(home: Path, announce: Callable[[str], None] | None = None) -> Service:
    found = running(home.resolve())
    if found is not None:
        return found
    if setting("SHOEBOX_SERVICE_AUTOSTART", "1") == "0":
        raise ServiceError(f"no local service runs for {home} (`shoebox up` starts it)")
    return start(home, announce)


def stop(home: Path, timeout: float = 60.0) -> int | None:
    """Stop the service of ``home`` (gracefully; SIGKILL after ``timeout``). Returns its pid, or None."""
    found = running(home.resolve())
    if found is None:
        return None
    try:
        _request(found.port, found.secret_key, "/_shoebox/shutdown", method="POST")
    except (OSError, ServiceError, http.client.HTTPException):
        pass
    deadline = time.monotonic() + timeout
    while _alive(found.pid) and time.monotonic() < deadline:
        if found.pid == os.getpid():  # an in-process service (tests): it stops on its own thread
            if not (home / SERVICE_FILE).exists():
                break
        time.sleep(0.05)
    if found.pid != os.getpid() and _alive(found.pid):
        os.kill(found.pid, 9)
    return found.pid

"""Serving the gallery with uvicorn, on the loopback interface only (no option widens it: the pages
show a family's photos and the writes trust the token, not the network)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"


def config(app: Any, port: int = 0) -> Any:
    import uvicorn

    return uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off")


def bound_port(server: Any) -> int:
    return server.servers[0].sockets[0].getsockname()[1]


@dataclass
class Running:
    """A gallery served from a thread (tests, the benchmark); ``stop`` ends it."""

    server: Any
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(app: Any, port: int = 0, timeout: float = 20.0) -> Running:
    import uvicorn

    server = uvicorn.Server(config(app, port))
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, name="shoebox-gallery", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gallery did not start")
        time.sleep(0.02)
    return Running(server, thread, f"http://{HOST}:{bound_port(server)}")

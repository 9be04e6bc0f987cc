"""Settings read from the environment (Lambda env vars in AWS, set by the local runtime offline)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path


# The environment of the Lambda function being invoked. In AWS that is os.environ; the local runtime runs
# every function in one process, so it puts only the template's Globals in os.environ and hands each
# invocation its function's own variables here (a handler must not see another function's settings).
function_env: ContextVar[dict[str, str] | None] = ContextVar("function_env", default=None)


def getenv(name: str, default: str | None = None) -> str | None:
    own = function_env.get()
    if own is not None and name in own:
        return own[name]
    return os.environ.get(name, default)


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    bucket: str
    table: str
    collection_id: str
    recognizer: str
    faces_only_with_person: bool
    region: str

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            bucket=getenv("SHOEBOX_BUCKET", "") or "",
            table=getenv("SHOEBOX_TABLE", "") or "",
            collection_id=getenv("SHOEBOX_COLLECTION_ID", "") or "",
            recognizer=getenv("SHOEBOX_RECOGNIZER", "rekognition") or "rekognition",
            faces_only_with_person=_bool(getenv("SHOEBOX_FACES_ONLY_WITH_PERSON"), True),
            region=getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION") or "us-east-1",
        )


def shoebox_home() -> Path:
    """Where the local runtime keeps its state: `SHOEBOX_HOME`, else the platform's place for user data
    (~/.local/share/shoebox on Linux, ~/Library/Application Support/shoebox on macOS), so a command
    finds the same archive from any folder."""
    env = os.environ.get("SHOEBOX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("shoebox", appauthor=False)).resolve()

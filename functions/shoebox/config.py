"""Settings read from the environment (Lambda env vars in AWS, set by the local runtime offline)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
            bucket=os.environ.get("SHOEBOX_BUCKET", ""),
            table=os.environ.get("SHOEBOX_TABLE", ""),
            collection_id=os.environ.get("SHOEBOX_COLLECTION_ID", ""),
            recognizer=os.environ.get("SHOEBOX_RECOGNIZER", "rekognition"),
            faces_only_with_person=_bool(os.environ.get("SHOEBOX_FACES_ONLY_WITH_PERSON"), True),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        )


def shoebox_home() -> Path:
    """Where the local runtime keeps its state (`SHOEBOX_HOME`, default ./.shoebox)."""
    return Path(os.environ.get("SHOEBOX_HOME") or ".shoebox").resolve()

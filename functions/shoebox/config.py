"""Every SHOEBOX_* setting, read here and only here (Lambda env vars in AWS, set by the local runtime
offline). ``VARIABLES`` lists them with their meaning; ``Settings`` is what a step needs (its function's
own environment); ``setting`` reads any other declared variable, from the process environment, when its
reader asks (a test may change it between calls). tests/test_settings.py checks that no other module
reads a SHOEBOX_* variable itself.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path


# The environment of the Lambda function being invoked. In AWS that is os.environ; the local runtime runs
# every function in one process, so it puts only the template's Globals in os.environ and hands each
# invocation its function's own variables here (a handler must not see another function's settings).
function_env: ContextVar[dict[str, str] | None] = ContextVar("function_env", default=None)


# name -> what it sets. "function": read per Lambda function (config.getenv / Settings); every other one is
# read from the process environment (the template's Globals locally, the function's env on Lambda).
VARIABLES: dict[str, str] = {
    # a step's function (Settings)
    "SHOEBOX_BUCKET": "function: the photo bucket",
    "SHOEBOX_TABLE": "function: the catalog table",
    "SHOEBOX_COLLECTION_ID": "function: the Rekognition collection (rekognition mode)",
    "SHOEBOX_RECOGNIZER": "function: rekognition | hybrid | local | none (recognition/registry.py)",
    "SHOEBOX_STATE_MACHINE_ARN": "function (StartUpload): the process-photo state machine it starts",
    "SHOEBOX_STARTS_PER_SECOND": "function (StartUpload): executions started per second by all its instances",
    "SHOEBOX_STARTER_CONCURRENCY": "function (StartUpload): its instances at most (SQS ScalingConfig)",
    "SHOEBOX_MAX_RUNNING": "function (StartUpload): hold back while this many executions run (0: no cap)",
    "SHOEBOX_REKOGNITION_CALLS_PER_SECOND": "function: Rekognition calls per second per operation, all Lambdas together (0: no cap)",
    "SHOEBOX_FACES_ONLY_WITH_PERSON": "function: IndexFaces only when DetectLabels saw a Person (default on)",
    # recognition
    "SHOEBOX_FACE_INDEX": "dynamodb | file: where hybrid/local keep faces (default: dynamodb in Lambda)",
    "SHOEBOX_FACE_THRESHOLD": "offline face index: cosine to join a person (recognition/grouping.py)",
    "SHOEBOX_FACE_MERGE_THRESHOLD": "offline face index: cosine between two people's centroids to merge; off",
    "SHOEBOX_LABELS_MIN_CONFIDENCE": "offline labels: minimum confidence, percent (default 30)",
    "SHOEBOX_LABELS_MAX": "offline labels: at most this many per photo (default 12)",
    "SHOEBOX_MIN_CONFIDENCE": "Rekognition DetectLabels MinConfidence",
    "SHOEBOX_FACE_MATCH_THRESHOLD": "Rekognition SearchFaces/SearchUsers match threshold, percent",
    "SHOEBOX_FACE_GROUPING": "Rekognition: faces (SearchFaces, people in the catalog table; default) | users (user vectors)",
    "SHOEBOX_MAX_LABELS": "Rekognition DetectLabels MaxLabels",
    "SHOEBOX_MAX_FACES": "Rekognition IndexFaces MaxFaces",
    "SHOEBOX_USER_VECTOR_FACES": "Rekognition: AssociateFaces until a user vector holds this many faces",
    # imaging and the thumbnail step
    "SHOEBOX_MAX_PIXELS": "decompression-bomb guard, pixels (default 200,000,000)",
    "SHOEBOX_IN_MEMORY_LIMIT": "originals up to this many bytes are read into memory, larger stream to disk",
    "SHOEBOX_TMP": "where the thumbnail step spills large originals (default: the system's temp folder)",
    # the local runtime and service
    "SHOEBOX_HOME": "the local service's state (default: the platform's user data folder)",
    "SHOEBOX_PROJECT": "the checkout holding template.yaml, when not found beside the package",
    "SHOEBOX_LOCAL": "set to 1 by the local runtime in its functions' environment",
    "SHOEBOX_RECOGNIZER_LOCAL": "the local runtime's recognizer (default: local when its models are installed)",
    "SHOEBOX_LOG_LEVEL": "the local runtime's handlers' log level (default ERROR)",
    "SHOEBOX_SERVICE_LOG_LEVEL": "the local service's log level (default WARNING)",
    "SHOEBOX_SERVICE_AUTOSTART": "0: a command fails instead of starting the local service",
    "SHOEBOX_SERVICE_START_TIMEOUT": "seconds a command waits for the local service to start (default 180)",
    "SHOEBOX_POOL_IDLE_SECONDS": "the worker pool stops after this many idle seconds (default 300)",
    "SHOEBOX_FSYNC": "0: the journal skips fsync (a test suite on a slow disk)",
    "SHOEBOX_RETRY_SLEEP_SCALE": "scales the ASL's Retry waits locally (1 as in AWS, 0 no wait)",
    "SHOEBOX_WORKER": "set to 1 inside a compute worker process",
}


def setting(name: str, default: str | None = None) -> str | None:
    """A declared process-wide variable (see ``VARIABLES``), read now."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a declared Shoebox setting (config.VARIABLES)")
    return os.environ.get(name, default)


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
    state_machine_arn: str = ""
    starts_per_second: float = 0.0
    starter_concurrency: int = 1
    max_running: int = 0
    rekognition_calls_per_second: float = 0.0  # recognition/rate_limit.py; 0: no cap

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            bucket=getenv("SHOEBOX_BUCKET", "") or "",
            table=getenv("SHOEBOX_TABLE", "") or "",
            collection_id=getenv("SHOEBOX_COLLECTION_ID", "") or "",
            recognizer=getenv("SHOEBOX_RECOGNIZER", "rekognition") or "rekognition",
            faces_only_with_person=_bool(getenv("SHOEBOX_FACES_ONLY_WITH_PERSON"), True),
            region=getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION") or "us-east-1",
            state_machine_arn=getenv("SHOEBOX_STATE_MACHINE_ARN") or "",
            starts_per_second=float(getenv("SHOEBOX_STARTS_PER_SECOND") or 0),
            starter_concurrency=int(getenv("SHOEBOX_STARTER_CONCURRENCY") or 1),
            max_running=int(getenv("SHOEBOX_MAX_RUNNING") or 0),
            rekognition_calls_per_second=float(getenv("SHOEBOX_REKOGNITION_CALLS_PER_SECOND") or 0),
        )


def shoebox_home() -> Path:
    """Where the local runtime keeps its state: `SHOEBOX_HOME`, else the platform's place for user data
    (~/.local/share/shoebox on Linux, ~/Library/Application Support/shoebox on macOS), so a command
    finds the same archive from any folder."""
    env = setting("SHOEBOX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("shoebox", appauthor=False)).resolve()

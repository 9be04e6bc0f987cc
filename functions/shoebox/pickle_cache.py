"""A value built once and kept as a pickle in the user's cache folder (botocore's data for the CLI, the
place-name index for search). A cache that cannot be read or written is skipped: the value is built."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Callable


def user_cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shoebox"


def cached(path: Path, make: Callable[[], Any]) -> Any:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError):
        pass
    value = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home just means building it each time
    return value

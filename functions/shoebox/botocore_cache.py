"""botocore's data loader, with what it reads kept as pickles in the user's cache folder.

A CLI command is a new process: creating its first client parses botocore's JSON (the endpoints file,
the service model, its rules) and lists every service botocore knows (hundreds of folders) to check the
name — a tenth of a second of every `shoebox search`. The same data, pickled once per botocore version,
loads several times faster. Only the CLI (``aws.session`` for an explicit endpoint) and the local
service (:func:`install_everywhere`: its clients and moto's own model loads) use it; a Lambda function
keeps botocore's own loader. A cache that cannot be read or written is skipped.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

import botocore
from botocore.loaders import JSONFileLoader, Loader

from shoebox.pickle_cache import cached, user_cache_folder


def cache_folder() -> Path:
    return user_cache_folder() / f"botocore-{botocore.__version__}"


def _cached(folder: Path, name: str, make: Callable[[], Any]) -> Any:
    return cached(folder / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".pickle"), make)


class _Files(JSONFileLoader):
    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder or cache_folder()

    def load_file(self, file_path: str) -> Any:
        # botocore's data files do not change within a version (the folder's name); a file of the user's
        # own (~/.aws/models) is keyed by its modification time too
        stamp = ""
        for suffix in (".json", ".json.gz"):
            try:
                stamp = str(os.stat(file_path + suffix).st_mtime_ns)
                break
            except OSError:
                continue
        return _cached(self._folder, f"file|{file_path}|{stamp}", lambda: super(_Files, self).load_file(file_path))


class CachingLoader(Loader):
    def __init__(self, folder: Path | None = None, **kwargs: Any) -> None:
        self._folder = folder or cache_folder()
        super().__init__(file_loader=_Files(self._folder), **kwargs)
        self._services: dict[str, list[str]] = {}

    def list_available_services(self, type_name: str) -> list[str]:
        found = self._services.get(type_name)
        if found is None:
            stamps = []
            for path in self.search_paths:  # a service added to a search path changes its folder's time
                try:
                    stamps.append(f"{path}:{os.stat(path).st_mtime_ns}")
                except OSError:
                    stamps.append(f"{path}:-")
            found = _cached(self._folder, f"services|{type_name}|{'|'.join(stamps)}",
                            lambda: Loader.list_available_services(self, type_name))
            self._services[type_name] = found
        return found


def install(session: Any) -> None:
    """Make ``session`` (a botocore Session) read botocore's data through the cache."""
    data_path = session.get_config_variable("data_path")  # AWS_DATA_PATH, as botocore's create_loader reads it
    extra = None if data_path is None else [os.path.expanduser(os.path.expandvars(path))
                                           for path in data_path.split(os.pathsep)]
    session.register_component("data_loader", CachingLoader(extra_search_paths=extra))


def install_everywhere() -> None:
    """Every botocore Loader made from now on in this process reads through the cache (the local
    service: its clients, and the models moto loads for its responses)."""
    Loader.FILE_LOADER_CLASS = _Files

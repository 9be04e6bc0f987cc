"""Keep the local stack's state under SHOEBOX_HOME between processes.

moto keeps everything in memory; we snapshot what matters when a runtime closes and load it when the
next one starts:
- S3 objects as files named by a hash of their key (any key works, folder markers included) plus a
  manifest of key -> ETag (only new or changed objects are written),
- DynamoDB items as JSON lines per table (read from and written to moto's table directly: no Scan call),
- finished executions as one JSON file each (describe + history), written as they end.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from shoebox.local.template import REGION


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class StateStore:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.s3_dir = home / "s3"
        self.ddb_dir = home / "dynamodb"
        self.exec_dir = home / "executions"
        for folder in (self.s3_dir, self.ddb_dir, self.exec_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._manifest_path = home / "s3-manifest.json"
        self.manifest: dict[str, str] = (
            json.loads(self._manifest_path.read_text()) if self._manifest_path.exists() else {}
        )

    # ------------------------------------------------------------------ S3
    def _object_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.s3_dir / digest[:2] / digest[2:]

    def restore_s3(self, s3: Any, bucket: str) -> int:
        for key in self.manifest:
            s3.put_object(Bucket=bucket, Key=key, Body=self._object_path(key).read_bytes())
        return len(self.manifest)

    def save_s3(self, s3: Any, bucket: str) -> int:
        seen: dict[str, str] = {}
        written = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj["ETag"]
                seen[key] = etag
                path = self._object_path(key)
                if self.manifest.get(key) != etag or not path.exists():
                    _atomic_write(path, s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                    written += 1
        for gone in set(self.manifest) - set(seen):
            self._object_path(gone).unlink(missing_ok=True)
        self.manifest = seen
        _atomic_write(self._manifest_path, json.dumps(seen).encode())
        return written

    # ------------------------------------------------------------------ DynamoDB
    @staticmethod
    def _table(name: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(name)

    def restore_table(self, name: str) -> int:
        path = self.ddb_dir / f"{name}.jsonl"
        if not path.exists():
            return 0
        table = self._table(name)
        count = 0
        with path.open() as lines:
            for line in lines:
                table.put_item(json.loads(line))
                count += 1
        return count

    def save_table(self, name: str) -> int:
        table = self._table(name)
        rows = [json.dumps(item.to_json()["Attributes"], separators=(",", ":")) for item in table.all_items()]
        _atomic_write(self.ddb_dir / f"{name}.jsonl", ("\n".join(rows) + ("\n" if rows else "")).encode())
        return len(rows)

    # ------------------------------------------------------------------ executions
    def save_execution(self, record: dict) -> None:
        name = record["describe"]["name"]
        _atomic_write(self.exec_dir / f"{name}.json", json.dumps(record, default=_json_default).encode())

    def load_executions(self) -> list[dict]:
        out = []
        for path in self.exec_dir.glob("*.json"):
            try:
                out.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return out

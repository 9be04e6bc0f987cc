"""The catalog on DynamoDB: idempotent photo writes and Query-only reads (never Scan)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shoebox import aws
from shoebox.catalog import keys
from shoebox.models import PhotoRecord


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Catalog:
    table: str
    client: Any = None

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = aws.client("dynamodb")

    @classmethod
    def from_env(cls) -> "Catalog":
        from shoebox.config import Settings

        return cls(Settings.from_env().table)

    # ------------------------------------------------------------------ writes
    def put_photo(self, record: PhotoRecord) -> None:
        """Write the photo and its index rows; rows from an earlier version of this photo that no longer
        apply are deleted, so re-processing replaces rather than duplicates."""
        record.updated_at = record.updated_at or _now()
        old = self._get_raw(record.key)
        old_rows = set(old.get("index_rows", {}).get("SS", [])) if old else set()
        sk = keys.time_sk(record.taken_at, record.key)
        new_parts = keys.index_partitions(record)
        new_rows = {f"{pk}|{sk}" for pk in new_parts}
        summary = json.dumps(keys.summary(record), separators=(",", ":"))

        requests: list[dict] = []
        for row in sorted(old_rows - new_rows):
            pk, _, row_sk = row.partition("|")
            requests.append({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": row_sk}}}})
        for pk in new_parts:
            item = {"pk": {"S": pk}, "sk": {"S": sk}, "key": {"S": record.key}, "summary": {"S": summary}}
            requests.append({"PutRequest": {"Item": item}})
        item: dict[str, Any] = {
            "pk": {"S": keys.photo_pk(record.key)},
            "sk": {"S": keys.PHOTO_SK},
            "key": {"S": record.key},
            "status": {"S": record.status},
            "doc": {"S": json.dumps(record.to_dict(), separators=(",", ":"))},
            "pipeline_version": {"N": str(record.pipeline_version)},
        }
        if record.etag:
            item["etag"] = {"S": record.etag}
        if new_rows:
            item["index_rows"] = {"SS": sorted(new_rows)}
        if record.status == "failed":
            item["failed_pk"] = {"S": "FAILED"}
            item["failed_sk"] = {"S": f"{record.updated_at}#{record.key}"}
        if old and "last_viewed" in old:
            item["last_viewed"] = old["last_viewed"]
        requests.append({"PutRequest": {"Item": item}})
        self._batch_write(requests)

    def delete_photo(self, key: str) -> PhotoRecord | None:
        old = self._get_raw(key)
        if not old:
            return None
        requests = []
        for row in old.get("index_rows", {}).get("SS", []):
            pk, _, row_sk = row.partition("|")
            requests.append({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": row_sk}}}})
        requests.append({"DeleteRequest": {"Key": {"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}}}})
        self._batch_write(requests)
        return PhotoRecord.from_dict(json.loads(old["doc"]["S"]))

    def mark_viewed(self, key: str, when: str | None = None) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}},
            UpdateExpression="SET last_viewed = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"S": when or _now()}},
        )

    def _batch_write(self, requests: list[dict]) -> None:
        for start in range(0, len(requests), 25):
            pending = {self.table: requests[start : start + 25]}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    # ------------------------------------------------------------------ reads
    def _get_raw(self, key: str) -> dict | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}},
            ConsistentRead=True,
        )
        return response.get("Item")

    def get_photo(self, key: str) -> PhotoRecord | None:
        raw = self._get_raw(key)
        return PhotoRecord.from_dict(json.loads(raw["doc"]["S"])) if raw else None

    def photo_state(self, key: str) -> tuple[str | None, str | None, int | None]:
        """(status, etag, pipeline_version) without decoding the document: the backfill's skip check."""
        raw = self._get_raw(key)
        if not raw:
            return None, None, None
        return raw["status"]["S"], raw.get("etag", {}).get("S"), int(raw["pipeline_version"]["N"])

    def list_failed(self, limit: int | None = None) -> list[PhotoRecord]:
        out: list[PhotoRecord] = []
        for item in self._query(
            IndexName="failed",
            KeyConditionExpression="failed_pk = :f",
            ExpressionAttributeValues={":f": {"S": "FAILED"}},
            ScanIndexForward=False,
        ):
            out.append(PhotoRecord.from_dict(json.loads(item["doc"]["S"])))
            if limit and len(out) >= limit:
                break
        return out

    def query_partition(
        self, pk: str, start: str | None = None, end: str | None = None, newest_first: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict]:
        """Summaries from one index partition, optionally between two capture-time prefixes."""
        expr = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if start or end:
            expr += " AND sk BETWEEN :a AND :b"
            values[":a"] = {"S": start or ""}
            values[":b"] = {"S": (end or "9999") + "\uffff"}
        kwargs: dict[str, Any] = {"KeyConditionExpression": expr, "ExpressionAttributeValues": values,
                                  "ScanIndexForward": not newest_first}
        if limit:
            kwargs["Limit"] = limit
        for item in self._query(**kwargs):
            yield json.loads(item["summary"]["S"])

    def _query(self, **kwargs: Any) -> Iterator[dict]:
        kwargs["TableName"] = self.table
        while True:
            response = self.client.query(**kwargs)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

"""The catalog on DynamoDB: idempotent photo writes and Query-only reads (never Scan)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shoebox import aws
from shoebox.catalog import keys
from shoebox.models import PhotoRecord


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _record(item: dict) -> PhotoRecord:
    return PhotoRecord.from_dict(json.loads(item["doc"]["S"]))


def _row_id(pk: str, sk: str) -> str:
    return f"{pk}|{sk}"


def _split_row(row: str) -> tuple[str, str]:
    pk, _, sk = row.partition("|")
    return pk, sk


def build_items(record: PhotoRecord, last_viewed: str | None = None) -> tuple[dict, list[dict]]:
    """(photo item, index row items) exactly as :meth:`Catalog.put_photo` stores them (DynamoDB JSON).

    The photo item's ``index_rows`` lists every row, so a later write can delete the ones that no
    longer apply. Shared with the benchmark's bulk loader so both paths produce identical items."""
    summary = json.dumps(keys.summary(record), separators=(",", ":"))
    sk = keys.time_sk(record.taken_at, record.key)
    rows: list[dict] = []
    for pk in keys.index_partitions(record):
        rows.append({"pk": {"S": pk}, "sk": {"S": sk}, "key": {"S": record.key}, "summary": {"S": summary}})
    if record.status == "processed":
        rows.append({"pk": {"S": keys.VIEWED_PK}, "sk": {"S": keys.viewed_sk(last_viewed, record.taken_at, record.key)},
                     "key": {"S": record.key}, "summary": {"S": summary}})
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
    if rows:
        item["index_rows"] = {"SS": sorted(_row_id(r["pk"]["S"], r["sk"]["S"]) for r in rows)}
    if record.status == "failed":
        item["failed_pk"] = {"S": "FAILED"}
        item["failed_sk"] = {"S": f"{record.updated_at}#{record.key}"}
    if last_viewed:
        item["last_viewed"] = {"S": last_viewed}
    # What the VOCAB counts include for this photo, and the version guarding it (see put_photo): a new
    # photo ends at version 1 (its put) + one count transaction per COUNT_CHUNK partitions.
    counted = count_set({_row_id(r["pk"]["S"], r["sk"]["S"]) for r in rows}, record.status == "processed")
    if counted:
        item["counted"] = {"SS": sorted(counted)}
    item["cv"] = {"N": str(1 + len(_chunks(sorted(counted))))}
    return item, rows


def count_set(rows: set[str], processed: bool) -> set[str]:
    """The VOCAB partitions whose count includes a photo with these rows."""
    out = set(keys.counted({_split_row(r)[0] for r in rows}))
    if processed:
        out.add(keys.ALL_COUNT)
    return out


def count_deltas(old_rows: set[str], old_processed: bool, new_rows: set[str], new_processed: bool) -> dict[str, int]:
    """VOCAB count changes (partition → ±1) when a photo's rows go from ``old_rows`` to ``new_rows``."""
    old, new = count_set(old_rows, old_processed), count_set(new_rows, new_processed)
    deltas = {pk: 1 for pk in new - old}
    deltas.update({pk: -1 for pk in old - new})
    return deltas


# A transaction holds at most 100 actions: 99 count updates and the photo item's bookkeeping.
COUNT_CHUNK = 99


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i:i + COUNT_CHUNK] for i in range(0, len(items), COUNT_CHUNK)]


class ConcurrentWrite(Exception):
    """Another writer changed the photo item between our read and our conditional write."""


@dataclass
class Page:
    rows: list[dict]  # summaries
    read: int  # items DynamoDB read (ScannedCount)
    last_key: dict | None


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
        apply are deleted, so re-processing replaces rather than duplicates.

        Order: the photo item first, listing old ∪ new rows (so a crash part-way never leaves a row no
        photo item knows about), then the rows, then the stale-row deletes and the final row list, then
        the VOCAB counts. The photo item records which partitions its counts are in (``counted``) and a
        version (``cv``); every write of it is conditional on that version and each count transaction
        moves both, so a retry after a crash applies exactly the counts still missing and two writers
        of one photo cannot both count it."""
        record.updated_at = record.updated_at or _now()
        for attempt in range(20):
            try:
                self._put_photo_once(record)
                return
            except ConcurrentWrite:
                # jittered backoff: writers of one photo (an upload and a backfill) must not livelock
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise ConcurrentWrite(f"{record.key}: gave up after 20 concurrent updates")

    def update_photo(self, key: str, change: Callable[[PhotoRecord], bool]) -> PhotoRecord | None:
        """Read the photo's record, let ``change`` edit it (it returns whether it changed anything) and
        write it back only if nobody wrote the photo in between: a re-process finishing meanwhile is not
        overwritten with what was read before it; ``change`` is applied again to its record instead.
        Returns the record written, or None if the photo is unknown or ``change`` changed nothing."""
        for attempt in range(20):
            raw = self._get_raw(key)
            if raw is None:
                return None
            record = _record(raw)
            if not change(record):
                return None
            record.updated_at = _now()
            try:
                self._put_photo_once(record, read=raw)
                return record
            except ConcurrentWrite:
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise ConcurrentWrite(f"{key}: gave up after 20 concurrent updates")

    def _put_photo_once(self, record: PhotoRecord, read: dict | None = None) -> None:
        # ``read``: the item the caller's record came from; the conditional write below then also
        # fails if the photo changed since the caller read it
        old = read if read is not None else self._get_raw(record.key)
        old_rows = set(old.get("index_rows", {}).get("SS", [])) if old else set()
        last_viewed = old.get("last_viewed", {}).get("S") if old else None
        counted, version = self._counted(old, old_rows)
        item, rows = build_items(record, last_viewed=last_viewed)
        new_rows = set(item.get("index_rows", {}).get("SS", []))
        target = count_set(new_rows, record.status == "processed")
        stale = old_rows - new_rows
        if stale:
            item["index_rows"] = {"SS": sorted(new_rows | old_rows)}
        item.pop("counted", None)
        if counted:
            item["counted"] = {"SS": sorted(counted)}
        # Every write of the photo item moves the version, so a concurrent writer's later conditional
        # writes (its row list, its counts) fail and it starts over on the current item.
        item["cv"] = {"N": str(version + 1)}
        self._conditional(self.client.put_item, old, version, TableName=self.table, Item=item)
        version += 1
        photo_key = {"pk": {"S": keys.photo_pk(record.key)}, "sk": {"S": keys.PHOTO_SK}}
        # The VIEWED row's key holds the last view read above: a view landing since has moved the row
        # (and the version), so this put must not bring the old one back
        for row in (r for r in rows if r["pk"]["S"] == keys.VIEWED_PK):
            self._put_if_version(photo_key, version, row)
        requests: list[dict] = [{"PutRequest": {"Item": row}} for row in rows if row["pk"]["S"] != keys.VIEWED_PK]
        for row in sorted(stale):
            pk, sk = _split_row(row)
            requests.append({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}})
        self._batch_write(requests)
        if stale:  # the final row list
            update = {"UpdateExpression": "SET index_rows = :r", "ExpressionAttributeValues": {":r": {"SS": sorted(new_rows)}}} \
                if new_rows else {"UpdateExpression": "REMOVE index_rows", "ExpressionAttributeValues": {}}
            update["ExpressionAttributeValues"][":v"] = {"N": str(version)}
            self._conditional(self.client.update_item, True, version, TableName=self.table, Key=photo_key,
                              ConditionExpression="cv = :v", **update)
        self._apply_counts(photo_key, counted, target, version, keys.display_names(record))

    def _transact(self, actions: list[dict], photo_key: dict) -> None:
        """TransactWriteItems whose condition on the photo's version may fail: ``ConcurrentWrite`` then."""
        from botocore.exceptions import ClientError

        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ConcurrentWrite(photo_key["pk"]["S"]) from err
            raise

    def _put_if_version(self, photo_key: dict, version: int, row: dict) -> None:
        """Put an index row only while the photo item is still at ``version``."""
        self._transact([{"ConditionCheck": {"TableName": self.table, "Key": photo_key, "ConditionExpression": "cv = :v",
                                            "ExpressionAttributeValues": {":v": {"N": str(version)}}}},
                        {"Put": {"TableName": self.table, "Item": row}}], photo_key)

    def _version_untracked(self, old: dict, photo_key: dict) -> int:
        """Bring an item written before versions (no ``cv``) under the scheme: ``cv`` 0 and ``counted``
        as its rows say (or a later put_photo would count them again). Returns its version (0)."""
        counted, version = self._counted(old, set(old.get("index_rows", {}).get("SS", [])))
        self._conditional(self.client.update_item, old, version, TableName=self.table, Key=photo_key,
                          UpdateExpression="SET cv = :zero" + (", counted = :c" if counted else ""),
                          ExpressionAttributeValues={":zero": {"N": "0"},
                                                     **({":c": {"SS": sorted(counted)}} if counted else {})})
        return version

    @staticmethod
    def _counted(old: dict | None, old_rows: set[str]) -> tuple[set[str], int]:
        if old is None:
            return set(), 0
        if "cv" not in old:  # written before counts were tracked: its counts are its rows'
            return count_set(old_rows, old["status"]["S"] == "processed"), 0
        return set(old.get("counted", {}).get("SS", [])), int(old["cv"]["N"])

    def _conditional(self, call: Any, old: Any, version: int, **kwargs: Any) -> None:
        """A write of the photo item that must not undo a concurrent writer's count bookkeeping."""
        from botocore.exceptions import ClientError

        if "ConditionExpression" not in kwargs:
            if old is None:
                kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
            elif "cv" not in old:  # and still there: a write must not bring back an item deleted meanwhile
                kwargs["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(cv)"
            else:
                kwargs["ConditionExpression"] = "cv = :v"
                kwargs["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
        try:
            call(**kwargs)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentWrite(kwargs.get("Key") or kwargs.get("Item", {}).get("pk")) from err
            raise

    def _apply_counts(self, photo_key: dict, counted: set[str], target: set[str], version: int,
                      names: dict[str, str]) -> int:
        """Move the VOCAB counts from ``counted`` to ``target``, each chunk atomically with the photo
        item's ``counted``/``cv``. Returns the final version."""
        for delta, op, pks in ((1, "ADD", sorted(target - counted)), (-1, "DELETE", sorted(counted - target))):
            for chunk in _chunks(pks):
                actions = [self._count_action(pk, delta, names) for pk in chunk]
                actions.append({"Update": {
                    "TableName": self.table, "Key": photo_key,
                    "UpdateExpression": f"{op} counted :c SET cv = :next", "ConditionExpression": "cv = :v",
                    "ExpressionAttributeValues": {":c": {"SS": chunk}, ":v": {"N": str(version)},
                                                  ":next": {"N": str(version + 1)}}}})
                self._transact(actions, photo_key)
                version += 1
        return version

    def _count_action(self, pk: str, delta: int, names: dict[str, str]) -> dict:
        expr, values, attr_names = "ADD n :d", {":d": {"N": str(delta)}}, {}
        if delta > 0 and pk in names:
            expr += " SET #name = :name"
            values[":name"] = {"S": names[pk]}
            attr_names["#name"] = "name"
        update: dict[str, Any] = {"TableName": self.table, "Key": {"pk": {"S": keys.VOCAB_PK}, "sk": {"S": pk}},
                                  "UpdateExpression": expr, "ExpressionAttributeValues": values}
        if attr_names:
            update["ExpressionAttributeNames"] = attr_names
        return {"Update": update}

    def delete_photo(self, key: str) -> PhotoRecord | None:
        old = self._get_raw(key)
        if not old:
            return None
        old_rows = set(old.get("index_rows", {}).get("SS", []))
        photo_key = {"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}}
        counted, version = self._counted(old, old_rows)
        if "cv" not in old:  # bring an untracked item under the version scheme first
            self._version_untracked(old, photo_key)
        self._apply_counts(photo_key, counted, set(), version, {})
        requests = []
        for row in sorted(old_rows):
            pk, sk = _split_row(row)
            requests.append({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}})
        requests.append({"DeleteRequest": {"Key": photo_key}})
        self._batch_write(requests)
        return PhotoRecord.from_dict(json.loads(old["doc"]["S"]))

    def mark_viewed(self, key: str, when: str | None = None) -> None:
        """Record a view: ``last_viewed`` on the photo and its row in the VIEWED partition moves, in one
        transaction (the row is listed in ``index_rows`` like every other). Like every write of the photo
        item it is conditional on the version read and moves it, so a re-process or re-file that read the
        item before the view starts over instead of writing back the older view (and orphaning its row)."""
        when = when or _now()
        for attempt in range(20):
            old = self._get_raw(key)
            if old is None:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "ConditionalCheckFailedException",
                                             "Message": f"no photo {key}"}}, "UpdateItem")
            try:
                self._mark_viewed_once(key, when, old)
                return
            except ConcurrentWrite:
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise ConcurrentWrite(f"{key}: gave up after 20 concurrent updates")

    def _mark_viewed_once(self, key: str, when: str, old: dict) -> None:
        photo_key = {"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}}
        version = int(old["cv"]["N"]) if "cv" in old else self._version_untracked(old, photo_key)
        values: dict[str, Any] = {":t": {"S": when}, ":v": {"N": str(version)}, ":next": {"N": str(version + 1)}}
        rows = set(old.get("index_rows", {}).get("SS", []))
        viewed = [r for r in rows if _split_row(r)[0] == keys.VIEWED_PK]
        if not viewed:
            self._conditional(self.client.update_item, True, version, TableName=self.table, Key=photo_key,
                              UpdateExpression="SET last_viewed = :t, cv = :next", ConditionExpression="cv = :v",
                              ExpressionAttributeValues=values)
            return
        record = PhotoRecord.from_dict(json.loads(old["doc"]["S"]))
        new_sk = keys.viewed_sk(when, record.taken_at, key)
        new_row = _row_id(keys.VIEWED_PK, new_sk)
        rows = (rows - set(viewed)) | {new_row}
        summary = json.dumps(keys.summary(record), separators=(",", ":"))
        actions: list[dict] = [
            {"Update": {"TableName": self.table, "Key": photo_key,
                        "UpdateExpression": "SET last_viewed = :t, index_rows = :r, cv = :next",
                        "ConditionExpression": "cv = :v",
                        "ExpressionAttributeValues": {**values, ":r": {"SS": sorted(rows)}}}},
            {"Put": {"TableName": self.table, "Item": {"pk": {"S": keys.VIEWED_PK}, "sk": {"S": new_sk},
                                                       "key": {"S": key}, "summary": {"S": summary}}}},
        ]
        for row in viewed:
            if row != new_row:
                actions.append({"Delete": {"TableName": self.table,
                                           "Key": {"pk": {"S": keys.VIEWED_PK}, "sk": {"S": _split_row(row)[1]}}}})
        self._transact(actions, photo_key)

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
        return _record(raw) if raw else None

    def get_photos(self, photo_keys: list[str]) -> dict[str, PhotoRecord]:
        """Several photos' records in BatchGetItem calls (100 keys each): one request where a GetItem
        per photo would be many (an ingest polling the photos it has in flight)."""
        wanted = list(dict.fromkeys(photo_keys))
        found: dict[str, PhotoRecord] = {}
        for start in range(0, len(wanted), 100):
            request = {self.table: {"Keys": [{"pk": {"S": keys.photo_pk(k)}, "sk": {"S": keys.PHOTO_SK}}
                                             for k in wanted[start : start + 100]], "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    record = _record(item)
                    found[record.key] = record
                request = response.get("UnprocessedKeys") or {}
        return found

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

    def query_page(self, pk: str, lo: str | None = None, hi: str | None = None, *, newest_first: bool = True,
                   limit: int | None = None, start_key: dict | None = None) -> Page:
        """One Query page of an index partition, ``lo <= sk <= hi`` when given."""
        kwargs: dict[str, Any] = {"TableName": self.table, "ScanIndexForward": not newest_first,
                                  "ExpressionAttributeValues": {":pk": {"S": pk}},
                                  # only the summary crosses the wire (the paging key comes back anyway)
                                  "ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "summary"}}
        if lo is not None or hi is not None:
            kwargs["KeyConditionExpression"] = "pk = :pk AND sk BETWEEN :a AND :b"
            kwargs["ExpressionAttributeValues"][":a"] = {"S": lo or " "}  # keys cannot be empty; " " < any sk
            kwargs["ExpressionAttributeValues"][":b"] = {"S": hi if hi is not None else "\uffff"}
        else:
            kwargs["KeyConditionExpression"] = "pk = :pk"
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        response = self.client.query(**kwargs)
        rows = [json.loads(item["summary"]["S"]) for item in response.get("Items", [])]
        return Page(rows, int(response.get("ScannedCount", len(rows))), response.get("LastEvaluatedKey"))

    def query_partition(
        self, pk: str, start: str | None = None, end: str | None = None, newest_first: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict]:
        """Summaries from one index partition, optionally between two capture-time prefixes."""
        hi = (end or "9999") + "\uffff" if (start or end) else None
        lo = (start or "") if (start or end) else None
        start_key = None
        returned = 0
        while True:
            page = self.query_page(pk, lo, hi, newest_first=newest_first,
                                   limit=(limit - returned) if limit else None, start_key=start_key)
            for row in page.rows:
                yield row
            returned += len(page.rows)
            if not page.last_key or (limit and returned >= limit):
                return
            start_key = page.last_key

    def vocabulary(self) -> tuple[dict[str, dict], int]:
        """VOCAB: partition → {"n": count, "name": display name}, and the items read (one Query)."""
        out: dict[str, dict] = {}
        read = 0
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": keys.VOCAB_PK}}}
        while True:
            response = self.client.query(**kwargs)
            read += int(response.get("ScannedCount", 0))
            for item in response.get("Items", []):
                n = int(item.get("n", {}).get("N", "0"))
                if n > 0:
                    out[item["sk"]["S"]] = {"n": n, "name": item.get("name", {}).get("S")}
            if not response.get("LastEvaluatedKey"):
                return out, read
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _query(self, **kwargs: Any) -> Iterator[dict]:
        kwargs["TableName"] = self.table
        while True:
            response = self.client.query(**kwargs)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

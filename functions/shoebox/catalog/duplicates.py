"""Content duplicates: which photo already holds some bytes, and the files ingest did not store again.

* ``CONTENT#<sha256>`` is an index partition of every processed photo (keys.index_partitions), so
  "is this content archived, under which key?" is one Query.
* ``DUPLICATE`` rows (sk ``<key it duplicates>#<source path>``) remember each file an ingest found to
  be a byte-identical copy, for ``shoebox duplicates``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from shoebox.catalog import Catalog

DUPLICATE_PK = "DUPLICATE"


def content_pk(sha256: str) -> str:
    return f"CONTENT#{sha256}"


def keys_with_content(catalog: Catalog, sha256: str) -> list[str]:
    """Keys of processed photos whose original has exactly these bytes (oldest capture first)."""
    return [row["key"] for row in catalog.query_partition(content_pk(sha256), newest_first=False, limit=10)]


@dataclass(frozen=True)
class Duplicate:
    source: str  # the file ingest read
    duplicate_of: str  # the key already holding its bytes
    seen_at: str


def record_duplicate(catalog: Catalog, source: str, duplicate_of: str) -> Duplicate:
    seen = datetime.now(timezone.utc).isoformat(timespec="seconds")
    catalog.client.put_item(TableName=catalog.table, Item={
        "pk": {"S": DUPLICATE_PK}, "sk": {"S": f"{duplicate_of}#{source}"},
        "key": {"S": duplicate_of}, "source": {"S": source}, "seen_at": {"S": seen}})
    return Duplicate(source, duplicate_of, seen)


def list_duplicates(catalog: Catalog) -> list[Duplicate]:
    kwargs = {"TableName": catalog.table, "KeyConditionExpression": "pk = :pk",
              "ExpressionAttributeValues": {":pk": {"S": DUPLICATE_PK}}}
    out = []
    while True:
        page = catalog.client.query(**kwargs)
        out += [Duplicate(i["source"]["S"], i["key"]["S"], i["seen_at"]["S"]) for i in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def forget_duplicates_of(catalog: Catalog, key: str) -> int:
    """Drop the DUPLICATE rows pointing at a photo that is being forgotten."""
    gone = [d for d in list_duplicates(catalog) if d.duplicate_of == key]
    for d in gone:
        catalog.client.delete_item(TableName=catalog.table,
                                   Key={"pk": {"S": DUPLICATE_PK}, "sk": {"S": f"{d.duplicate_of}#{d.source}"}})
    return len(gone)

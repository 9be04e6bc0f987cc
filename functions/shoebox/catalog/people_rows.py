"""People's DynamoDB rows and the transactions that change them (same table as the photos; every read
is a Query or a GetItem, never a Scan):

| what                      | pk                     | sk                              | holds |
|---------------------------|------------------------|---------------------------------|-------|
| a person (face group)     | PEOPLE                 | <person_id>                     | name, name_lc, face_count, photo_count, cover, cover_failed, samples, merged_into, hidden |
| faces of a person         | FACES#<person_id>      | <taken_at>#<key>#<face_id>      | key, face_id, bbox, confidence, view |
| what a photo contributed  | PHOTOFACES#<key>       | FACES                           | faces [[person_id, face sk]…], version |

Counts are kept with atomic ADDs. Each photo's contribution is remembered in its PHOTOFACES row and the
delta against it is applied in one transaction that also replaces that row (conditioned on its version),
so re-processing, Lambda retries and concurrent runs of the same photo never count twice.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from shoebox.catalog import keys
from shoebox.catalog.people_rules import MergeRaced, PeopleError, PersonNotFound, deltas
from shoebox.models import PhotoRecord

PEOPLE_PK = "PEOPLE"
PHOTO_FACES_SK = "FACES"
_TX_LIMIT = 100  # DynamoDB TransactWriteItems items per call
_MAX_TX_ATTEMPTS = 8
_CANONICAL = "attribute_exists(pk) AND attribute_not_exists(merged_into)"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def faces_pk(person_id: str) -> str:
    return f"FACES#{person_id}"


def photo_faces_pk(key: str) -> str:
    return f"PHOTOFACES#{key}"


def face_sk(record: PhotoRecord, face: dict) -> str:
    return f"{keys.time_sk(record.taken_at, record.key)}#{face['face_id']}"


def person_key(person_id: str) -> dict:
    return {"pk": {"S": PEOPLE_PK}, "sk": {"S": person_id}}


def row_to_dict(item: dict) -> dict:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def n(name: str) -> int:
        return int(item[name]["N"]) if name in item else 0

    return {
        "id": item["sk"]["S"],
        "name": s("name"),
        "face_count": n("face_count"),
        "photo_count": n("photo_count"),
        "cover": json.loads(s("cover")) if s("cover") else None,
        # the face and view a cover could not be made from, and when (people_rules.cover_failure)
        "cover_failed": json.loads(s("cover_failed")) if s("cover_failed") else None,
        "samples": json.loads(s("samples")) if s("samples") else [],  # time sks, newest first
        "merged_into": s("merged_into"),
        "name_from": s("name_from"),  # unnamed itself: the merged-in group whose name it goes by
        "hidden": bool(item["hidden"]["BOOL"]) if "hidden" in item else False,
        # ids the user unmerged this group from: never merged with them automatically again
        "kept_apart": set(item["kept_apart"]["SS"]) if "kept_apart" in item else set(),
    }


def face_item(item: dict, person_id: str) -> dict:
    return {"person_id": person_id, "key": item["key"]["S"], "face_id": item["face_id"]["S"],
            "bbox": json.loads(item["bbox"]["S"]), "confidence": float(item["confidence"]["N"]),
            "view": item.get("view", {}).get("S")}


def misfiled_face(item: dict, person_id: str) -> dict:
    return {"pk": item["pk"]["S"], "sk": item["sk"]["S"], "key": item["key"]["S"],
            "face_id": item["face_id"]["S"], "person_id": person_id}


def face_row_requests(record: PhotoRecord, new: list[tuple[str, str, dict]],
                      old: list[tuple[str, str]]) -> list[dict]:
    """BatchWriteItem requests that bring a photo's face rows from ``old`` to ``new``."""
    view = (record.thumbnails.get("view") or {}).get("key")
    new_keys = {(pid, sk) for pid, sk, _ in new}
    requests: list[dict] = []
    for pid, sk in old:
        if (pid, sk) not in new_keys:
            requests.append({"DeleteRequest": {"Key": {"pk": {"S": faces_pk(pid)}, "sk": {"S": sk}}}})
    for pid, sk, face in new:
        item = {"pk": {"S": faces_pk(pid)}, "sk": {"S": sk}, "key": {"S": record.key},
                "face_id": {"S": face["face_id"]}, "bbox": {"S": json.dumps(face.get("bbox") or {})},
                "confidence": {"N": str(face.get("confidence") or 0)}}
        if view:
            item["view"] = {"S": view}
        requests.append({"PutRequest": {"Item": item}})
    return requests


def update_person(client: Any, table: str, person_id: str, expression: str, values: dict | None,
                  names: dict | None = None, condition: str | None = None, unmet_ok: bool = False) -> None:
    """Update a person row that must exist (and meet ``condition``); ``unmet_ok``: a failed condition
    is not an error, the update is just not made."""
    kwargs: dict[str, Any] = {"TableName": table, "Key": person_key(person_id), "UpdateExpression": expression,
                              "ConditionExpression": "attribute_exists(pk)" + (f" AND {condition}" if condition else "")}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    try:
        client.update_item(**kwargs)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            if unmet_ok:
                return
            raise PersonNotFound(f"no person with id {person_id!r}") from err
        raise


def merge_into(client: Any, table: str, person_id: str, target: str, at: str) -> None:
    """Point ``person_id`` at ``target``: only a person who is canonical now, into one still canonical, so
    two merges racing the other way round cannot leave the two pointing at each other."""
    try:
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": person_key(person_id),
                        "UpdateExpression": "SET merged_into = :m, updated_at = :t",
                        "ConditionExpression": _CANONICAL,
                        "ExpressionAttributeValues": {":m": {"S": target}, ":t": {"S": at}}}},
            {"ConditionCheck": {"TableName": table, "Key": person_key(target), "ConditionExpression": _CANONICAL}},
        ])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            raise MergeRaced(f"{person_id} or {target} was merged by someone else meanwhile: look again "
                             f"(`shoebox people`) and merge again if still needed") from err
        raise


def _count_updates(table: str, face_delta: dict[str, int], photo_delta: dict[str, int], at: str) -> list[dict]:
    updates = []
    for pid in sorted(face_delta):
        if face_delta[pid] == 0 and photo_delta.get(pid, 0) == 0:
            continue
        updates.append({"Update": {
            "TableName": table, "Key": person_key(pid),
            "UpdateExpression": "ADD face_count :f, photo_count :p "
                                "SET first_seen = if_not_exists(first_seen, :t), updated_at = :t",
            "ExpressionAttributeValues": {":f": {"N": str(face_delta[pid])},
                                          ":p": {"N": str(photo_delta.get(pid, 0))}, ":t": {"S": at}},
        }})
    return updates


def _contribution_write(table: str, contrib_key: dict, key: str, item: dict | None, version: int,
                        new: list[tuple[str, str]], at: str) -> dict:
    """Replace the photo's remembered contribution, conditioned on the version read; no faces left
    (removed, failed, re-processed without faces): the row goes, not an empty one that a deleted photo
    would leave behind; a writer that read it fails its version check."""
    if not new and item:
        return {"Delete": {"TableName": table, "Key": contrib_key, "ConditionExpression": "version = :v",
                           "ExpressionAttributeValues": {":v": {"N": str(version)}}}}
    put: dict[str, Any] = {"TableName": table, "Item": {
        **contrib_key, "key": {"S": key}, "faces": {"S": json.dumps(new, separators=(",", ":"))},
        "version": {"N": str(version + 1)}, "updated_at": {"S": at}}}
    if item:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
    else:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def apply_counts(client: Any, table: str, key: str, new: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Swap the photo's remembered contribution for ``new`` and ADD the difference to the person rows,
    atomically (optimistic on the contribution row's version). Returns the previous contribution."""
    contrib_key = {"pk": {"S": photo_faces_pk(key)}, "sk": {"S": PHOTO_FACES_SK}}
    for _ in range(_MAX_TX_ATTEMPTS):
        item = client.get_item(TableName=table, Key=contrib_key, ConsistentRead=True).get("Item")
        old = [tuple(pair) for pair in json.loads(item["faces"]["S"])] if item else []
        version = int(item["version"]["N"]) if item else 0
        at = now()
        updates = _count_updates(table, *deltas(old, new), at)  # type: ignore[arg-type]
        if not updates and sorted(old) == sorted(new):
            return old  # nothing changed (the common re-processing case)
        write = _contribution_write(table, contrib_key, key, item, version, new, at)
        batches = [updates[i : i + _TX_LIMIT - 1] for i in range(0, len(updates), _TX_LIMIT - 1)] or [[]]
        try:
            # the contribution row rides with the first batch; more than 99 people in one photo spill
            # into further transactions (not atomic with the first: documented limit)
            client.transact_write_items(TransactItems=[write, *batches[0]])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("TransactionCanceledException",
                                                             "TransactionConflictException"):
                continue  # someone else processed this photo meanwhile: recompute against their write
            raise
        for batch in batches[1:]:
            client.transact_write_items(TransactItems=batch)
        return old  # type: ignore[return-value]
    raise PeopleError(f"could not update people for {key}: too much contention")

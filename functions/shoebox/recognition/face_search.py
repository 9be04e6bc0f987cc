"""Face grouping by SearchFaces, with the face → person map in the catalog table (the ``rekognition`` mode's
default grouping, ``SHOEBOX_FACE_GROUPING=faces``; docs/rekognition.md "Grouping").

Why not user vectors: they cost a SearchUsers for every face *and* an AssociateFaces for every new person
and the first ten faces of each ($13.50 of the $161.94 a 60,000-photo backfill cost, issue 18). Here every
face costs one SearchFaces (the same price as SearchUsers) and the person a face belongs to is ours: one
small item per face, ``pk = REKFACE``, ``sk = <face id>``.

A face joins the person whose matched faces add up to the most similarity (people already given to another
face of the same photo left out): the vote over up to ``MaxFaces`` individual faces is what a user vector's
average did, without paying to maintain it. Faces grouped by user vectors before (a stack switching
``FaceGrouping``) count for their user, or for their catalog person when their vector held ten faces already.

Concurrency: faces of a new person often arrive together (a day's photos of a guest, processed at once).
New people are decided one at a time under a lease; the deciding execution also files the look-alikes other
executions are still processing, provisionally, and each face's own step confirms or corrects that. Of two
such faces the one indexed later always finds the other in its search, so they agree on one person.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shoebox.errors import RecognitionThrottled
from shoebox.recognition.external_id import photo_id_from_external_image_id

PK = "REKFACE"
# SearchFaces MaxFaces: enough look-alikes that a person's many faces outvote one stray match, and room to
# skip the faces of people already given to another face of the photo. The price is per call, not per match.
SEARCH_MAX_FACES = 20
_BATCH_GET = 100  # BatchGetItem's limit
_BATCH_WRITE = 25  # BatchWriteItem's limit
_BATCH_ATTEMPTS = 6  # unprocessed items tried again this often (backing off), then the step's Retry
_TRANSIENT_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                              "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable"})


@dataclass(frozen=True)
class Match:
    face_id: str
    similarity: float  # 0..100, as Rekognition gives it
    photo_id: str | None = None
    user_id: str | None = None  # set when the face is associated with a user (user-vector grouping)


def matches_from(response: dict, exclude: Iterable[str] = ()) -> list[Match]:
    """SearchFaces' FaceMatches, less ``exclude`` (the other faces of the same photo: never the same person)."""
    skip = set(exclude)
    out = []
    for item in response.get("FaceMatches", []):
        face = item.get("Face", {})
        fid = face.get("FaceId")
        if not fid or fid in skip:
            continue
        out.append(Match(fid, float(item.get("Similarity", 0.0)), _photo(face.get("ExternalImageId")),
                         face.get("UserId")))
    return out


def _photo(external_id: str | None) -> str | None:
    """The photo a matched face came from; None for an ExternalImageId this code did not write."""
    try:
        return photo_id_from_external_image_id(external_id) if external_id else None
    except ValueError:
        return None


def choose_person(matches: list[Match], filed: dict[str, str], taken: set[str]) -> tuple[str | None, list[Match]]:
    """The person the matched faces vote for (similarity summed per person; ties go to the smaller id so
    every execution picks the same), or None and the matches not filed yet (faces in flight elsewhere)."""
    votes: dict[str, float] = defaultdict(float)
    unfiled = []
    for m in matches:
        person = filed.get(m.face_id) or m.user_id
        if person is None:
            unfiled.append(m)
        elif person not in taken:
            votes[person] += m.similarity
    if votes:
        return min(votes, key=lambda p: (-votes[p], p)), []
    return None, unfiled


class FaceMap:
    """Face id → person id items in the catalog table.

    An item is written *final* by the face's own step, or *provisional* (``pre``) by the execution that
    started a new person and filed the face as a look-alike still in flight; the face's own step then
    confirms or corrects it (it knows its photo's other faces and its own matches). A removed face's item
    becomes a tombstone (``gone``), not nothing: another execution whose SearchFaces saw the face just before
    it left may still file it as a look-alike, and that late write must fail rather than leave an item for a
    face no longer indexed. Tombstones are a few dozen bytes each, one per face ever removed.

    DynamoDB refusing for load (throttling, a 5xx) is ``RecognitionThrottled``: the step's Retry waits."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def _key(face_id: str) -> dict:
        return {"pk": {"S": PK}, "sk": {"S": face_id}}

    def _call(self, method: str, **kwargs: Any) -> dict:
        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as exc:
            if transient(exc):
                raise RecognitionThrottled(f"DynamoDB {method}: {exc}") from exc
            raise

    def _batch(self, method: str, request: dict, left: str, answer: Callable[[dict], None]) -> None:
        """BatchGetItem / BatchWriteItem until nothing is left unprocessed, backing off; then the Retry."""
        for attempt in range(_BATCH_ATTEMPTS):
            page = self._call(method, RequestItems=request)
            answer(page)
            request = page.get(left) or {}
            if not request:
                return
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
        raise RecognitionThrottled(f"DynamoDB {method}: items still unprocessed after {_BATCH_ATTEMPTS} tries")

    def filings(self, face_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """{face id: (person id, provisional)} of the faces filed and not gone."""
        ids = list(dict.fromkeys(face_ids))
        out: dict[str, tuple[str, bool]] = {}

        def take(page: dict) -> None:
            for item in page.get("Responses", {}).get(self.table, []):
                if "gone" not in item:
                    out[item["sk"]["S"]] = (item["person_id"]["S"], "pre" in item)

        for start in range(0, len(ids), _BATCH_GET):
            self._batch("batch_get_item", {self.table: {
                "Keys": [self._key(f) for f in ids[start:start + _BATCH_GET]], "ConsistentRead": True,
                "ProjectionExpression": "sk, person_id, gone, pre"}}, "UnprocessedKeys", take)
        return out

    def get(self, face_ids: Iterable[str]) -> dict[str, str]:
        return {f: person for f, (person, _) in self.filings(face_ids).items()}

    def persisted(self, matches: Iterable[Match]) -> dict[str, str]:
        """{face id: person id} from the catalog's rows of the matches' photos (PHOTOFACES#<key>): faces
        with no item of their own, grouped before this map existed (the ``users`` grouping files only a
        person's first ten faces in its user vector)."""
        wanted = {m.face_id: m.photo_id for m in matches if m.photo_id}
        photos = sorted(set(wanted.values()))
        out: dict[str, str] = {}

        def take(page: dict) -> None:
            for item in page.get("Responses", {}).get(self.table, []):
                for person, sk in json.loads(item["faces"]["S"]):
                    fid = sk.rsplit("#", 1)[-1]
                    if fid in wanted and person:
                        out[fid] = person

        for start in range(0, len(photos), _BATCH_GET):
            self._batch("batch_get_item", {self.table: {
                "Keys": [{"pk": {"S": f"PHOTOFACES#{k}"}, "sk": {"S": "FACES"}} for k in photos[start:start + _BATCH_GET]],
                "ProjectionExpression": "faces"}}, "UnprocessedKeys", take)
        return out

    def claim(self, face_id: str, person_id: str, photo_id: str | None, provisional: bool = False) -> str:
        """File ``face_id`` under ``person_id`` unless it is filed already (or gone); returns the person it is
        filed under (``person_id`` for a gone one)."""
        item = {**self._key(face_id), "person_id": {"S": person_id}}
        if photo_id:
            item["photo_id"] = {"S": photo_id}
        if provisional:
            item["pre"] = {"BOOL": True}
        return self._put(face_id, item, "attribute_not_exists(pk)")

    def confirm(self, face_id: str, person_id: str, photo_id: str) -> str:
        """The face's own step settles a provisional item (only its own step writes over one)."""
        item = {**self._key(face_id), "person_id": {"S": person_id}, "photo_id": {"S": photo_id}}
        return self._put(face_id, item, "attribute_exists(pre)")  # else settled already (a replay)

    def _put(self, face_id: str, item: dict, condition: str) -> str:
        try:
            self._call("put_item", TableName=self.table, Item=item, ConditionExpression=condition)
            return item["person_id"]["S"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return self.get([face_id]).get(face_id, item["person_id"]["S"])

    def drop(self, face_ids: Iterable[str]) -> None:
        """Tombstones for faces removed from the collection."""
        ids = list(dict.fromkeys(face_ids))
        for start in range(0, len(ids), _BATCH_WRITE):
            self._batch("batch_write_item", {self.table: [
                {"PutRequest": {"Item": {**self._key(f), "person_id": {"S": ""}, "gone": {"BOOL": True}}}}
                for f in ids[start:start + _BATCH_WRITE]]}, "UnprocessedItems", lambda page: None)

    def faces_by_person(self) -> dict[str, list[str]]:
        """Every filed face, by person (`shoebox people suggest` only: one Query of small items)."""
        out: dict[str, list[str]] = defaultdict(list)
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": PK}},
                                  "ProjectionExpression": "sk, person_id, gone"}
        while True:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                if "gone" not in item:
                    out[item["person_id"]["S"]].append(item["sk"]["S"])
            if "LastEvaluatedKey" not in page:
                return dict(out)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def transient(exc: ClientError) -> bool:
    """A DynamoDB refusal that passes by itself (load, a server error), not a mistake of ours."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return error.get("Code") in _TRANSIENT_CODES or status >= 500


def assign(search: Callable[[str], dict], faces: FaceMap, face_id: str, photo_id: str, photo_faces: Iterable[str],
           taken: set[str], new_person: Callable[[str], str],
           one_at_a_time: Callable[[], AbstractContextManager]) -> str:
    """The person ``face_id`` (just indexed from ``photo_id``) belongs to, filed in ``faces``.

    ``search(face_id)``: the SearchFaces response; ``new_person(face_id)``: the id of a person first seen as
    that face; ``one_at_a_time()``: a lock shared by every execution, held while a new person is decided."""
    matches = matches_from(search(face_id), exclude=photo_faces)
    decided, _, _ = _decide(faces, face_id, photo_id, matches, taken)
    if decided:
        return decided
    # A new person, or one whose other faces other executions are filing right now: decided one at a time,
    # each reading again what the one before filed. Of two such faces the one indexed later always finds
    # the other in its search, so the two never start two people.
    with one_at_a_time():
        decided, unfiled, pre = _decide(faces, face_id, photo_id, matches, taken)
        if decided:
            return decided
        person = (faces.confirm if pre else faces.claim)(face_id, new_person(face_id), photo_id)
        photos: set[str] = set()
        for m in sorted(unfiled, key=lambda m: -m.similarity):
            # its look-alikes still in flight join it, provisionally: their own step confirms (or, when the
            # person is already another face of its photo or its own matches say otherwise, corrects) it.
            # The most alike of each photo only.
            if m.photo_id not in photos:
                if m.photo_id:
                    photos.add(m.photo_id)
                faces.claim(m.face_id, person, m.photo_id, provisional=True)
        return person


def _decide(faces: FaceMap, face_id: str, photo_id: str, matches: list[Match],
            taken: set[str]) -> tuple[str | None, list[Match], bool]:
    """(the person, when the filed faces decide it; the matches not filed; whether the face is filed
    provisionally by another execution)."""
    filings = faces.filings([face_id, *(m.face_id for m in matches)])
    own = filings.pop(face_id, None)
    if own and not own[1]:
        return own[0], [], False  # this step filed it before a retry
    filed = {f: person for f, (person, _) in filings.items()}
    unknown = [m for m in matches if m.face_id not in filed and not m.user_id]
    if unknown:  # faces grouped before this map, or whose run is still going
        filed.update(faces.persisted(unknown))
    person, unfiled = choose_person(matches, filed, taken)
    if own:  # filed provisionally by a look-alike's new person: kept unless this photo or our matches say no
        person = person or (own[0] if own[0] not in taken else None)
        return (faces.confirm(face_id, person, photo_id) if person else None), unfiled, True
    return (faces.claim(face_id, person, photo_id) if person else None), unfiled, False


def similar_pairs(search: Any, faces: FaceMap, person_ids: Iterable[str], per_person: int = 1,
                  by_person: dict[str, list[str]] | None = None) -> dict[tuple[str, str], float]:
    """{(a, b): best similarity 0..1} between the given people and any other, from SearchFaces of
    ``per_person`` of each one's faces (``search(face_id)`` at the suggestion threshold)."""
    by_person = faces.faces_by_person() if by_person is None else by_person
    filed: dict[str, str] = {f: p for p, fs in by_person.items() for f in fs}
    best: dict[tuple[str, str], float] = {}
    for pid in dict.fromkeys(person_ids):
        for fid in sorted(by_person.get(pid, []))[:per_person]:
            for m in matches_from(search(fid)):
                other = filed.get(m.face_id) or m.user_id
                if other is None or other == pid:
                    continue
                a, b = sorted((pid, other))
                best[(a, b)] = max(best.get((a, b), 0.0), round(m.similarity / 100, 4))
    return best

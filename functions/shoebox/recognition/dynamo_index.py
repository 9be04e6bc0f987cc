"""The face index in the catalog table, for the ``hybrid`` and ``local`` recognizers on AWS.

Same decisions as the file index (``recognition/local/index.py``: a face joins the person whose centroid
is most alike if ≥ threshold, faces of one photo never join each other, groups whose centroids are
≥ merge threshold alike and never share a photo are merged, the bigger keeps its id), but the state is
DynamoDB items, so every Lambda execution sees one set of people and none replays a journal:

| item                       | pk                | sk                 | holds |
|----------------------------|-------------------|--------------------|-------|
| head                       | ``FACEIDX``       | ``HEAD``           | ``v`` (bumped when people are created or merged), ``apart`` pairs |
| one person id              | ``FACEIDX``       | ``P#<person id>``  | running totals of the faces filed under it: ``total`` (sum of L2-normalised embeddings, float64), ``faces``, ``together`` (other id → photos shared), ``into`` (merged into), ``v`` |
| a face                     | ``FACEIDX#FACE``  | ``<face id>``      | photo, person, bbox, confidence, embedding (float32), ``joined`` |
| a photo's faces            | ``FACEIDX#PHOTO`` | ``<photo id>``     | face ids, ``v`` |

Indexing a photo reads the head and the person items (one Query: O(people), never O(faces), as the file
index's centroids), decides, and writes everything it changed in one TransactWriteItems whose conditions
are the versions it read: each person item it updates (``v`` = read), each new one
(``attribute_not_exists``), the photo item, and the head when it creates or merges people. A concurrent
execution that changed any of those makes the transaction fail as a whole; the photo is then decided again
from a fresh read. So no update is lost (two faces joining one person both count), and no person is split
by a race: two executions that both see nobody for the same new face cannot both create a person, the
second one's head condition fails and its retry finds the first one's person.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from decimal import Decimal
from typing import Any

import numpy as np
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shoebox.errors import RecognitionThrottled
from shoebox.recognition.grouping import (DEFAULT_MERGE_THRESHOLD, DEFAULT_SUGGEST_THRESHOLD, DEFAULT_THRESHOLD,
                                         IndexedFace)
from shoebox.recognition.face_decisions import PersonId, Snapshot, decide_add

PK = "FACEIDX"
PK_FACE = "FACEIDX#FACE"
PK_PHOTO = "FACEIDX#PHOTO"
MAX_ATTEMPTS = 60  # conflicts are retried with jitter; past that the step's Retry takes over
REFRESH_S = 300.0  # a warm execution reads every person item again at least this often
SIMILAR_BLOCK = 1024
HEAD_LOG = 64  # head versions whose written person ids the head remembers, for warm executions to catch up

_ser, _de = TypeSerializer(), TypeDeserializer()


def _item(d: dict) -> dict:
    return {k: _ser.serialize(v) for k, v in d.items()}


def _plain(item: dict) -> dict:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _num(x: float) -> Decimal:
    return Decimal(repr(float(x)))


# Vectors are base64 strings, not Binary: the local runtime's table snapshot (and any export) is JSON.
def _b64(v: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.asarray(v, dtype).tobytes()).decode("ascii")


def _vec64(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f8").copy()


def _vec32(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").astype(np.float32)


def _conflicting_people(ops: list[dict], reasons: list[str | None]) -> set[str]:
    """The person ids whose items failed a cancelled transaction's conditions (``reasons``: one code per
    op, "None" for those that did not)."""
    keys = [op["Put"]["Item"] if "Put" in op else op["Delete"]["Key"] for op in ops]
    out = set()
    for key, code in zip(keys, reasons):
        sk = (key or {}).get("sk", {}).get("S", "")
        if code and code != "None" and key and key["pk"]["S"] == PK and sk.startswith("P#"):
            out.add(sk[2:])
    return out


class DynamoFaceIndex:
    """The ``FaceIndex`` API (add, aliases, remove, keep_apart, filed_as, similar, people) over the catalog
    table. Thread-safe: nothing is shared between calls but the last snapshot, read for ``aliases``."""

    def __init__(self, table: str, *, client: Any | None = None, threshold: float = DEFAULT_THRESHOLD,
                 merge_threshold: float | None = DEFAULT_MERGE_THRESHOLD):
        if not table:
            raise ValueError("DynamoFaceIndex needs the catalog table (SHOEBOX_TABLE)")
        self.table = table
        self._client = client
        self.threshold = threshold
        self.merge_threshold = merge_threshold
        self._last = Snapshot()
        self._lock = threading.Lock()
        self._cache: Snapshot | None = None  # the people as this execution last read or wrote them
        self._cache_at = 0.0
        self._stale: set[str] = set()  # person ids a failed transaction found changed
        self.conflicts = 0  # transactions retried after a concurrent change (for tests and logs)
        self.full_reads = 0  # Queries of every person item (cold start, refresh, a long absence)

    @property
    def client(self) -> Any:
        if self._client is None:
            from shoebox import aws

            self._client = aws.client("dynamodb")
        return self._client

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """A fork of the people as they are now. A warm execution keeps the last snapshot and reads only
        the head (one item) plus the person items the head's log says changed since, and those its own
        failed transactions found changed; every REFRESH_S it reads everything again, for the centroids
        that other executions' joins moved (those never make a decision unsafe: every item written is
        conditioned on its version, only slightly less informed)."""
        with self._lock:
            cache, stale = self._cache, set(self._stale)
            fresh = cache is not None and time.monotonic() - self._cache_at < REFRESH_S
        if not fresh:
            return self._load().fork()
        head = self._read_head()
        hv = int(head["v"]) if head else 0
        if hv < cache.v:
            return self._load().fork()  # the head went back (restored table): start over
        if hv != cache.v:
            log = {int(v): ids for v, ids in head.get("recent", [])}
            if any(v not in log for v in range(cache.v + 1, hv + 1)):
                return self._load().fork()  # away for longer than the log reaches
            stale |= {pid for v in range(cache.v + 1, hv + 1) for pid in log[v]}
        fresh_people = self._read_people(sorted(stale))
        with self._lock:
            # brought up to date in place (entries replaced, never mutated: forks share them)
            if head:
                cache.v, cache.exists = hv, True
                cache.apart = {tuple(p) for p in head.get("apart", [])}
                cache.recent = [list(r) for r in head.get("recent", [])]
            cache.ids.update(fresh_people)
            self._stale -= stale
            return cache.fork()

    def _load(self) -> Snapshot:
        snap = Snapshot()
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True,
                                  "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": PK}}}
        while True:
            page = self.client.query(**kwargs)
            for raw in page.get("Items", ()):
                it = _plain(raw)
                if it["sk"] == "HEAD":
                    snap.v, snap.exists = int(it["v"]), True
                    snap.apart = {tuple(p) for p in it.get("apart", [])}
                    snap.recent = [list(r) for r in it.get("recent", [])]
                elif it["sk"].startswith("P#"):
                    snap.ids[it["sk"][2:]] = self._person(it)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self.full_reads += 1
        with self._lock:
            self._cache, self._cache_at, self._stale = snap, time.monotonic(), set()
        return snap

    @staticmethod
    def _person(it: dict) -> PersonId:
        return PersonId(total=_vec64(it["total"]), faces=int(it["faces"]),
                        together={k: int(n) for k, n in it.get("together", {}).items()},
                        into=it.get("into"), v=int(it["v"]))

    def _read_head(self) -> dict | None:
        return self._get(PK, "HEAD")

    def _get(self, pk: str, sk: str) -> dict | None:
        # GetItem, not BatchGetItem: the functions that file faces may already GetItem the table (IAM)
        got = self.client.get_item(TableName=self.table, Key=_item({"pk": pk, "sk": sk}), ConsistentRead=True)
        return _plain(got["Item"]) if "Item" in got else None

    def _read_people(self, pids: list[str]) -> dict[str, PersonId]:
        """The changed person items (a few: what the head's log or a failed condition named)."""
        found = {pid: self._get(PK, "P#" + pid) for pid in pids}
        return {pid: self._person(it) for pid, it in found.items() if it}

    def _photo(self, photo_id: str) -> tuple[list[IndexedFace], int]:
        it = self._get(PK_PHOTO, photo_id)
        if not it:
            return [], 0
        return self._faces(list(it.get("faces", []))), int(it["v"])

    def _faces(self, face_ids: list[str]) -> list[IndexedFace]:
        """A photo's faces (at most MaxFaces) or the few a step asks about."""
        out = []
        for fid in dict.fromkeys(face_ids):
            it = self._get(PK_FACE, fid)
            if it:
                out.append(IndexedFace(it["sk"], it["photo_id"], it["person_id"],
                                       {k: float(v) for k, v in it["bbox"].items()}, float(it["confidence"]),
                                       _vec32(it["embedding"]), list(it.get("joined", []))))
        return out

    # ------------------------------------------------------------ writing
    def _person_write(self, snap: Snapshot, pid: str) -> dict:
        rec = snap.ids[pid]
        item = {"pk": PK, "sk": "P#" + pid, "total": _b64(rec.total, "<f8"),
                "faces": rec.faces, "together": {k: n for k, n in rec.together.items() if n > 0}, "v": rec.v + 1}
        if rec.into:
            item["into"] = rec.into
        cond = ({"ConditionExpression": "attribute_not_exists(pk)"} if rec.v == 0 else
                {"ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": str(rec.v)}}})
        return {"Put": {"TableName": self.table, "Item": _item(item), **cond}}

    def _head_write(self, snap: Snapshot, changed: set[str]) -> dict:
        snap.recent = (snap.recent + [[snap.v + 1, sorted(changed)]])[-HEAD_LOG:]
        item = {"pk": PK, "sk": "HEAD", "v": snap.v + 1, "apart": [list(p) for p in sorted(snap.apart)],
                "recent": snap.recent}
        cond = ({"ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": str(snap.v)}}}
                if snap.exists else {"ConditionExpression": "attribute_not_exists(pk)"})
        return {"Put": {"TableName": self.table, "Item": _item(item), **cond}}

    def _photo_write(self, photo_id: str, face_ids: list[str], v: int) -> dict:
        cond = ({"ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": str(v)}}} if v else
                {"ConditionExpression": "attribute_not_exists(pk)"})
        item = {"pk": PK_PHOTO, "sk": photo_id, "faces": face_ids, "v": v + 1}
        return {"Put": {"TableName": self.table, "Item": _item(item), **cond}}

    def _face_write(self, f: IndexedFace) -> dict:
        item = {"pk": PK_FACE, "sk": f.face_id, "photo_id": f.photo_id, "person_id": f.person_id,
                "bbox": {k: _num(v) for k, v in f.bbox.items()}, "confidence": _num(f.confidence),
                "embedding": _b64(f.embedding, "<f4")}
        if f.joined:
            item["joined"] = f.joined
        return {"Put": {"TableName": self.table, "Item": _item(item)}}

    def _face_delete(self, face_id: str) -> dict:
        return {"Delete": {"TableName": self.table, "Key": _item({"pk": PK_FACE, "sk": face_id})}}

    def _commit(self, snap: Snapshot, ops: list[dict], changed: set[str], head: bool) -> bool:
        """Write; True when written (``snap`` then becomes this execution's view of the people), False
        when a condition failed: someone else changed what we read (those person items are read again)."""
        try:
            self.client.transact_write_items(TransactItems=ops)
        except self.client.exceptions.TransactionCanceledException as err:
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if not any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                raise RecognitionThrottled(f"face index: transaction cancelled {reasons}") from err
            with self._lock:
                self._stale |= _conflicting_people(ops, reasons)
            return False
        for pid in changed:
            snap.mine(pid).v += 1
        if head:
            snap.v, snap.exists = snap.v + 1, True
        snap._own = None
        with self._lock:
            if self._cache is not None:
                self._cache = snap
        self._last = snap
        return True

    def _retry(self, attempt) -> Any:
        for n in range(MAX_ATTEMPTS):
            done, result = attempt()
            if done:
                return result
            self.conflicts += 1
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(n, 6))))
        raise RecognitionThrottled("face index: too many concurrent changes, retry later")

    # ------------------------------------------------------------ FaceIndex API
    def add(self, photo_id: str, faces: list[tuple[dict, float, np.ndarray]]) -> list[IndexedFace]:
        faces = [(b, c, np.asarray(e, np.float32)) for b, c, e in faces]

        def attempt():
            snap = self.snapshot()
            old, photo_v = self._photo(photo_id)
            dec = decide_add(snap, photo_id, old, faces, self.threshold, self.merge_threshold)
            if not old and not dec.faces:
                return True, []
            ops = [self._photo_write(photo_id, [f.face_id for f in dec.faces], photo_v)]
            ops += [self._face_delete(f.face_id) for f in old]
            ops += [self._face_write(f) for f in dec.faces]
            ops += [self._person_write(snap, pid) for pid in sorted(dec.changed)]
            head = bool(dec.created or dec.merged)
            if head:
                ops.append(self._head_write(snap, dec.changed))
            if not self._commit(snap, ops, dec.changed, head):
                return False, None
            return True, dec.faces

        return self._retry(attempt)

    def aliases(self, person_id: str) -> list[str]:
        return self._last.aliases(person_id)

    def canonical(self, person_id: str) -> str:
        return self._last.canonical(person_id)

    def remove(self, face_ids: list[str]) -> None:
        by_photo: dict[str, list[str]] = {}
        for f in self._faces(list(face_ids)):
            by_photo.setdefault(f.photo_id, []).append(f.face_id)
        for photo_id, gone in by_photo.items():
            self._retry(lambda: self._remove_from(photo_id, set(gone)))

    def _remove_from(self, photo_id: str, gone: set[str]) -> tuple[bool, None]:
        snap = self.snapshot()
        faces, photo_v = self._photo(photo_id)
        if not any(f.face_id in gone for f in faces):
            return True, None
        keep = [f for f in faces if f.face_id not in gone]
        snap.pair(sorted({f.person_id for f in faces}), -1)
        snap.pair(sorted({f.person_id for f in keep}), +1)
        changed = {f.person_id for f in faces}
        for f in faces:
            if f.face_id in gone:
                snap.count(f.person_id, f.embedding, -1)
        ops = [self._photo_write(photo_id, [f.face_id for f in keep], photo_v)]
        ops += [self._face_delete(f.face_id) for f in faces if f.face_id in gone]
        ops += [self._person_write(snap, pid) for pid in sorted(changed)]
        return self._commit(snap, ops, changed, False), None

    def keep_apart(self, a: str, b: str) -> list[IndexedFace]:
        """Cut the merge between ``a`` and ``b`` and never merge them again. Faces that joined the merged
        group keep the id they were filed under (the file index decides those again by the nearer side;
        here that needs every face of both groups, which the person items do not list)."""
        if a == b:
            return []

        def attempt():
            snap = self.snapshot()
            pair = tuple(sorted((a, b)))
            if pair in snap.apart and snap.canonical(a) != snap.canonical(b):
                return True, []
            changed = set()
            above_b = []
            x = b
            while x and x not in above_b:
                above_b.append(x)
                x = snap.ids[x].into if x in snap.ids else None
            chain_a, x = [], a
            while x and x not in chain_a:
                chain_a.append(x)
                x = snap.ids[x].into if x in snap.ids else None
            meet = next((y for y in chain_a if y in above_b), None)
            if meet is not None:
                low = b if a == meet else a
                if low in snap.ids:
                    snap.mine(low).into = None
                    changed.add(low)
            snap.apart.add(pair)
            ops = [self._person_write(snap, pid) for pid in sorted(changed)] + [self._head_write(snap, changed)]
            if not self._commit(snap, ops, changed, True):
                return False, None
            return True, []

        return self._retry(attempt)

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        return {f.face_id: f.person_id for f in self._faces(list(face_ids))}

    def similar(self, threshold: float = DEFAULT_SUGGEST_THRESHOLD) -> list[tuple[str, str, float]]:
        snap = self.snapshot()
        groups = snap.groups()
        ids, cents = snap.centroids(groups)
        out = []
        for start in range(0, len(ids), SIMILAR_BLOCK):  # thousands of people: a block of rows at a time
            sims = cents[start:start + SIMILAR_BLOCK] @ cents.T
            for i, j in zip(*np.nonzero(sims >= threshold)):
                i, j = start + int(i), int(j)
                if j <= i:
                    continue
                x, y = ids[i], ids[j]
                if not snap.share_photo(groups[x][2], groups[y][2]) and not snap.kept_apart(x, y):
                    out.append((x, y, round(float(sims[i - start, j]), 4)))
        return sorted(out, key=lambda t: (-t[2], t[0], t[1]))

    def people(self) -> dict[str, list[str]]:
        """canonical person id -> face ids (reads every face item: for tests, benchmarks and small audits)."""
        snap = self.snapshot()
        out: dict[str, list[str]] = {}
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": PK_FACE}}, "ConsistentRead": True,
                                  "ProjectionExpression": "sk, person_id"}
        while True:
            page = self.client.query(**kwargs)
            for raw in page.get("Items", ()):
                it = _plain(raw)
                out.setdefault(snap.canonical(it["person_id"]), []).append(it["sk"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

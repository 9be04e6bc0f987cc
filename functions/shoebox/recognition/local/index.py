"""The local face index: embeddings, faces and their person, persisted under ``$SHOEBOX_HOME/faces/``.

Storage is an append-only journal (``journal.jsonl``): one JSON line per event, ``add`` (a face with its
photo, bbox, confidence, person and embedding) or ``remove`` (face ids). Every mutation takes an
exclusive ``flock`` on ``faces/lock``, first replays whatever other processes appended since we last
read, then decides and appends; so several processes (and threads: a ``threading.Lock`` on top) see one
consistent set of people. Appends are small and O(1); the journal is compacted (rewritten atomically to
only the live faces) when it holds many removed entries.

Grouping is incremental: a new face joins the existing person whose centroid (mean of its faces'
L2-normalised embeddings, renormalised) is most similar by cosine, if that similarity is at least
``threshold``; otherwise it starts a new person. Centroids come from running totals per person, kept
current as faces come and go (rebuilt from the faces only after merges change), so indexing one photo
does not re-read every face of the archive. Then the people that photo touched are compared with
every other person: two groups whose centroids are at least ``merge_threshold`` alike, and that never
appear in one photo together, are merged (a ``merge`` event: the smaller group becomes an alias of the
larger). That mends the splits that incremental grouping makes when a person's first photos are unlike
each other (a teenager and the same man at 35; see docs/recognition.md). Person ids are random (``p-`` +
12 hex) and never change once given: a merged-away id lives on as an alias, so the catalog, which
stored it with earlier photos, can fold it in; a person whose faces are all removed disappears.
An ``apart`` event (``keep_apart``: the user unmerged two groups, or named them differently) cuts the
merge between the two ids and keeps them from being merged again. Faces that joined the merged group
meanwhile (each add remembers the group's ids in ``joined``) are then decided again between the two
sides, by the nearer centroid of the faces that were on each side before; the event records the
outcome (``moves``), so replay and compaction need no recomputation.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# the thresholds and the face record are shared with the DynamoDB face index (recognition/grouping.py)
from shoebox.recognition.grouping import (DEFAULT_MERGE_THRESHOLD, DEFAULT_SUGGEST_THRESHOLD,  # noqa: F401
                                          DEFAULT_THRESHOLD, IndexedFace)

SIMILAR_BLOCK = 1024  # rows of the people-by-people similarity computed at once


class _Group:
    """Running totals of one person (canonical id): what grouping a new face needs, kept up to date as
    faces come and go so that indexing a photo does not re-read every face of the archive."""

    __slots__ = ("total", "faces", "photos")

    def __init__(self) -> None:
        self.total = np.zeros(128, np.float64)  # sum of the faces' L2-normalised embeddings
        self.faces = 0
        self.photos: Counter[str] = Counter()  # photo id -> faces of this person in it


def _enc(v: np.ndarray) -> str:
    return base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")


def _dec(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").astype(np.float32)


class FaceIndex:
    def __init__(self, directory: Path, threshold: float = DEFAULT_THRESHOLD,
                 merge_threshold: float | None = DEFAULT_MERGE_THRESHOLD):
        self.dir = Path(directory)
        self.threshold = threshold
        self.merge_threshold = merge_threshold  # None: never merge automatically
        self._alias: dict[str, str] = {}  # merged-away person id → the person it was merged into
        self._apart: set[tuple[str, str]] = set()  # pairs of ids the user keeps apart
        self.journal = self.dir / "journal.jsonl"
        self._lockfile = self.dir / "lock"
        self._mutex = threading.RLock()
        self._faces: dict[str, IndexedFace] = {}
        self._by_photo: dict[str, set[str]] = {}  # photo id -> face ids
        # canonical person id -> running totals; None when the merges changed, rebuilt on the next use
        self._totals: dict[str, _Group] | None = None
        self._offset = 0  # bytes of the journal already applied
        self._removed_lines = 0
        self._inode: int | None = None

    # ------------------------------------------------------------ locking and replay
    @contextmanager
    def _locked(self, exclusive: bool = True):
        with self._mutex:
            self.dir.mkdir(parents=True, exist_ok=True)
            with open(self._lockfile, "a+") as lf:
                fcntl.flock(lf, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                try:
                    self._catch_up()
                    yield
                finally:
                    fcntl.flock(lf, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        try:
            st = os.stat(self.journal)
        except FileNotFoundError:
            self._forget()
            return
        if st.st_ino != self._inode or st.st_size < self._offset:  # compacted by someone else
            self._forget()
            self._inode = st.st_ino
        if st.st_size == self._offset:
            return
        with open(self.journal, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # ignore a torn last line (crash mid-write)
        for line in data[:end].splitlines():
            if line.strip():
                self._apply(json.loads(line))
        self._offset += end

    def _forget(self) -> None:
        """Drop everything in memory: the next lock replays the journal from its start."""
        self._faces.clear()
        self._by_photo.clear()
        self._alias.clear()
        self._apart.clear()
        self._totals = None
        self._offset, self._inode, self._removed_lines = 0, None, 0

    # every change to the faces goes through these three, which keep the running totals current
    def _put(self, face: IndexedFace) -> None:
        self._drop(face.face_id)
        self._faces[face.face_id] = face
        self._by_photo.setdefault(face.photo_id, set()).add(face.face_id)
        self._count(face, +1)

    def _drop(self, face_id: str) -> None:
        face = self._faces.pop(face_id, None)
        if face is not None:
            rest = self._by_photo.get(face.photo_id, set())
            rest.discard(face_id)
            if not rest:
                self._by_photo.pop(face.photo_id, None)
            self._count(face, -1)

    def _refile(self, face: IndexedFace, person_id: str) -> None:
        self._count(face, -1)
        face.person_id = person_id
        self._count(face, +1)

    def _count(self, face: IndexedFace, sign: int) -> None:
        if self._totals is None:
            return  # rebuilt from the faces on the next use
        person = self.canonical(face.person_id)
        group = self._totals.get(person)
        if group is None:
            group = self._totals[person] = _Group()
        group.total += sign * face.embedding
        group.faces += sign
        group.photos[face.photo_id] += sign
        if group.photos[face.photo_id] <= 0:
            del group.photos[face.photo_id]
        if group.faces <= 0:
            del self._totals[person]

    def _regroup(self) -> dict[str, _Group]:
        if self._totals is None:
            totals: dict[str, _Group] = {}
            for f in self._faces.values():
                group = totals.get(c := self.canonical(f.person_id)) or totals.setdefault(c, _Group())
                group.total += f.embedding
                group.faces += 1
                group.photos[f.photo_id] += 1
            self._totals = totals
        return self._totals

    def _apply(self, ev: dict) -> None:
        if ev["op"] == "add":
            self._put(IndexedFace(ev["face_id"], ev["photo_id"], ev["person_id"], ev["bbox"],
                                  ev["confidence"], _dec(ev["embedding"]), ev.get("joined", [])))
        elif ev["op"] == "remove":
            for fid in ev["face_ids"]:
                self._drop(fid)
            self._removed_lines += len(ev["face_ids"]) + 1
        elif ev["op"] == "merge":
            if self._alias.get(ev["from"]) != ev["into"]:
                self._alias[ev["from"]] = ev["into"]
                self._totals = None
        elif ev["op"] == "apart":
            a, b = ev["ids"]
            self._apart.add((a, b))
            self._cut(a, b)
            for fid, person in ev.get("moves", {}).items():
                if fid in self._faces:
                    face = self._faces[fid]
                    self._refile(face, person)
                    # still torn between what is merged with its side (a group of three split once)
                    side = self.canonical(person)
                    rest = [j for j in face.joined if self.canonical(j) == side]
                    face.joined = rest if len(rest) > 1 else []

    def _chain(self, person_id: str) -> list[str]:
        chain = [person_id]
        while (nxt := self._alias.get(chain[-1])) and nxt not in chain:
            chain.append(nxt)
        return chain

    def _cut(self, a: str, b: str) -> None:
        """Cut the one merge pointer that joins two ids: on the path between them, next to whichever of
        them is lower (A←B←C apart(B, C) cuts C→B only: A and B stay one person)."""
        if a == b:
            return
        above_b = set(self._chain(b))
        meet = next((x for x in self._chain(a) if x in above_b), None)
        if meet is not None:
            self._alias.pop(b if a == meet else a, None)
            self._totals = None

    def _append(self, events: list[dict]) -> None:
        payload = "".join(json.dumps(ev, separators=(",", ":")) + "\n" for ev in events).encode()
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                view = memoryview(payload)
                while view:  # unbuffered: nothing is left pending for the cut below to flush
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except BaseException:
                # a torn line (disk full) would glue onto the next append and break every reader
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        for ev in events:
            self._apply(ev)
        self._offset += len(payload)
        st = os.stat(self.journal)
        self._inode = st.st_ino
        if self._removed_lines > 1000 and self._removed_lines > len(self._faces):
            self._compact()

    def _compact(self) -> None:
        tmp = self.journal.with_suffix(".tmp")
        with open(tmp, "w") as f:
            for alias, into in self._alias.items():
                f.write(json.dumps({"op": "merge", "from": alias, "into": into}, separators=(",", ":")) + "\n")
            for pair in sorted(self._apart):
                f.write(json.dumps({"op": "apart", "ids": list(pair)}, separators=(",", ":")) + "\n")
            for face in self._faces.values():
                f.write(json.dumps(self._add_event(face), separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.journal)
        st = os.stat(self.journal)
        self._inode, self._offset, self._removed_lines = st.st_ino, st.st_size, 0

    @staticmethod
    def _add_event(face: IndexedFace) -> dict:
        ev = {"op": "add", "face_id": face.face_id, "photo_id": face.photo_id, "person_id": face.person_id,
              "bbox": face.bbox, "confidence": face.confidence, "embedding": _enc(face.embedding)}
        if face.joined:
            ev["joined"] = face.joined
        return ev

    # ------------------------------------------------------------ grouping
    def canonical(self, person_id: str) -> str:
        with self._mutex:  # other threads apply merges (and replays) under it
            seen = {person_id}
            while (nxt := self._alias.get(person_id)) and nxt not in seen:
                seen.add(nxt)
                person_id = nxt
            return person_id

    def aliases(self, person_id: str) -> list[str]:
        """Ids merged (directly or in a chain) into this person, sorted."""
        with self._mutex:
            return sorted(a for a in list(self._alias) if a != person_id and self.canonical(a) == person_id)

    def _centroids(self) -> tuple[list[str], np.ndarray]:
        totals = self._regroup()
        ids = sorted(totals)
        if not ids:
            return [], np.zeros((0, 128), np.float32)
        cents = np.stack([totals[p].total for p in ids]).astype(np.float32)
        cents /= np.linalg.norm(cents, axis=1, keepdims=True).clip(1e-12)
        return ids, cents

    def _assign(self, emb: np.ndarray, ids: list[str], cents: np.ndarray) -> tuple[str, float]:
        if len(ids):
            sims = cents @ emb
            best = int(np.argmax(sims))
            if sims[best] >= self.threshold:
                return ids[best], float(sims[best])
        return "p-" + uuid.uuid4().hex[:12], 0.0

    # ------------------------------------------------------------ public API
    def add(self, photo_id: str, faces: list[tuple[dict, float, np.ndarray]]) -> list[IndexedFace]:
        """Index a photo's faces, replacing faces indexed before for the same photo (so a retried or
        re-run step does not count a face twice). Faces of one photo never join each other: two
        people in one picture are two people."""
        with self._locked():
            try:
                return self._add(photo_id, faces)
            except BaseException:
                self._forget()  # memory may have run ahead of the journal: read it again on the next call
                raise

    def _add(self, photo_id: str, faces: list[tuple[dict, float, np.ndarray]]) -> list[IndexedFace]:
        # centroids still include this photo's previous faces, so re-indexing a photo keeps its
        # people's ids even when that photo was a person's only one
        ids, cents = self._centroids()
        old = sorted(self._by_photo.get(photo_id, ()))
        events: list[dict] = []
        if old:
            events.append({"op": "remove", "face_ids": old})
            for fid in old:
                self._drop(fid)
        out: list[IndexedFace] = []
        taken: set[str] = set()
        # most confident faces pick first
        for bbox, conf, emb in sorted(faces, key=lambda t: -t[1]):
            keep = np.array([p not in taken for p in ids], dtype=bool)
            person, _ = self._assign(emb, [p for p, k in zip(ids, keep) if k], cents[keep] if len(ids) else cents)
            taken.add(person)
            out.append(IndexedFace("f-" + uuid.uuid4().hex, photo_id, person, bbox, conf, emb))
        # merging needs the new faces in place, so merges are decided before anything is written; then
        # each face is filed under the id it is reported with (the survivor of any merge just made),
        # remembering the merged group it joined so that an unmerge can decide it again
        for face in out:
            self._put(face)
        merges = self._merge_close(taken)
        for face in out:
            self._refile(face, self.canonical(face.person_id))
            group = self.aliases(face.person_id)
            face.joined = [face.person_id, *group] if group else []
            events.append(self._add_event(face))
        self._append(events + merges)
        out = [self._faces[face.face_id] for face in out]
        out.sort(key=lambda f: f.bbox["left"])
        return out

    def _merge_close(self, touched: set[str]) -> list[dict]:
        """Merge events for people whose centroids are ``merge_threshold`` alike and who never share a
        photo, starting from the people just touched (a merge touches its survivor in turn)."""
        if self.merge_threshold is None:
            return []
        events: list[dict] = []
        todo = {self.canonical(p) for p in touched}
        groups = None  # built once, rebuilt only after a merge (rare): this runs under the exclusive lock
        while todo:
            person = todo.pop()
            if groups is None:
                groups = self._groups()
            ids, cents, totals = groups
            if person not in ids:
                continue
            sims = cents @ cents[ids.index(person)]
            best = None
            for k in np.argsort(-sims):
                other = ids[int(k)]
                if sims[k] < self.merge_threshold:
                    break
                if other != person and not self._share_photo(totals[other], totals[person]) \
                        and not self._kept_apart(person, other):
                    best = other
                    break
            if best is None:
                continue
            # the bigger group keeps its id (ties: the smaller id, so every process decides alike)
            into, gone = sorted((person, best), key=lambda p: (-totals[p].faces, p))
            ev = {"op": "merge", "from": gone, "into": into}
            self._apply(ev)  # applied now so the next round sees it; appended by the caller
            events.append(ev)
            groups = None
            todo.discard(gone)
            todo.add(into)
        return events

    def _groups(self) -> tuple[list[str], np.ndarray, dict[str, _Group]]:
        """Canonical ids, their centroids, and their running totals (photos, face counts)."""
        ids, cents = self._centroids()
        return ids, cents, self._regroup()

    @staticmethod
    def _share_photo(a: _Group, b: _Group) -> bool:
        small, big = (a.photos, b.photos) if len(a.photos) <= len(b.photos) else (b.photos, a.photos)
        return any(photo in big for photo in small)

    def similar(self, threshold: float = DEFAULT_SUGGEST_THRESHOLD) -> list[tuple[str, str, float]]:
        """Pairs of people (canonical ids) that may be one person, most alike first: centroids at least
        ``threshold`` alike, never in one photo together, not kept apart, for the user to decide. Mostly
        what the automatic merge did not dare (below ``merge_threshold``); there is no upper bound, so
        a closer pair it has not compared (it compares only the people a new photo touches) is asked too."""
        with self._locked(exclusive=False):
            ids, cents, totals = self._groups()
            out = []
            # a block of rows at a time: thousands of people (strangers in the background are people
            # too) would make the whole similarity matrix hundreds of MB
            for start in range(0, len(ids), SIMILAR_BLOCK):
                sims = cents[start:start + SIMILAR_BLOCK] @ cents.T
                for i, j in zip(*np.nonzero(sims >= threshold)):
                    i, j = start + int(i), int(j)
                    if j <= i:
                        continue
                    a, b = ids[i], ids[j]
                    if not self._share_photo(totals[a], totals[b]) and not self._kept_apart(a, b):
                        out.append((a, b, round(float(sims[i - start, j]), 4)))
        return sorted(out, key=lambda t: (-t[2], t[0], t[1]))

    def _kept_apart(self, x: str, y: str) -> bool:
        """Whether the user keeps the groups of canonical ids ``x`` and ``y`` apart."""
        return any({self.canonical(a), self.canonical(b)} == {x, y} for a, b in self._apart)

    def keep_apart(self, a: str, b: str) -> list[IndexedFace]:
        """The user says ``a`` and ``b`` are different people: undo any merge between them, never merge
        them again, and decide again the faces that joined the merged group meanwhile. Returns the faces
        that changed person (``person_id`` is the new one)."""
        if a == b:
            return []
        with self._locked():
            if tuple(sorted((a, b))) in self._apart and self.canonical(a) != self.canonical(b):
                return []  # said before (a name conflict repeats with every photo), nothing to undo
            saved = dict(self._alias)
            try:
                self._cut(a, b)
                moves = self._redecide(a, b)
            finally:
                self._alias = saved  # the event applies the cut itself, in memory and on replay alike
            before = {fid: self._faces[fid].person_id for fid in moves}
            self._append([{"op": "apart", "ids": sorted((a, b)), "moves": moves}])
            return [self._faces[fid] for fid, person in moves.items() if before[fid] != person]

    def _redecide(self, a: str, b: str) -> dict[str, str]:
        """After a cut: face id → side (canonical id) for every face that joined a group holding both
        sides. Each goes to the side whose earlier faces' centroid is nearer, unless its photo already has
        a face there (two faces of one photo are two people)."""
        sides = (self.canonical(a), self.canonical(b))
        if sides[0] == sides[1]:
            return {}
        members, torn = self._torn(sides)
        if not torn or not all(members.values()):
            return {}
        cents = {side: _unit_mean([f.embedding for f in faces]) for side, faces in members.items()}
        photos = {side: {f.photo_id for f in faces} for side, faces in members.items()}
        moves: dict[str, str] = {}
        for f in sorted(torn, key=lambda f: (-f.confidence, f.face_id)):
            ranked = sorted(sides, key=lambda side: (-float(cents[side] @ f.embedding), side))
            side = next((s for s in ranked if f.photo_id not in photos[s]), self.canonical(f.person_id))
            photos[side].add(f.photo_id)
            # a face staying on its side keeps its id (it may be an alias of the side's canonical one)
            moves[f.face_id] = f.person_id if side == self.canonical(f.person_id) else side
        return moves

    def _torn(self, sides: tuple[str, str]) -> tuple[dict[str, list[IndexedFace]], list[IndexedFace]]:
        """(side → its faces that never joined a group holding both sides, the faces that did)."""
        members: dict[str, list[IndexedFace]] = {sides[0]: [], sides[1]: []}
        torn: list[IndexedFace] = []
        for f in self._faces.values():
            side = self.canonical(f.person_id)
            if side not in members:
                continue
            joined = {self.canonical(j) for j in f.joined}
            (torn if set(sides) <= joined else members[side]).append(f)
        return members, torn

    def remove(self, face_ids: list[str]) -> None:
        with self._locked():
            known = [fid for fid in face_ids if fid in self._faces]
            if known:
                self._append([{"op": "remove", "face_ids": known}])

    def faces(self) -> list[IndexedFace]:
        with self._locked(exclusive=False):
            return list(self._faces.values())

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        """face id → the person id it is filed under now (faces no longer indexed are left out)."""
        with self._locked(exclusive=False):
            return {fid: self._faces[fid].person_id for fid in face_ids if fid in self._faces}

    def people(self) -> dict[str, list[str]]:
        """person id (merges followed) → face ids."""
        with self._locked(exclusive=False):
            out: dict[str, list[str]] = {}
            for f in self._faces.values():
                out.setdefault(self.canonical(f.person_id), []).append(f.face_id)
            return out


def _unit_mean(embeddings: list[np.ndarray]) -> np.ndarray:
    """The embeddings' mean, L2-normalised: a group's centroid."""
    c = np.mean(embeddings, axis=0)
    return c / max(float(np.linalg.norm(c)), 1e-12)

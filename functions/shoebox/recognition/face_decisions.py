"""The face index's decisions over a snapshot of the people (pure, no I/O): which person each new face
joins, which people it creates and which groups it merges, with the same rules as the file index
(``recognition/local/index.py``). ``dynamo_index.py`` reads the snapshot from DynamoDB and writes the
decision back in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np

from shoebox.recognition.grouping import IndexedFace


@dataclass
class PersonId:
    """One person id's own running totals (a group is the ids whose merges lead to one canonical id)."""

    total: np.ndarray = field(default_factory=lambda: np.zeros(128, np.float64))
    faces: int = 0
    together: dict[str, int] = field(default_factory=dict)  # other id -> photos with faces of both
    into: str | None = None
    v: int = 0  # version read; 0: not stored yet


@dataclass
class Snapshot:
    """What one decision reads: the head and every person id (pure, no I/O below)."""

    v: int = 0
    apart: set[tuple[str, str]] = field(default_factory=set)
    ids: dict[str, PersonId] = field(default_factory=dict)
    exists: bool = False  # the head item exists
    recent: list[list] = field(default_factory=list)  # the head's log: [version, [person ids it wrote]]
    _own: set[str] | None = None  # a fork: ids already copied (copy on write)

    def fork(self) -> "Snapshot":
        """A copy to decide on: person records are copied when first changed, so a decision that loses
        its transaction leaves the cached snapshot as it was."""
        return Snapshot(self.v, set(self.apart), dict(self.ids), self.exists, list(self.recent), set())

    def mine(self, pid: str) -> PersonId:
        rec = self.ids.get(pid)
        if rec is None:
            rec = self.ids[pid] = PersonId()
        elif self._own is not None and pid not in self._own:
            rec = self.ids[pid] = PersonId(rec.total.copy(), rec.faces, dict(rec.together), rec.into, rec.v)
        if self._own is not None:
            self._own.add(pid)
        return rec

    def canonical(self, pid: str) -> str:
        seen = {pid}
        while (nxt := self.ids[pid].into if pid in self.ids else None) and nxt not in seen:
            seen.add(nxt)
            pid = nxt
        return pid

    def aliases(self, pid: str) -> list[str]:
        return sorted(a for a in self.ids if a != pid and self.canonical(a) == pid)

    def groups(self) -> dict[str, tuple[np.ndarray, int, list[str]]]:
        """canonical id -> (sum of embeddings, faces, member ids) for groups with faces."""
        out: dict[str, list] = {}
        for pid, rec in self.ids.items():
            g = out.setdefault(self.canonical(pid), [np.zeros(128, np.float64), 0, []])
            g[0] = g[0] + rec.total
            g[1] += rec.faces
            g[2].append(pid)
        return {c: (t, n, m) for c, (t, n, m) in out.items() if n > 0}

    def centroids(self, groups: dict) -> tuple[list[str], np.ndarray]:
        ids = sorted(groups)
        if not ids:
            return [], np.zeros((0, 128), np.float32)
        cents = np.stack([groups[p][0] for p in ids]).astype(np.float32)
        cents /= np.linalg.norm(cents, axis=1, keepdims=True).clip(1e-12)
        return ids, cents

    def kept_apart(self, x: str, y: str) -> bool:
        return any({self.canonical(a), self.canonical(b)} == {x, y} for a, b in self.apart)

    def share_photo(self, members_a: list[str], members_b: list[str]) -> bool:
        b = set(members_b)
        return any(n > 0 and other in b for a in members_a for other, n in self.ids[a].together.items())

    def count(self, pid: str, emb: np.ndarray, sign: int) -> None:
        rec = self.mine(pid)
        rec.total = rec.total + sign * emb.astype(np.float64)
        rec.faces += sign

    def pair(self, filed: list[str], sign: int) -> None:
        """One photo with faces filed under these ids: each pair of them shares one photo more (less)."""
        for a in filed:
            for b in filed:
                if a != b:
                    t = self.mine(a).together
                    t[b] = t.get(b, 0) + sign
                    if t[b] <= 0:
                        del t[b]


@dataclass
class Decision:
    faces: list[IndexedFace]
    changed: set[str]  # person ids whose items are written
    created: set[str]
    merged: bool


def decide_add(snap: Snapshot, photo_id: str, old: list[IndexedFace], new: list[tuple[dict, float, np.ndarray]],
               threshold: float, merge_threshold: float | None) -> Decision:
    """The file index's ``_add`` over a snapshot (mutated in place): the same joins, ids and merges."""
    # centroids still include the photo's previous faces, so re-indexing keeps its people's ids
    ids, cents = snap.centroids(snap.groups())
    changed: set[str] = set()
    if old:
        snap.pair(sorted({f.person_id for f in old}), -1)
        for f in old:
            snap.count(f.person_id, f.embedding, -1)
            changed.add(f.person_id)
    out, taken, created = _assign(ids, cents, photo_id, new, threshold)
    for face in out:
        snap.count(face.person_id, face.embedding, +1)
        changed.add(face.person_id)
    merged = _merge_close(snap, taken, merge_threshold, changed)
    filed = []
    for face in out:
        final = snap.canonical(face.person_id)
        if final != face.person_id:
            snap.count(face.person_id, face.embedding, -1)
            snap.count(final, face.embedding, +1)
            changed.add(final)
            face.person_id = final
        group = snap.aliases(face.person_id)
        face.joined = [face.person_id, *group] if group else []
        filed.append(face.person_id)
    snap.pair(sorted(set(filed)), +1)
    changed |= set(filed)
    out.sort(key=lambda f: f.bbox["left"])
    return Decision(out, changed, created, merged)


def _assign(ids: list[str], cents: np.ndarray, photo_id: str, new: list[tuple[dict, float, np.ndarray]],
            threshold: float) -> tuple[list[IndexedFace], set[str], set[str]]:
    """Each new face, most confident first, joins the most alike person no other face of the photo took
    (if ≥ ``threshold``), else a new person. Returns the faces, the person ids taken, those created."""
    out: list[IndexedFace] = []
    taken: set[str] = set()
    created: set[str] = set()
    for bbox, conf, emb in sorted(new, key=lambda t: -t[1]):
        keep = np.array([p not in taken for p in ids], dtype=bool)
        person = None
        if len(ids) and keep.any():
            cand = [p for p, k in zip(ids, keep) if k]
            sims = cents[keep] @ emb
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                person = cand[best]
        if person is None:
            person = "p-" + uuid.uuid4().hex[:12]
            created.add(person)
        taken.add(person)
        out.append(IndexedFace("f-" + uuid.uuid4().hex, photo_id, person, bbox, conf, emb))
    return out, taken, created


def _merge_close(snap: Snapshot, touched: set[str], merge_threshold: float | None, changed: set[str]) -> bool:
    if merge_threshold is None:
        return False
    merged = False
    # the photo being indexed is in every group one of its faces was given (pairs are counted later)
    in_photo = set(touched)
    todo = {snap.canonical(p) for p in touched}
    while todo:
        person = todo.pop()
        groups = snap.groups()
        ids, cents = snap.centroids(groups)
        if person not in groups:
            continue
        sims = cents @ cents[ids.index(person)]
        now = {snap.canonical(p) for p in in_photo}
        best = None
        for k in np.argsort(-sims):
            other = ids[int(k)]
            if sims[k] < merge_threshold:
                break
            if other == person or (person in now and other in now):
                continue
            if not snap.share_photo(groups[other][2], groups[person][2]) and not snap.kept_apart(person, other):
                best = other
                break
        if best is None:
            continue
        into, gone = sorted((person, best), key=lambda p: (-groups[p][1], p))
        snap.mine(gone).into = into
        changed |= {gone, into}
        merged = True
        todo.discard(gone)
        todo.add(into)
    return merged

"""Keeping the catalog's people and the recognizer's groups in agreement: folding in the groups the
recognizer merged by itself (``absorb``) unless the user decided otherwise, and telling it when the user
separates people (``_separate``), re-filing the faces it moves in answer. A mixin of ``People``
(``people.py``), whose reads, merges and row upkeep it uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from shoebox.catalog import people_rows as prow
from shoebox.catalog import people_rules as rules
from shoebox.catalog.people_rules import MergeRaced, refile
from shoebox.models import PhotoRecord

if TYPE_CHECKING:
    from shoebox.catalog.store import Catalog


class Reconcile:
    """``absorb`` and ``_separate``; the attributes and methods below are ``People``'s."""

    catalog: Catalog
    client: Any
    table: str
    keep_apart: Callable[[list[str]], Any] | None
    filed_as: Callable[[list[str]], dict[str, str]] | None
    _query: Callable[..., Iterable[dict]]
    _rows: Callable[[], dict[str, dict]]
    _row: Callable[[str], dict | None]
    merge: Callable[..., Any]
    hide: Callable[..., Any]
    record_photo: Callable[[PhotoRecord], dict[str, int]]
    _refresh: Callable[..., None]

    def absorb(self, person_id: str, aliases: Iterable[str]) -> list[str]:
        """The recognizer found ``aliases`` to be the same person as ``person_id``: merge them as
        ``merge`` would, unless the user decided otherwise (a group the user unmerged from one of them,
        or two groups named differently, stay apart). A named alias of an unnamed person keeps the name by becoming
        the canonical one; merged into a hidden person, a listed one makes them listed. Returns the ids
        merged away now."""
        done: list[str] = []
        # every later photo of the person repeats its aliases: GetItems decide the usual "already done"
        # case, without reading the whole PEOPLE partition
        chain_a: list[dict] | None = None
        for alias in (a for a in dict.fromkeys(aliases) if a and a != person_id):
            chain_a = chain_a or self._chain(person_id)  # read again only after a merge changed it
            chain_b = self._chain(alias)
            if not chain_a or not chain_b or chain_a[-1]["id"] == chain_b[-1]["id"]:
                continue  # not persisted yet (the next photo reports the alias again), or folded in already
            merged = self._absorb_one(person_id, alias, chain_a[-1], chain_b[-1])
            if merged != "":
                chain_a = None  # the rows changed (or may have): read them again
            if merged:
                done.append(merged)
        return done

    def _absorb_one(self, person_id: str, alias: str, a: dict, b: dict) -> str | None:
        """One due merge of ``absorb`` (rare): the groups are read whole, since the user may have unmerged
        any member of one from any member of the other, and a group's name may be on any of its rows.
        Returns the id merged away, "" when the rows were left as they are, None when they may have
        changed without a merge."""
        rows = self._rows()
        apart = rules.kept_apart(rows, rules.group(rows, a["id"]), rules.group(rows, b["id"]))
        decision = rules.absorb_decision(rules.group_name(rows, a["id"]), rules.group_name(rows, b["id"]), apart)
        if decision == "separate":
            self._separate([person_id, alias])  # the user's names say two people: the recognizer must agree
            return None  # re-filing may have changed the rows
        if decision == "keep":
            return ""
        target, other = (b, a) if decision == "merge-into-b" else (a, b)  # the named one keeps its id
        try:
            self.merge([target["id"], other["id"]])
        except MergeRaced:
            return None  # someone merged one of them meanwhile: the next photo of this person reports it again
        if target["hidden"] and not other["hidden"]:
            self.hide(target["id"], hidden=False)  # a guess by the recognizer never hides a listed person
        return other["id"]

    def _separate(self, person_ids: list[str], check_filing: bool = False) -> None:
        """Tell the recognizer these are different people; re-file the faces it moves in answer (faces
        that joined its merged group before the user split it) under their new person, as the persist
        step would have filed them: photo record, index rows, counts, face rows, covers.

        The recognizer reports a move once. So that an unmerge cut short (a crash, a throttled write) is
        finished by saying it again, ``check_filing`` (the user's unmerge; not the persist step, where it
        would cost a read of both groups per photo) also checks every face the catalog files under either
        group against where the recognizer files it now (``filed_as``), and brings a misfiled face's
        photo, its rows and counts, and its face row in line, however far the earlier attempt got."""
        if not self.keep_apart:
            return
        by_photo: dict[str, dict[str, str]] = {}
        for move in self.keep_apart(person_ids) or []:
            by_photo.setdefault(move.photo_id, {})[move.face_id] = move.person_id
        misfiled = self._misfiled(person_ids) if check_filing else []
        for row, person in misfiled:
            by_photo.setdefault(row["key"], {})[row["face_id"]] = person
        redo = {row["key"] for row, _ in misfiled}
        for key, moved in sorted(by_photo.items()):
            # conditional on the version read: a re-process of the photo meanwhile is not overwritten
            record = self.catalog.update_photo(key, lambda rec, moved=moved: refile(rec, moved))
            if record is None and key in redo:
                # filed right already, but the earlier attempt may have stopped before its rows and
                # counts: write it again as it is (idempotent, version-checked)
                record = self.catalog.update_photo(key, lambda rec: True)
            if record is not None:  # None: not persisted yet (the persist step files it)
                self.record_photo(record)
        for row, _ in misfiled:  # a face row left under the old person (record_photo saw no change)
            self.client.delete_item(TableName=self.table, Key={"pk": {"S": row["pk"]}, "sk": {"S": row["sk"]}})
        for pid, key in sorted({(row["person_id"], row["key"]) for row, _ in misfiled}):
            # …whose samples and cover may still show that photo
            self._refresh(pid, PhotoRecord(key=key, status="removed"), [])

    def _misfiled(self, person_ids: list[str]) -> list[tuple[dict, str]]:
        """(face row: pk, sk, key, face_id, person_id; the person id the recognizer files it under now)
        for the faces of these people's groups that the catalog files elsewhere."""
        if not self.filed_as:
            return []
        rows = self._rows()
        ids = sorted({pid for ref in person_ids if ref in rows
                      for pid in rules.group(rows, rules.canonical(rows, ref))})
        faces = [prow.misfiled_face(item, pid)
                 for pid in ids
                 for item in self._query(KeyConditionExpression="pk = :pk",
                                         ExpressionAttributeValues={":pk": {"S": prow.faces_pk(pid)}})]
        now = self.filed_as([face["face_id"] for face in faces]) if faces else {}
        return [(face, now[face["face_id"]]) for face in faces
                if now.get(face["face_id"]) not in (None, face["person_id"])]

    def _chain(self, person_id: str) -> list[dict]:
        """The person's row and the rows its ``merged_into`` leads to, canonical last; [] if unknown."""
        chain: list[dict] = []
        row = self._row(person_id)
        while row and row["id"] not in {r["id"] for r in chain}:
            chain.append(row)
            row = self._row(row["merged_into"]) if row["merged_into"] else None
        return chain

"""People: person rows, faces of a person, names and merges (see docs/people.md).

The rules (who an id is now, which name a group goes by, what counts change) are pure, in
``people_rules``; the rows and transactions in ``people_rows``; cover crops in ``covers``. This module
reads rows, asks the rules and writes what they decide.

Folding in the recognizer's own merges and telling it of the user's separations is in ``people_reconcile``.

Person ids come from the recognizer (local ``p-…``, Rekognition UserIds) and are stable across
re-processing, so names and merges, which live only on the person rows, survive re-indexing.

A merge of B into A only sets ``merged_into = A`` on B's row: photos keep their person ids, and every read
folds B into A. It is reversible (``unmerge``) and the same on both recognizers. The local recognizer also
merges groups by itself when they turn out to be one person; it reports the merged-away ids with each
face (``aliases``) and ``record_photo`` folds them in the same way (``absorb``), except where the user
decided otherwise: a group the user unmerged, or two groups the user named differently, stay apart.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from shoebox.catalog import people_rows as prow
from shoebox.catalog import people_rules as rules
from shoebox.catalog.covers import Covers
from shoebox.catalog.people_reconcile import Reconcile
from shoebox.catalog.people_rules import (
    NameTaken,
    PeopleError,
    Person,
    PersonNotFound,
    PersonRef,
    clean_name,
    person_refs,
)
from shoebox.catalog.store import Catalog
from shoebox.models import PhotoRecord


class MovedFace(Protocol):  # shoebox.recognition.base.FaceMove
    face_id: str
    photo_id: str
    person_id: str


# Recognizer.keep_apart: told that these ids are different people, returns the faces it moved
KeepApart = Callable[[list[str]], "Iterable[MovedFace] | None"]
# Recognizer.filed_as: face id → the person id the recognizer files it under now
FiledAs = Callable[[list[str]], dict[str, str]]


class LikelyPair(Protocol):  # shoebox.recognition.base.PeopleMatch
    a: str
    b: str
    similarity: float


class People(Reconcile):
    """People operations over one catalog table. ``s3``/``bucket`` are needed only to make cover crops.
    ``keep_apart`` tells the recognizer when the user separates groups it may have merged by itself
    (``Recognizer.keep_apart``); the faces it moves in answer are moved here too. Without it the decision
    stays in the catalog."""

    def __init__(self, catalog: Catalog, s3: Any = None, bucket: str | None = None,
                 keep_apart: KeepApart | None = None, filed_as: FiledAs | None = None) -> None:
        self.catalog = catalog
        self.keep_apart = keep_apart
        self.filed_as = filed_as
        self.client = catalog.client
        self.table = catalog.table
        self.bucket = bucket
        self.covers = Covers(s3, bucket)

    @property
    def s3(self) -> Any:
        return self.covers.s3

    # ------------------------------------------------------------------ raw reads
    def _query(self, **kwargs: Any) -> Iterable[dict]:
        kwargs.setdefault("ConsistentRead", True)
        return self.catalog._query(**kwargs)

    def _rows(self) -> dict[str, dict]:
        """Every person row: one Query on the PEOPLE partition."""
        items = self._query(KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues={":pk": {"S": prow.PEOPLE_PK}})
        return {row["id"]: row for row in map(prow.row_to_dict, items)}

    def _row(self, person_id: str) -> dict | None:
        item = self.client.get_item(TableName=self.table, Key=prow.person_key(person_id),
                                    ConsistentRead=True).get("Item")
        return prow.row_to_dict(item) if item else None

    def _lookup(self, rows: dict[str, dict], ref: str) -> str:
        """Canonical id for a person id or a name (case-insensitive)."""
        found = rules.lookup(rows, ref)
        if found is None:
            raise PersonNotFound(f"no person with id or name {ref.strip()!r}")
        return found

    def _update(self, person_id: str, expression: str, values: dict | None, names: dict | None = None,
                condition: str | None = None, unmet_ok: bool = False) -> None:
        prow.update_person(self.client, self.table, person_id, expression, values, names, condition, unmet_ok)

    # ------------------------------------------------------------------ public reads
    def list_people(self, include_empty: bool = False, include_hidden: bool = True) -> list[Person]:
        """Canonical people, most photographed first (named before unnamed on ties)."""
        return rules.listed(self._rows(), include_empty, include_hidden)

    def people_and_names(self) -> tuple[list[Person], dict[str, str]]:
        """``list_people(include_empty=True)`` and ``names()`` from one read of the rows (the search
        vocabulary needs both)."""
        rows = self._rows()
        return rules.listed(rows, include_empty=True, include_hidden=True), rules.names(rows)

    def get(self, ref: str) -> Person:
        """One person by id (an alias id gives its canonical person) or by name."""
        rows = self._rows()
        return rules.person(rows, self._lookup(rows, ref))

    def refs(self) -> dict[str, PersonRef]:
        """Every person id, canonical or merged away, → the person it is now, with the name: one Query.
        Photo rows keep the id their face was filed under; this is how lists show them."""
        return person_refs(self.list_people(include_empty=True))

    def names(self) -> dict[str, str]:
        """{lowercased name: canonical person id}, names of merged-away groups included (search vocabulary)."""
        return rules.names(self._rows())

    def resolve(self, name_or_id: str) -> list[str]:
        """Every person id whose photos are this person's: the canonical id first, then merged aliases.
        [] when nothing matches."""
        rows = self._rows()
        found = rules.lookup(rows, name_or_id)
        return rules.group(rows, found) if found else []

    def photos_of(self, name_or_id: str, limit: int | None = None, start: str | None = None,
                  end: str | None = None) -> list[dict]:
        """Index summaries of the person's photos (aliases included), newest first, each photo once."""
        ids = self.resolve(name_or_id)
        if not ids:
            raise PersonNotFound(f"no person with id or name {name_or_id!r}")
        found: dict[str, tuple[str, dict]] = {}
        for pid in ids:
            for row in self.catalog.query_partition(prow.keys.person_pk(pid), start, end, limit=limit):
                found[row["key"]] = (prow.keys.time_sk(row.get("taken_at"), row["key"]), row)
        ordered = [row for _, row in sorted(found.values(), key=lambda pair: pair[0], reverse=True)]
        return ordered[:limit] if limit else ordered

    def faces_of(self, name_or_id: str) -> list[dict]:
        """Face rows of the person (aliases included), newest photo first."""
        out: list[tuple[str, dict]] = []
        for pid in self.resolve(name_or_id):
            for item in self._query(KeyConditionExpression="pk = :pk", ScanIndexForward=False,
                                    ExpressionAttributeValues={":pk": {"S": prow.faces_pk(pid)}}):
                out.append((item["sk"]["S"], prow.face_item(item, pid)))
        return [face for _, face in sorted(out, key=lambda pair: pair[0], reverse=True)]

    def faces_of_id(self, person_id: str, limit: int | None = None) -> list[dict]:
        """Face rows of exactly this person id (no aliases), newest photo first."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk", "ScanIndexForward": False,
                                  "ExpressionAttributeValues": {":pk": {"S": prow.faces_pk(person_id)}}}
        if limit:
            kwargs["Limit"] = limit
        out = []
        for item in self._query(**kwargs):
            out.append(prow.face_item(item, person_id))
            if limit and len(out) >= limit:
                break
        return out

    # ------------------------------------------------------------------ names and merges
    def name_person(self, ref: str, name: str) -> Person:
        """Name (or rename) a person; on an alias id the canonical person is named. A name belongs to one
        person: naming a second person with it is refused (merge them instead)."""
        name = clean_name(name)
        if not name:
            raise PeopleError("a name cannot be empty")
        rows = self._rows()
        canonical = self._lookup(rows, ref)
        if name in rows:  # ids are looked up before names: this name would find that person, not this one
            raise PeopleError(f"{name!r} is a person id; choose another name")
        holder = rules.names(rows).get(name.lower())
        old = rules.group_name(rows, canonical)
        if holder and holder != canonical:
            via = next((pid for pid in rules.group(rows, holder)
                        if (rows[pid]["name"] or "").lower() == name.lower()), holder)
            raise NameTaken(rules.name_taken(name, holder, canonical, hidden=bool(rows[holder]["hidden"]),
                                             shown=rules.group_name(rows, holder), via=via))
        self._update(canonical, "SET #n = :n, name_lc = :lc, updated_at = :t",
                     {":n": {"S": name}, ":lc": {"S": name.lower()}, ":t": {"S": prow.now()}}, {"#n": "name"})
        for pid in rules.names_to_drop(rows, rules.group(rows, canonical), old, name):
            self._update(pid, "REMOVE #n, name_lc", None, {"#n": "name"})
        return self.get(canonical)

    def hide(self, ref: str, hidden: bool = True) -> Person:
        """Hide a person from the people list and from suggestions (a stranger in the background, a
        face on a poster), or show them again. Their photos stay findable, by name too. The flag is on
        the canonical row: merged into someone else, a hidden group takes that person's visibility."""
        return self.hide_many([ref], hidden)[0]

    def hide_many(self, refs: Iterable[str], hidden: bool = True) -> list[Person]:
        """``hide`` for several people (ids or names), each once, in the order given. One read of the
        PEOPLE partition for all of them, and every ref is looked up before any row changes, so an
        unknown one changes nothing."""
        rows = self._rows()
        canonical = list(dict.fromkeys([self._lookup(rows, ref) for ref in refs]))
        for pid in canonical:
            if hidden:  # HIDDEN is a DynamoDB reserved word
                self._update(pid, "SET #h = :h, updated_at = :t", {":h": {"BOOL": True}, ":t": {"S": prow.now()}},
                             {"#h": "hidden"})
            else:
                self._update(pid, "SET updated_at = :t REMOVE #h", {":t": {"S": prow.now()}}, {"#h": "hidden"})
            rows[pid] = {**rows[pid], "hidden": hidden}  # what was written: reported without reading again
        return [rules.person(rows, pid) for pid in canonical]

    def merge(self, ids: Iterable[str]) -> Person:
        """Merge every other person into the first: their rows point to it (``merged_into``), so their
        photos and faces are found under it. The first person's name wins (its own, or the one it goes by
        through a merged-in group); if it has none, the first named of the others gives it one, by
        reference (``name_from``): no name is copied, so an unmerge takes a group's name along. Ids or
        names are accepted; aliases are followed to their canonical id."""
        refs = list(ids)
        if len(refs) < 2:
            raise PeopleError("merge needs at least two people")
        rows = self._rows()
        if any([self._break_cycle(rows, self._lookup(rows, ref)) for ref in refs]):
            rows = self._rows()
        target = self._lookup(rows, refs[0])
        others = rules.others_to_merge(target, [self._lookup(rows, ref) for ref in refs[1:]])
        if not others:
            return rules.person(rows, target)
        now = {":t": {"S": prow.now()}}
        if not rows[target]["name"]:
            lender = rules.merge_lender(rows, target, others)
            if lender and lender != rows[target]["name_from"]:
                self._update(target, "SET name_from = :f, updated_at = :t", {":f": {"S": lender}, **now})
        for pid in others:
            prow.merge_into(self.client, self.table, pid, target, now[":t"]["S"])
        # flatten: whatever pointed at a merged-away person now points straight at the target
        for pid, row in rows.items():
            if row["merged_into"] in others:
                self._update(pid, "SET merged_into = :m, updated_at = :t", {":m": {"S": target}, **now})
        return self.get(target)

    def unmerge(self, person_id: str) -> Person:
        """Undo a merge for one group id: it becomes its own person again (its own name, if it had one).
        Said again of either group of a split, it finishes what an interrupted unmerge left: the photos the
        recognizer re-filed are re-filed in the catalog too."""
        rows = self._rows()
        if person_id not in rows:
            raise PersonNotFound(f"no person with id {person_id!r}")
        broke_cycle = self._break_cycle(rows, person_id)
        if broke_cycle:
            rows = self._rows()
        if rows[person_id]["merged_into"]:
            self._split(rows, person_id)
        else:
            self._finish_split(rows, person_id, broke_cycle)
        return self.get(person_id)

    def _split(self, rows: dict[str, dict], person_id: str) -> None:
        former = rules.canonical(rows, person_id)
        self._update(person_id, "REMOVE merged_into SET updated_at = :t ADD kept_apart :k",
                     {":k": {"SS": [former]}, ":t": {"S": prow.now()}})
        self._separate([person_id, former], check_filing=True)
        own = (rows[person_id]["name"] or "").lower()
        for pid in (rules.group(rows, former) if own else []):
            if pid != person_id and (rows[pid]["name"] or "").lower() == own:
                # an older Shoebox copied a merged-in name onto the person it joined (and on along
                # chains): the name leaves with its group, unless renamed meanwhile (the condition)
                self._update(pid, "REMOVE #n, name_lc SET updated_at = :t",
                             {":t": {"S": prow.now()}, ":lc": {"S": own}}, {"#n": "name"},
                             condition="name_lc = :lc", unmet_ok=True)

    def _finish_split(self, rows: dict[str, dict], person_id: str, broke_cycle: bool) -> None:
        # the split is stored on the id that was unmerged; either side's id finishes it
        apart = rows[person_id]["kept_apart"] | {pid for pid, row in rows.items() if person_id in row["kept_apart"]}
        if not apart and not broke_cycle:
            merged_in = sorted(pid for pid, row in rows.items() if row["merged_into"] == person_id)
            hint = f"; unmerge a group merged into it instead: {', '.join(merged_in)}" if merged_in else ""
            raise PeopleError(f"{person_id} was never merged into another person: nothing to unmerge{hint}")
        for other in sorted(apart):
            # not if the user has merged the two again since
            if other in rows and rules.canonical(rows, other) != rules.canonical(rows, person_id):
                self._separate([person_id, other], check_filing=True)

    def _break_cycle(self, rows: dict[str, dict], person_id: str) -> bool:
        """If ``person_id``'s ``merged_into`` chain loops (two merges raced), make the cycle's smallest id,
        which every read already treats as its person, canonical for real. True if a row was changed."""
        head = rules.cycle_head(rows, person_id)
        if head is None:
            return False
        self._update(head, "REMOVE merged_into SET updated_at = :t",
                     {":t": {"S": prow.now()}, ":m": {"S": rows[head]["merged_into"]}},
                     condition="merged_into = :m", unmet_ok=True)
        return True

    def apart(self, first: str, second: str) -> Person:
        """The user says two people (ids or names) who were never merged are different people: they are
        never merged automatically, the recognizer is told, and ``suggestions`` stops offering the pair.
        Kept on the first's canonical row (``kept_apart``), like an unmerge."""
        rows = self._rows()
        a, b = self._lookup(rows, first), self._lookup(rows, second)
        if a == b:
            raise PeopleError(f"{first!r} and {second!r} are one person now (merged); "
                              f"`shoebox people unmerge` the merged-away id instead")
        self._update(a, "SET updated_at = :t ADD kept_apart :k", {":k": {"SS": [b]}, ":t": {"S": prow.now()}})
        self._separate([a, b])
        return self.get(a)

    def suggestions(self, matches: Iterable[LikelyPair], limit: int | None = None) -> list[dict]:
        """The recognizer's guesses of people who may be one (``Recognizer.similar_people``) folded onto
        the catalog's people, most alike first: each pair of canonical people once, not pairs the user
        merged, kept apart (any member of one from any member of the other), that the catalog does not
        know (not persisted yet), left with no face, hidden, or seen in one photo. Each: {"a": person, "b":
        person, "similarity"}."""
        rows = self._rows()
        out: list[dict] = []
        people: dict[str, Person] = {}
        for (a, b), similarity in rules.best_pairs(rows, matches):
            if rules.kept_apart(rows, rules.group(rows, a), rules.group(rows, b)):
                continue
            for pid in (a, b):
                people.setdefault(pid, rules.person(rows, pid))
            if not rules.may_suggest(people[a], people[b]) or self._together(rows, people[a], people[b]):
                continue  # seen in one photo: two people (the recognizer knows only its own groups)
            out.append({"a": people[a].to_json(), "b": people[b].to_json(), "similarity": round(similarity, 3)})
            if limit and len(out) >= limit:
                break
        return out

    def _together(self, rows: dict[str, dict], a: Person, b: Person) -> bool:
        """Whether a photo shows both people (groups whole): reads the index rows of the one with fewer
        photos, whose summaries list each photo's people."""
        small, large = (a, b) if a.photos <= b.photos else (b, a)
        others = set(rules.group(rows, large.id))
        return any(others & set(row.get("people") or [])
                   for pid in rules.group(rows, small.id)
                   for row in self.catalog.query_partition(prow.keys.person_pk(pid)))

    # ------------------------------------------------------------------ keeping rows current (persist)
    def record_photo(self, record: PhotoRecord) -> dict[str, int]:
        """Bring person rows, face rows, samples and covers in line with ``record`` (after put_photo).
        Idempotent: re-processing a photo with the same faces changes nothing. A photo that is not
        ``processed`` (failed, skipped) contributes no faces. Returns the applied face-count deltas."""
        new_faces = rules.faces_filed(record, prow.face_sk)  # (person_id, face sk, face)
        new_pairs = [(pid, sk) for pid, sk, _ in new_faces]
        old_faces = prow.apply_counts(self.client, self.table, record.key, new_pairs)
        self._write_face_rows(record, new_faces, old_faces)
        affected = sorted({pid for pid, _ in old_faces} | {pid for pid, _, _ in new_faces})
        for pid in affected:
            self._refresh(pid, record, [(sk, face) for p, sk, face in new_faces if p == pid])
        for pid, _, face in new_faces:
            if face.get("aliases"):
                self.absorb(pid, face["aliases"])
        return rules.deltas(old_faces, new_pairs)[0]

    def forget_photo(self, key: str) -> None:
        """The photo is gone (deleted original): take its faces out of every person."""
        self.record_photo(PhotoRecord(key=key, status="removed"))

    def _write_face_rows(self, record: PhotoRecord, new: list[tuple[str, str, dict]],
                         old: list[tuple[str, str]]) -> None:
        requests = prow.face_row_requests(record, new, old)
        if requests:
            self.catalog._batch_write(requests)

    def _samples(self, person_id: str) -> list[str]:
        response = self.client.query(
            TableName=self.table, KeyConditionExpression="pk = :pk", ScanIndexForward=False,
            Limit=rules.SAMPLES, ConsistentRead=True, ProjectionExpression="sk",
            ExpressionAttributeValues={":pk": {"S": prow.keys.person_pk(person_id)}})
        return [item["sk"]["S"] for item in response.get("Items", [])]

    def _refresh(self, person_id: str, record: PhotoRecord, faces_here: list[tuple[str, dict]]) -> None:
        """Samples from the person's index partition; the cover made when missing, re-made when its photo
        changed, moved to another photo when its photo no longer shows this person."""
        row = self._row(person_id) or {}
        sets = {"samples = :s", "updated_at = :t"}
        values: dict[str, Any] = {":s": {"S": json.dumps(self._samples(person_id))}, ":t": {"S": prow.now()}}
        view = (record.thumbnails.get("view") or {}).get("key")
        change, detail = rules.cover_change(row.get("cover"), record.key, view, faces_here)
        new_cover = detail if change == "reid" else None
        if change == "make":
            new_cover = self.covers.make(person_id, record.key, view, detail)  # type: ignore[arg-type]
        remove = False
        if change == "replace":
            newest = next(iter(self.faces_of_id(person_id, limit=1)), None)
            if newest and newest.get("view"):
                new_cover = self.covers.make(person_id, newest["key"], newest["view"], newest)
            else:
                remove = True
                self.covers.delete(person_id)
        if new_cover:
            sets.add("cover = :c")
            values[":c"] = {"S": json.dumps(new_cover, separators=(",", ":"))}
        removes = ["cover"] if remove else []
        if new_cover or remove:
            removes.append("cover_failed")  # a cover made, or none wanted: an earlier failure no longer counts
        expression = "SET " + ", ".join(sorted(sets)) + (" REMOVE " + ", ".join(removes) if removes else "")
        self.client.update_item(TableName=self.table, Key=prow.person_key(person_id), UpdateExpression=expression,
                                ExpressionAttributeValues=values)

    def ensure_covers(self, check_objects: bool = False) -> list[str]:
        """Make covers for people that have faces but no cover (or, with ``check_objects``, whose crop
        object is missing). A cover that cannot be made is marked on the row (``cover_failed``) and not
        tried again for the same newest face and view (``rules.cover_worth_trying``) except with
        ``check_objects``. Returns the person ids given a new cover."""
        made = []
        now = datetime.now(timezone.utc)
        for pid, row in self._rows().items():
            if row["face_count"] <= 0:
                continue
            cover = row["cover"]
            if cover is not None and not (check_objects and self.covers.missing(cover)):
                continue
            newest = next(iter(self.faces_of_id(pid, limit=1)), None)
            if not newest or not newest.get("view"):
                continue
            if not check_objects and not rules.cover_worth_trying(row["cover_failed"], newest, now):
                continue
            new_cover = self.covers.make(pid, newest["key"], newest["view"], newest)
            if new_cover:
                self._update(pid, "SET cover = :c, updated_at = :t REMOVE cover_failed",
                             {":c": {"S": json.dumps(new_cover, separators=(",", ":"))}, ":t": {"S": prow.now()}})
                made.append(pid)
            elif self.covers.bucket:  # without a bucket nothing was tried
                failed = rules.cover_failure(newest, now.isoformat(timespec="milliseconds"))
                self._update(pid, "SET cover_failed = :f", {":f": {"S": json.dumps(failed, separators=(",", ":"))}})
        return made

def refs(catalog: Catalog) -> dict[str, PersonRef]:
    """Every person id → the person it is now (``People.refs``)."""
    return People(catalog).refs()


def names(catalog: Catalog) -> dict[str, str]:
    """{lowercased name: canonical person id}: the search vocabulary."""
    return People(catalog).names()


def resolve(catalog: Catalog, name_or_id: str) -> list[str]:
    """Person ids (canonical first, then merged aliases) for a name or id; [] when unknown."""
    return People(catalog).resolve(name_or_id)

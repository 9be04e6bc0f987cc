"""The rules of people, pure: who a person id is now (merges followed), the name a group goes by, what
a photo's faces change in the counts, which suggested pairs may be offered, and how a photo's faces are
re-filed. Everything here works on person rows as dicts (``people_rows.row_to_dict``) and needs no
DynamoDB: catalog/people.py reads the rows, asks these rules, and writes what they decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shoebox.models import PhotoRecord

SAMPLES = 4  # newest photos shown for a person
# a cover that failed for a face is not tried again for it (a broken view costs an S3 read and a decode on
# every listing) until this old: a throttled or interrupted read is not a broken photo forever
COVER_RETRY_AFTER = timedelta(days=7)

Rows = dict[str, dict]  # person id -> row (people_rows.row_to_dict)


class PeopleError(Exception):
    """A people operation that cannot be done as asked (unknown person, name taken, …)."""


class PersonNotFound(PeopleError):
    pass


class NameTaken(PeopleError):
    pass


class MergeRaced(PeopleError):
    """Another merge changed one of the people between this one's read and its write."""


@dataclass
class Person:
    """A canonical person: its own row plus every row merged into it."""

    id: str
    name: str | None = None
    faces: int = 0
    photos: int = 0
    cover: dict | None = None  # {"key": photo key, "face_id", "bbox", "crop": thumbnails/people/<id>.jpg}
    samples: list[str] = field(default_factory=list)  # newest photo keys, up to SAMPLES
    aliases: list[str] = field(default_factory=list)  # person ids merged into this one
    hidden: bool = False  # the user does not want them listed (strangers in the background)

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "faces": self.faces, "photos": self.photos,
                "cover": (self.cover or {}).get("crop"), "samples": self.samples, "aliases": self.aliases,
                "hidden": self.hidden}


@dataclass(frozen=True)
class PersonRef:
    """Who a person id on a photo is now: its canonical person (merges followed) and that person's name."""

    id: str
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


def clean_name(name: str) -> str:
    return " ".join((name or "").split())


def name_taken(name: str, holder: str, wanted_by: str, hidden: bool, shown: str | None = None,
               via: str | None = None) -> str:
    """Why ``name`` cannot go to ``wanted_by``, and what to do. A hidden holder is not in `shoebox
    people`, so the user would not find who has the name: say so and how to see them again. The merge
    then goes into ``wanted_by``: a merged person takes the visibility of the one merged into, and the
    user is naming someone they want to see. ``shown``/``via``: the name the holder is listed by and the
    merged-in group that holds ``name``, when that is not the holder's own."""
    who = f"{holder} ({shown or 'unnamed'}, through merged-in {via})" if via and via != holder else holder
    if not hidden:
        return f"{name!r} is already {who}; merge the two with `shoebox people merge {holder} {wanted_by}`"
    return (f"{name!r} is already {who}, who is hidden (not listed by `shoebox people`): "
            f"`shoebox people --hidden` lists hidden people, `shoebox people unhide {holder}` lists them again; "
            f"if the two are one person, merge them with `shoebox people merge {wanted_by} {holder}`")


# ---------------------------------------------------------------------------------------------- merges
def canonical(rows: Rows, person_id: str) -> str:
    """The person an id is now: its ``merged_into`` chain followed to the end."""
    path = [person_id]
    while True:
        target = (rows.get(path[-1]) or {}).get("merged_into")
        if not target or target not in rows:
            return path[-1]
        if target in path:  # a cycle (two merges raced): one fixed member stands for all of it
            return min(path[path.index(target):])
        path.append(target)


def cycle_head(rows: Rows, person_id: str) -> str | None:
    """If ``person_id``'s ``merged_into`` chain loops (two merges raced), the cycle's smallest id, which
    every read already treats as its person; None when it does not loop."""
    path = [person_id]
    while (target := (rows.get(path[-1]) or {}).get("merged_into")) and target in rows:
        if target in path:
            return min(path[path.index(target):])
        path.append(target)
    return None


def group(rows: Rows, person: str) -> list[str]:
    """A canonical person and the ids merged into it, canonical first."""
    aliases = sorted(pid for pid in rows if pid != person and canonical(rows, pid) == person)
    return [person, *aliases]


def groups(rows: Rows) -> dict[str, list[str]]:
    """Every canonical person's group (``group``) in one pass over the rows: listing n people must not
    cost n passes (3,000 rows took a second that way)."""
    found: dict[str, list[str]] = {}
    for pid in rows:
        head = canonical(rows, pid)
        found.setdefault(head, [head])
        if pid != head:
            found[head].append(pid)
    return {head: [head, *sorted(members[1:])] for head, members in found.items()}


def kept_apart(rows: Rows, group_a: Iterable[str], group_b: Iterable[str]) -> bool:
    """Whether the user kept any member of one group apart from any member of the other."""
    a, b = set(group_a), set(group_b)
    return any(rows[x]["kept_apart"] & b for x in a) or any(rows[x]["kept_apart"] & a for x in b)


def others_to_merge(target: str, candidates: Iterable[str]) -> list[str]:
    """The canonical ids a merge into ``target`` takes, each once, in the order given."""
    return [pid for pid in dict.fromkeys(candidates) if pid != target]


def absorb_decision(name_a: str | None, name_b: str | None, apart: bool) -> str:
    """What to do when the recognizer finds two groups to be one person: "separate" (the user's names
    say two people), "keep" (the user kept them apart), "merge-into-b" (only b is named: the named one
    keeps its id) or "merge-into-a"."""
    if name_a and name_b and name_a.lower() != name_b.lower():
        return "separate"
    if apart:
        return "keep"
    return "merge-into-b" if name_b and not name_a else "merge-into-a"


# ---------------------------------------------------------------------------------------------- names
def name_holder(rows: Rows, members: list[str]) -> str | None:
    """Which row of a group (canonical first) holds the name it goes by: the canonical row's own; else the
    merged-in group it was called by when merges happened (``name_from``, while still in the group); else
    the first merged-in group by id that has one."""
    own = rows.get(members[0]) or {}
    if own.get("name"):
        return members[0]
    lender = own.get("name_from")
    if lender in members[1:] and (rows.get(lender) or {}).get("name"):
        return lender
    return next((pid for pid in members[1:] if pid in rows and rows[pid]["name"]), None)


def name_of(rows: Rows, members: list[str]) -> str | None:
    holder = name_holder(rows, members)
    return rows[holder]["name"] if holder else None


def group_name(rows: Rows, person: str) -> str | None:
    """The person's name (``name_holder`` says whose). A merge copies no name: each stays on the row it
    was given to, so an unmerge takes it along."""
    return name_of(rows, group(rows, person))


def names(rows: Rows) -> dict[str, str]:
    """{lowercased name: canonical person id}, names of merged-away groups included."""
    out: dict[str, str] = {}
    # aliases' former names first, so a canonical person's own name wins any clash
    for row in sorted(rows.values(), key=lambda r: r["merged_into"] is None):
        if row["name"]:
            out[row["name"].lower()] = canonical(rows, row["id"])
    return out


def lookup(rows: Rows, ref: str) -> str | None:
    """Canonical id for a person id or a name (case-insensitive); None when neither."""
    ref = ref.strip()
    if ref in rows:
        return canonical(rows, ref)
    return names(rows).get(clean_name(ref).lower())


def names_to_drop(rows: Rows, members: list[str], old: str | None, new: str) -> list[str]:
    """Aliases of a renamed person that still answer to its old name or hold the new one: the name now
    lives on the canonical row only (an unmerge would otherwise leave two people with it)."""
    gone = {(old or "").lower(), new.lower()}
    return [pid for pid in members[1:] if rows[pid]["name"] and rows[pid]["name"].lower() in gone]


def merge_lender(rows: Rows, target: str, others: list[str]) -> str | None:
    """Who lends an unnamed merge target its name: a merged-in group it already goes by, else the first
    named of the others (by reference, ``name_from``: nothing is copied)."""
    return name_holder(rows, group(rows, target)) or next(
        (h for h in (name_holder(rows, group(rows, pid)) for pid in others) if h), None)


# ---------------------------------------------------------------------------------------------- people
def person(rows: Rows, head: str, members: list[str] | None = None) -> Person:
    members = members or group(rows, head)
    found = [rows[pid] for pid in members if pid in rows]
    samples = sorted({sk for row in found for sk in row["samples"]}, reverse=True)[:SAMPLES]
    cover = next((row["cover"] for row in found if row["cover"]), None)
    return Person(
        id=head, name=name_of(rows, members),
        faces=sum(row["face_count"] for row in found),
        photos=sum(row["photo_count"] for row in found),
        cover=cover, samples=[sk.split("#", 1)[1] for sk in samples], aliases=members[1:],
        hidden=bool(rows.get(head, {}).get("hidden")),  # the person's own row decides
    )


def listed(rows: Rows, include_empty: bool, include_hidden: bool) -> list[Person]:
    """Canonical people, most photographed first (named before unnamed on ties)."""
    people = [person(rows, head, members) for head, members in groups(rows).items()]
    if not include_empty:
        people = [p for p in people if p.faces > 0]
    if not include_hidden:
        people = [p for p in people if not p.hidden]
    people.sort(key=lambda p: (-p.photos, p.name is None, (p.name or "").lower(), p.id))
    return people


def canonical_people(ids: Iterable[str], refs: dict[str, PersonRef]) -> list[PersonRef]:
    """A photo's person ids as the people they are now, each once, in the photo's order (an id the catalog
    has no row for stands for itself)."""
    found: dict[str, PersonRef] = {}
    for pid in ids:
        ref = refs.get(pid) or PersonRef(pid)
        found.setdefault(ref.id, ref)
    return list(found.values())


def person_refs(people: Iterable[Person]) -> dict[str, PersonRef]:
    """Every id of these people (canonical and merged away) → the person it is now, with the name."""
    return {pid: PersonRef(p.id, p.name) for p in people for pid in (p.id, *p.aliases)}


def best_pairs(rows: Rows, matches: Iterable) -> list[tuple[tuple[str, str], float]]:
    """The recognizer's guesses (``PeopleMatch``: a, b, similarity) as pairs of canonical people known to
    the catalog, each once with its best similarity, most alike first."""
    best: dict[tuple[str, str], float] = {}
    for match in matches:
        if match.a not in rows or match.b not in rows:
            continue
        a, b = sorted((canonical(rows, match.a), canonical(rows, match.b)))
        if a != b:
            best[(a, b)] = max(best.get((a, b), 0.0), float(match.similarity))
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def may_suggest(a: Person, b: Person) -> bool:
    """Not a pair left with no face, nor with someone the user hid."""
    return a.faces > 0 and b.faces > 0 and not a.hidden and not b.hidden


# ---------------------------------------------------------------------------------------------- photos
def faces_filed(record: PhotoRecord, face_sk) -> list[tuple[str, str, dict]]:
    """(person id, face sk, face) of every face a processed photo files under a person."""
    if record.status != "processed":
        return []
    return [(face["person_id"], face_sk(record, face), face) for face in record.faces
            if face.get("person_id") and face.get("face_id")]


def deltas(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """(face count delta, photo count delta) per person when a photo's faces go from ``old`` to ``new``
    ((person id, face sk) pairs)."""
    face_delta: dict[str, int] = {}
    for pid, _ in new:
        face_delta[pid] = face_delta.get(pid, 0) + 1
    for pid, _ in old:
        face_delta[pid] = face_delta.get(pid, 0) - 1
    old_people, new_people = {pid for pid, _ in old}, {pid for pid, _ in new}
    photo_delta = {pid: (pid in new_people) - (pid in old_people) for pid in old_people | new_people}
    return face_delta, photo_delta


def refile(record: PhotoRecord, filed_as: dict[str, str]) -> bool:
    """Give the record's faces the person the recognizer files them under now (``filed_as``: face id →
    person id). Returns whether anything changed."""
    changed = False
    for face in record.faces:
        now = filed_as.get(face.get("face_id"))
        if now and face.get("person_id") != now:
            face["person_id"] = now
            face.pop("aliases", None)  # they named the group it left
            changed = True
    return changed


def area(face: dict) -> float:
    """How good a face is for a cover: its size times the detector's confidence."""
    bbox = face.get("bbox") or {}
    return float(bbox.get("width") or 0) * float(bbox.get("height") or 0) * float(face.get("confidence") or 1)


def cover_change(cover: dict | None, record_key: str, view: str | None,
                 faces_here: list[tuple[str, dict]]) -> tuple[str, dict | None]:
    """What a photo's (re-)processing does to a person's cover: ("make", face) to crop a new one from
    this photo, ("reid", cover) for the same crop under a re-indexed face id, ("replace", None) to find
    another photo (the cover's photo no longer shows them) or ("keep", None)."""
    if faces_here:
        _, best = max(faces_here, key=lambda pair: area(pair[1]))
        if view and (not cover or (cover.get("key") == record_key and cover.get("bbox") != best.get("bbox"))):
            return "make", best
        if cover and cover.get("key") == record_key and cover.get("face_id") != best["face_id"]:
            return "reid", {**cover, "face_id": best["face_id"]}
        return "keep", None
    if cover and cover.get("key") == record_key:
        return "replace", None
    return "keep", None


def cover_failure(newest: dict, at: str) -> dict:
    """The marker ``People.ensure_covers`` keeps on a person row when the cover from ``newest`` (a face row)
    could not be made."""
    return {"face_id": newest.get("face_id"), "view": newest.get("view"), "at": at}


def cover_worth_trying(failed: dict | None, newest: dict, now: datetime) -> bool:
    """Whether to crop a cover from the person's newest face (``newest``): not if it already failed for
    this face and view (``failed``, see ``cover_failure``) less than ``COVER_RETRY_AFTER`` ago. A newer face
    or another view of it is tried at once."""
    if not failed or (failed.get("face_id"), failed.get("view")) != (newest.get("face_id"), newest.get("view")):
        return True
    try:
        return now - datetime.fromisoformat(failed["at"]) >= COVER_RETRY_AFTER
    except (KeyError, TypeError, ValueError):  # a marker without a readable time: try again
        return True

"""People: person rows, faces of a person, names and merges (see docs/people.md).

Rows (same table as the photos; every read is a Query or a GetItem, never a Scan):

| what                      | pk                     | sk                              | holds |
|---------------------------|------------------------|---------------------------------|-------|
| a person (face group)     | PEOPLE                 | <person_id>                     | name, name_lc, face_count, photo_count, cover, samples, merged_into, hidden |
| faces of a person         | FACES#<person_id>      | <taken_at>#<key>#<face_id>      | key, face_id, bbox, confidence, view |
| what a photo contributed  | PHOTOFACES#<key>       | FACES                           | faces [[person_id, face sk]…], version |

Person ids come from the recognizer (local ``p-…``, Rekognition UserIds) and are stable across
re-processing, so names and merges, which live only on the person rows, survive re-indexing.

Counts are kept with atomic ADDs. Each photo's contribution is remembered in its PHOTOFACES row and the
delta against it is applied in one transaction that also replaces that row (conditioned on its version),
so re-processing, Lambda retries and concurrent runs of the same photo never count twice.

A merge of B into A only sets ``merged_into = A`` on B's row: photos keep their person ids, and every read
folds B into A. It is reversible (``unmerge``) and the same on both recognizers. The local recognizer also
merges groups by itself when they turn out to be one person; it reports the merged-away ids with each
face (``aliases``) and ``record_photo`` folds them in the same way (``absorb``), except where the user
decided otherwise: a group the user unmerged, or two groups the user named differently, stay apart.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from botocore.exceptions import ClientError

from shoebox.catalog import keys
from shoebox.catalog.store import Catalog
from shoebox.models import PhotoRecord

PEOPLE_PK = "PEOPLE"
PHOTO_FACES_SK = "FACES"
CROP_PREFIX = "thumbnails/people/"
CROP_SIZE = 160  # px, square
CROP_MARGIN = 1.6  # crop side = this × the face's longer side
SAMPLES = 4
_TX_LIMIT = 100  # DynamoDB TransactWriteItems items per call
_MAX_TX_ATTEMPTS = 8


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


class PeopleError(Exception):
    """A people operation that cannot be done as asked (unknown person, name taken, …)."""


class PersonNotFound(PeopleError):
    pass


class NameTaken(PeopleError):
    pass


class MergeRaced(PeopleError):
    """Another merge changed one of the people between this one's read and its write."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def faces_pk(person_id: str) -> str:
    return f"FACES#{person_id}"


def photo_faces_pk(key: str) -> str:
    return f"PHOTOFACES#{key}"


def crop_key(person_id: str) -> str:
    return f"{CROP_PREFIX}{person_id}.jpg"


def face_sk(record: PhotoRecord, face: dict) -> str:
    return f"{keys.time_sk(record.taken_at, record.key)}#{face['face_id']}"


def clean_name(name: str) -> str:
    return " ".join((name or "").split())


def _name_taken(name: str, holder: str, wanted_by: str, hidden: bool, shown: str | None = None,
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


# ---------------------------------------------------------------------------------------------- crops
def make_crop(view_jpeg: bytes, bbox: dict, size: int = CROP_SIZE) -> bytes:
    """A square JPEG of ``size`` px around the face (bbox as ratios of the view image), kept inside the
    image: the square shifts rather than padding when the face is near an edge."""
    from PIL import Image

    image = Image.open(io.BytesIO(view_jpeg))
    image.draft("RGB", (size * 4, size * 4))  # JPEG: decode at a reduced scale; ratios are unaffected
    image = image.convert("RGB")
    w, h = image.size
    left, top = float(bbox["left"]) * w, float(bbox["top"]) * h
    fw, fh = float(bbox["width"]) * w, float(bbox["height"]) * h
    cx, cy = left + fw / 2, top + fh / 2
    side = min(max(fw, fh, 1.0) * CROP_MARGIN, w, h)
    x0 = min(max(cx - side / 2, 0.0), w - side)
    y0 = min(max(cy - side / 2, 0.0), h - side)
    crop = image.crop((round(x0), round(y0), round(x0 + side), round(y0 + side)))
    crop = crop.resize((size, size), Image.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- model
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
    return {pid: PersonRef(person.id, person.name) for person in people for pid in (person.id, *person.aliases)}


def _name_holder(rows: dict[str, dict], group: list[str]) -> str | None:
    """Which row of a group (canonical first) holds the name it goes by: the canonical row's own; else the
    merged-in group it was called by when merges happened (``name_from``, while still in the group); else
    the first merged-in group by id that has one."""
    own = rows.get(group[0]) or {}
    if own.get("name"):
        return group[0]
    lender = own.get("name_from")
    if lender in group[1:] and (rows.get(lender) or {}).get("name"):
        return lender
    return next((pid for pid in group[1:] if pid in rows and rows[pid]["name"]), None)


def _name_of(rows: dict[str, dict], group: list[str]) -> str | None:
    holder = _name_holder(rows, group)
    return rows[holder]["name"] if holder else None


def _row_to_dict(item: dict) -> dict:
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
        "samples": json.loads(s("samples")) if s("samples") else [],  # time sks, newest first
        "merged_into": s("merged_into"),
        "name_from": s("name_from"),  # unnamed itself: the merged-in group whose name it goes by
        "hidden": bool(item["hidden"]["BOOL"]) if "hidden" in item else False,
        # ids the user unmerged this group from: never merged with them automatically again
        "kept_apart": set(item["kept_apart"]["SS"]) if "kept_apart" in item else set(),
    }


class People:
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
        self._s3 = s3
        self.bucket = bucket

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from shoebox import aws

            self._s3 = aws.client("s3")
        return self._s3

    # ------------------------------------------------------------------ raw reads
    def _query(self, **kwargs: Any) -> Iterable[dict]:
        kwargs.setdefault("ConsistentRead", True)
        return self.catalog._query(**kwargs)

    def _rows(self) -> dict[str, dict]:
        """Every person row: one Query on the PEOPLE partition."""
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": PEOPLE_PK}})
        return {row["id"]: row for row in map(_row_to_dict, items)}

    def _row(self, person_id: str) -> dict | None:
        item = self.client.get_item(TableName=self.table, Key=self._key(person_id), ConsistentRead=True).get("Item")
        return _row_to_dict(item) if item else None

    @staticmethod
    def _key(person_id: str) -> dict:
        return {"pk": {"S": PEOPLE_PK}, "sk": {"S": person_id}}

    @staticmethod
    def _canonical(rows: dict[str, dict], person_id: str) -> str:
        path = [person_id]
        while True:
            target = (rows.get(path[-1]) or {}).get("merged_into")
            if not target or target not in rows:
                return path[-1]
            if target in path:  # a cycle (two merges raced): one fixed member stands for all of it
                return min(path[path.index(target):])
            path.append(target)

    def _lookup(self, rows: dict[str, dict], ref: str) -> str:
        """Canonical id for a person id or a name (case-insensitive)."""
        ref = ref.strip()
        if ref in rows:
            return self._canonical(rows, ref)
        by_name = self._names(rows)
        found = by_name.get(clean_name(ref).lower())
        if found:
            return found
        raise PersonNotFound(f"no person with id or name {ref!r}")

    def _names(self, rows: dict[str, dict]) -> dict[str, str]:
        out: dict[str, str] = {}
        # aliases' former names first, so a canonical person's own name wins any clash
        for row in sorted(rows.values(), key=lambda r: r["merged_into"] is None):
            if row["name"]:
                out[row["name"].lower()] = self._canonical(rows, row["id"])
        return out

    def _group_name(self, rows: dict[str, dict], canonical: str) -> str | None:
        """The person's name (``_name_holder`` says whose). A merge copies no name: each stays on the row
        it was given to, so an unmerge takes it along."""
        return _name_of(rows, self._group(rows, canonical))

    def _group(self, rows: dict[str, dict], canonical: str) -> list[str]:
        aliases = sorted(pid for pid in rows if pid != canonical and self._canonical(rows, pid) == canonical)
        return [canonical, *aliases]

    def _groups(self, rows: dict[str, dict]) -> dict[str, list[str]]:
        """Every canonical person's group (``_group``) in one pass over the rows: listing n people must not
        cost n passes (3,000 rows took a second that way)."""
        groups: dict[str, list[str]] = {}
        for pid in rows:
            canonical = self._canonical(rows, pid)
            groups.setdefault(canonical, [canonical])
            if pid != canonical:
                groups[canonical].append(pid)
        return {canonical: [canonical, *sorted(group[1:])] for canonical, group in groups.items()}

    def _person(self, rows: dict[str, dict], canonical: str, group: list[str] | None = None) -> Person:
        group = group or self._group(rows, canonical)
        members = [rows[pid] for pid in group if pid in rows]
        samples = sorted({sk for row in members for sk in row["samples"]}, reverse=True)[:SAMPLES]
        cover = next((row["cover"] for row in members if row["cover"]), None)
        return Person(
            id=canonical, name=_name_of(rows, group),
            faces=sum(row["face_count"] for row in members),
            photos=sum(row["photo_count"] for row in members),
            cover=cover, samples=[sk.split("#", 1)[1] for sk in samples], aliases=group[1:],
            hidden=bool(rows.get(canonical, {}).get("hidden")),  # the person's own row decides
        )

    # ------------------------------------------------------------------ public reads
    def list_people(self, include_empty: bool = False, include_hidden: bool = True) -> list[Person]:
        """Canonical people, most photographed first (named before unnamed on ties)."""
        return self._listed(self._rows(), include_empty, include_hidden)

    def people_and_names(self) -> tuple[list[Person], dict[str, str]]:
        """``list_people(include_empty=True)`` and ``names()`` from one read of the rows (the search
        vocabulary needs both)."""
        rows = self._rows()
        return self._listed(rows, include_empty=True, include_hidden=True), self._names(rows)

    def _listed(self, rows: dict[str, dict], include_empty: bool, include_hidden: bool) -> list[Person]:
        people = [self._person(rows, canonical, group) for canonical, group in self._groups(rows).items()]
        if not include_empty:
            people = [p for p in people if p.faces > 0]
        if not include_hidden:
            people = [p for p in people if not p.hidden]
        people.sort(key=lambda p: (-p.photos, p.name is None, (p.name or "").lower(), p.id))
        return people

    def get(self, ref: str) -> Person:
        """One person by id (an alias id gives its canonical person) or by name."""
        rows = self._rows()
        return self._person(rows, self._lookup(rows, ref))

    def refs(self) -> dict[str, PersonRef]:
        """Every person id, canonical or merged away, → the person it is now, with the name: one Query.
        Photo rows keep the id their face was filed under; this is how lists show them."""
        return person_refs(self.list_people(include_empty=True))

    def names(self) -> dict[str, str]:
        """{lowercased name: canonical person id}, names of merged-away groups included (search vocabulary)."""
        return self._names(self._rows())

    def resolve(self, name_or_id: str) -> list[str]:
        """Every person id whose photos are this person's: the canonical id first, then merged aliases.
        [] when nothing matches."""
        rows = self._rows()
        try:
            canonical = self._lookup(rows, name_or_id)
        except PersonNotFound:
            return []
        return self._group(rows, canonical)

    def photos_of(self, name_or_id: str, limit: int | None = None, start: str | None = None,
                  end: str | None = None) -> list[dict]:
        """Index summaries of the person's photos (aliases included), newest first, each photo once."""
        ids = self.resolve(name_or_id)
        if not ids:
            raise PersonNotFound(f"no person with id or name {name_or_id!r}")
        found: dict[str, tuple[str, dict]] = {}
        for pid in ids:
            for row in self.catalog.query_partition(f"PERSON#{pid}", start, end, limit=limit):
                found[row["key"]] = (keys.time_sk(row.get("taken_at"), row["key"]), row)
        ordered = [row for _, row in sorted(found.values(), key=lambda pair: pair[0], reverse=True)]
        return ordered[:limit] if limit else ordered

    def faces_of(self, name_or_id: str) -> list[dict]:
        """Face rows of the person (aliases included), newest photo first."""
        out: list[tuple[str, dict]] = []
        for pid in self.resolve(name_or_id):
            for item in self._query(KeyConditionExpression="pk = :pk", ScanIndexForward=False,
                                    ExpressionAttributeValues={":pk": {"S": faces_pk(pid)}}):
                out.append((item["sk"]["S"], _face_item(item, pid)))
        return [face for _, face in sorted(out, key=lambda pair: pair[0], reverse=True)]

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
        holder = self._names(rows).get(name.lower())
        old = self._group_name(rows, canonical)
        if holder and holder != canonical:
            via = next((pid for pid in self._group(rows, holder) if (rows[pid]["name"] or "").lower() == name.lower()),
                       holder)
            raise NameTaken(_name_taken(name, holder, canonical, hidden=bool(rows[holder]["hidden"]),
                                        shown=self._group_name(rows, holder), via=via))
        self._update(canonical, "SET #n = :n, name_lc = :lc, updated_at = :t",
                     {":n": {"S": name}, ":lc": {"S": name.lower()}, ":t": {"S": _now()}}, {"#n": "name"})
        # the name now lives on the canonical row only: aliases keep theirs as extra ways to find it, but a
        # rename must not leave an alias answering to the old name, nor holding the new one (an unmerge
        # would then leave two people with it)
        for pid in self._group(rows, canonical)[1:]:
            if rows[pid]["name"] and rows[pid]["name"].lower() in {(old or "").lower(), name.lower()}:
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
                self._update(pid, "SET #h = :h, updated_at = :t", {":h": {"BOOL": True}, ":t": {"S": _now()}},
                             {"#h": "hidden"})
            else:
                self._update(pid, "SET updated_at = :t REMOVE #h", {":t": {"S": _now()}}, {"#h": "hidden"})
            rows[pid] = {**rows[pid], "hidden": hidden}  # what was written: reported without reading again
        return [self._person(rows, pid) for pid in canonical]

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
        others: list[str] = []
        for ref in refs[1:]:
            pid = self._lookup(rows, ref)
            if pid != target and pid not in others:
                others.append(pid)
        if not others:
            return self._person(rows, target)
        now = {":t": {"S": _now()}}
        if not rows[target]["name"]:
            # "the first person's name wins" also for a name it goes by through a merged-in group: keep
            # pointing at that group, else at the first named of the others (nothing is copied)
            lender = _name_holder(rows, self._group(rows, target)) or next(
                (h for h in (_name_holder(rows, self._group(rows, pid)) for pid in others) if h), None)
            if lender and lender != rows[target]["name_from"]:
                self._update(target, "SET name_from = :f, updated_at = :t", {":f": {"S": lender}, **now})
        for pid in others:
            # only a person who is canonical now, into one still canonical: two merges racing the other
            # way round must not leave the two pointing at each other
            try:
                self.client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": self.table, "Key": self._key(pid),
                                "UpdateExpression": "SET merged_into = :m, updated_at = :t",
                                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(merged_into)",
                                "ExpressionAttributeValues": {":m": {"S": target}, **now}}},
                    {"ConditionCheck": {"TableName": self.table, "Key": self._key(target),
                                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(merged_into)"}},
                ])
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                    raise MergeRaced(f"{pid} or {target} was merged by someone else meanwhile: look again "
                                      f"(`shoebox people`) and merge again if still needed") from err
                raise
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
            former = self._canonical(rows, person_id)
            self._update(person_id, "REMOVE merged_into SET updated_at = :t ADD kept_apart :k",
                         {":k": {"SS": [former]}, ":t": {"S": _now()}})
            self._separate([person_id, former], check_filing=True)
            own = (rows[person_id]["name"] or "").lower()
            for pid in (self._group(rows, former) if own else []):
                if pid != person_id and (rows[pid]["name"] or "").lower() == own:
                    # an older Shoebox copied a merged-in name onto the person it joined (and on along
                    # chains): the name leaves with its group, unless renamed meanwhile (the condition)
                    self._update(pid, "REMOVE #n, name_lc SET updated_at = :t",
                                 {":t": {"S": _now()}, ":lc": {"S": own}}, {"#n": "name"},
                                 condition="name_lc = :lc", unmet_ok=True)
        else:
            # the split is stored on the id that was unmerged; either side's id finishes it
            apart = rows[person_id]["kept_apart"] | {pid for pid, row in rows.items() if person_id in row["kept_apart"]}
            if not apart and not broke_cycle:
                merged_in = sorted(pid for pid, row in rows.items() if row["merged_into"] == person_id)
                hint = f"; unmerge a group merged into it instead: {', '.join(merged_in)}" if merged_in else ""
                raise PeopleError(f"{person_id} was never merged into another person: nothing to unmerge{hint}")
            for other in sorted(apart):
                # not if the user has merged the two again since
                if other in rows and self._canonical(rows, other) != self._canonical(rows, person_id):
                    self._separate([person_id, other], check_filing=True)
        return self.get(person_id)

    def _break_cycle(self, rows: dict[str, dict], person_id: str) -> bool:
        """If ``person_id``'s ``merged_into`` chain loops (two merges raced), make the cycle's smallest id,
        which every read already treats as its person, canonical for real. True if a row was changed."""
        path = [person_id]
        while (target := (rows.get(path[-1]) or {}).get("merged_into")) and target in rows:
            if target in path:
                head = min(path[path.index(target):])
                self._update(head, "REMOVE merged_into SET updated_at = :t",
                             {":t": {"S": _now()}, ":m": {"S": rows[head]["merged_into"]}},
                             condition="merged_into = :m", unmet_ok=True)
                return True
            path.append(target)
        return False

    def apart(self, first: str, second: str) -> Person:
        """The user says two people (ids or names) who were never merged are different people: they are
        never merged automatically, the recognizer is told, and ``suggestions`` stops offering the pair.
        Kept on the first's canonical row (``kept_apart``), like an unmerge."""
        rows = self._rows()
        a, b = self._lookup(rows, first), self._lookup(rows, second)
        if a == b:
            raise PeopleError(f"{first!r} and {second!r} are one person now (merged); "
                              f"`shoebox people unmerge` the merged-away id instead")
        self._update(a, "SET updated_at = :t ADD kept_apart :k", {":k": {"SS": [b]}, ":t": {"S": _now()}})
        self._separate([a, b])
        return self.get(a)

    def suggestions(self, matches: Iterable[LikelyPair], limit: int | None = None) -> list[dict]:
        """The recognizer's guesses of people who may be one (``Recognizer.similar_people``) folded onto
        the catalog's people, most alike first: each pair of canonical people once, not pairs the user
        merged, kept apart (any member of one from any member of the other), that the catalog does not
        know (not persisted yet), left with no face, hidden, or seen in one photo. Each: {"a": person, "b":
        person, "similarity"}."""
        rows = self._rows()
        best: dict[tuple[str, str], float] = {}
        for match in matches:
            if match.a not in rows or match.b not in rows:
                continue
            a, b = sorted((self._canonical(rows, match.a), self._canonical(rows, match.b)))
            if a != b:
                best[(a, b)] = max(best.get((a, b), 0.0), float(match.similarity))
        out: list[dict] = []
        people: dict[str, Person] = {}
        for (a, b), similarity in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            group_a, group_b = set(self._group(rows, a)), set(self._group(rows, b))
            if any(rows[x]["kept_apart"] & group_b for x in group_a) \
                    or any(rows[x]["kept_apart"] & group_a for x in group_b):
                continue
            for pid in (a, b):
                people.setdefault(pid, self._person(rows, pid))
            if people[a].faces <= 0 or people[b].faces <= 0:
                continue  # a group left with no photo
            if people[a].hidden or people[b].hidden:
                continue  # the user does not want to hear about them
            if self._together(rows, people[a], people[b]):
                continue  # seen in one photo: two people (the recognizer knows only its own groups)
            out.append({"a": people[a].to_json(), "b": people[b].to_json(), "similarity": round(similarity, 3)})
            if limit and len(out) >= limit:
                break
        return out

    def _together(self, rows: dict[str, dict], a: Person, b: Person) -> bool:
        """Whether a photo shows both people (groups whole): reads the index rows of the one with fewer
        photos, whose summaries list each photo's people."""
        small, large = (a, b) if a.photos <= b.photos else (b, a)
        others = set(self._group(rows, large.id))
        return any(others & set(row.get("people") or [])
                   for pid in self._group(rows, small.id)
                   for row in self.catalog.query_partition(f"PERSON#{pid}"))

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
            if not chain_a or not chain_b:
                continue  # not persisted yet: the next photo of this person reports the alias again
            a, b = chain_a[-1], chain_b[-1]
            if a["id"] == b["id"]:
                continue  # the usual case: folded in already
            # a merge is due (rare): now read the groups whole, since the user may have unmerged any
            # member of one from any member of the other, and a group's name may be on any of its rows
            rows = self._rows()
            name_a, name_b = self._group_name(rows, a["id"]), self._group_name(rows, b["id"])
            if name_a and name_b and name_a.lower() != name_b.lower():
                self._separate([person_id, alias])  # the user's names say two people: the recognizer must agree
                chain_a = None  # re-filing may have changed the rows
                continue
            group_a, group_b = set(self._group(rows, a["id"])), set(self._group(rows, b["id"]))
            if any(rows[x]["kept_apart"] & group_b for x in group_a) \
                    or any(rows[x]["kept_apart"] & group_a for x in group_b):
                continue
            target, other = (b, a) if name_b and not name_a else (a, b)  # the named one keeps its id
            try:
                self.merge([target["id"], other["id"]])
            except MergeRaced:
                chain_a = None
                continue  # someone merged one of them meanwhile: the next photo of this person reports it again
            if target["hidden"] and not other["hidden"]:
                self.hide(target["id"], hidden=False)  # a guess by the recognizer never hides a listed person
            done.append(other["id"])
            chain_a = None
        return done

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
                      for pid in self._group(rows, self._canonical(rows, ref))})
        faces = [{"pk": item["pk"]["S"], "sk": item["sk"]["S"], "key": item["key"]["S"],
                  "face_id": item["face_id"]["S"], "person_id": pid}
                 for pid in ids
                 for item in self._query(KeyConditionExpression="pk = :pk",
                                         ExpressionAttributeValues={":pk": {"S": faces_pk(pid)}})]
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

    def _update(self, person_id: str, expression: str, values: dict | None, names: dict | None = None,
                condition: str | None = None, unmet_ok: bool = False) -> None:
        """Update a person row that must exist (and meet ``condition``); ``unmet_ok``: a failed condition
        is not an error, the update is just not made."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": self._key(person_id), "UpdateExpression": expression,
                                  "ConditionExpression": "attribute_exists(pk)" + (f" AND {condition}" if condition else "")}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self.client.update_item(**kwargs)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                if unmet_ok:
                    return
                raise PersonNotFound(f"no person with id {person_id!r}") from err
            raise

    # ------------------------------------------------------------------ keeping rows current (persist)
    def record_photo(self, record: PhotoRecord) -> dict[str, int]:
        """Bring person rows, face rows, samples and covers in line with ``record`` (after put_photo).
        Idempotent: re-processing a photo with the same faces changes nothing. A photo that is not
        ``processed`` (failed, skipped) contributes no faces. Returns the applied face-count deltas."""
        new_faces: list[tuple[str, str, dict]] = []  # (person_id, face sk, face)
        if record.status == "processed":
            for face in record.faces:
                if face.get("person_id") and face.get("face_id"):
                    new_faces.append((face["person_id"], face_sk(record, face), face))
        old_faces = self._apply_counts(record.key, [(pid, sk) for pid, sk, _ in new_faces])
        self._write_face_rows(record, new_faces, old_faces)
        affected = sorted({pid for pid, _ in old_faces} | {pid for pid, _, _ in new_faces})
        for pid in affected:
            self._refresh(pid, record, [(sk, face) for p, sk, face in new_faces if p == pid])
        for pid, _, face in new_faces:
            if face.get("aliases"):
                self.absorb(pid, face["aliases"])
        return self._deltas(old_faces, [(pid, sk) for pid, sk, _ in new_faces])[0]

    def forget_photo(self, key: str) -> None:
        """The photo is gone (deleted original): take its faces out of every person."""
        self.record_photo(PhotoRecord(key=key, status="removed"))

    @staticmethod
    def _deltas(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
        face_delta: dict[str, int] = {}
        for pid, _ in new:
            face_delta[pid] = face_delta.get(pid, 0) + 1
        for pid, _ in old:
            face_delta[pid] = face_delta.get(pid, 0) - 1
        old_people, new_people = {pid for pid, _ in old}, {pid for pid, _ in new}
        photo_delta = {pid: (pid in new_people) - (pid in old_people) for pid in old_people | new_people}
        return face_delta, photo_delta

    def _apply_counts(self, key: str, new: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Swap the photo's remembered contribution for ``new`` and ADD the difference to the person rows,
        atomically (optimistic on the contribution row's version). Returns the previous contribution."""
        contrib_key = {"pk": {"S": photo_faces_pk(key)}, "sk": {"S": PHOTO_FACES_SK}}
        for _ in range(_MAX_TX_ATTEMPTS):
            item = self.client.get_item(TableName=self.table, Key=contrib_key, ConsistentRead=True).get("Item")
            old = [tuple(pair) for pair in json.loads(item["faces"]["S"])] if item else []
            version = int(item["version"]["N"]) if item else 0
            face_delta, photo_delta = self._deltas(old, new)  # type: ignore[arg-type]
            now = _now()
            updates = []
            for pid in sorted(face_delta):
                if face_delta[pid] == 0 and photo_delta.get(pid, 0) == 0:
                    continue
                updates.append({"Update": {
                    "TableName": self.table, "Key": self._key(pid),
                    "UpdateExpression": "ADD face_count :f, photo_count :p "
                                        "SET first_seen = if_not_exists(first_seen, :t), updated_at = :t",
                    "ExpressionAttributeValues": {":f": {"N": str(face_delta[pid])},
                                                  ":p": {"N": str(photo_delta.get(pid, 0))}, ":t": {"S": now}},
                }})
            if not updates and sorted(old) == sorted(new):
                return old  # nothing changed (the common re-processing case)
            put: dict[str, Any] = {"TableName": self.table, "Item": {
                **contrib_key, "key": {"S": key}, "faces": {"S": json.dumps(new, separators=(",", ":"))},
                "version": {"N": str(version + 1)}, "updated_at": {"S": now}}}
            if item:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
            else:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            # no faces left (removed, failed, re-processed without faces): the row goes, not an empty one
            # that a deleted photo would leave behind; a writer that read it fails its version check
            write = {"Put": put} if new or not item else {"Delete": {
                "TableName": self.table, "Key": contrib_key, "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(version)}}}}
            batches = [updates[i : i + _TX_LIMIT - 1] for i in range(0, len(updates), _TX_LIMIT - 1)] or [[]]
            try:
                # the contribution row rides with the first batch; more than 99 people in one photo spill
                # into further transactions (not atomic with the first: documented limit)
                self.client.transact_write_items(TransactItems=[write, *batches[0]])
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("TransactionCanceledException",
                                                                 "TransactionConflictException"):
                    continue  # someone else processed this photo meanwhile: recompute against their write
                raise
            for batch in batches[1:]:
                self.client.transact_write_items(TransactItems=batch)
            return old
        raise PeopleError(f"could not update people for {key}: too much contention")

    def _write_face_rows(self, record: PhotoRecord, new: list[tuple[str, str, dict]],
                         old: list[tuple[str, str]]) -> None:
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
        if requests:
            self.catalog._batch_write(requests)

    def _samples(self, person_id: str) -> list[str]:
        response = self.client.query(
            TableName=self.table, KeyConditionExpression="pk = :pk", ScanIndexForward=False, Limit=SAMPLES,
            ConsistentRead=True, ProjectionExpression="sk",
            ExpressionAttributeValues={":pk": {"S": f"PERSON#{person_id}"}})
        return [item["sk"]["S"] for item in response.get("Items", [])]

    def _refresh(self, person_id: str, record: PhotoRecord, faces_here: list[tuple[str, dict]]) -> None:
        """Samples from the person's index partition; the cover made when missing, re-made when its photo
        changed, moved to another photo when its photo no longer shows this person."""
        row = self._row(person_id) or {}
        cover = row.get("cover")
        sets = {"samples = :s", "updated_at = :t"}
        values: dict[str, Any] = {":s": {"S": json.dumps(self._samples(person_id))}, ":t": {"S": _now()}}
        remove = False
        new_cover: dict | None = None
        if faces_here:
            best_sk, best = max(faces_here, key=lambda pair: _area(pair[1]))
            view = (record.thumbnails.get("view") or {}).get("key")
            if view and (not cover or (cover.get("key") == record.key and cover.get("bbox") != best.get("bbox"))):
                new_cover = self._make_cover(person_id, record.key, view, best)
            elif cover and cover.get("key") == record.key and cover.get("face_id") != best["face_id"]:
                new_cover = {**cover, "face_id": best["face_id"]}  # same crop, re-indexed face id
        elif cover and cover.get("key") == record.key:
            newest = next(iter(self.faces_of_id(person_id, limit=1)), None)
            if newest and newest.get("view"):
                new_cover = self._make_cover(person_id, newest["key"], newest["view"], newest)
            else:
                remove = True
                self._delete_crop(person_id)
        if new_cover:
            sets.add("cover = :c")
            values[":c"] = {"S": json.dumps(new_cover, separators=(",", ":"))}
        expression = "SET " + ", ".join(sorted(sets)) + (" REMOVE cover" if remove else "")
        self.client.update_item(TableName=self.table, Key=self._key(person_id), UpdateExpression=expression,
                                ExpressionAttributeValues=values)

    def faces_of_id(self, person_id: str, limit: int | None = None) -> list[dict]:
        """Face rows of exactly this person id (no aliases), newest photo first."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk", "ScanIndexForward": False,
                                  "ExpressionAttributeValues": {":pk": {"S": faces_pk(person_id)}}}
        if limit:
            kwargs["Limit"] = limit
        out = []
        for item in self._query(**kwargs):
            out.append(_face_item(item, person_id))
            if limit and len(out) >= limit:
                break
        return out

    def _make_cover(self, person_id: str, photo_key: str, view_key: str, face: dict) -> dict | None:
        bucket = self._bucket()
        if not bucket:
            return None
        try:
            view = self.s3.get_object(Bucket=bucket, Key=view_key)["Body"].read()
            data = make_crop(view, face["bbox"])
        except Exception:  # a missing or unreadable view must not fail the photo; the cover is retried later
            return None
        target = crop_key(person_id)
        assert target.startswith(CROP_PREFIX) and not target.startswith("originals/")
        self.s3.put_object(Bucket=bucket, Key=target, Body=data, ContentType="image/jpeg",
                           CacheControl="max-age=3600")
        return {"key": photo_key, "face_id": face["face_id"], "bbox": face["bbox"], "crop": target}

    def _delete_crop(self, person_id: str) -> None:
        bucket = self._bucket()
        if bucket:
            self.s3.delete_object(Bucket=bucket, Key=crop_key(person_id))

    def _bucket(self) -> str | None:
        if self.bucket:
            return self.bucket
        from shoebox.config import Settings

        return Settings.from_env().bucket or None

    def ensure_covers(self, check_objects: bool = False) -> list[str]:
        """Make covers for people that have faces but no cover (or, with ``check_objects``, whose crop
        object is missing). Returns the person ids given a new cover."""
        made = []
        for pid, row in self._rows().items():
            if row["face_count"] <= 0:
                continue
            cover = row["cover"]
            missing = cover is None
            if cover and check_objects and self._bucket():
                try:
                    self.s3.head_object(Bucket=self._bucket(), Key=cover["crop"])
                except ClientError:
                    missing = True
            if not missing:
                continue
            newest = next(iter(self.faces_of_id(pid, limit=1)), None)
            if not newest or not newest.get("view"):
                continue
            new_cover = self._make_cover(pid, newest["key"], newest["view"], newest)
            if new_cover:
                self._update(pid, "SET cover = :c, updated_at = :t",
                             {":c": {"S": json.dumps(new_cover, separators=(",", ":"))}, ":t": {"S": _now()}})
                made.append(pid)
        return made


def _area(face: dict) -> float:
    bbox = face.get("bbox") or {}
    return float(bbox.get("width") or 0) * float(bbox.get("height") or 0) * float(face.get("confidence") or 1)


def _face_item(item: dict, person_id: str) -> dict:
    return {"person_id": person_id, "key": item["key"]["S"], "face_id": item["face_id"]["S"],
            "bbox": json.loads(item["bbox"]["S"]), "confidence": float(item["confidence"]["N"]),
            "view": item.get("view", {}).get("S")}


# ---------------------------------------------------------------------------------------------- entry points
def refile(record: PhotoRecord, filed_as: dict[str, str]) -> bool:
    """Give the record's faces the person the recognizer files them under now (``filed_as``: face id →
    person id). Returns whether anything changed."""
    changed = False
    for face in record.faces:
        person = filed_as.get(face.get("face_id"))
        if person and face.get("person_id") != person:
            face["person_id"] = person
            face.pop("aliases", None)  # they named the group it left
            changed = True
    return changed


def persist_photo(catalog: Catalog, record: PhotoRecord, bucket: str | None = None,
                  keep_apart: KeepApart | None = None, filed_as: FiledAs | None = None) -> PhotoRecord:
    """What the persist step does: the photo and its index rows, then its people. Returns the record as
    filed (re-filed if a face moved meanwhile).

    ``filed_as`` (the recognizer's): asked once the photo is written, since a user's unmerge may have
    moved one of its faces since it was indexed, even after its own re-file of the item that this write
    replaced. Either the move is seen here, or it came later and the unmerge's own re-file reads this
    write. (A move is rare: the photo is then written twice rather than asking before and after.)"""
    catalog.put_photo(record)
    face_ids = [f["face_id"] for f in record.faces if f.get("face_id")]
    if filed_as and face_ids:
        now = filed_as(face_ids)
        if any(now.get(f["face_id"], f.get("person_id")) != f.get("person_id") for f in record.faces
               if f.get("face_id")):
            # None: the unmerge's re-file of this write landed first; record what the catalog holds
            record = catalog.update_photo(record.key, lambda rec: refile(rec, now)) \
                or catalog.get_photo(record.key) or record
    People(catalog, bucket=bucket, keep_apart=keep_apart).record_photo(record)
    return record


def refs(catalog: Catalog) -> dict[str, PersonRef]:
    """Every person id → the person it is now (``People.refs``)."""
    return People(catalog).refs()


def names(catalog: Catalog) -> dict[str, str]:
    """{lowercased name: canonical person id}: the search vocabulary."""
    return People(catalog).names()


def resolve(catalog: Catalog, name_or_id: str) -> list[str]:
    """Person ids (canonical first, then merged aliases) for a name or id; [] when unknown."""
    return People(catalog).resolve(name_or_id)

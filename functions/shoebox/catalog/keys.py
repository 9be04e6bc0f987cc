"""Pure key design for the catalog table (see docs/catalog.md).

One table, adjacency list. The photo item holds the whole record; *index rows* duplicate a small summary
under a partition per access pattern, sorted by capture time, so every list is one Query:

| pattern                    | pk                                   | sk                              |
|----------------------------|--------------------------------------|---------------------------------|
| photo by key               | PHOTO#<key>                          | PHOTO                           |
| photos by date range       | YEAR#<yyyy>                          | <taken_at>#<key>                |
| photos with a label        | LABEL#<name>                         | <taken_at>#<key>                |
| photos of a person         | PERSON#<person_id>                   | <taken_at>#<key>                |
| on this day (month-day)    | MD#<mm-dd>                           | <taken_at>#<key>                |
| photos by place            | PLACE#<Place.keys() value>           | <taken_at>#<key>                |
| camera / kind / format     | CAMERA#<model> / KIND#<k> / FORMAT#<f> | <taken_at>#<key>              |
| XMP rating (1–5, -1 reject) | RATING#<n>                          | <taken_at>#<key>                |
| two facets at once         | <facet pk>&<facet pk> (composite)    | <taken_at>#<key>                |
| two people and a label     | PERSON#a&PERSON#b&LABEL#x (triple)   | <taken_at>#<key>                |
| rediscover                 | VIEWED                               | 0#<taken_at>#<key> / 1#<last_viewed>#<key> |
| vocabulary + counts        | VOCAB                                | <facet pk> (attrs n, name)      |
| photo with these bytes     | CONTENT#<sha256>                     | <taken_at>#<key>                |
| files ingest found copied  | DUPLICATE (catalog/duplicates.py)    | <key>#<source path>             |
| failed photos              | GSI `failed`: failed_pk=FAILED, failed_sk=<updated_at>#<key> (sparse) |

Composite rows: a photo also appears under one partition per *pair* of its facets of different kinds
(person×person, person×label, person×place, label×place, and person/label/place × kind for the
minority kinds raw and video), so "Natalie at the beach" or "dogs in Paris"
reads only matching rows. A photo whose pairs of one family would exceed that family's cap (a group
photo of 20 people, a photo with 40 labels) writes one *overflow* row per first-side facet instead
(``PERSON#p&LABEL#*``); the executor reads the overflow partition too and filters it, so composite
partitions stay complete without a photo ever writing an unbounded number of rows.

One *triple* family, person×person×label ("Natalie and Tom at the beach"): a photo writes
``PERSON#a&PERSON#b&LABEL#x`` (people sorted) for each pair of its people and each label, up to
``TRIPLE_CAP`` rows; over that cap, one overflow row per person pair (``PERSON#a&PERSON#b&LABEL#*``).
A photo whose person pairs already overflow the person×person family (a group photo of more than 6
people) writes no triple rows but one *group* row per label, ``PERSON#*&PERSON#*&LABEL#x`` (over
``GROUP_CAP`` labels: one ``PERSON#*&PERSON#*&LABEL#*``); the executor reads whichever holds fewer photos alongside and filters
it, those group rows or one person's ``PERSON#a&PERSON#*``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from shoebox.models import PhotoRecord

PHOTO_SK = "PHOTO"
NO_DATE = "0000-00-00T00:00:00"  # sorts before every real date: undated photos list last, newest-first
VIEWED_PK = "VIEWED"
VOCAB_PK = "VOCAB"
ALL_COUNT = "ALL"  # VOCAB item counting processed photos (the planner's N)
PAIR = "&"
WILDCARD = "*"
ANY_LABEL = f"LABEL#{WILDCARD}"  # the triple family's group overflow: a group photo with over GROUP_CAP labels
GROUP = f"PERSON#{WILDCARD}{PAIR}PERSON#{WILDCARD}"  # any two people of a group photo (triple family)

# Composite families: (first kind, second kind, max pair rows per photo). Over the cap → overflow rows.
FAMILIES: tuple[tuple[str, str, int], ...] = (
    ("PERSON", "PERSON", 15),   # ≤ 6 people on a photo
    ("PERSON", "LABEL", 60),
    ("PERSON", "PLACE", 60),    # ≤ 20 people at 3 place levels (a wedding photo still pairs)
    ("LABEL", "PLACE", 60),     # ≤ 20 labels at 3 place levels
    ("PERSON", "KIND", 60),     # only for the minority kinds below: ~1 extra row per raw/video photo each
    ("LABEL", "KIND", 60),
    ("PLACE", "KIND", 60),
)
TRIPLE_CAP = 60  # person pairs × labels per photo (4 people × 8 labels = 48; 5 people × 6 labels = 60)
GROUP_CAP = 15   # group rows (one per label) of a photo over the person×person cap; beyond: one overflow row
PAIRED_KINDS = frozenset({"raw", "video"})  # "raw photos of Natalie"; "lossy" is nearly everything: no pairs
PERSON_PAIR_CAP = next(cap for a, b, cap in FAMILIES if a == b == "PERSON")
FACET_ORDER = {"PERSON": 0, "LABEL": 1, "PLACE": 2, "KIND": 3}
# Facet kinds whose partitions are counted in VOCAB (vocabulary for the parser, estimates for the planner).
COUNTED = ("LABEL", "PERSON", "PLACE", "CAMERA", "KIND", "FORMAT", "YEAR", "RATING")


def photo_pk(key: str) -> str:
    return f"PHOTO#{key}"


def time_sk(taken_at: str | None, key: str) -> str:
    return f"{taken_at or NO_DATE}#{key}"


def viewed_sk(last_viewed: str | None, taken_at: str | None, key: str) -> str:
    """Never-viewed photos first (oldest capture first), then by the time they were last viewed."""
    return f"1#{last_viewed}#{key}" if last_viewed else f"0#{taken_at or NO_DATE}#{key}"


def norm(value: str) -> str:
    return " ".join(value.strip().lower().split())


def label_pk(name: str) -> str:
    return f"LABEL#{norm(name)}"


def person_pk(person_id: str) -> str:
    return f"PERSON#{person_id}"


def place_pk(place_key: str) -> str:
    return f"PLACE#{place_key}"


def camera_pk(camera: str) -> str:
    return f"CAMERA#{norm(camera)}"


def rating_pk(rating: int) -> str:
    """An XMP rating: 1–5 stars, -1 rejected (Lightroom's convention); 0 (unrated) has no partition."""
    return f"RATING#{rating}"


def kind_pk(kind: str) -> str:
    return f"KIND#{kind}"


def format_pk(fmt: str) -> str:
    return f"FORMAT#{fmt}"


def month_day_pk(month: int, day: int) -> str:
    return f"MD#{month:02d}-{day:02d}"


def year_pk(taken_at: str | None) -> str:
    return f"YEAR#{taken_at[:4]}" if taken_at else "YEAR#unknown"


def content_pk(sha256: str) -> str:
    return f"CONTENT#{sha256}"


def _month_day_of(taken_at: str | None) -> list[str]:
    return [f"MD#{taken_at[5:10]}"] if taken_at and len(taken_at) >= 10 else []


# ---- the inverse: from a partition key back to what it indexes


def kind_of(pk: str) -> str:
    """"LABEL" for ``LABEL#dog``; composite keys report their first facet's kind."""
    return pk.split("#", 1)[0]


def value_of(pk: str) -> str:
    """"dog" for ``LABEL#dog``, "2007" for ``YEAR#2007``, a person id for ``PERSON#p-1``."""
    return pk.split("#", 1)[1]


def is_single(pk: str, kind: str) -> bool:
    """A single-facet partition of ``kind`` (not a composite one)."""
    return pk.startswith(f"{kind}#") and PAIR not in pk


def is_dated_year(pk: str) -> bool:
    """``YEAR#2007`` but not ``YEAR#unknown``."""
    return value_of(pk).isdigit()


# Which partitions of a kind an index row's ``summary`` says its photo is in (how the executor filters
# a row read from a wider partition).
_SUMMARY_PARTITIONS = {
    "PERSON": lambda row: {person_pk(p) for p in row.get("people") or []},
    "LABEL": lambda row: {label_pk(name) for name in row.get("labels") or []},
    "PLACE": lambda row: {place_pk(k) for k in place_keys(row.get("place"))},
    "CAMERA": lambda row: {camera_pk(row["camera"])} if row.get("camera") else set(),
    "KIND": lambda row: {kind_pk(row["kind"])} if row.get("kind") else set(),
    "FORMAT": lambda row: {format_pk(row["format"])} if row.get("format") else set(),
    "RATING": lambda row: {rating_pk(row["rating"])} if row.get("rating") else set(),
    "MD": lambda row: set(_month_day_of(row.get("taken_at"))),
}


def summary_partitions(row: dict, kind: str) -> set[str]:
    """The partitions of one kind a row's summary says its photo is in (the inverse of ``summary``)."""
    partitions = _SUMMARY_PARTITIONS.get(kind)
    return partitions(row) if partitions else set()


def pair_pk(a: str, b: str) -> str:
    """The composite partition of two facet partitions (order-independent within a family)."""
    ka, kb = a.split("#", 1)[0], b.split("#", 1)[0]
    if (FACET_ORDER[ka], a) > (FACET_ORDER[kb], b):
        a, b = b, a
    return f"{a}{PAIR}{b}"


def overflow_pk(first: str, second_kind: str) -> str:
    return f"{first}{PAIR}{second_kind}#{WILDCARD}"


def triple_pk(person_a: str, person_b: str, label: str) -> str:
    """The person×person×label partition (people in sorted order)."""
    return f"{pair_pk(person_a, person_b)}{PAIR}{label}"


def triple_overflow_pk(person_a: str, person_b: str) -> str:
    """Where a photo over ``TRIPLE_CAP`` lists a pair of its people (any label)."""
    return overflow_pk(pair_pk(person_a, person_b), "LABEL")


def group_pk(label: str) -> str:
    """Photos over the person×person cap (group photos) with ``label``; ``LABEL#*``: over the cap."""
    return f"{GROUP}{PAIR}{label}"


def place_keys(place: dict | None) -> list[str]:
    """The places module's index keys (``Place.keys()``) for a stored ``record.place``."""
    if not place or not place.get("country_code"):
        return []
    from shoebox.places import Place

    p = Place(city=place.get("city"), region=place.get("region"), country=place.get("country") or "",
              country_code=place["country_code"])
    return list(p.keys().values())


@dataclass
class Facets:
    people: list[str] = field(default_factory=list)      # partition keys
    labels: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # only PAIRED_KINDS

    def of(self, kind: str) -> list[str]:
        return {"PERSON": self.people, "LABEL": self.labels, "PLACE": self.places, "KIND": self.kinds}[kind]


def facets(record: PhotoRecord) -> Facets:
    return Facets(
        people=[person_pk(p) for p in record.people],
        labels=list(dict.fromkeys(label_pk(label["name"]) for label in record.labels)),
        places=[place_pk(k) for k in place_keys(record.place)],
        kinds=[kind_pk(record.kind)] if record.kind in PAIRED_KINDS else [],
    )


def composite_partitions(f: Facets) -> list[str]:
    out: list[str] = []
    for first, second, cap in FAMILIES:
        a, b = f.of(first), f.of(second)
        pairs = list(combinations(sorted(a), 2)) if first == second else [(x, y) for x in a for y in b]
        if not pairs:
            continue
        if len(pairs) <= cap:
            out.extend(pair_pk(x, y) for x, y in pairs)
        else:
            out.extend(overflow_pk(x, second) for x in a)
    out.extend(triple_partitions(f))
    return out


def triple_partitions(f: Facets) -> list[str]:
    """Person×person×label rows, one overflow row per person pair over ``TRIPLE_CAP``; a group photo
    (person pairs over their own family's cap) writes one group row per label instead."""
    person_pairs = list(combinations(sorted(f.people), 2))
    if not person_pairs or not f.labels:
        return []
    if len(person_pairs) > PERSON_PAIR_CAP:
        return [group_pk(ANY_LABEL)] if len(f.labels) > GROUP_CAP else [group_pk(x) for x in f.labels]
    if len(person_pairs) * len(f.labels) > TRIPLE_CAP:
        return [triple_overflow_pk(a, b) for a, b in person_pairs]
    return [triple_pk(a, b, label) for a, b in person_pairs for label in f.labels]


def index_partitions(record: PhotoRecord) -> list[str]:
    """Every time-sorted index partition a processed photo appears in (failed/skipped: only the GSI)."""
    if record.status != "processed":
        return []
    parts = [year_pk(record.taken_at), *_month_day_of(record.taken_at)]
    f = facets(record)
    parts += f.labels + f.people + f.places
    if record.camera:
        parts.append(camera_pk(record.camera))
    if record.kind:
        parts.append(kind_pk(record.kind))
    if record.format:
        parts.append(format_pk(record.format))
    if record.rating:
        parts.append(rating_pk(record.rating))
    parts += composite_partitions(f)
    if record.sha256:  # which photo holds these bytes (content duplicates); never counted in VOCAB
        parts.append(content_pk(record.sha256))
    return list(dict.fromkeys(parts))


def counted(partitions: Iterable[str]) -> list[str]:
    """The partitions whose size VOCAB tracks: single facets and overflow partitions (pair and triple)
    and the triple family's group partitions."""
    out = []
    for pk in partitions:
        kind = pk.split("#", 1)[0]
        if PAIR in pk:
            if pk.endswith(f"#{WILDCARD}") or pk.startswith(GROUP + PAIR):
                out.append(pk)
        elif kind in COUNTED:
            out.append(pk)
    return out


def display_names(record: PhotoRecord) -> dict[str, str]:
    """VOCAB display names ("Dog", "NIKON D70") for the partitions whose key is normalised."""
    names = {label_pk(label["name"]): label["name"] for label in record.labels}
    if record.camera:
        names[camera_pk(record.camera)] = record.camera
    return names


def summary(record: PhotoRecord) -> dict:
    """What an index row carries: enough to render a search result and to check every facet of a query
    without reading the photo item."""
    return {
        "key": record.key,
        "taken_at": record.taken_at,
        "labels": record.label_names,
        "people": record.people,
        "place": record.place,
        "thumbnail": (record.thumbnails.get("grid") or {}).get("key"),
        "view": (record.thumbnails.get("view") or {}).get("key"),
        "format": record.format,
        "kind": record.kind,
        "camera": record.camera,
        "rating": record.rating,
    }

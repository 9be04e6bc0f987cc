"""Pure key design for the catalog table (see docs/catalog.md).

One table, adjacency list. The photo item holds the whole record; *index rows* duplicate a small summary
under a partition per access pattern, sorted by capture time, so every list is one Query:

| pattern                    | pk                          | sk                  |
|----------------------------|-----------------------------|---------------------|
| photo by key               | PHOTO#<key>                 | PHOTO               |
| photos by date range       | YEAR#<yyyy>                 | <taken_at>#<key>    |
| photos with a label        | LABEL#<name>                | <taken_at>#<key>    |
| photos of a person         | PERSON#<person_id>          | <taken_at>#<key>    |
| on this day (month-day)    | MD#<mm-dd>                  | <taken_at>#<key>    |
| photos by place            | PLACE#<cc> / PLACE#<cc>#<city> / PLACE#<cc>#<region> | <taken_at>#<key> |
| photos by camera           | CAMERA#<model>              | <taken_at>#<key>    |
| photos by kind (raw, ...)  | KIND#<kind>                 | <taken_at>#<key>    |
| failed photos              | GSI `failed`: failed_pk=FAILED, failed_sk=<updated_at>#<key> (sparse) |
"""

from __future__ import annotations

from shoebox.models import PhotoRecord

PHOTO_SK = "PHOTO"
NO_DATE = "0000-00-00T00:00:00"  # sorts before every real date: undated photos list last, newest-first


def photo_pk(key: str) -> str:
    return f"PHOTO#{key}"


def time_sk(taken_at: str | None, key: str) -> str:
    return f"{taken_at or NO_DATE}#{key}"


def norm(value: str) -> str:
    return " ".join(value.strip().lower().split())


def index_partitions(record: PhotoRecord) -> list[str]:
    """Every index partition a processed photo appears in (failed/skipped photos only in the GSI)."""
    if record.status != "processed":
        return []
    parts: list[str] = []
    taken = record.taken_at
    parts.append(f"YEAR#{taken[:4]}" if taken else "YEAR#unknown")
    if taken and len(taken) >= 10:
        parts.append(f"MD#{taken[5:10]}")
    for label in record.labels:
        parts.append(f"LABEL#{norm(label['name'])}")
    for person in record.people:
        parts.append(f"PERSON#{person}")
    place = record.place or {}
    cc = (place.get("country_code") or "").lower()
    if cc:
        parts.append(f"PLACE#{cc}")
        if place.get("city"):
            parts.append(f"PLACE#{cc}#{norm(place['city'])}")
        if place.get("region"):
            parts.append(f"PLACE#{cc}#{norm(place['region'])}")
    if record.camera:
        parts.append(f"CAMERA#{norm(record.camera)}")
    if record.kind:
        parts.append(f"KIND#{record.kind}")
    if record.format:
        parts.append(f"FORMAT#{record.format}")
    # dedupe, keep order
    return list(dict.fromkeys(parts))


def summary(record: PhotoRecord) -> dict:
    """What an index row carries: enough to render a search result without reading the photo item."""
    return {
        "key": record.key,
        "taken_at": record.taken_at,
        "labels": record.label_names,
        "people": record.people,
        "place": record.place,
        "thumbnail": (record.thumbnails.get("grid") or {}).get("key"),
        "view": (record.thumbnails.get("view") or {}).get("key"),
        "format": record.format,
        "camera": record.camera,
    }

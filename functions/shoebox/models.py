"""Boundary models shared by the steps, the catalog and the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PhotoRecord:
    """One photo as the catalog stores it (the `shoebox show` shape is derived from this)."""

    key: str  # originals/YYYY/MM/DD/NAME: the photo id
    status: str  # processed | failed | skipped
    etag: str | None = None
    size: int | None = None
    format: str | None = None
    kind: str | None = None  # lossy | raw | video | unsupported
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None  # ISO-8601, offset when known; None: undated
    # what dated it: exif | xmp | quicktime | takeout | filename | folder | file-time (ingest's
    # sources, shoebox.ingest.dates) or key (the YYYY/MM/DD of an original uploaded some other way)
    taken_source: str | None = None
    camera: str | None = None
    lens: str | None = None
    gps: dict[str, float] | None = None  # {"lat", "lon"}
    place: dict[str, str] | None = None  # {"city", "region", "country", "country_code"}
    labels: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "confidence", "parents"}]
    faces: list[dict[str, Any]] = field(default_factory=list)  # [{"face_id", "bbox", "confidence", "person_id"}]
    thumbnails: dict[str, dict[str, Any]] = field(default_factory=dict)  # {"view": {"key","width","height"}, "grid": {...}}
    error: str | None = None  # "ErrorType: readable reason" for failed/skipped photos
    failed_step: str | None = None
    execution: str | None = None  # execution ARN that produced this record
    recognition_calls: dict[str, int] = field(default_factory=dict)  # API calls made for this photo
    pipeline_version: int = 0
    sha256: str | None = None
    render_path: str | None = None  # decode | draft | raw-preview | raw-bitmap | raw-demosaic
    updated_at: str | None = None
    rating: int | None = None  # XMP sidecar: -1 (rejected) .. 5
    title: str | None = None  # XMP sidecar dc:title
    keywords: list[str] = field(default_factory=list)  # XMP dc:subject; also indexed as labels
    companion: str | None = None  # a Live Photo's video (file name; not uploaded)
    # a backfill item's own execution (a Distributed Map child; ``execution`` is the backfill run)
    item_execution: str | None = None

    @property
    def people(self) -> list[str]:
        seen: list[str] = []
        for face in self.faces:
            pid = face.get("person_id")
            if pid and pid not in seen:
                seen.append(pid)
        return seen

    @property
    def label_names(self) -> list[str]:
        return [label["name"] for label in self.labels]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PhotoRecord":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

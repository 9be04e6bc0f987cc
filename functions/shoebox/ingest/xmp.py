"""XMP packets (sidecar ``.xmp`` files or embedded in a JPEG): rating, title, keywords, capture date.

Plain ElementTree over the RDF: attributes and elements are both legal XMP spellings, so each property
is looked up both ways. Packets are small; anything over ``MAX_BYTES`` is not a real sidecar."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}
# Capture date properties, most specific first (xmp:CreateDate is what Lightroom writes for digitised)
_DATE_PROPS = (("exif", "DateTimeOriginal"), ("photoshop", "DateCreated"), ("xmp", "CreateDate"))


@dataclass(frozen=True)
class XmpData:
    rating: int | None = None  # -1 (rejected) .. 5
    title: str | None = None
    keywords: tuple[str, ...] = field(default_factory=tuple)
    taken_at: datetime | None = None
    camera: str | None = None

    def is_empty(self) -> bool:
        return self == XmpData()

    def merged(self, other: "XmpData") -> "XmpData":
        """Self's values, ``other``'s where self has none (a sidecar wins over the embedded packet)."""
        return XmpData(
            rating=self.rating if self.rating is not None else other.rating,
            title=self.title or other.title,
            keywords=tuple(dict.fromkeys(self.keywords + other.keywords)),
            taken_at=self.taken_at or other.taken_at,
            camera=self.camera or other.camera,
        )


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _values(desc: ET.Element, prefix: str, name: str) -> list[str]:
    """A property's text values: an attribute, a simple element, or an rdf:Bag/Seq/Alt of rdf:li."""
    attr = desc.get(_q(prefix, name))
    if attr is not None:
        return [attr]
    out: list[str] = []
    for el in desc.findall(f"{prefix}:{name}", NS):
        items = el.findall("./*/rdf:li", NS)
        if items:
            out += [li.text or "" for li in items]
        elif el.text and el.text.strip():
            out.append(el.text)
    return [v.strip() for v in out if v and v.strip()]


def parse_date(text: str | None) -> datetime | None:
    """XMP dates: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm[:ss[.s]][TZD]``; naive (local)."""
    if not text:
        return None
    text = text.strip()
    for fmt, width in (("%Y-%m-%dT%H:%M:%S", 19), ("%Y-%m-%dT%H:%M", 16), ("%Y-%m-%d", 10), ("%Y:%m:%d %H:%M:%S", 19)):
        try:
            return datetime.strptime(text[:width], fmt)
        except ValueError:
            continue
    return None


def parse(packet: bytes | str) -> XmpData:
    """The fields Shoebox keeps from one XMP packet; a packet that is not XML gives empty data."""
    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", "replace")
    packet = packet.strip().strip("\x00")
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return XmpData()
    descs = root.iter(_q("rdf", "Description"))
    rating: int | None = None
    title = None
    keywords: list[str] = []
    taken = None
    make = model = None
    for desc in descs:
        for value in _values(desc, "xmp", "Rating"):
            try:
                rating = max(-1, min(5, int(float(value))))
            except ValueError:
                pass
        title = title or next(iter(_values(desc, "dc", "title")), None)
        keywords += _values(desc, "dc", "subject")
        for prefix, name in _DATE_PROPS:
            taken = taken or parse_date(next(iter(_values(desc, prefix, name)), None))
        make = make or next(iter(_values(desc, "tiff", "Make")), None)
        model = model or next(iter(_values(desc, "tiff", "Model")), None)
    return XmpData(rating=rating, title=title, keywords=tuple(dict.fromkeys(keywords)), taken_at=taken,
                   camera=" ".join(v for v in (make, model) if v) or None)


def read_sidecar(path: Path) -> XmpData:
    """An ``.xmp`` file's data; an unreadable or oversized one gives empty data (it is only a sidecar)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return XmpData()
        return parse(path.read_bytes())
    except OSError:
        return XmpData()

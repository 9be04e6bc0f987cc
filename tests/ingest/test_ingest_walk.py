"""The folder walk: photos, sidecars, companions, and what is skipped (never opened)."""

from __future__ import annotations

import os

import pytest

from shoebox.ingest.walk import classify, walk


def _names(w):
    return [p.path.relative_to(p.folder).as_posix() for p in w.photos]


def _skipped(w, root):
    return {s.path.relative_to(root).as_posix(): s.reason for s in w.skipped}


def test_special_files_are_skipped_with_a_reason_and_never_opened(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    os.symlink(tmp_path / "a.jpg", tmp_path / "link.jpg")
    os.symlink(tmp_path / "gone.jpg", tmp_path / "dangling.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it for reading would block forever
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "sub", tmp_path / "loop")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.jpg").write_bytes(b"y")
    os.symlink(tmp_path / "elsewhere" / "b.jpg", tmp_path / "link_out.jpg")
    w = walk([tmp_path, tmp_path / "link_out.jpg"], exclude=["elsewhere"])
    assert _names(w) == ["a.jpg", "link_out.jpg"]  # a symlink to a file is followed
    skipped = _skipped(w, tmp_path)
    # ...unless its file is walked too: the file itself (with its sidecars) is the one stored
    assert skipped["link.jpg"] == f"symlink to {os.path.realpath(tmp_path / 'a.jpg')}, which is walked itself"
    assert skipped["dangling.jpg"].startswith("dangling symlink")
    assert skipped["pipe.jpg"] == "named pipe (FIFO), not a file"
    assert skipped["loop"] == "symlink to a folder (not followed)"
    assert classify(tmp_path / "a.jpg") is None


def test_sidecars_system_files_and_live_photos(tmp_path):
    for name in ("IMG_1.CR2", "IMG_1.xmp", "IMG_2.jpg", "IMG_2.jpg.xmp", "IMG_3.HEIC", "IMG_3.MOV", "IMG_3.AAE",
                 "IMG_4.jpg", "IMG_4.jpg.json", "IMG_5.jpg", "IMG_5.jpg.supplemental-metadata.json",
                 "metadata.json", "Thumbs.db", ".DS_Store", "clip.mov", "orphan.xmp"):
        (tmp_path / name).write_bytes(b"x")
    w = walk([tmp_path])
    assert _names(w) == ["IMG_1.CR2", "IMG_2.jpg", "IMG_3.HEIC", "IMG_4.jpg", "IMG_5.jpg", "clip.mov"]
    by = {p.path.name: p for p in w.photos}
    assert [s.name for s in by["IMG_1.CR2"].sidecars] == ["IMG_1.xmp"]
    assert [s.name for s in by["IMG_2.jpg"].sidecars] == ["IMG_2.jpg.xmp"]
    assert [s.name for s in by["IMG_3.HEIC"].sidecars] == ["IMG_3.AAE"]
    assert by["IMG_3.HEIC"].companion.name == "IMG_3.MOV" and by["clip.mov"].companion is None
    assert [s.name for s in by["IMG_4.jpg"].sidecars] == ["IMG_4.jpg.json"]
    assert [s.name for s in by["IMG_5.jpg"].sidecars] == ["IMG_5.jpg.supplemental-metadata.json"]
    skipped = _skipped(w, tmp_path)
    assert skipped["IMG_3.MOV"] == "Live Photo video: kept as the companion of IMG_3.HEIC"
    assert skipped["IMG_1.xmp"] == "XMP sidecar of IMG_1.CR2"
    assert skipped["metadata.json"].startswith("metadata JSON (Takeout) (no photo")
    assert skipped["orphan.xmp"] == "XMP sidecar (no photo of that name beside it)"
    assert skipped["Thumbs.db"] == "system file"
    assert ".DS_Store" not in skipped  # hidden: ignored silently


def test_exclude_globs_match_names_and_relative_paths(tmp_path):
    for rel in ("keep/a.jpg", "keep/b.tmp", "Trash/c.jpg", "x/y/d.jpg"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    w = walk([tmp_path], exclude=["*.tmp", "Trash", "x/y"])
    assert _names(w) == ["keep/a.jpg"]


def test_missing_argument_raises_and_named_files_are_classified_too(tmp_path):
    with pytest.raises(FileNotFoundError):
        walk([tmp_path / "nope"])
    os.symlink(tmp_path / "gone", tmp_path / "dangling.jpg")
    w = walk([tmp_path / "dangling.jpg"])
    assert w.photos == [] and w.skipped[0].reason.startswith("dangling symlink")


def test_documents_archives_and_audio_are_skipped_by_extension_and_odd_photos_are_tried(tmp_path):
    for name in ("README.txt", "invoice.PDF", "album.zip", "memo.m4a", "IMG_1.jpg", "scan.jpe", "IMG_2",
                 "NOTES.NEF"):
        (tmp_path / name).write_bytes(b"x")
    w = walk([tmp_path])
    assert _names(w) == ["IMG_1.jpg", "IMG_2", "NOTES.NEF", "scan.jpe"]  # content decides for these
    assert _skipped(w, tmp_path) == {"README.txt": "not a photo or video (text)",
                                     "invoice.PDF": "not a photo or video (document)",
                                     "album.zip": "not a photo or video (archive)",
                                     "memo.m4a": "not a photo or video (audio)"}

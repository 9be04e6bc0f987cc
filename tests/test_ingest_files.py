from __future__ import annotations

import os
from datetime import datetime

import pytest

from photo_factory import jpeg_bytes
from shoebox.ingest.files import capture_date, discover, disambiguate, original_key


def test_key_from_exif_date_else_file_time(tmp_path):
    with_exif = tmp_path / "a b.jpg"
    with_exif.write_bytes(jpeg_bytes(when=datetime(2006, 10, 4, 14, 3)))
    assert original_key(with_exif) == "originals/2006/10/04/a b.jpg"
    plain = tmp_path / "scan#1.png"
    plain.write_bytes(b"not really a png")
    stamp = datetime(2011, 3, 9, 12, 0).timestamp()
    os.utime(plain, (stamp, stamp))
    assert capture_date(plain) == datetime(2011, 3, 9, 12, 0)
    assert original_key(plain) == "originals/2011/03/09/scan_1.png"


def test_discover_walks_folders_in_order_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ("b/2.jpg", "a.jpg", ".DS_Store", ".git/x.jpg"):
        (tmp_path / rel).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])] == ["a.jpg", "b/2.jpg"]
    with pytest.raises(FileNotFoundError):
        list(discover([tmp_path / "nope"]))


def test_same_name_same_day_different_content_gets_its_own_key():
    assert disambiguate("originals/2020/01/01/IMG_0001.JPG", "0123456789abcdef") == "originals/2020/01/01/IMG_0001~01234567.JPG"
    assert disambiguate("originals/2020/01/01/README", "0123456789abcdef") == "originals/2020/01/01/README~01234567"

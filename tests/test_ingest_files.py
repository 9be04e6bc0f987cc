from __future__ import annotations

import os
from datetime import datetime


from photo_factory import jpeg_bytes
from shoebox.ingest.dates import capture_date
from shoebox.ingest.files import disambiguate, original_key


def test_key_from_exif_date_else_file_time(tmp_path):
    with_exif = tmp_path / "a b.jpg"
    with_exif.write_bytes(jpeg_bytes(when=datetime(2006, 10, 4, 14, 3)))
    assert original_key(with_exif) == "originals/2006/10/04/a b.jpg"
    plain = tmp_path / "scan#1.png"
    plain.write_bytes(b"not really a png")
    stamp = datetime(2011, 3, 9, 12, 0).timestamp()
    os.utime(plain, (stamp, stamp))
    assert capture_date(plain).when == datetime(2011, 3, 9, 12, 0)
    assert original_key(plain) == "originals/2011/03/09/scan_1.png"


def test_same_name_same_day_different_content_gets_its_own_key():
    assert disambiguate("originals/2020/01/01/IMG_0001.JPG", "0123456789abcdef") == "originals/2020/01/01/IMG_0001~01234567.JPG"
    assert disambiguate("originals/2020/01/01/README", "0123456789abcdef") == "originals/2020/01/01/README~01234567"

"""The format registry (shoebox.formats) is consistent with what reads it."""

from __future__ import annotations

from collections import Counter
from datetime import date

from PIL import Image

import shoebox.imaging  # noqa: F401  registers the HEIF/AVIF opener, as the thumbnail step does
from shoebox.formats import BY_NAME, EXTENSIONS, FORMATS, PIL_FORMATS, PLANNER_CLASSES, QUERY_WORDS, THUMBNAIL_PROFILE
from shoebox.imaging import sniff
from shoebox.search.query import Vocabulary, parse


def test_names_words_and_extensions_are_unique():
    for counts in (Counter(f.name for f in FORMATS), Counter(w for f in FORMATS for w in f.words),
                   Counter(e for f in FORMATS for e in f.extensions)):
        assert [k for k, n in counts.items() if n > 1] == []


def test_every_pillow_plugin_named_is_installed():
    Image.init()
    assert {fmt: pil for fmt, pil in PIL_FORMATS.items() if pil not in Image.OPEN} == {}


def test_planner_classes_cover_every_entry_and_image_class_has_a_thumbnail_cost():
    assert {f.planner for f in FORMATS} <= set(PLANNER_CLASSES)
    assert set(THUMBNAIL_PROFILE) == set(PLANNER_CLASSES) - {"video", "other"}
    assert EXTENSIONS["jpg"] == "jpeg" and EXTENSIONS["nef"] == "raw" and EXTENSIONS["mov"] == "video"


def test_a_prefix_magic_entry_is_what_sniff_reports_for_its_magic():
    for name, head in {"jpeg": b"\xff\xd8\xff\xe0", "raf": b"FUJIFILMCCD-RAW 0201", "psd": b"8BPS\x00\x01",
                       "mkv": b"\x1a\x45\xdf\xa3\x01\x00"}.items():
        info = sniff(head + bytes(64))
        assert (info.format, info.kind) == (name, BY_NAME[name].kind)


def test_every_query_word_parses_to_its_format():
    for word, name in QUERY_WORDS.items():
        assert parse(word, today=date(2024, 6, 1), vocab=Vocabulary()).format == name, word

"""At 80 columns photo keys are printed whole (show, get and retry need them); other columns give way."""

from __future__ import annotations

import pytest

from shoebox.cli import common


@pytest.fixture
def eighty(monkeypatch):
    monkeypatch.setattr(common.out, "width", 80)


def _rows(key: str) -> list[dict]:
    return [{"key": key, "taken_at": "2019-08-03T14:22:33", "labels": ["Beach", "Sea", "Sky"],
             "people": [], "place": {"city": "Étretat", "country": "France"}}]


@pytest.mark.parametrize("key", [
    "originals/2019/08/03/IMG_0001.jpg",  # fits: a table
    "originals/2019/08/03/WhatsApp Image 2019-08-03 at 14.22.33 (1).jpeg",  # too long for one: a listing
])
def test_keys_are_never_cut_or_wrapped(eighty, capsys, key):
    common._print_rows(_rows(key), False, "beach")
    printed = capsys.readouterr().out
    assert any(key in line for line in printed.splitlines()), printed
    assert "…" not in printed
    assert "Étretat" in printed and "2019-08-03" in printed

"""XMP ratings in English: "5 stars", "4+ stars", "at least 3 stars", "rated 4 or more", "top rated",
"starred", "rejected" → the ratings a photo may have (the parser's ``ratings``, read from ``RATING#n``
partitions). Pure; the parser asks ``rating_phrase`` at each word."""

from __future__ import annotations

import re
from collections.abc import Iterable

STAR_NUMBERS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
OR_MORE = (("or", "more"), ("or", "higher"), ("or", "better"), ("or", "above"), ("and", "up"),
           ("and", "above"), ("plus",))
ANY_RATING = (1, 2, 3, 4, 5)
RATING_WORDS = {("starred",): ANY_RATING, ("rated",): ANY_RATING, ("top", "rated"): (4, 5),
                ("top-rated",): (4, 5), ("highly", "rated"): (4, 5), ("best", "rated"): (4, 5),
                ("rejected",): (-1,), ("rejects",): (-1,)}
_STAR_TOKEN = re.compile(r"^(\w+?)(\+?)(?:-?(stars?))?$")


def _stars(word: str) -> tuple[int, bool, bool] | None:
    """"4" / "4+" / "4-star" / "five-stars" → (4, "or more", the word said "star")."""
    m = _STAR_TOKEN.match(word)
    if not m or m.group(1) not in STAR_NUMBERS:
        return None
    return STAR_NUMBERS[m.group(1)], bool(m.group(2)), bool(m.group(3))


def rating_phrase(words: list[str]) -> tuple[int, tuple[int, ...]] | None:
    """(words used, ratings) for a rating phrase at the start of ``words``: "5 stars", "4+ stars",
    "at least 3 stars", "rated 4 or more", "4-star", "top rated", "starred"; None otherwise.
    A number needs "star(s)" or "rated" beside it, so "4 dogs" is never a rating."""
    words = [*words, "", "", ""]  # index past the end freely: "" matches nothing
    at_least = 2 if words[:2] == ["at", "least"] else 0
    rated = words[at_least] == "rated"
    used = at_least + rated
    number = _stars(words[used])
    if number is None:
        return None if at_least else _named_rating(words)
    value, plus, star_word = number
    used += 1
    if not star_word and words[used] in ("star", "stars"):
        star_word, used = True, used + 1
    if not (star_word or rated):
        return None
    tail = _starts_with(words[used:], OR_MORE)
    return used + tail, tuple(range(value, 6)) if plus or at_least or tail else (value,)


def _starts_with(words: list[str], phrases: Iterable[tuple[str, ...]]) -> int:
    """The length of the first of ``phrases`` that ``words`` start with; 0 for none."""
    return next((len(p) for p in phrases if tuple(words[:len(p)]) == p), 0)


def _named_rating(words: list[str]) -> tuple[int, tuple[int, ...]] | None:
    return next(((len(p), r) for p, r in RATING_WORDS.items() if tuple(words[:len(p)]) == p), None)

"""A query's words: the tokenizer (punctuation, possessives, year spans) and the rules for English plurals
the parser (``query.py``) matches labels with."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    text: str  # as typed (punctuation trimmed)
    norm: str  # lower case, possessive 's stripped

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


_SPLIT = re.compile(r"[\s,;:!?()\"“”]+")
_YEAR_SPAN = re.compile(r"^(\d{4})[-–](\d{4})$")


def norm_words(text: str) -> list[str]:
    return [t.norm for t in tokenize(text)]


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    for raw in _SPLIT.split(text.replace("’", "'").replace("‘", "'")):
        raw = raw.strip(".")
        if raw.startswith("'") and not re.fullmatch(r"'\d{2}s?", raw):
            raw = raw.strip("'")
        if not raw:
            continue
        span = _YEAR_SPAN.match(raw)
        pieces = [span.group(1), "-", span.group(2)] if span else [raw]
        for piece in pieces:
            norm = piece.lower()
            if norm.endswith("'s") and len(norm) > 2:
                norm = norm[:-2]
            elif norm.endswith("s'") and len(norm) > 2:
                norm = norm[:-1]
            if norm:
                out.append(Token(piece, norm))
    return out


def camera_tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[\s_/-]+", name.lower()) if t)


# Plural → singular for the nouns no suffix rule gets right.
IRREGULAR_PLURALS = {"people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
                     "geese": "goose", "feet": "foot", "teeth": "tooth", "oxen": "ox", "lice": "louse",
                     "dice": "die", "cacti": "cactus", "fungi": "fungus", "larvae": "larva", "leaves": "leaf",
                     "wolves": "wolf", "knives": "knife", "wives": "wife", "lives": "life", "loaves": "loaf",
                     "shelves": "shelf", "calves": "calf", "halves": "half", "thieves": "thief"}


def singular_forms(word: str) -> list[str]:
    """Candidate singulars of an English noun, most specific first ("puppies" → puppy; "beaches" → beach;
    "dogs" → dog; "people" → person). A query word is matched against the known labels, so offering a
    few candidates is safe; a rule table answers in microseconds where an inflection engine took a second
    to load on every `shoebox search`."""
    if word in IRREGULAR_PLURALS:
        return [IRREGULAR_PLURALS[word]]
    forms: list[str] = []
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith(("ches", "shes", "sses", "xes", "zes", "oes", "ses")):
        forms.append(word[:-2])
    if word.endswith("ves"):
        forms += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    return forms

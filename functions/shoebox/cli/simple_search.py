"""Minimal search until the English query engine lands: label words and a year, via index partitions."""

from __future__ import annotations

import re

from shoebox.catalog import Catalog
from shoebox.catalog.keys import norm

_STOP = {"photo", "photos", "picture", "pictures", "of", "from", "in", "with", "the", "a", "an", "and", "at", "on"}


def _singular(word: str) -> list[str]:
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def search(catalog: Catalog, text: str, limit: int = 50) -> list[dict]:
    words = [w for w in re.findall(r"[\w']+", text.lower()) if w not in _STOP]
    years = [w for w in words if re.fullmatch(r"(19|20)\d\d", w)]
    labels = [w for w in words if w not in years]
    year = years[0] if years else None
    start, end = (f"{year}-", f"{year}-12-31T99") if year else (None, None)
    partitions: list[list[dict]] = []
    for word in labels:
        found: list[dict] = []
        for form in _singular(norm(word)):
            found = list(catalog.query_partition(f"LABEL#{form}", start, end))
            if found:
                break
        partitions.append(found)
    if not labels and year:
        partitions.append(list(catalog.query_partition(f"YEAR#{year}")))
    if not partitions:
        return []
    keys = set.intersection(*({row["key"] for row in rows} for rows in partitions))
    rows = [row for row in partitions[0] if row["key"] in keys]
    return rows[:limit]

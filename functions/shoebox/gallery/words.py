"""What the search box shows besides results (pure): the parsed meaning as chips ("Eileen · cat ·
Paris · 2007") and as-you-type suggestions from the catalog's vocabulary (people, labels, places)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    text: str  # what goes into the search box
    kind: str  # person | label | place | camera
    count: int = 0  # photos it finds (the VOCAB count), most first


def vocabulary_words(counts: Mapping[str, dict], refs: Mapping[str, Any]) -> list[Word]:
    """Every word worth suggesting, from the VOCAB counts (``search.vocabulary.CatalogVocabulary.counts``) and the people
    refs (``PersonRef`` by id: named people by their name, never by a bare id)."""
    found: dict[tuple[str, str], int] = {}
    for pk, entry in counts.items():
        if "&" in pk:  # pair and triple counts: not words
            continue
        kind, _, value = pk.partition("#")
        n = int(entry.get("n") or 0)
        if kind == "PERSON":
            ref = refs.get(value)
            if ref is None or not ref.name:
                continue
            word = (ref.name, "person")
        elif kind == "LABEL":
            word = (entry.get("name") or value, "label")
        elif kind == "PLACE":
            parts = value.split("/")
            if len(parts) < 2:  # a bare country code: the parser knows countries by name, not by code
                continue
            word = (parts[-1], "place")
        elif kind == "CAMERA":
            word = (entry.get("name") or value, "camera")
        else:
            continue
        found[word] = found.get(word, 0) + n
    return sorted((Word(text, kind, n) for (text, kind), n in found.items()), key=lambda w: (-w.count, w.text))


def suggest(text: str, words: list[Word], limit: int = 8) -> list[dict]:
    """Completions for the word being typed (the last one, or the last two for "new y…"): words that
    start with it, or have a word that does; each as the whole box text it would make."""
    parts = text.rstrip().split(" ") if text.strip() else []
    if not parts or text.endswith(" "):
        return []
    out: list[dict] = []
    seen: set[str] = set()
    for take in (2, 1):  # "new yo" → "New York" before "yo…"
        if len(parts) < take:
            continue
        fragment = " ".join(parts[-take:]).lower()
        head = " ".join(parts[:-take])
        for word in words:
            low = word.text.lower()
            if low == fragment or not (low.startswith(fragment) or f" {fragment}" in f" {low}"):
                continue
            if word.text in seen:
                continue
            seen.add(word.text)
            out.append({"text": word.text, "kind": word.kind, "count": word.count,
                        "query": f"{head} {word.text}".strip()})
            if len(out) >= limit:
                return out
    return out


def meaning(parsed: Any, refs: Mapping[str, Any]) -> list[dict]:
    """The parser's reading of a query as chips, in the query's order: people by their name, labels as
    the catalog spells them, places by name (with the country), dates as typed; plus what it did not
    understand."""
    chips: list[dict] = []
    if parsed is None:
        return chips
    for term in parsed.terms:
        value = term.value
        if term.kind == "person":
            ref = refs.get(value)
            text = (ref.label if ref is not None else None) or str(value)
        elif term.kind == "label":
            text = str(value)
        elif term.kind == "place":
            place = value.to_dict() if hasattr(value, "to_dict") else dict(value or {})
            name, country = place.get("name") or term.text, place.get("country")
            text = f"{name}, {country}" if country and country != name else name
        else:
            text = term.text
        chips.append({"kind": term.kind, "text": text})
    for word in parsed.unknown:
        chips.append({"kind": "unknown", "text": word})
    return chips

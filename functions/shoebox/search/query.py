"""English query → structured query: ``parse("photos of Natalie from 2007", today=…, vocab=…)``.

The parser is a pure function of the text, ``today`` and a :class:`Vocabulary` taken from the catalog
(person names → ids, label names, camera names, a place-name resolver). It scans the words left to
right; at each position every matcher (dates, camera, format, people, labels, places) proposes a
reading and the longest one wins, ties going to the higher priority. A word nothing reads is either a
known filler word (``ignored``) or reported in ``unknown``: never dropped silently.

How an executor combines the result (every facet present must hold — AND):

* ``people``: every person appears in the photo (AND);       ``labels``: every label (AND);
* ``places``: the photo is in any of them (OR; match on ``PlaceMatch.key`` at its ``level``);
* ``date_ranges``: the capture date falls in any of them (OR; inclusive; open ends are
  ``date.min``/``date.max``);  ``month_day``: same month and day, any year (AND with the ranges, so
  "on this day in 2010" is the single day);
* ``cameras``: any of them (the known camera names a phrase like "my iPhone" matched);
* ``kind`` ("raw", "video", "lossy") and ``format`` ("jpeg", "heic", "nef"…): equality;
* ``ratings``: the XMP rating is any of them ("5 stars" → [5]; "4+ stars", "at least 4 stars", "rated 4 or
  more", "top rated" → [4, 5]; "starred", "rated" → 1–5; "rejected" → [-1]). A bare "N stars" is exactly N,
  as the stars a photo manager shows.

Ambiguity rules (documented decisions):

* A word that is both a person's name and a label (person "Rose", label "Rose") is the **person**: the
  catalog's names were given by the user on purpose. A plural or a synonym ("roses") is the label.
* A bare month name that is also a person's name ("June", "May") is the person; with a year or day
  ("June 2010", "May 5") it is a date. "Aunt May" is matched whole first (longest match).
* A place after "in/at/near/around/from/to" beats a person or label when it is a country, a region or
  a city of ≥ 100,000 people ("in Turkey", "in Jordan"); otherwise labels and people win
  ("at the beach" is the Beach label, not Beach, North Dakota). Without such a preposition a place
  must be a country name, or capitalised; small places (< 15,000) need the preposition.
* A region or country right after a place narrows it: "Paris, Texas" is Paris in Texas, not Paris, France.
* Camera words after "with/on/using" ("taken with the D70", "shot on my iPhone") beat labels; bare
  camera words ("d70", "iphone") count only if nothing else reads them and they are distinctive.
* "or" is not supported (facets are ANDed) and is reported in ``unknown`` instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shoebox.formats import QUERY_WORDS
from shoebox.places import PlaceMatch, is_country_name, resolve_place_name
from shoebox.words import STOPWORDS

from .dategrammar import DateGrammar
from .ratings import rating_phrase
from .tokens import Token, camera_tokens, norm_words, singular_forms, tokenize

# ------------------------------------------------------------------------------------------ words

PLACE_CUES = frozenset({"in", "at", "near", "around", "from", "to"})
CAMERA_CUES = frozenset({"with", "on", "using", "via"})
TITLES = frozenset({"aunt", "auntie", "uncle", "grandma", "grandpa", "granny", "cousin", "mr", "mrs", "ms",
                    "dr", "mom", "mum", "dad"})
SKIP_BEFORE_HEAD = frozenset({"the", "my", "a", "an", "our", "his", "her", "their"})

# Synonyms → Rekognition-style label names; used only when the target is a known label.
LABEL_SYNONYMS: dict[str, str] = {
    "puppy": "Dog", "pup": "Dog", "doggy": "Dog", "doggie": "Dog", "hound": "Dog",
    "kitten": "Cat", "kitty": "Cat", "kitties": "Cat",
    "seaside": "Beach", "seashore": "Beach", "shore": "Beach", "beachfront": "Beach",
    "ocean": "Sea", "kid": "Child", "kids": "Child", "baby": "Baby", "infant": "Baby", "newborn": "Baby",
    "automobile": "Car", "auto": "Car", "bike": "Bicycle", "motorbike": "Motorcycle",
    "woods": "Forest", "latte": "Coffee", "espresso": "Coffee", "cappuccino": "Coffee",
    "bday cake": "Birthday Cake", "people": "Person", "human": "Person", "guy": "Man", "lady": "Woman",
    "mountains": "Mountain", "peak": "Mountain", "snowy": "Snow", "selfies": "Selfie",
}

KINDS = {"raw": "raw", "raws": "raw", "video": "video", "videos": "video", "movie": "video",
         "movies": "video", "clip": "video", "clips": "video"}
GENERIC_CAMERA_WORDS = frozenset(
    """pro max mini plus digital camera corporation corp company co ltd inc mark ii iii iv edition
    imaging optical eos ultra lite se""".split()
)

PRIORITY = {"rating": 65, "date": 60, "camera-cued": 55, "format": 50, "place-strong": 45, "person": 40,
            "label": 30, "place": 20, "camera": 10}


# ------------------------------------------------------------------------------------------ shapes


@dataclass
class Vocabulary:
    """What the catalog knows, as the parser needs it.

    ``people``: display name → person id ({"natalie": "p-1a2b", "Aunt May": "p-77"}), any case.
    ``labels``: label names as the recognizer emits them ("Dog", "Birthday Cake").
    ``cameras``: camera names as stored on photos ("NIKON D70", "Apple iPhone 12 Pro").
    ``resolve_place``: name → places, best first (default: the offline gazetteer); None disables places.
    ``synonyms``: extra word → label name entries on top of :data:`LABEL_SYNONYMS`.
    """

    people: Mapping[str, str] = field(default_factory=dict)
    labels: Iterable[str] = ()
    cameras: Iterable[str] = ()
    resolve_place: Callable[[str], list[PlaceMatch]] | None = resolve_place_name
    synonyms: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = tuple(self.labels)
        self.cameras = tuple(self.cameras)
        self._people: dict[tuple[str, ...], str] = {}
        first: dict[str, set[str]] = {}
        for name, pid in self.people.items():
            words = tuple(norm_words(name))
            if words:
                self._people[words] = pid
                first.setdefault(words[0], set()).add(pid)
        # "Tom" also finds "Tom Smith" when exactly one person is called Tom.
        for word, ids in first.items():
            if (word,) not in self._people and len(ids) == 1 and word not in TITLES:
                self._people[(word,)] = next(iter(ids))
        self._labels: dict[tuple[str, ...], str] = {tuple(norm_words(n)): n for n in self.labels}
        self._synonyms: dict[tuple[str, ...], str] = {}
        by_lower = {" ".join(k): v for k, v in self._labels.items()}
        for word, target in {**LABEL_SYNONYMS, **self.synonyms}.items():
            canonical = by_lower.get(" ".join(norm_words(target)))
            if canonical:
                self._synonyms[tuple(norm_words(word))] = canonical
        self._cameras = [(name, camera_tokens(name)) for name in self.cameras]
        self.max_person = max((len(k) for k in self._people), default=1)
        self.max_label = max((len(k) for k in [*self._labels, *self._synonyms]), default=1)

    def is_person_name(self, word: str) -> bool:
        return (word,) in self._people


@dataclass
class Term:
    """One reading the parser made: which words, as what, meaning what (for ``--explain``)."""

    text: str
    kind: str  # person | label | place | date | month_day | camera | kind | format | rating
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "value": _jsonable(self.value)}


@dataclass
class ParsedQuery:
    text: str
    people: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    places: list[PlaceMatch] = field(default_factory=list)
    date_ranges: list[tuple[date, date]] = field(default_factory=list)
    month_day: tuple[int, int] | None = None
    undated: bool = False  # "undated photos": no source gave a capture date (YEAR#unknown)
    cameras: list[str] = field(default_factory=list)
    kind: str | None = None
    format: str | None = None
    ratings: list[int] = field(default_factory=list)  # XMP ratings, OR (-1: rejected)
    unknown: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)

    @property
    def camera(self) -> str | None:
        """The single camera asked for, when the phrase matched exactly one known camera."""
        return self.cameras[0] if len(self.cameras) == 1 else None

    @property
    def is_empty(self) -> bool:
        return not (self.people or self.labels or self.places or self.date_ranges or self.month_day or self.undated
                    or self.cameras or self.kind or self.format or self.ratings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "people": list(self.people),
            "labels": list(self.labels),
            "places": [p.to_dict() for p in self.places],
            "date_ranges": [[a.isoformat(), b.isoformat()] for a, b in self.date_ranges],
            "month_day": list(self.month_day) if self.month_day else None,
            "undated": self.undated,
            "cameras": list(self.cameras),
            "kind": self.kind,
            "format": self.format,
            "ratings": list(self.ratings),
            "unknown": list(self.unknown),
            "ignored": list(self.ignored),
            "terms": [t.to_dict() for t in self.terms],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


# ------------------------------------------------------------------------------------------ matching


@dataclass
class Reading:
    length: int
    kind: str  # key into PRIORITY
    apply: Callable[[ParsedQuery], None]


class _Parser(DateGrammar):
    def __init__(self, text: str, today: date, vocab: Vocabulary) -> None:
        self.text = text
        self.today = today
        self.vocab = vocab
        self.tokens = tokenize(text)

    # ---- driver
    def run(self) -> ParsedQuery:
        q = ParsedQuery(text=self.text)
        i, toks = 0, self.tokens
        while i < len(toks):
            readings = [r for m in (self.rating, self.date, self.camera, self.fmt, self.person, self.label,
                                    self.place)
                        for r in m(i) if r is not None]
            if readings:
                best = max(readings, key=lambda r: (r.length, PRIORITY[r.kind]))
                best.apply(q)
                i += best.length
                continue
            tok = toks[i]
            if tok.norm in ("-", "–"):
                pass
            elif tok.norm in STOPWORDS:
                q.ignored.append(tok.text)
            else:
                q.unknown.append(tok.text)
            i += 1
        return q

    def span_text(self, i: int, n: int) -> str:
        return " ".join(t.text for t in self.tokens[i:i + n])

    def norm(self, i: int) -> str:
        return self.tokens[i].norm if i < len(self.tokens) else ""

    def cue_before(self, i: int, cues: frozenset[str]) -> bool:
        j = i - 1
        while j >= 0 and self.tokens[j].norm in SKIP_BEFORE_HEAD:
            j -= 1
        return j >= 0 and self.tokens[j].norm in cues

    # ---- people
    def person(self, i: int) -> Iterable[Reading | None]:
        for n in range(min(self.vocab.max_person, len(self.tokens) - i), 0, -1):
            key = tuple(t.norm for t in self.tokens[i:i + n])
            pid = self.vocab._people.get(key)
            if pid:
                text = self.span_text(i, n)

                def apply(q: ParsedQuery, pid: str = pid, text: str = text) -> None:
                    if pid not in q.people:
                        q.people.append(pid)
                    q.terms.append(Term(text, "person", pid))

                yield Reading(n, "person", apply)
                return

    # ---- labels
    def label(self, i: int) -> Iterable[Reading | None]:
        v = self.vocab
        for n in range(min(v.max_label, len(self.tokens) - i), 0, -1):
            words = [t.norm for t in self.tokens[i:i + n]]
            if n == 1 and words[0] in STOPWORDS:
                return
            for key in self.label_keys(words):
                name = v._labels.get(key) or v._synonyms.get(key)
                if name:
                    text = self.span_text(i, n)

                    def apply(q: ParsedQuery, name: str = name, text: str = text) -> None:
                        if name not in q.labels:
                            q.labels.append(name)
                        q.terms.append(Term(text, "label", name))

                    yield Reading(n, "label", apply)
                    return

    def label_keys(self, words: list[str]) -> Iterable[tuple[str, ...]]:
        """The words as typed, then with the last word's singular forms ("dogs", "beaches", "puppies")."""
        v = self.vocab
        yield tuple(words)
        for form in singular_forms(words[-1]):
            key = (*words[:-1], form)
            if key in v._labels or key in v._synonyms:
                yield key
                return

    # ---- XMP rating
    def rating(self, i: int) -> Iterable[Reading | None]:
        found = rating_phrase([t.norm for t in self.tokens[i:i + 6]])
        if found:
            n, ratings = found
            text = self.span_text(i, n)

            def apply(q: ParsedQuery) -> None:
                q.ratings = sorted(set(q.ratings) & set(ratings)) if q.ratings else list(ratings)
                q.terms.append(Term(text, "rating", list(ratings)))

            yield Reading(n, "rating", apply)

    # ---- format / kind
    def fmt(self, i: int) -> Iterable[Reading | None]:
        w, text = self.tokens[i].norm, self.tokens[i].text
        if w in KINDS:
            value = KINDS[w]
            n = 2 if self.norm(i + 1) in ("files", "file", "photos", "images") else 1

            def apply_kind(q: ParsedQuery) -> None:
                if q.kind not in (None, value):
                    q.unknown.append(text)
                    return
                q.kind = value
                q.terms.append(Term(text, "kind", value))
                if n == 2:
                    q.ignored.append(self.tokens[i + 1].text)

            yield Reading(n, "format", apply_kind)
        elif w in QUERY_WORDS:
            value = QUERY_WORDS[w]

            def apply_format(q: ParsedQuery) -> None:
                if q.format not in (None, value):
                    q.unknown.append(text)
                    return
                q.format = value
                q.terms.append(Term(text, "format", value))

            yield Reading(1, "format", apply_format)

    # ---- camera
    def camera(self, i: int) -> Iterable[Reading | None]:
        if not self.vocab._cameras:
            return
        cued = self.cue_before(i, CAMERA_CUES)
        for n in (3, 2, 1):
            if i + n > len(self.tokens):
                continue
            words = [t.norm for t in self.tokens[i:i + n]]
            if any(w in STOPWORDS for w in words):
                continue
            hits = self.camera_hits(words)
            if not hits or not (cued or _distinctive_camera_words(words)):
                continue
            text = self.span_text(i, n)

            def apply(q: ParsedQuery, hits: list[str] = hits, text: str = text) -> None:
                for name in hits:
                    if name not in q.cameras:
                        q.cameras.append(name)
                q.terms.append(Term(text, "camera", hits))

            yield Reading(n, "camera-cued" if cued else "camera", apply)
            return

    def camera_hits(self, words: list[str]) -> list[str]:
        """Cameras whose name holds every word, or a run of its words written together ("eos5d")."""
        joined = "".join(words)
        hits = []
        for name, ctoks in self.vocab._cameras:
            contained = all(w in ctoks for w in words)
            compact = any(joined == "".join(ctoks[a:b]) for a in range(len(ctoks))
                          for b in range(a + 1, len(ctoks) + 1))
            if contained or compact:
                hits.append(name)
        return hits

    # ---- places
    def place(self, i: int) -> Iterable[Reading | None]:
        resolve = self.vocab.resolve_place
        if resolve is None:
            return
        anchored = self.cue_before(i, PLACE_CUES)
        for n in range(min(4, len(self.tokens) - i), 0, -1):
            toks = self.tokens[i:i + n]
            span = _place_span(toks)
            if span == "stop":
                return
            if span == "skip":
                continue
            text = self.span_text(i, n)
            capitalised = all(t.capitalised for t in toks if t.norm not in STOPWORDS)
            if not anchored and not capitalised and not is_country_name(text):
                continue  # only a country could qualify below: don't load the gazetteer for "cat"
            matches = resolve(text)
            if not matches or not _place_reads_as_place(matches[0], text, anchored, capitalised):
                continue
            best, n = self.qualify(i, n, matches)  # "Paris, Texas", "London Ontario"
            text = self.span_text(i, n)
            strong = anchored and (best.level != "city" or best.population >= 100_000)

            def apply(q: ParsedQuery, best: PlaceMatch = best, text: str = text) -> None:
                if best not in q.places:
                    q.places.append(best)
                q.terms.append(Term(text, "place", best))

            yield Reading(n, "place-strong" if strong else "place", apply)
            return

    def qualify(self, i: int, n: int, matches: list[PlaceMatch]) -> tuple[PlaceMatch, int]:
        """(the place, words used) for the ``n`` words at ``i`` that name ``matches``: a region or country
        right after them narrows it to the best match inside that."""
        found = self.qualifier(i + n, matches)
        return (found[0], n + found[1]) if found else (matches[0], n)

    def qualifier(self, i: int, matches: list[PlaceMatch]) -> tuple[PlaceMatch, int] | None:
        """A region or country right after a place name narrows it: the best match inside it."""
        resolve = self.vocab.resolve_place
        assert resolve is not None
        for n in range(min(4, len(self.tokens) - i), 0, -1):
            toks = self.tokens[i:i + n]
            if toks[0].norm in STOPWORDS or toks[-1].norm in STOPWORDS:
                continue
            areas = [m for m in resolve(self.span_text(i, n)) if m.level != "city"]
            for candidate in matches:
                for area in areas:
                    inside = candidate.country_code == area.country_code and (
                        area.level == "country" or (candidate.level == "city" and candidate.region == area.region))
                    if inside and candidate != area:
                        return candidate, n
        return None

    # ---- dates
    def date(self, i: int) -> Iterable[Reading | None]:
        undated = self.undated_expr(i)
        if undated:
            text = self.span_text(i, undated)

            def apply_undated(q: ParsedQuery) -> None:
                q.undated = True
                q.terms.append(Term(text, "date", "undated"))

            yield Reading(undated, "date", apply_undated)
            return
        got = self.date_expr(i)
        if got is None:
            return
        n, ranges, month_day = got
        text = self.span_text(i, n)

        def apply(q: ParsedQuery) -> None:
            if month_day is not None:
                q.month_day = month_day
                q.terms.append(Term(text, "month_day", list(month_day)))
            for r in ranges:
                if r not in q.date_ranges:
                    q.date_ranges.append(r)
            if ranges:
                q.terms.append(Term(text, "date", [list(r) for r in ranges]))

        yield Reading(n, "date", apply)

def _distinctive_camera_words(words: list[str]) -> bool:
    """A model number or a brand-like word: enough to read words as a camera without "with"/"on"."""
    return any(any(c.isdigit() for c in w) or (len(w) >= 4 and w not in GENERIC_CAMERA_WORDS) for w in words)


def _place_span(toks: list[Token]) -> str:
    """"stop": no place starts here (a stopword, unless an abbreviation like "US"); "skip": not these
    words (ending in a stopword, or a dash inside); "ok": look them up."""
    if toks[0].norm in STOPWORDS and not (toks[0].text.isupper() and len(toks[0].text) > 1):
        return "stop"
    if toks[-1].norm in STOPWORDS or any(t.norm in ("-", "–") for t in toks):
        return "skip"
    return "ok"


def _place_reads_as_place(best: PlaceMatch, text: str, anchored: bool, capitalised: bool) -> bool:
    """Whether words that name a place are meant as one: a country named plainly; a region, a capitalised
    name or a town of 15,000 after "in"/"at"; else only a capitalised town of 15,000."""
    if best.level == "country":
        return anchored or capitalised or len(text) > 3
    if anchored:
        return best.level == "region" or capitalised or best.population >= 15_000
    return capitalised and best.population >= 15_000


def parse(text: str, *, today: date, vocab: Vocabulary) -> ParsedQuery:
    """Parse an English photo query. Pure: same text, today and vocabulary → same result."""
    return _Parser(text, today, vocab).run()


"""Run a :class:`ParsedQuery` against the catalog: a plan of DynamoDB Queries, never a Scan.

Every facet of a query names one or more index partitions (see ``shoebox.catalog.keys``); the date
ranges bound the sort key of whichever partition is read, because every index partition is sorted by
capture time. The planner

1. turns the query into *slots*, one per facet that must hold: each person (an OR over the person's id
   and its merged aliases), each label, the places (OR), the cameras (OR), kind, format, month-day;
2. lists the *access paths*: each slot's partitions, and for two slots of the composite families
   (person×person, person×label, person×place, label×place, × raw/video kind) the pair partitions plus
   the overflow partitions of photos over a family's cap; for two person slots and a label slot, the
   person×person×label triple partitions plus their overflow partitions, and for group photos (which
   write no triples) the smaller of either person's person×person overflow or the label's group partition;
3. estimates each path's size from the VOCAB counts (pairs: independence, ``n_a·n_b/N``; triples
   ``n_a·n_b·n_l/N²``; overflow partitions: their counts) and reads the
   smallest, newest first, page by page, merging its partitions by sort key, checking every other slot
   on the row's summary, until ``offset + limit`` rows matched. No slot at all → the YEAR partitions.

So a query with at most two facets of the composite kinds, or two people and a label (plus any dates),
reads only rows it returns; another third facet, or camera/format (or a "lossy" kind) combined with another facet, is checked on the
summary of the smallest path and costs the reads its selectivity implies (``--explain`` shows them).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from shoebox.catalog import Catalog, keys
from shoebox.search.query import ParsedQuery, parse
from shoebox.search.vocabulary import CatalogVocabulary, load_vocabulary

MIN_PAGE = 8
PAIR_KINDS = {frozenset((a, b)) for a, b, _ in keys.FAMILIES}


# ------------------------------------------------------------------------------------------ shapes


@dataclass
class Slot:
    """One facet that must hold: a row matches when it has any of ``values`` (read from ``pks``)."""

    kind: str  # PERSON | LABEL | PLACE | CAMERA | KIND | FORMAT | RATING | MD
    pks: list[str]
    label: str  # for --explain

    def matches(self, row: dict) -> bool:
        return bool(set(self.pks) & keys.summary_partitions(row, self.kind))


@dataclass
class Path:
    pks: list[str]
    covers: list[int]  # slot indexes this path guarantees
    estimate: float
    note: str = ""


@dataclass
class QueryRun:
    pk: str
    sk_from: str | None
    sk_to: str | None
    items_read: int = 0
    returned: int = 0
    pages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"partition": self.pk, "sk_from": self.sk_from, "sk_to": self.sk_to,
                "items_read": self.items_read, "pages": self.pages}


@dataclass
class SearchResult:
    rows: list[dict]
    parsed: ParsedQuery | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    queries: list[QueryRun] = field(default_factory=list)
    vocabulary_read: int = 0

    @property
    def items_read(self) -> int:
        return sum(q.items_read for q in self.queries)

    @property
    def unknown(self) -> list[str]:
        return list(self.parsed.unknown) if self.parsed else []

    def explain(self) -> dict[str, Any]:
        return {
            "parsed": self.parsed.to_dict() if self.parsed else None,
            "unknown": self.unknown,
            "plan": self.plan,
            "queries": [q.to_dict() for q in self.queries],
            "items_read": self.items_read,
            "returned": len(self.rows),
            "vocabulary_items_read": self.vocabulary_read,
        }


def row_sk(row: dict) -> str:
    return keys.time_sk(row.get("taken_at"), row["key"])


# ------------------------------------------------------------------------------------------ dates


def sk_ranges(ranges: list[tuple[date, date]]) -> list[tuple[str, str]] | None:
    """Inclusive date ranges → disjoint sort-key ranges, newest first (None: no bound)."""
    if not ranges:
        return None
    merged: list[list[date]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in reversed(merged):
        lo = "0001-01-01" if a == date.min else a.isoformat()
        hi = "9999\uffff" if b == date.max else b.isoformat() + "\uffff"
        out.append((lo, hi))
    return out


def in_ranges(row: dict, bounds: list[tuple[str, str]] | None) -> bool:
    if bounds is None:
        return True
    sk = row_sk(row)
    return any(lo <= sk <= hi for lo, hi in bounds)


# ------------------------------------------------------------------------------------------ planning


def slots_for(q: ParsedQuery, cv: CatalogVocabulary) -> list[Slot]:
    slots: list[Slot] = []
    for pid in q.people:
        ids = cv.people_groups.get(pid, [pid])
        slots.append(Slot("PERSON", [keys.person_pk(i) for i in ids], f"person {pid}"))
    for name in q.labels:
        slots.append(Slot("LABEL", [keys.label_pk(name)], f"label {name}"))
    if q.places:
        slots.append(Slot("PLACE", list(dict.fromkeys(keys.place_pk(p.key) for p in q.places)),
                          "place " + " | ".join(p.key for p in q.places)))
    if q.cameras:
        slots.append(Slot("CAMERA", [keys.camera_pk(c) for c in q.cameras], "camera " + " | ".join(q.cameras)))
    if q.kind:
        slots.append(Slot("KIND", [keys.kind_pk(q.kind)], f"kind {q.kind}"))
    if q.format:
        slots.append(Slot("FORMAT", [keys.format_pk(q.format)], f"format {q.format}"))
    if q.ratings:
        slots.append(Slot("RATING", [keys.rating_pk(r) for r in q.ratings],
                          "rating " + " | ".join(map(str, q.ratings))))
    if q.month_day:
        month, day = q.month_day
        slots.append(Slot("MD", [keys.month_day_pk(month, day)], f"month-day {month:02d}-{day:02d}"))
    return slots


def _pair_pks(a: Slot, b: Slot, cv: CatalogVocabulary) -> tuple[list[str], float] | None:
    """The composite partitions (and overflow partitions) holding photos with both slots; None when
    this pair is not materialised (a kind outside ``keys.PAIRED_KINDS``)."""
    pks: list[str] = []
    estimate = 0.0
    first, second = (a, b)
    if keys.FACET_ORDER[a.kind] > keys.FACET_ORDER[b.kind]:
        first, second = b, a
    if second.kind == "KIND" and not all(keys.value_of(pk) in keys.PAIRED_KINDS for pk in second.pks):
        return None
    for x in first.pks:
        for y in second.pks:
            if x == y:
                continue
            pks.append(keys.pair_pk(x, y))
            estimate += cv.count(x) * cv.count(y) / cv.total
        over = keys.overflow_pk(x, second.kind)
        if cv.count(over):
            pks.append(over)
            estimate += cv.count(over)
    return list(dict.fromkeys(pks)), estimate


def _triple_pks(a: Slot, b: Slot, label: Slot, cv: CatalogVocabulary) -> tuple[list[str], float]:
    """The person×person×label partitions holding photos with both people and the label, their overflow
    partitions, and the person×person overflow partitions of one person (group photos: no triples)."""
    pks: list[str] = []
    estimate = 0.0
    n = float(cv.total)
    for x in a.pks:
        for y in b.pks:
            if x == y:
                continue
            for z in label.pks:
                pks.append(keys.triple_pk(x, y, z))
                estimate += cv.count(x) * cv.count(y) * cv.count(z) / (n * n)
            over = keys.triple_overflow_pk(x, y)
            if cv.count(over):
                pks.append(over)
                estimate += cv.count(over)
    # a group photo (over the person×person cap) writes no triples: it is in either person's overflow
    # partition and in the group partition of each of its labels (or the group overflow); read the smallest
    groups = [[keys.overflow_pk(x, "PERSON") for x in s.pks] for s in (a, b)]
    groups.append([keys.group_pk(z) for z in label.pks] + [keys.group_pk(keys.ANY_LABEL)])
    groups = [[pk for pk in g if cv.count(pk)] for g in groups]
    group = min(groups, key=lambda g: (sum(cv.count(pk) for pk in g), len(g)))
    pks.extend(group)
    estimate += sum(cv.count(pk) for pk in group)
    return list(dict.fromkeys(pks)), estimate


def _single_estimate(slot: Slot, cv: CatalogVocabulary) -> float:
    if slot.kind == "MD":
        return cv.total / 366.0
    return float(sum(cv.count(pk) for pk in slot.pks))


def plan(q: ParsedQuery, cv: CatalogVocabulary) -> tuple[list[Slot], Path | None, list[Path]]:
    """(slots, the path to read, every candidate). No slot → (slots, None, []): read by date."""
    slots = slots_for(q, cv)
    candidates: list[Path] = []
    for i, slot in enumerate(slots):
        candidates.append(Path(slot.pks, [i], _single_estimate(slot, cv), slot.label))
    for i, j in combinations(range(len(slots)), 2):
        a, b = slots[i], slots[j]
        pair = _pair_pks(a, b, cv) if frozenset((a.kind, b.kind)) in PAIR_KINDS else None
        if pair:
            pks, estimate = pair
            candidates.append(Path(pks, [i, j], estimate, f"{a.label} & {b.label}"))
    people = [i for i, s in enumerate(slots) if s.kind == "PERSON"]
    labels = [i for i, s in enumerate(slots) if s.kind == "LABEL"]
    for i, j in combinations(people, 2):
        for k in labels:
            pks, estimate = _triple_pks(slots[i], slots[j], slots[k], cv)
            candidates.append(Path(pks, sorted((i, j, k)), estimate,
                                   f"{slots[i].label} & {slots[j].label} & {slots[k].label}"))
    if not candidates:
        return slots, None, []
    # smallest estimate; on a tie the path covering more facets (fewer rows to filter)
    best = min(candidates, key=lambda p: (p.estimate, -len(p.covers), len(p.pks)))
    return slots, best, candidates


# ------------------------------------------------------------------------------------------ execution


@dataclass
class Demand:
    """What the consumer still needs, shared by the streams so each page asks for about that much:
    ``remaining`` rows to match, spread over ``streams``, at the pass rate seen so far."""

    remaining: int
    streams: int = 1
    examined: int = 0
    matched: int = 0

    def page(self) -> int:
        rate = (self.matched + 1) / (self.examined + 1)
        want = math.ceil(max(1, self.remaining) / rate / max(1, self.streams))
        return max(MIN_PAGE, min(1000, want))


class _Stream:
    """One partition read newest first across disjoint sk ranges, a page at a time."""

    def __init__(self, catalog: Catalog, pk: str, bounds: list[tuple[str | None, str | None]], demand: Demand,
                 runs: list[QueryRun]) -> None:
        self.catalog, self.pk, self.bounds, self.demand, self.runs = catalog, pk, bounds, demand, runs

    def __iter__(self) -> Iterator[dict]:
        for lo, hi in self.bounds:
            run = QueryRun(self.pk, lo, hi)
            self.runs.append(run)
            start_key = None
            while True:
                page = self.catalog.query_page(self.pk, lo, hi, limit=self.demand.page(), start_key=start_key)
                run.pages += 1
                run.items_read += page.read
                run.returned += len(page.rows)
                yield from page.rows
                if not page.last_key:
                    break
                start_key = page.last_key


def _merge(streams: list[Any]) -> Iterator[dict]:
    """Newest first across streams, each photo once."""
    if len(streams) == 1:
        yield from streams[0]
        return
    heap: list[tuple[str, int, dict, Iterator[dict]]] = []

    def push(i: int, it: Iterator[dict]) -> None:
        row = next(it, None)
        if row is not None:
            # max-heap on the sort key via inverted characters
            heapq.heappush(heap, (_desc(row_sk(row)), i, row, it))

    for i, stream in enumerate(streams):
        push(i, iter(stream))
    seen: set[str] = set()
    while heap:
        _, i, row, it = heapq.heappop(heap)
        if row["key"] not in seen:
            seen.add(row["key"])
            yield row
        push(i, it)


def _desc(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


class Searcher:
    """English query → rows, over one catalog. The vocabulary (one Query of VOCAB, one of PEOPLE) is read
    once per Searcher; :meth:`refresh` re-reads it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cv: CatalogVocabulary | None = None

    @property
    def vocabulary(self) -> CatalogVocabulary:
        if self._cv is None:
            self._cv = load_vocabulary(self.catalog)
        return self._cv

    def refresh(self) -> None:
        self._cv = None

    def search(self, text: str, *, today: date | None = None, limit: int = 50, offset: int = 0) -> SearchResult:
        fresh = self._cv is None
        cv = self.vocabulary
        parsed = parse(text, today=today or date.today(), vocab=cv.vocab)
        result = self.execute(parsed, limit=limit, offset=offset)
        result.vocabulary_read = cv.items_read if fresh else 0
        return result

    def execute(self, q: ParsedQuery, *, limit: int = 50, offset: int = 0) -> SearchResult:
        cv = self.vocabulary
        result = SearchResult([], parsed=q)
        if q.is_empty and q.unknown:
            result.plan = {"path": None, "reason": "nothing in the query was understood"}
            return result
        need = offset + limit
        bounds = _bounds(q)
        slots, path, candidates = plan(q, cv)
        if path is None:
            demand = Demand(need)
            streams: list[Any] = self._by_date(bounds, demand, result.queries)
            result.plan = {"path": "YEAR partitions (dates only)",
                           "partitions": list(dict.fromkeys(seg[0] for seg in streams[0].segments))}
        else:
            demand = Demand(need, streams=len(path.pks))
            streams = [_Stream(self.catalog, pk, bounds or [(None, None)], demand, result.queries)
                       for pk in path.pks]
            result.plan = _path_plan(path, slots, candidates)
        if bounds:
            result.plan["sk_ranges"] = [[lo, hi.rstrip("\uffff")] for lo, hi in bounds]
        result.rows = _matching(_merge(streams), demand, bounds, slots, offset, need)
        return result

    def _by_date(self, bounds: list[tuple[str, str]] | None, demand: Demand, runs: list[QueryRun]) -> list[_Chain]:
        """One stream over the YEAR partitions, newest year first, each clipped to the date bounds."""
        cv = self.vocabulary
        segments: list[tuple[str, str | None, str | None]] = []
        for pk in cv.years:
            year = keys.value_of(pk)
            if not keys.is_dated_year(pk):
                if bounds is None:
                    segments.append((pk, None, None))
                segments += [(pk, lo, hi) for lo, hi in bounds or [] if lo.startswith(keys.NO_DATE)]
                continue
            if bounds is None:
                segments.append((pk, None, None))
                continue
            for lo, hi in bounds:
                ylo, yhi = f"{year}-", f"{year}-\uffff"
                a, b = max(lo, ylo), min(hi, yhi)
                if a <= b:
                    segments.append((pk, a, b))
        return [_Chain(self.catalog, segments, demand, runs)]


def _bounds(q: ParsedQuery) -> list[tuple[str, str]] | None:
    """The sort-key ranges the query's dates allow (None: any)."""
    bounds = sk_ranges(q.date_ranges)
    if q.undated:  # undated rows sort under NO_DATE (keys.time_sk); OR'd with any date asked for
        bounds = (bounds or []) + [(keys.NO_DATE, keys.NO_DATE + "\uffff")]
    return bounds


def _path_plan(path: Path, slots: list[Slot], candidates: list[Path]) -> dict:
    """What ``--explain`` shows of the path read: its partitions and estimate, the slots checked on each
    row's summary, and every candidate path, smallest first."""
    rest = [s for i, s in enumerate(slots) if i not in path.covers]
    return {
        "path": path.note, "partitions": path.pks, "estimate": round(path.estimate, 1),
        "filters": [s.label for s in rest],
        "candidates": [{"path": c.note, "estimate": round(c.estimate, 1)} for c in
                       sorted(candidates, key=lambda c: c.estimate)],
    }


def _matching(rows: Iterator[dict], demand: Demand, bounds: list[tuple[str, str]] | None, slots: list[Slot],
              offset: int, need: int) -> list[dict]:
    """The rows, newest first, that hold every slot, after the first ``offset``, until ``need`` matched
    (``demand`` tells the streams how much is still wanted)."""
    out: list[dict] = []
    matched = 0
    for row in rows:
        demand.examined += 1
        # every slot is checked, covered ones too: overflow partitions hold photos of only one side
        if not in_ranges(row, bounds) or not all(s.matches(row) for s in slots):
            continue
        matched += 1
        demand.matched, demand.remaining = matched, need - matched
        if matched > offset:
            out.append(row)
        if matched >= need:
            break
    return out


class _Chain:
    """Several (partition, sk range) segments read one after another (disjoint, newest first)."""

    def __init__(self, catalog: Catalog, segments: list[tuple[str, str | None, str | None]], demand: Demand,
                 runs: list[QueryRun]) -> None:
        self.catalog, self.segments, self.demand, self.runs = catalog, segments, demand, runs

    def __iter__(self) -> Iterator[dict]:
        for pk, lo, hi in self.segments:
            yield from _Stream(self.catalog, pk, [(lo, hi)], self.demand, self.runs)


# ------------------------------------------------------------------------------------------ other lists


def on_this_day(catalog: Catalog, day: date, *, limit: int = 50) -> SearchResult:
    """Photos taken on ``day``'s month and day in any year up to ``day``, newest first (MD# partitions;
    on 28 February of a non-leap year, 29 February too)."""
    mds = [keys.month_day_pk(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not _leap(day.year):
        mds.append(keys.month_day_pk(2, 29))
    result = SearchResult([])
    hi = day.isoformat() + "\uffff"
    demand = Demand(limit, streams=len(mds))
    streams = [_Stream(catalog, md, [(None, hi)], demand, result.queries) for md in mds]
    for row in _merge(streams):
        result.rows.append(row)
        demand.remaining = limit - len(result.rows)
        if len(result.rows) >= limit:
            break
    result.plan = {"path": "month-day", "partitions": mds}
    return result


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def rediscover(catalog: Catalog, *, limit: int = 20) -> SearchResult:
    """Photos not viewed for the longest time, never-viewed first (oldest capture first): the VIEWED
    partition read in ascending order."""
    result = SearchResult([])
    run = QueryRun(keys.VIEWED_PK, None, None)
    result.queries.append(run)
    start_key = None
    while len(result.rows) < limit:
        page = catalog.query_page(keys.VIEWED_PK, newest_first=False, limit=limit - len(result.rows),
                                  start_key=start_key)
        run.pages += 1
        run.items_read += page.read
        result.rows.extend(page.rows)
        if not page.last_key:
            break
        start_key = page.last_key
    result.plan = {"path": "VIEWED ascending"}
    return result

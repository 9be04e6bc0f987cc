"""The timeline: every photo newest first, read a page at a time from the YEAR partitions (pure paging
logic over ``Catalog.query_page``; the cursor carries the partition and DynamoDB's LastEvaluatedKey)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from shoebox.catalog import keys

UNDATED_PK = "YEAR#unknown"


@dataclass
class Cursor:
    pk: str  # the YEAR partition to read next
    start_key: dict | None = None  # DynamoDB's LastEvaluatedKey in it
    hi: str | None = None  # upper sort-key bound (a jump to a month); only for the first partition

    def encode(self) -> str:
        raw = json.dumps({"p": self.pk, "k": self.start_key, "h": self.hi}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Raises ValueError on anything that is not a cursor this module made."""
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            pk, start_key, hi = data["p"], data.get("k"), data.get("h")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("bad cursor") from exc
        if not isinstance(pk, str) or not pk.startswith("YEAR#") or not (start_key is None or isinstance(start_key, dict)):
            raise ValueError("bad cursor")
        return cls(pk, start_key, hi if isinstance(hi, str) else None)


def month_of(row: dict) -> str:
    """The timeline group of a row: "2007-07", or "undated"."""
    taken = row.get("taken_at") or ""
    return taken[:7] if len(taken) >= 7 and taken[:4].isdigit() else "undated"


def start_cursor(years: list[str], month: str | None = None) -> Cursor | None:
    """Where the timeline starts: the newest year, or a jump to "YYYY" / "YYYY-MM" / "undated"."""
    if not years:
        return None
    if not month:
        return Cursor(years[0])
    if month == "undated":
        return Cursor(UNDATED_PK) if UNDATED_PK in years else None
    year = month[:4]
    pk = f"YEAR#{year}"
    if pk not in years:  # a year with no photo: start at the next older one
        older = [y for y in years if y[5:].isdigit() and y[5:] < year] + ([UNDATED_PK] if UNDATED_PK in years else [])
        return Cursor(older[0]) if older else None
    return Cursor(pk, hi=f"{month}\uffff" if len(month) == 7 else None)


def read_page(catalog: Any, years: list[str], cursor: Cursor, limit: int) -> tuple[list[dict], Cursor | None]:
    """Up to ``limit`` rows from ``cursor`` on, crossing into older years; the next cursor or None at the
    end. Each DynamoDB page asks only for what is still missing, so a full page costs ``limit`` items."""
    rows: list[dict] = []
    pk, start_key, hi = cursor.pk, cursor.start_key, cursor.hi
    while True:
        page = catalog.query_page(pk, None if hi is None else " ", hi, limit=limit - len(rows), start_key=start_key)
        rows.extend(page.rows)
        if page.last_key:
            if len(rows) >= limit:
                return rows, Cursor(pk, page.last_key, hi)
            start_key = page.last_key
            continue
        following = years.index(pk) + 1 if pk in years else len(years)
        if following >= len(years):
            return rows, None
        pk, start_key, hi = years[following], None, None
        if len(rows) >= limit:
            return rows, Cursor(pk)


def neighbours(catalog: Any, years: list[str], row: dict) -> tuple[str | None, str | None]:
    """(newer, older) photo keys around ``row`` in timeline order: one Limit-1 Query each way, a second
    when the year ends there."""
    sk = keys.time_sk(row.get("taken_at"), row["key"])
    taken = row.get("taken_at")
    pk = f"YEAR#{taken[:4]}" if taken and taken[:4].isdigit() else UNDATED_PK
    at = years.index(pk) if pk in years else None

    def step(newer: bool) -> str | None:
        if newer:  # ascending from just above sk
            page = catalog.query_page(pk, sk + "\x00", "\uffff", newest_first=False, limit=1)
        else:
            page = catalog.query_page(pk, " ", sk[:-1] + chr(ord(sk[-1]) - 1) + "\uffff" if sk else sk, limit=1)
        if page.rows:
            return page.rows[0]["key"]
        if at is None:
            return None
        other = at - 1 if newer else at + 1
        if not 0 <= other < len(years):
            return None
        found = catalog.query_page(years[other], newest_first=not newer, limit=1)
        return found.rows[0]["key"] if found.rows else None

    return step(True), step(False)

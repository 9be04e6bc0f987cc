"""The search parser's date grammar: years, decades, ranges, "May 2010", "the 5th of May", "two weeks
ago", "last summer", "christmas 2009", undated photos. Table-driven like ``timewords``: ``point`` tries
the forms of ``_POINT_FORMS`` in order. A mixin of ``query._Parser``, which gives it ``tokens``,
``today``, ``vocab`` and ``norm``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from . import timewords as tw

if TYPE_CHECKING:
    from .query import Vocabulary
    from .tokens import Token

MONTHS = {name.lower(): i for i, name in enumerate(
    ["", "January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"]) if name}
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
              "sept": 9, "oct": 10, "nov": 11, "dec": 12}
UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month",
         "months": "month", "year": "year", "years": "year", "decade": "decade", "decades": "decade"}
_NOT_A_DATE = object()  # a date form's own words that name no date ("2010-13"): the point is not a date
_Point = Any  # what a date form returns: (words used, range), None (not this form) or _NOT_A_DATE
PARTS_OF_YEAR = {"early": 1, "mid": 5, "late": 9}  # first month of each third: Jan–Apr, May–Aug, Sep–Dec
DAYS_BACK = {"today": 0, "tonight": 0, "now": 0, "present": 0, "yesterday": 1}
RANGE_JOINERS = frozenset({"to", "through", "thru", "till", "until", "-", "–"})
MIN_YEAR, MAX_YEAR = 1826, 2100


def number_word(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """(value, words used) for "3", "two", "twenty one", "a", "an", "a couple of" at tokens[i]."""
    from text_to_num import text2num

    if i >= len(tokens):
        return None
    w = tokens[i].norm
    if w.isdigit():
        return int(w), 1
    if w in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1].norm == "couple":
        used = 3 if i + 2 < len(tokens) and tokens[i + 2].norm == "of" else 2
        return 2, used
    if w in ("a", "an"):
        return 1, 1
    for width in (3, 2, 1):
        if i + width > len(tokens):
            continue
        phrase = " ".join(t.norm for t in tokens[i:i + width])
        try:
            return int(text2num(phrase, "en")), width
        except ValueError:
            continue
    return None


class DateGrammar:
    tokens: list[Token]
    today: date
    vocab: Vocabulary

    norm: Callable[[int], str]  # the normalised word at a token index ("" past the end)

    def undated_expr(self, i: int) -> int:
        """Words saying "no capture date": how many (0: none)."""
        for phrase in (("undated",), ("without", "a", "date"), ("without", "date"), ("with", "no", "date"),
                       ("no", "date"), ("unknown", "date"), ("date", "unknown")):
            if tuple(self.norm(i + k) for k in range(len(phrase))) == phrase:
                return len(phrase)
        return 0

    def date_expr(self, i: int) -> tuple[int, list[tw.Range], tuple[int, int] | None] | None:
        w = self.norm(i)
        today = self.today
        # undated / without a date / with no date: handled by date() (a flag, not a range)
        # on this day / this day
        for phrase in (("on", "this", "day"), ("this", "day")):
            if tuple(self.norm(i + k) for k in range(len(phrase))) == phrase:
                return len(phrase), [], (today.month, today.day)
        if w == "between":
            return self.between(i)
        if w in ("since", "after", "before", "until", "till") or (w == "up" and self.norm(i + 1) == "to"):
            return self.bound(i)
        if w in ("the", "past", "last") and self.rolling(i):
            return self.rolling(i)
        if w in ("from", "in", "during", "on", "of"):
            inner = self.plain(i + 1)
            return (1 + inner[0], inner[1], inner[2]) if inner else None
        return self.plain(i)

    def between(self, i: int) -> tuple[int, list[tw.Range], None] | None:
        """"between 2006 and 2008" (either order: "between 2008 and 2006" means the same span)."""
        a = self.point(i + 1)
        if a and self.norm(i + 1 + a[0]) == "and":
            b = self.point(i + 2 + a[0])
            if b:
                lo, hi = sorted([a[1], b[1]])
                return 2 + a[0] + b[0], [(lo[0], max(lo[1], hi[1]))], None
        return None

    def bound(self, i: int) -> tuple[int, list[tw.Range], None] | None:
        """"since / after / before / until / till / up to" a date: a range open at one end."""
        w = self.norm(i)
        skip = 2 if w == "up" else 1
        p = self.point(i + skip)
        if not p:
            return None
        start, end = p[1]
        r = {"since": (start, tw.OPEN_END), "after": (end + timedelta(days=1), tw.OPEN_END),
             "before": (tw.OPEN_START, start - timedelta(days=1))}.get(w, (tw.OPEN_START, end))
        return skip + p[0], [r], None

    def rolling(self, i: int) -> tuple[int, list[tw.Range], None] | None:
        """"the past 3 months", "past week", "last 2 years", "the last 10 days" (up to today)."""
        j = i + (1 if self.norm(i) == "the" else 0)
        if self.norm(j) not in ("past", "last"):
            return None
        has_the = j > i
        num = number_word(self.tokens, j + 1)
        if num and self.norm(j + 1) not in ("a", "an"):
            unit = UNITS.get(self.norm(j + 1 + num[1]))
            if unit:
                return j - i + 2 + num[1], [tw.rolling(unit, num[0], self.today)], None
            return None
        unit = UNITS.get(self.norm(j + 1))
        if unit and (has_the or self.norm(j) == "past") and self.norm(j + 1) in ("day", "week", "month", "year"):
            return j - i + 2, [tw.rolling(unit, 1, self.today)], None
        return None

    def plain(self, i: int) -> tuple[int, list[tw.Range], tuple[int, int] | None] | None:
        seasons = self.seasons(i)
        if seasons:
            return seasons
        p = self.point(i)
        if not p:
            return None
        n, r = p
        if self.norm(i + n) in RANGE_JOINERS:
            q = self.point(i + n + 1)
            if q and q[1][1] >= r[0]:
                return n + 1 + q[0], [(r[0], q[1][1])], None
        return n, [r], None

    def seasons(self, i: int) -> tuple[int, list[tw.Range], None] | None:
        """Seasons over a span of years: "summers 2006 to 2008", "summer of 2006-2008"."""
        w = self.norm(i)
        season = w[:-1] if w.endswith("s") and w[:-1] in tw.SEASONS else w
        if season not in tw.SEASONS:
            return None
        j = i + 1 + (1 if self.norm(i + 1) == "of" else 0)
        y1 = self.year_at(j)
        if not y1 or self.norm(j + 1) not in RANGE_JOINERS:
            return None
        y2 = self.year_at(j + 2)
        if y2 and season == w == "winter" and y2[0] == y1[0] + 1:  # "winter 2009-2010": one winter
            return j + 3 - i, [tw.SEASONS[season](y1[0])], None
        if y2 and y2[0] >= y1[0]:
            occ = tw.SEASONS[season]
            return j + 3 - i, [occ(y) for y in range(y1[0], y2[0] + 1)], None
        return None

    def year_at(self, i: int) -> tuple[int, int] | None:
        w = self.norm(i)
        if re.fullmatch(r"\d{4}", w) and MIN_YEAR <= int(w) <= MAX_YEAR:
            return int(w), 1
        m = re.fullmatch(r"'(\d{2})", w)
        if m:
            yy = int(m.group(1))
            century = 2000 if 2000 + yy <= self.today.year else 1900
            return century + yy, 1
        return None

    def point(self, i: int) -> tuple[int, tw.Range] | None:
        """One date-ish thing at tokens[i]: (words used, (start, end)). The forms are tried in the order
        of ``_POINT_FORMS``; the first that reads the words decides."""
        w = self.norm(i)
        if not w:
            return None
        for form in _POINT_FORMS:
            found = form(self, i, w)
            if found is _NOT_A_DATE:
                return None
            if found:
                return found
        return None

    # ---- the date forms ``point`` tries: each returns (words used, range), None when it does not
    # apply, or _NOT_A_DATE when the words are its but name no date ("2010-13", "this thing")

    def _the_decade(self, i: int, w: str) -> _Point:
        if w == "the" and self.decade(i + 1):
            n, r = self.decade(i + 1)
            return n + 1, r
        return None

    def _decade_here(self, i: int, w: str) -> _Point:
        return self.decade(i)

    def _year_here(self, i: int, w: str) -> _Point:
        y = self.year_at(i)
        return (1, tw.year_range(y[0])) if y else None

    def _iso_date(self, i: int, w: str) -> _Point:
        m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", w)
        if not m:
            return None
        try:
            year, mon = int(m.group(1)), int(m.group(2))
            if m.group(3):
                d = date(year, mon, int(m.group(3)))
                return 1, (d, d)
            return 1, tw.month_range(year, mon)
        except ValueError:
            return _NOT_A_DATE

    def _part_of_year(self, i: int, w: str) -> _Point:
        if w in PARTS_OF_YEAR and self.year_at(i + 1):
            year, first = self.year_at(i + 1)[0], PARTS_OF_YEAR[w]
            return 2, (tw.month_range(year, first)[0], tw.month_range(year, first + 3)[1])
        return None

    def _days_back(self, i: int, w: str) -> _Point:
        if w in DAYS_BACK:
            d = self.today - timedelta(days=DAYS_BACK[w])
            return 1, (d, d)
        return None

    def _this_or_last(self, i: int, w: str) -> _Point:
        """this/last + week/weekend/month/year/season/holiday/month name."""
        if w not in ("this", "last"):
            return None
        nxt = self.norm(i + 1)
        if nxt in ("week", "month", "year", "weekend"):
            return 2, self.this_last(w, nxt)
        rec = self.recurring(i + 1)
        if rec:
            n, occ, _ = rec
            pick = tw.last_ended if w == "last" else tw.current
            return 1 + n, pick(occ, self.today)
        return _NOT_A_DATE

    def _ago(self, i: int, w: str) -> _Point:
        """N units ago."""
        num = number_word(self.tokens, i)
        if num:
            unit = UNITS.get(self.norm(i + num[1]))
            if unit and self.norm(i + num[1] + 1) == "ago":
                return num[1] + 2, tw.ago(unit, num[0], self.today)
        return None

    def _day_month(self, i: int, w: str) -> _Point:
        """Day-month forms: "5 May 2010", "the 5th of May"."""
        j = i + (1 if w == "the" else 0)
        dm = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", self.norm(j))
        if dm:
            k = j + 1 + (1 if self.norm(j + 1) == "of" else 0)
            mon = self.month_word(k, full_only=False)
            if mon:
                return self.dated(i, k + 1, mon, int(dm.group(1))) or _NOT_A_DATE
        return None

    def _month_forms(self, i: int, w: str) -> _Point:
        """Month forms: "May 2010", "May 5th, 2010", "June of 2010", "June"."""
        mon = self.month_word(i, full_only=False)
        if not mon:
            return None
        md = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", self.norm(i + 1))
        if md and 1 <= int(md.group(1)) <= 31:
            return self.dated(i, i + 2, mon, int(md.group(1))) or _NOT_A_DATE
        j = i + 1 + (1 if self.norm(i + 1) == "of" else 0)
        y = self.year_at(j)
        if y:
            return j + 1 - i, tw.month_range(y[0], mon)
        if self.month_word(i, full_only=True) and not self.vocab.is_person_name(w):
            return 1, tw.most_recent_started(tw.month(mon), self.today)
        return _NOT_A_DATE

    def _recurring_here(self, i: int, w: str) -> _Point:
        """A holiday or season, of a year or the most recent one."""
        rec = self.recurring(i)
        if not rec:
            return None
        n, occ, _ = rec
        j = i + n + (1 if self.norm(i + n) == "of" else 0)
        y = self.year_at(j)
        if y:
            return j + 1 - i, occ(y[0])
        return n, tw.most_recent_started(occ, self.today)

    def dated(self, i: int, after: int, mon: int, day: int) -> tuple[int, tw.Range] | None:
        y = self.year_at(after)
        try:
            if y:
                d = date(y[0], mon, day)
                return after + 1 - i, (d, d)
            date(2000, mon, day)  # validates the day (2000 is a leap year)
        except ValueError:
            return None
        year = self.today.year  # most recent such day, on or before today (29 Feb: a leap year)
        while True:
            try:
                d = date(year, mon, day)
            except ValueError:
                year -= 1
                continue
            if d <= self.today:
                return after - i, (d, d)
            year -= 1

    def month_word(self, i: int, *, full_only: bool) -> int | None:
        w = self.norm(i)
        if w in MONTHS:
            return MONTHS[w]
        if not full_only and w in MONTH_ABBR:
            # an abbreviation only counts with a day or year after it ("jan 2010"), never alone
            nxt = self.norm(i + 1)
            if re.fullmatch(r"\d{1,4}(st|nd|rd|th)?|'\d{2}|of", nxt or "-"):
                return MONTH_ABBR[w]
        return None

    def recurring(self, i: int) -> tuple[int, tw.Recurring, str] | None:
        for n in (3, 2, 1):
            key = tuple(self.norm(i + k) for k in range(n))
            if key in tw.HOLIDAYS:
                return n, tw.HOLIDAYS[key], " ".join(key)
        w = self.norm(i)
        if w in tw.SEASONS:
            return 1, tw.SEASONS[w], w
        if w in MONTHS and not self.vocab.is_person_name(w):
            return 1, tw.month(MONTHS[w]), w
        return None

    def decade(self, i: int) -> tuple[int, tw.Range] | None:
        m = re.fullmatch(r"'?(\d{2}|\d{4})s", self.norm(i))
        if not m:
            return None
        digits = m.group(1)
        if len(digits) == 4:
            start = int(digits)
        else:
            yy = int(digits)
            start = (2000 if 2000 + yy <= self.today.year else 1900) + yy
        if start % 10 or not MIN_YEAR <= start <= MAX_YEAR:
            return None
        return 1, (date(start, 1, 1), date(start + 9, 12, 31))

    def this_last(self, which: str, unit: str) -> tw.Range:
        today = self.today
        if unit == "week":
            monday = tw.week_range(today)[0]
            return tw.week_range(monday - timedelta(days=7)) if which == "last" else tw.week_range(today)
        if unit == "weekend":
            return tw.last_weekend(today) if which == "last" else tw.weekend_of_week(today)
        if unit == "month":
            first = today.replace(day=1)
            if which == "last":
                first = (first - timedelta(days=1)).replace(day=1)
            return tw.month_range(first.year, first.month)
        return tw.year_range(today.year - (1 if which == "last" else 0))


# The date grammar, in the order ``DateGrammar.point`` tries it.
_POINT_FORMS: tuple[Callable[[DateGrammar, int, str], Any], ...] = (
    DateGrammar._the_decade, DateGrammar._decade_here, DateGrammar._year_here, DateGrammar._iso_date, DateGrammar._part_of_year,
    DateGrammar._days_back, DateGrammar._this_or_last, DateGrammar._ago, DateGrammar._day_month, DateGrammar._month_forms,
    DateGrammar._recurring_here,
)

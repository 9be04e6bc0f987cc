"""Calendar arithmetic for the query parser: seasons, holidays, weeks, months, "most recent" rules.

All ranges are inclusive ``(start, end)`` pairs of :class:`datetime.date`. Open ends use
:data:`OPEN_START` / :data:`OPEN_END` (``date.min`` / ``date.max``), which sort correctly as ISO
strings ("0001-01-01", "9999-12-31") in a DynamoDB range condition.

Recurring periods (a month, a season, a holiday) are functions ``year → (start, end)``; three rules pick
one occurrence relative to *today*:

* bare ("summer", "in June", "christmas"): the most recent occurrence that has started;
* ``last`` ("last summer"): the most recent occurrence that has ended before today;
* ``this`` ("this winter"): the occurrence containing today, else the one of the current year.

Seasons are meteorological, Northern hemisphere: spring Mar–May, summer Jun–Aug, autumn/fall Sep–Nov,
winter Dec–Feb. "winter 2009" is the winter that *starts* in December 2009 (through February 2010), so
every season of year Y starts in Y.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from dateutil.easter import easter
from dateutil.relativedelta import MO, SU, TH, relativedelta

Range = tuple[date, date]
Recurring = Callable[[int], Range]

OPEN_START = date.min
OPEN_END = date.max


def year_range(year: int) -> Range:
    return date(year, 1, 1), date(year, 12, 31)


def month_range(year: int, month: int) -> Range:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def week_range(day: date) -> Range:
    """The ISO week (Monday–Sunday) containing ``day``."""
    monday = day + relativedelta(weekday=MO(-1))
    return monday, monday + timedelta(days=6)


def month(month_number: int) -> Recurring:
    return lambda year: month_range(year, month_number)


def _season(first_month: int) -> Recurring:
    def occurrence(year: int) -> Range:
        start = date(year, first_month, 1)
        last = start + relativedelta(months=2)
        return start, month_range(last.year, last.month)[1]

    return occurrence


SEASONS: dict[str, Recurring] = {
    "spring": _season(3),
    "summer": _season(6),
    "autumn": _season(9),
    "fall": _season(9),
    "winter": _season(12),
}


def _fixed(month_number: int, first_day: int, last_day: int | None = None) -> Recurring:
    return lambda year: (date(year, month_number, first_day), date(year, month_number, last_day or first_day))


def _easter(year: int) -> Range:  # Good Friday to Easter Monday
    sunday = easter(year)
    return sunday - timedelta(days=2), sunday + timedelta(days=1)


def _thanksgiving(year: int) -> Range:  # US: fourth Thursday of November, through the weekend
    thursday = date(year, 11, 1) + relativedelta(weekday=TH(4))
    return thursday, thursday + timedelta(days=3)


def _new_year(year: int) -> Range:  # "new year 2010": the night of 31 Dec 2009 into 1 Jan 2010
    return date(year - 1, 12, 31), date(year, 1, 1)


# Phrases as normalised token tuples (possessive "'s" already stripped by the tokenizer).
HOLIDAYS: dict[tuple[str, ...], Recurring] = {
    ("christmas",): _fixed(12, 24, 26),
    ("xmas",): _fixed(12, 24, 26),
    ("christmas", "eve"): _fixed(12, 24),
    ("christmas", "day"): _fixed(12, 25),
    ("boxing", "day"): _fixed(12, 26),
    ("new", "year", "eve"): _fixed(12, 31),
    ("new", "years", "eve"): _fixed(12, 31),
    ("nye",): _fixed(12, 31),
    ("new", "year", "day"): _fixed(1, 1),
    ("new", "years", "day"): _fixed(1, 1),
    ("new", "year"): _new_year,
    ("new", "years"): _new_year,
    ("halloween",): _fixed(10, 31),
    ("valentine", "day"): _fixed(2, 14),
    ("valentines", "day"): _fixed(2, 14),
    ("valentines",): _fixed(2, 14),
    ("easter",): _easter,
    ("thanksgiving",): _thanksgiving,
    ("independence", "day"): _fixed(7, 4),
    ("fourth", "of", "july"): _fixed(7, 4),
    ("4th", "of", "july"): _fixed(7, 4),
}


def most_recent_started(occurrence: Recurring, today: date) -> Range:
    for year in (today.year, today.year - 1, today.year - 2):
        start, end = occurrence(year)
        if start <= today:
            return start, end
    raise AssertionError("unreachable")  # pragma: no cover


def last_ended(occurrence: Recurring, today: date) -> Range:
    for year in (today.year + 1, today.year, today.year - 1, today.year - 2):
        start, end = occurrence(year)
        if end < today:
            return start, end
    raise AssertionError("unreachable")  # pragma: no cover


def current(occurrence: Recurring, today: date) -> Range:
    for year in (today.year, today.year - 1):
        start, end = occurrence(year)
        if start <= today <= end:
            return start, end
    return occurrence(today.year)


def weekend_of_week(day: date) -> Range:
    saturday = week_range(day)[0] + timedelta(days=5)
    return saturday, saturday + timedelta(days=1)


def last_weekend(today: date) -> Range:
    """The most recent Saturday–Sunday that ended before today."""
    sunday = (today - timedelta(days=1)) + relativedelta(weekday=SU(-1))
    return sunday - timedelta(days=1), sunday


def ago(unit: str, n: int, today: date) -> Range:
    """The calendar unit n units back: "two years ago" is all of today.year − 2, "3 months ago" the
    whole month three months back, "2 weeks ago" that ISO week, "5 days ago" that day."""
    if unit == "day":
        day = today - timedelta(days=n)
        return day, day
    if unit == "week":
        return week_range(today - timedelta(weeks=n))
    if unit == "month":
        first = today.replace(day=1) - relativedelta(months=n)
        return month_range(first.year, first.month)
    if unit == "year":
        return year_range(today.year - n)
    if unit == "decade":
        return year_range(today.year - 10 * n)[0], year_range(today.year - 10 * n + 9)[1]
    raise ValueError(unit)


def rolling(unit: str, n: int, today: date) -> Range:
    """The last n units up to and including today ("the past 3 months")."""
    if unit == "day":
        return today - timedelta(days=n - 1), today
    if unit == "week":
        return today - timedelta(weeks=n) + timedelta(days=1), today
    if unit == "month":
        return today - relativedelta(months=n) + timedelta(days=1), today
    if unit == "year":
        return today - relativedelta(years=n) + timedelta(days=1), today
    if unit == "decade":
        return today - relativedelta(years=10 * n) + timedelta(days=1), today
    raise ValueError(unit)


__all__ = [
    "HOLIDAYS", "OPEN_END", "OPEN_START", "Range", "Recurring", "SEASONS", "ago", "current",
    "last_ended", "last_weekend", "month", "month_range", "most_recent_started", "rolling",
    "week_range", "weekend_of_week", "year_range",
]

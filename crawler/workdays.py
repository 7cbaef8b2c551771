"""US federal business days and the Federal Register's office hours.

Business days are weekdays that are not US federal holidays (the ``holidays`` package's
calendar, with the observed Friday or Monday when a holiday falls on a weekend). The Office
of the Federal Register posts Public Inspection from 8:45 to 5:15 Eastern on business days;
Eastern is America/New_York, so the hours stay 8:45-17:15 on the wall clock across daylight
saving time (13:45-22:15 UTC in winter, 12:45-21:15 in summer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from crawler.errors import ConfigError

EASTERN = ZoneInfo("America/New_York")  # the Federal Register's clock


@cache
def _holidays(year: int) -> frozenset[date]:
    """The federal holidays observed in ``year`` (New Year's Day on a Saturday is observed
    the Friday before, in the year before: the next year's calendar is asked too)."""
    both = holidays.country_holidays("US", years=(year, year + 1))
    return frozenset(day for day in both if day.year == year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def business_days(start: date, end: date) -> int:
    """Business days after ``start`` through ``end`` (0 when ``end`` is not later)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_business_day(day)
    return count


@dataclass(frozen=True)
class Hours:
    """A daily window of wall-clock times, ``start`` to ``end`` inclusive."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str, key: str) -> Hours:
        """'08:45-17:15', or a ConfigError naming ``key``."""
        try:
            first, last = (time.fromisoformat(t.strip()) for t in text.split("-"))
        except ValueError:
            raise ConfigError(
                f"{key}: {text!r} is not a window of wall-clock times, e.g. '08:45-17:15'"
            ) from None
        if last <= first:
            raise ConfigError(f"{key}: {text!r} ends before it starts")
        return cls(first, last)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

"""The trigger of the intraday Public Inspection job: every N minutes from 08:45 to 17:15
Eastern on business days (crawler.workdays). One cron line cannot say it (the window starts
and ends off the hour, skips federal holidays, and its UTC times move with daylight saving
time), so the slots are made on Eastern's wall clock, day by day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from crawler.errors import ConfigError
from crawler.workdays import EASTERN, Hours, is_business_day

SEARCH_DAYS = 30  # the longest run of days without a business day is far shorter


class OfficeHours(BaseTrigger):
    """Fire at ``hours.start`` and every ``minutes`` after it up to ``hours.end`` (Eastern),
    on business days only. Picklable (APScheduler's job stores keep triggers)."""

    __slots__ = ("hours", "minutes")

    def __init__(self, minutes: int, hours: Hours) -> None:
        if minutes <= 0:
            raise ConfigError(
                f"schedule: the Public Inspection poll needs minutes > 0, got {minutes}"
            )
        self.minutes = minutes
        self.hours = hours

    def __repr__(self) -> str:
        return f"<OfficeHours every {self.minutes} min, {self.hours} Eastern, business days>"

    def __str__(self) -> str:
        return f"every {self.minutes} min {self.hours} Eastern on business days"

    def slots(self, day: date) -> list[datetime]:
        """The day's fire times (none on a weekend or federal holiday)."""
        if not is_business_day(day):
            return []
        out, at = [], datetime.combine(day, self.hours.start, EASTERN)
        last = datetime.combine(day, self.hours.end, EASTERN)
        while at <= last:
            out.append(at)
            at += timedelta(minutes=self.minutes)  # wall-clock arithmetic: same zone
        return out

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first slot after ``previous_fire_time`` (when given), else at or after
        ``now``."""
        after = previous_fire_time or now
        day = after.astimezone(EASTERN).date()
        for _ in range(SEARCH_DAYS):
            for slot in self.slots(day):
                if slot > after or (previous_fire_time is None and slot == after):
                    return slot
            day += timedelta(days=1)
        return None

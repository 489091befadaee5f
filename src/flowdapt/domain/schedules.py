"""Schedule rules: lists of standard five-field cron expressions, in UTC or an IANA time zone.

    schedule_problems(["*/5 * * * *"])                 # [] — valid
    next_firing(["0 6 * * *"], after, "Europe/Oslo")   # the next 06:00 in Oslo, as aware UTC

Parsing and the calendar arithmetic are croniter's (a well-kept library, not a hand-written
parser); this module only insists on the standard five fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter


def schedule_problems(expressions: Sequence[str], where: str = "rule") -> list[str]:
    """Every invalid expression, named with its position in the rule."""
    if not expressions:
        return [f"{where}: a schedule needs at least one cron expression"]
    problems: list[str] = []
    for index, expression in enumerate(expressions):
        fields = expression.split()
        if len(fields) != 5:
            problems.append(
                f"{where}[{index}]: {expression!r} has {len(fields)} fields; a cron expression "
                "has 5 (minute hour day-of-month month day-of-week)"
            )
        elif not croniter.is_valid(expression):
            problems.append(f"{where}[{index}]: {expression!r} is not a valid cron expression")
        elif not _ever_fires(expression):
            problems.append(f"{where}[{index}]: {expression!r} never fires (no such date)")
    return problems


def _ever_fires(expression: str) -> bool:
    """False for a valid expression naming no real date, e.g. ``0 0 31 2 *`` (February 31)."""
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def timezone_problems(name: str | None, where: str = "timezone") -> list[str]:
    if name is None:
        return []
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [f"{where}: unknown time zone {name!r} (an IANA name such as 'Europe/Oslo')"]
    return []


def next_firing(
    expressions: Sequence[str], after: datetime, timezone: str | None = None
) -> datetime:
    """The earliest firing of any expression strictly after `after`, as aware UTC."""
    zone = ZoneInfo(timezone) if timezone else UTC
    local = after.astimezone(zone)
    candidates: list[datetime] = [
        croniter(expression, local).get_next(datetime) for expression in expressions
    ]
    return min(candidates).astimezone(UTC)

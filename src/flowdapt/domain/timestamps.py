"""Time in the domain: timezone-aware UTC inside, naive ISO-8601 UTC on the wire.

The original's client subtracts timestamps from a naive ``utcnow()``, so JSON carries them without
an offset; whatever comes in (naive or with any offset) becomes aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC; aware ones are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_iso(value: datetime) -> str:
    return as_utc(value).replace(tzinfo=None).isoformat()


UtcDatetime = Annotated[
    datetime, AfterValidator(as_utc), PlainSerializer(naive_iso, return_type=str, when_used="json")
]

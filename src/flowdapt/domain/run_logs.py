"""A run's log: what its stages logged or printed, line by line, in the order it was recorded.

    LogLine(seq=0, time=..., level="INFO", stage="train", item=3, source="log", message="fitted")

``seq`` numbers a run's lines from 0; ``item`` is the item index within a parameterized stage's
fan-out (None for a single call); ``source`` says whether the line came from the logging module
or from the stage's stdout or stderr. The server keeps a run's log up to a size cap and then ends
it with one ``truncated`` line saying how many lines were dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

LogSource = Literal["log", "stdout", "stderr", "truncated"]


class LogLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    time: datetime
    level: str
    stage: str | None = None
    item: int | None = None
    source: LogSource = "log"
    message: str


class LogPage(BaseModel):
    """A page of a run's log: ``total`` lines stored (for ``stage`` if one was asked for)."""

    run: str
    total: int
    offset: int
    lines: list[LogLine]
    truncated: bool = False

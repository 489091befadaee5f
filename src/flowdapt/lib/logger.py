"""The original's ``flowdapt.lib.logger``: structured loggers for stage and plugin code.

``get_logger`` gives a logger whose methods take an event and key/value pairs, as structlog's do,
and which writes through the standard library's :mod:`logging` (so the server's log setup and
pytest's ``caplog`` see every line); the project has no structlog.

    logger = get_logger(__name__, plugin="nowcast")
    logger.info("Fetched", city="Paris", rows=24)   # Fetched city='Paris' plugin='nowcast' rows=24
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TextIO

from flowdapt.engine.context import get_run_context, run_identity
from flowdapt.lib.config import get_configuration

__all__ = [
    "BoundLogger",
    "configure_logger",
    "disable_logging",
    "get_logger",
    "log_once",
    "setup_logging",
]

FORMATS = ("console", "json")
_CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Events captured by disable_logging(), innermost block last; events go there instead of out.
_captures: list[list[dict[str, Any]]] = []


class _Event:
    """A log record's message: rendered only if a handler formats it."""

    def __init__(self, event: str, fields: Mapping[str, Any]) -> None:
        self.event = event
        self.fields = {key: value for key, value in fields.items() if key != "logger_name"}

    def __str__(self) -> str:
        pairs = " ".join(f"{key}={value!r}" for key, value in sorted(self.fields.items()))
        return f"{self.event} {pairs}" if pairs else self.event


class BoundLogger:
    """A logger with bound key/value pairs added to every event it logs.

    Made by :func:`get_logger`; ``bind`` and ``unbind`` give new loggers, leaving this one as is:

        city_logger = get_logger(__name__).bind(city="Paris")
        city_logger.warning("NoData", hours=3)        # NoData city='Paris' hours=3
    """

    def __init__(self, logger: logging.Logger, context: Mapping[str, Any]) -> None:
        self._logger = logger
        self._context = dict(context)

    def bind(self, **values: Any) -> BoundLogger:
        """A logger with `values` bound as well."""
        return BoundLogger(self._logger, {**self._context, **values})

    def unbind(self, *keys: str) -> BoundLogger:
        """A logger without `keys` bound; KeyError for a key that is not bound."""
        context = dict(self._context)
        for key in keys:
            del context[key]
        return BoundLogger(self._logger, context)

    def debug(self, event: str, **values: Any) -> None:
        self._log(logging.DEBUG, event, values)

    def info(self, event: str, **values: Any) -> None:
        self._log(logging.INFO, event, values)

    def warning(self, event: str, **values: Any) -> None:
        self._log(logging.WARNING, event, values)

    def error(self, event: str, **values: Any) -> None:
        self._log(logging.ERROR, event, values)

    def critical(self, event: str, **values: Any) -> None:
        self._log(logging.CRITICAL, event, values)

    def exception(self, event: str, **values: Any) -> None:
        """An error with the traceback of the exception being handled."""
        values.setdefault("exc_info", True)
        self._log(logging.ERROR, event, values)

    def _log(self, level: int, event: str, values: dict[str, Any]) -> None:
        exc_info = values.pop("exc_info", None)
        stack_info = bool(values.pop("stack_info", False))
        fields = {**self._context, **values}
        if _captures:
            level_name = logging.getLevelName(level).lower()
            _captures[-1].append({"event": event, "log_level": level_name, **fields})
            return
        # stacklevel 3: the record names the caller of debug()/info()/…, not this module.
        self._logger.log(
            level, _Event(event, fields), exc_info=exc_info, stack_info=stack_info, stacklevel=3
        )


def get_logger(name: str, **kwargs: Any) -> BoundLogger:
    """A logger for `name` (a module's ``__name__``) with ``logger_name=name`` and `kwargs`
    bound."""
    return BoundLogger(logging.getLogger(name), {"logger_name": name, **kwargs})


class _Formatter(logging.Formatter):
    """Console or JSON lines, with tracebacks as configured."""

    def __init__(
        self, format: str, show_tracebacks: bool, show_locals: bool, max_frames: int
    ) -> None:
        super().__init__(_CONSOLE_FORMAT)
        self._json = format == "json"
        self._show_tracebacks = show_tracebacks
        self._show_locals = show_locals
        self._limit = -max_frames if max_frames > 0 else None  # keep the innermost frames

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        kind, error, tb = ei
        if kind is None or error is None:
            return ""
        if not self._show_tracebacks:
            return "".join(traceback.format_exception_only(kind, error)).rstrip()
        formatted = traceback.TracebackException(
            kind, error, tb, limit=self._limit, capture_locals=self._show_locals
        )
        return "".join(formatted.format()).rstrip()

    def format(self, record: logging.LogRecord) -> str:
        if not self._json:
            # logging caches the formatted traceback on the record, which other handlers share:
            # format ours afresh and leave theirs as it was.
            cached, record.exc_text = record.exc_text, None
            try:
                text = super().format(record)
            finally:
                record.exc_text = cached
            identity = record.__dict__.get("run_identity")
            if not identity:
                return text
            where = f"run {identity['run']}" + (
                f" stage {identity['stage']}" if "stage" in identity else ""
            )
            head, _, rest = text.partition("\n")  # after the message, before a traceback
            return f"{head} [{where}]" + (f"\n{rest}" if rest else "")
        message = record.msg if isinstance(record.msg, _Event) else None
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": message.event if message else record.getMessage(),
        }
        if message:
            line.update(message.fields)
        trace_id = record.__dict__.get("trace_id")
        if trace_id:
            line["trace_id"] = trace_id
        line.update(record.__dict__.get("run_identity") or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _add_trace_id(record: logging.LogRecord) -> bool:
    # The run is this project's trace: a stage's lines carry the uid of the run they belong to.
    try:
        trace_id: str | None = str(get_run_context().run.uid)
    except RuntimeError:
        trace_id = None
    record.__dict__["trace_id"] = trace_id
    return True


def _add_run_identity(record: logging.LogRecord) -> bool:
    # Every line written for a run — by its stages, or by the server driving it — names it.
    record.__dict__["run_identity"] = run_identity()
    return True


class _Handler(logging.StreamHandler[TextIO]):
    """The handler configure_logger installs on the root logger (and replaces when called
    again); handlers that others installed are left alone."""


def configure_logger(
    level: str | int = "info",
    format: str = "console",
    include_trace_id: bool = False,
    show_tracebacks: bool = True,
    traceback_show_locals: bool = False,
    traceback_max_frames: int = 10,
    include_run: bool = False,
) -> None:
    """Send log lines at `level` and above to stderr, as ``console`` text or ``json``.

    `include_trace_id` adds the current run's uid to each line (as ``trace_id``); `include_run`
    adds the run (``run_id``, ``run``, ``workflow``) and stage a line was written for, as JSON
    fields or a ``[run NAME stage S]`` suffix; without `show_tracebacks` an exception is logged
    as its last line only. ValueError for an unknown format or level.

        configure_logger("debug", "json")
    """
    if format not in FORMATS:
        raise ValueError(f"unknown log format {format!r}; expected one of {', '.join(FORMATS)}")
    numeric = level if isinstance(level, int) else logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = _Handler()
    handler.setFormatter(
        _Formatter(format, show_tracebacks, traceback_show_locals, traceback_max_frames)
    )
    if include_trace_id:
        handler.addFilter(_add_trace_id)
    if include_run:
        handler.addFilter(_add_run_identity)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(numeric)


def setup_logging() -> None:
    """Configure logging from ``logging.level`` and ``logging.format`` of the configuration
    (:func:`flowdapt.lib.config.get_configuration`)."""
    settings = get_configuration().logging
    configure_logger(settings.level, settings.format)


@contextmanager
def disable_logging() -> Iterator[list[dict[str, Any]]]:
    """Capture the events of :func:`get_logger` loggers instead of writing them.

    >>> with disable_logging() as events:
    ...     get_logger("x").info("Quiet", n=1)
    >>> events
    [{'event': 'Quiet', 'log_level': 'info', 'logger_name': 'x', 'n': 1}]
    """
    captured: list[dict[str, Any]] = []
    _captures.append(captured)
    try:
        yield captured
    finally:
        _captures.remove(captured)


_last_logged: dict[tuple[Any, ...], float] = {}


def log_once(
    method: Callable[..., None],
    event: str,
    interval_seconds: float = 60,
    *,
    clock: Callable[[], float] = time.monotonic,
    **kwargs: Any,
) -> bool:
    """Call ``method(event, **kwargs)`` unless the same call was made in the last
    `interval_seconds`; whether it was called.

        for item in items:
            log_once(logger.warning, "SlowDownload", url=url)   # once a minute at most
    """
    owner = getattr(method, "__self__", None)
    # Loggers of one name are one source, whichever get_logger() call made them.
    source = owner._logger.name if isinstance(owner, BoundLogger) else owner
    key: tuple[Any, ...] = (source, getattr(method, "__name__", method), event)
    key += tuple(sorted((name, repr(value)) for name, value in kwargs.items()))
    now = clock()
    last = _last_logged.get(key)
    if last is not None and now - last < interval_seconds:
        return False
    _last_logged[key] = now
    method(event, **kwargs)
    return True

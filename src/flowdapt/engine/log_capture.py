"""What a stage logs or prints while it runs, captured per task on every executor.

A task (engine.task.StageTask) runs inside :func:`capturing`: every ``logging`` record and every
write to ``sys.stdout`` / ``sys.stderr`` made in that task's context is kept as a
:class:`CapturedLine` and travels back with the task's outcome — from a thread, a worker process,
a Dask or a Ray worker alike — so no executor needs a log channel of its own.

Routing is by context variable, not by swapping ``sys.stdout`` per task: tasks of several runs
share the LocalExecutor's threads, and each line must reach its own run. The process gets one
root-logger handler and one stdout/stderr proxy, installed on first use; outside a captured task
both pass everything through untouched. Output is also written through to the real stream (and
logging records go on to the process's other handlers), so a worker's console still shows it.

A task keeps at most :data:`MAX_LINES` lines and :data:`MAX_BYTES` bytes of messages; beyond that
lines are counted, not kept, so a stage that prints megabytes costs its worker little memory.
Threads the stage starts itself do not inherit the context and are not captured. Records below
the process's logging level are not made at all: worker processes are prepared to pass INFO
(:func:`prepare_worker_process`); in the server's own threads, ``logging.level`` decides.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

MAX_LINES = 2_000
MAX_BYTES = 512 * 1024
MAX_LINE_BYTES = 8 * 1024  # a single huge line is cut, not dropped

_current: contextvars.ContextVar[TaskLog | None] = contextvars.ContextVar(
    "flowdapt_task_log", default=None
)
_position: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "flowdapt_item_position", default=None
)
_install_lock = threading.Lock()
_installed = False


@dataclass(slots=True)
class CapturedLine:
    time: float
    level: str
    source: str  # "log", "stdout" or "stderr"
    message: str
    position: int | None  # the item's position within the task's batch


@dataclass(slots=True)
class TaskLog:
    """The lines of one task, and how many were dropped past the caps.

    ``position``: the item a sync fan-out is running, set by the task's loop (a plain attribute:
    it changes once per item); the items of an async fan-out run concurrently and each sets the
    context variable of its own context instead (:func:`set_position`), which wins.
    """

    lines: list[CapturedLine] = field(default_factory=list)
    dropped: int = 0
    position: int | None = None
    _bytes: int = 0
    _partial: dict[str, str] = field(default_factory=dict)  # unfinished line per stream

    def add(self, level: str, source: str, message: str) -> None:
        if len(message) > MAX_LINE_BYTES:
            message = message[:MAX_LINE_BYTES] + f"… [{len(message) - MAX_LINE_BYTES} chars cut]"
        if len(self.lines) >= MAX_LINES or self._bytes + len(message) > MAX_BYTES:
            self.dropped += 1
            return
        self._bytes += len(message)
        position = _position.get()
        if position is None:
            position = self.position
        self.lines.append(CapturedLine(time.time(), level, source, message, position))

    def write(self, source: str, text: str) -> None:
        """Stream text: whole lines become log lines, a trailing part waits for its newline."""
        pending = self._partial.pop(source, "") + text
        *complete, rest = pending.split("\n")
        level = "ERROR" if source == "stderr" else "INFO"
        for line in complete:
            self.add(level, source, line)
        if rest:
            if len(rest) > MAX_LINE_BYTES:  # a stream that never ends its line
                self.add(level, source, rest)
            else:
                self._partial[source] = rest

    def flush(self) -> None:
        for source, rest in list(self._partial.items()):
            self.add("ERROR" if source == "stderr" else "INFO", source, rest)
        self._partial.clear()


@contextmanager
def capturing() -> Iterator[TaskLog]:
    """Capture what this context logs and prints into the returned TaskLog."""
    _install()
    log = TaskLog()
    token, position = _current.set(log), _position.set(None)
    try:
        yield log
    finally:
        _position.reset(position)  # a worker runs task after task in one context
        _current.reset(token)
        log.flush()


# set_position(position): the item position this context is running (its lines are tagged with
# it). A context variable, so that the concurrent items of an async fan-out each keep their own;
# the bound method itself, as it runs once per item of every fan-out.
set_position = _position.set


class _CaptureHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log = _current.get()
        if log is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken format string in user code must not break the stage
            message = str(record.msg)
        log.add(record.levelname, "log", message)


class _StreamRouter(io.TextIOBase):
    """sys.stdout / sys.stderr: to the current task's log (and on to the real stream)."""

    def __init__(self, source: str, stream: TextIO) -> None:
        self._source = source
        self._stream = stream

    def write(self, text: str) -> int:
        log = _current.get()
        if log is not None:
            log.write(self._source, text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _install() -> None:
    """The root handler once per process; the stream proxies whenever someone (a test runner,
    a worker framework) has put another stream in their place since."""
    global _installed
    if not _installed:
        with _install_lock:
            if not _installed:
                _add_root_handler()
                _installed = True
    if not isinstance(sys.stdout, _StreamRouter) or not isinstance(sys.stderr, _StreamRouter):
        with _install_lock:
            if not isinstance(sys.stdout, _StreamRouter):
                sys.stdout = _StreamRouter("stdout", sys.stdout)
            if not isinstance(sys.stderr, _StreamRouter):
                sys.stderr = _StreamRouter("stderr", sys.stderr)


def _add_root_handler() -> None:
    logging.getLogger().addHandler(_CaptureHandler(logging.INFO))


def prepare_worker_process() -> None:
    """In a worker process (the LocalExecutor's, Dask's, Ray's), let stages' INFO records reach
    the capture although such a process logs only warnings by default: the root level is
    lowered to INFO, and the handlers already there keep their threshold through a filter, so
    what the worker's console shows is unchanged. A process that configured its logging itself
    (the server: ``logging.level``) is not touched; there, that level applies to stages too."""
    global _worker_ready
    if _worker_ready:
        return
    _worker_ready = True
    root = logging.getLogger()
    threshold = root.getEffectiveLevel()
    if threshold <= logging.INFO:
        return
    for handler in root.handlers:
        handler.addFilter(_AtLeast(threshold, handler))
    if not root.handlers:  # warnings went to logging's last resort, which a handler disables
        fallback = logging.StreamHandler()
        fallback.setLevel(threshold)
        root.addHandler(fallback)
    root.setLevel(logging.INFO)


_worker_ready = False


class _AtLeast(logging.Filter):
    """Keeps `handler` at the threshold the process had before it was lowered to INFO, until
    someone sets the handler's own level (as pytest's caplog does): then its level rules."""

    def __init__(self, level: int, handler: logging.Handler) -> None:
        super().__init__()
        self.level = level
        self._handler = handler
        self._handler_level = handler.level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or self._handler.level != self._handler_level

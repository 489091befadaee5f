"""flowdapt.lib.logger: structured loggers written through the standard library (§9)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from flowdapt.lib import logger as flogger


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, restored after the test (configure_logger changes it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_events_reach_caplog_with_their_key_values(caplog):
    log = flogger.get_logger("plugin.test", plugin="nowcast")
    with caplog.at_level(logging.DEBUG, logger="plugin.test"):
        log.info("Fetched", city="Paris", rows=24)
        log.debug("Plain message")
    first, second = caplog.records
    assert first.name == "plugin.test" and first.levelno == logging.INFO
    assert first.getMessage() == "Fetched city='Paris' plugin='nowcast' rows=24"
    assert second.getMessage() == "Plain message plugin='nowcast'"  # bound values too
    assert first.funcName == "test_events_reach_caplog_with_their_key_values"  # the caller


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("debug", logging.DEBUG),
        ("info", logging.INFO),
        ("warning", logging.WARNING),
        ("error", logging.ERROR),
        ("critical", logging.CRITICAL),
    ],
)
def test_every_level(method, level, caplog):
    with caplog.at_level(logging.DEBUG, logger="plugin.levels"):
        getattr(flogger.get_logger("plugin.levels"), method)("Event")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(level, "Event")]


def test_exception_logs_the_traceback_at_error(caplog):
    log = flogger.get_logger("plugin.exc")
    try:
        raise ValueError("bad input")
    except ValueError:
        log.exception("Failed", stage="fetch")
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info[0] is ValueError
    assert "bad input" in caplog.text


def test_bind_and_unbind():
    with flogger.disable_logging() as events:
        log = flogger.get_logger("plugin.bind", a=1).bind(b=2)
        log.info("One")
        log.unbind("a").info("Two", c=3)
    assert events == [
        {"event": "One", "log_level": "info", "logger_name": "plugin.bind", "a": 1, "b": 2},
        {"event": "Two", "log_level": "info", "logger_name": "plugin.bind", "b": 2, "c": 3},
    ]
    with pytest.raises(KeyError):
        flogger.get_logger("plugin.bind").unbind("missing")


def test_disable_logging_captures_instead_of_writing(caplog):
    with caplog.at_level(logging.DEBUG), flogger.disable_logging() as events:
        flogger.get_logger("plugin.quiet").warning("Hidden", n=1)
    assert caplog.records == []
    assert events == [
        {"event": "Hidden", "log_level": "warning", "logger_name": "plugin.quiet", "n": 1}
    ]
    flogger.get_logger("plugin.quiet").warning("Visible")
    assert caplog.messages == ["Visible"]


def test_log_once_rate_limits_identical_events():
    now = [0.0]
    with flogger.disable_logging() as events:
        first, second = flogger.get_logger("plugin.once"), flogger.get_logger("plugin.once")
        assert flogger.log_once(first.warning, "Slow", clock=lambda: now[0], url="a") is True
        assert flogger.log_once(second.warning, "Slow", clock=lambda: now[0], url="a") is False
        # a different key/value is a different event
        assert flogger.log_once(first.warning, "Slow", clock=lambda: now[0], url="b") is True
        now[0] = 59.9
        assert flogger.log_once(first.warning, "Slow", clock=lambda: now[0], url="a") is False
        now[0] = 60.0
        assert flogger.log_once(first.warning, "Slow", clock=lambda: now[0], url="a") is True
        now[0] = 61.0
        kwargs = {"interval_seconds": 0.5, "clock": lambda: now[0], "url": "a"}
        assert flogger.log_once(first.warning, "Slow", **kwargs) is True
    assert [e["url"] for e in events] == ["a", "b", "a", "a"]


def emit_through_root(root: logging.Logger, capsys, **config) -> str:
    flogger.configure_logger(**config)
    log = flogger.get_logger("plugin.configured", plugin="n")
    log.debug("Debug line")
    log.info("Info line", rows=3)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("Failed")
    return capsys.readouterr().err


def test_configure_console_at_a_level(root, capsys):
    err = emit_through_root(root, capsys, level="INFO", format="console")
    assert "Debug line" not in err
    assert "INFO    plugin.configured: Info line plugin='n' rows=3" in err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert root.level == logging.INFO


def test_configure_json(root, capsys):
    err = emit_through_root(root, capsys, level="debug", format="json")
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["event"] for line in lines] == ["Debug line", "Info line", "Failed"]
    info = lines[1]
    assert info["level"] == "info" and info["logger"] == "plugin.configured"
    assert info["rows"] == 3 and info["plugin"] == "n" and "logger_name" not in info
    assert "RuntimeError: boom" in lines[2]["exception"]


def test_configure_without_tracebacks(root, capsys):
    err = emit_through_root(root, capsys, show_tracebacks=False)
    assert "RuntimeError: boom" in err and "Traceback" not in err


def test_configure_replaces_its_own_handler_only(root):
    others = len(root.handlers)
    flogger.configure_logger()
    flogger.configure_logger("warning")
    assert len(root.handlers) == others + 1 and root.level == logging.WARNING


def test_configure_with_trace_id_names_the_run(root, capsys, in_run):
    flogger.configure_logger(format="json", include_trace_id=True)
    log = flogger.get_logger("plugin.traced")
    log.info("Outside")
    with in_run() as context:
        log.info("Inside")
    outside, inside = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert "trace_id" not in outside
    assert inside["trace_id"] == str(context.run.uid)


@pytest.mark.parametrize(("level", "format"), [("info", "yaml"), ("loud", "console")])
def test_configure_rejects_unknown_values(root, level, format):
    with pytest.raises(ValueError, match="unknown log"):
        flogger.configure_logger(level, format)


def test_setup_logging_follows_the_environment(root, clean_environment, capsys):
    monkeypatch = clean_environment
    monkeypatch.setenv("FLOWDAPT__LOGGING__LEVEL", "ERROR")
    monkeypatch.setenv("FLOWDAPT__LOGGING__FORMAT", "json")
    flogger.setup_logging()
    assert root.level == logging.ERROR
    flogger.get_logger("plugin.setup").error("Shown")
    assert json.loads(capsys.readouterr().err)["event"] == "Shown"

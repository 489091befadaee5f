"""Printing resources and runs: tables (rich in a terminal, plain text when piped), JSON, YAML.

Formats:

* ``table`` — one row per item; a rich table with colour when stdout is a terminal, plain
  aligned columns otherwise (stable for ``grep``/``awk``).
* ``json`` — the server's objects, pretty-printed (a list for a listing).
* ``yaml`` — one YAML document per item (``---``), which ``flowctl apply -p`` reads back.
* ``raw`` — compact JSON, one item per line (for ``jq -c`` style pipelines).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final


class Format(StrEnum):
    """Output formats of ``get`` and friends."""

    table = "table"
    json = "json"
    yaml = "yaml"
    raw = "raw"


Row = list[str]
Column = tuple[str, Callable[[dict[str, Any]], str]]

STATE_STYLES: Final = {
    "finished": "green",
    "failed": "bold red",
    "running": "yellow",
    "pending": "cyan",
    "cancelled": "dim",
}


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal (decides rich vs plain output)."""
    return sys.stdout.isatty()


def parse_time(value: Any) -> datetime | None:
    """Parse a wire timestamp; naive values are UTC (the API sends them without offset)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_duration(seconds: float) -> str:
    """A short human duration: ``0.42s``, ``12s``, ``3m``, ``5h``, ``2d``."""
    if seconds < 10:
        return f"{max(seconds, 0):.2f}s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago a wire timestamp was, or ``-``."""
    moment = parse_time(value)
    if moment is None:
        return "-"
    return format_duration(((now or datetime.now(UTC)) - moment).total_seconds())


def run_duration(run: dict[str, Any]) -> str:
    """How long a run took (or has been running), or ``-``."""
    start = parse_time(run.get("started_at"))
    if start is None:
        return "-"
    end = parse_time(run.get("finished_at")) or datetime.now(UTC)
    return format_duration((end - start).total_seconds())


def _meta(item: dict[str, Any], key: str) -> Any:
    metadata = item.get("metadata")
    return metadata.get(key) if isinstance(metadata, dict) else None


def _annotations(item: dict[str, Any]) -> str:
    annotations = _meta(item, "annotations") or {}
    return ",".join(f"{k}={v}" for k, v in annotations.items()) or "-"


def _selector(item: dict[str, Any]) -> str:
    selector = (item.get("spec") or {}).get("selector") or {}
    value = selector.get("value")
    if isinstance(value, dict):
        value = ",".join(f"{k}={v}" for k, v in value.items())
    return f"{selector.get('type', 'name')}:{value}" if value is not None else "-"


def _action(item: dict[str, Any]) -> str:
    action = (item.get("spec") or {}).get("action") or {}
    workflow = (action.get("parameters") or {}).get("workflow")
    target = str(action.get("target", "-"))
    return f"{target}({workflow})" if workflow else target


_INFIX: Final = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}


def condition_text(expression: Any) -> str:
    """A condition rule written the way people read it.

    Example::

        rule = {"and": [{"eq": [{"var": "data.state"}, "failed"]}, {"not": {"var": "data.x"}}]}
        assert condition_text(rule) == '(data.state == "failed" and not data.x)'
    """
    if not isinstance(expression, dict) or len(expression) != 1:
        return json.dumps(expression, default=str)
    ((name, value),) = expression.items()
    arguments = value if isinstance(value, list) else [value]
    if name == "var":
        return str(arguments[0])
    if name in _INFIX and len(arguments) == 2:
        return f"{condition_text(arguments[0])} {_INFIX[name]} {condition_text(arguments[1])}"
    if name in ("and", "or"):
        return "(" + f" {name} ".join(condition_text(argument) for argument in arguments) + ")"
    if name in ("not", "bool") and len(arguments) == 1:
        return f"{name} {condition_text(arguments[0])}"
    return json.dumps(expression, default=str)


def rule_summary(item: dict[str, Any], width: int = 60) -> str:
    """A trigger's rule in one short line: its cron expressions, or its condition."""
    spec = item.get("spec") or {}
    rule = spec.get("rule")
    if spec.get("type") == "schedule" and isinstance(rule, list):
        text = ", ".join(map(str, rule)) + (
            f" ({spec['timezone']})" if spec.get("timezone") else ""
        )
    else:
        text = condition_text(rule)
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
    return text if len(text) <= width else text[: width - 1] + "…"


def _last_fired(item: dict[str, Any]) -> str:
    status = item.get("status") or {}
    if not status.get("last_fired_at"):
        return "-"
    return f"{age(status['last_fired_at'])} ago ({status.get('last_state', '?')})"


def _next_fire(item: dict[str, Any]) -> str:
    moment = parse_time((item.get("status") or {}).get("next_fire_at"))
    if moment is None:
        return "-"
    return f"in {format_duration((moment - datetime.now(UTC)).total_seconds())}"


COLUMNS: Final[dict[str, list[Column]]] = {
    "workflow": [
        ("NAME", lambda r: str(_meta(r, "name"))),
        ("STAGES", lambda r: str(len((r.get("spec") or {}).get("stages") or []))),
        ("ANNOTATIONS", _annotations),
        ("AGE", lambda r: age(_meta(r, "created_at"))),
    ],
    "config": [
        ("NAME", lambda r: str(_meta(r, "name"))),
        ("SELECTOR", _selector),
        ("KEYS", lambda r: str(len((r.get("spec") or {}).get("data") or {}))),
        ("AGE", lambda r: age(_meta(r, "created_at"))),
    ],
    "trigger_rule": [
        ("NAME", lambda r: str(_meta(r, "name"))),
        ("TYPE", lambda r: str((r.get("spec") or {}).get("type", "-"))),
        ("RULE", rule_summary),
        ("ACTION", _action),
        ("LAST FIRED", _last_fired),
        ("NEXT FIRE", _next_fire),
    ],
    "run": [
        ("NAME", lambda r: str(r.get("name"))),
        ("WORKFLOW", lambda r: str(r.get("workflow"))),
        ("STATE", lambda r: str(r.get("state"))),
        ("SOURCE", lambda r: str(r.get("source") or "-")),
        ("STARTED", lambda r: age(r.get("started_at"))),
        ("DURATION", run_duration),
    ],
    "firing": [
        ("FIRED", lambda r: age(r.get("fired_at")) + " ago"),
        ("STATE", lambda r: str(r.get("state"))),
        ("RUN", lambda r: str(r.get("run") or "-")),
        ("KEY", lambda r: str(r.get("key"))),
        ("ERROR", lambda r: str(r.get("error") or "")),
    ],
    "plugin": [
        ("NAME", lambda r: str(r.get("name"))),
        ("VERSION", lambda r: str((r.get("metadata") or {}).get("version", "-"))),
        ("MODULE", lambda r: str(r.get("module", "-"))),
        ("DESCRIPTION", lambda r: str((r.get("metadata") or {}).get("description", ""))),
    ],
}


def print_table(headers: Sequence[str], rows: Sequence[Row], *, title: str | None = None) -> None:
    """Print rows as a rich table in a terminal, else as plain aligned columns."""
    if stdout_is_terminal():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, box=None, header_style="bold", pad_edge=False)
        for header in headers:
            table.add_column(header)
        for row in rows:
            table.add_row(
                *[_styled(header, cell) for header, cell in zip(headers, row, strict=True)]
            )
        Console().print(table)
        return
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    for line in [list(headers), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _styled(header: str, cell: str) -> str:
    from rich.markup import escape

    style = STATE_STYLES.get(cell) if header == "STATE" else None
    return f"[{style}]{escape(cell)}[/]" if style else escape(cell)


def print_items(kind: str, items: Sequence[dict[str, Any]], fmt: Format) -> None:
    """Print a listing of ``kind`` (``workflow``, ``config``, ``trigger_rule``, ``run``…)."""
    if fmt is Format.table:
        columns = COLUMNS[kind]
        rows = [[extract(item) for _, extract in columns] for item in items]
        print_table([header for header, _ in columns], rows)
    elif fmt is Format.json:
        print_json(list(items))
    elif fmt is Format.yaml:
        print_yaml_documents(items)
    else:
        for item in items:
            print(json.dumps(item, separators=(",", ":"), default=str))


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, default=str))


def print_yaml_documents(items: Sequence[Any]) -> None:
    """YAML documents separated by ``---`` on stdout."""
    import yaml

    text = yaml.safe_dump_all(list(items), sort_keys=False, explicit_start=len(items) > 1)
    sys.stdout.write(text)


def print_data(data: Any, fmt: Format) -> None:
    """Print one object (a status, a run…) as JSON/raw/YAML; ``table`` means YAML here."""
    if fmt is Format.json:
        print_json(data)
    elif fmt is Format.raw:
        print(json.dumps(data, separators=(",", ":"), default=str))
    else:
        print_yaml_documents([data])

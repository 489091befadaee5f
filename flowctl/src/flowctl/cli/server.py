"""``status`` and ``metrics``: what the server says about itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from flowctl.cli.session import handled, open_client
from flowctl.errors import ApiError
from flowctl.output import Format, print_data, print_table


def _services(services: Any) -> str:
    if not isinstance(services, dict):
        return str(services)
    parts = []
    for name, value in services.items():
        state = value.get("status") if isinstance(value, dict) else value
        parts.append(f"{name}: {state}" if state not in (None, {}) else str(name))
    return ", ".join(parts) or "-"


def _bus(bus: Any) -> str:
    if not isinstance(bus, dict):
        return "-"
    text = f"{bus.get('kind', '?')} ({bus.get('status', '?')})"
    if bus.get("undelivered"):
        text += f", {bus['undelivered']} waiting"
    if bus.get("dropped"):
        text += f", {bus['dropped']} dropped"
    return text + (f": {bus['detail']}" if bus.get("detail") else "")


def _executor(services: Any) -> str:
    compute = services.get("compute") if isinstance(services, dict) else None
    executor = compute.get("executor_status") if isinstance(compute, dict) else None
    if not isinstance(executor, dict):
        return str(compute.get("executor", "-")) if isinstance(compute, dict) else "-"
    text = f"{executor.get('kind', '?')} ({executor.get('status', '?')})"
    if executor.get("started_in_s") is not None:
        text += f", started in {executor['started_in_s']:g}s"
    return text + (f": {executor['error']}" if executor.get("error") else "")


def _status_rows(url: str, ping: dict[str, Any], info: dict[str, Any] | None) -> list[list[str]]:
    rows = [
        ["server", url],
        ["app", str(ping.get("app", "-"))],
        ["version", str(ping.get("version", "-"))],
        ["api version", str(ping.get("api_version", "-"))],
    ]
    if info is None:
        return rows
    system, os_info = info.get("system") or {}, info.get("os") or {}
    os_text = " ".join(str(os_info.get(k, "")) for k in ("name", "release", "machine")).strip()
    memory = system.get("memory")
    rows += [
        ["name", str(info.get("name", "-"))],
        ["hostname", str(info.get("hostname", "-"))],
        ["python", str(info.get("python", "-"))],
        ["os", os_text or "-"],
        ["database", str(info.get("database", "-"))],
        ["services", _services(info.get("services"))],
        ["executor", _executor(info.get("services"))],
        ["event bus", _bus(info.get("event_bus"))],
        ["cpu", f"{system.get('cpu_pct', '-')}%"],
        ["memory", f"{memory / 2**20:.0f} MiB" if isinstance(memory, int | float) else "-"],
        ["pid", str(system.get("pid", "-"))],
    ]
    return rows


def status(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", "-o", help="Output format.")] = Format.table,
) -> None:
    """Check the server answers, and show its version and system status."""
    with handled(), open_client(ctx) as client:
        url = client.base_url
        ping = client.ping()
        try:
            info: dict[str, Any] | None = client.status()
        except ApiError:
            info = None  # a server without the core service still answers GET /
    if fmt is Format.table:
        print_table(["FIELD", "VALUE"], _status_rows(url, ping, info))
    else:
        print_data({"server": url, "ping": ping, "status": info}, fmt)


def _latest(points: list[dict[str, Any]]) -> tuple[str, str]:
    if not points:
        return "-", "-"
    last = max(points, key=lambda point: point.get("time_unix_nano", 0))
    if "value" in last:
        value = str(last["value"])
    else:  # a histogram point
        value = f"count={last.get('count')} sum={last.get('sum')}"
    nanos = last.get("time_unix_nano")
    if not isinstance(nanos, int):
        return value, "-"
    return value, datetime.fromtimestamp(nanos / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def metrics(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
    max_length: Annotated[int | None, typer.Option(help="At most this many points.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-o", help="Output format.")] = Format.table,
) -> None:
    """Show the server's metrics (latest value of each)."""
    with handled(), open_client(ctx) as client:
        data = client.metrics(name, max_length=max_length)
    if fmt is not Format.table:
        print_data(data, fmt)
        return
    rows = []
    for metric, points in sorted(data.items()):
        value, when = _latest(points if isinstance(points, list) else [])
        rows.append([metric, value, str(len(points)), when])
    print_table(["METRIC", "LATEST", "POINTS", "AT (UTC)"], rows)

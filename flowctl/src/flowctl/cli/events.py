"""``event send``: publish an event on the server's bus, so that trigger rules over its type
start workflows (the started runs read it as ``get_run_context().event``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from flowctl.cli.runs import parse_input
from flowctl.cli.session import handled, open_client, say
from flowctl.output import Format, print_data

event_app = typer.Typer(help="Send events to the server's event bus.", no_args_is_help=True)


def _payload(data: str | None, extra: list[str]) -> Any:
    fields = parse_input(extra)
    if data is None:
        return fields or None
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise typer.BadParameter(f"--data is not JSON: {exc}") from None
    if fields:
        if not isinstance(payload, dict):
            raise typer.BadParameter("--key value fields need --data to be a JSON object")
        payload = {**payload, **fields}
    return payload


@event_app.command(
    "send", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def send(
    ctx: typer.Context,
    event_type: Annotated[
        str, typer.Argument(metavar="TYPE", help="The event type, e.g. com.example.data_arrived.")
    ],
    data: Annotated[str | None, typer.Option(help="The payload as JSON.")] = None,
    source: Annotated[str | None, typer.Option(help="Who sends it (default: external).")] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="FLOWDAPT_EVENTS_TOKEN", help="Bearer token, if the server asks."),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-o", help="table: the id only; else the event.")
    ] = Format.table,
) -> None:
    """Publish an event; extra --key value options become its data.

    flowctl event send com.example.data_arrived --city Oslo sends {"city": "Oslo"}.
    """
    payload = _payload(data, list(ctx.args))
    with handled(), open_client(ctx) as client:
        event = client.send_event(event_type, payload, source=source, token=token)
    if fmt is Format.table:
        say(f"event {event.get('type')} published")
        print(event.get("id"))
    else:
        print_data(event, fmt)

"""``run``: start a workflow, wait for it with a spinner, print its result."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from flowctl.cli.session import handled, open_client, say
from flowctl.output import Format, print_data, print_json, run_duration


def _value(text: str) -> Any:
    """JSON where possible (``5``, ``true``, ``[1, 2]``, ``{"a": 1}``), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_input(args: list[str]) -> dict[str, Any]:
    """Turn ``--key value`` / ``--key=value`` / ``--flag`` arguments into the run input.

    Example::

        assert parse_input(["--n_vals", "5", "--city=Paris", "--dry"]) == {
            "n_vals": 5, "city": "Paris", "dry": True}
    """
    result: dict[str, Any] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("--") or len(arg) == 2:
            raise typer.BadParameter(f"unexpected argument {arg!r}: input is given as --key value")
        key, sep, text = arg[2:].partition("=")
        if sep:
            result[key] = _value(text)
        elif index + 1 < len(args) and not args[index + 1].startswith("--"):
            index += 1
            result[key] = _value(args[index])
        else:
            result[key] = True
        index += 1
    return result


@contextmanager
def _spinner(message: str, *, enabled: bool) -> Iterator[None]:
    """A rich spinner on stderr while the server holds the response (only in a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def _report(run: dict[str, Any], fmt: Format, waited: bool) -> None:
    if fmt is not Format.table:
        print_data(run, fmt)
        return
    name, state = run.get("name"), run.get("state")
    if not waited:
        say(f"run {name} of {run.get('workflow')} started ({state})")
        print(name)
        return
    say(f"run {name} {state} in {run_duration(run)}")
    result = run.get("result")
    if state == "failed" and isinstance(result, list) and len(result) == 2:
        say(f"{result[0]}: {result[1]}")
    elif result is not None:
        print_json(result)


def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The workflow's name or uid.")],
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return at once with the pending run.")
    ] = False,
    namespace: Annotated[str | None, typer.Option(help="The executor namespace to run in.")] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-o", help="table: result only; else the whole run.")
    ] = Format.table,
) -> None:
    """Run a workflow; extra --key value options become its input.

    Values are parsed as JSON where possible: flowctl run w --n_vals 5 --city Paris
    sends {"n_vals": 5, "city": "Paris"}. Exit code 1 when the run failed.
    """
    run_input = parse_input(list(ctx.args))
    with handled(), open_client(ctx) as client:
        workflow = client.get_resource("workflow", name)
        identifier = str(workflow.get("metadata", {}).get("uid") or name)
        with _spinner(f"Running {name}…", enabled=not no_wait):
            result = client.run_workflow(
                identifier, run_input, wait=not no_wait, namespace=namespace
            )
    _report(result, fmt, waited=not no_wait)
    if not no_wait and result.get("state") != "finished":
        raise typer.Exit(1)

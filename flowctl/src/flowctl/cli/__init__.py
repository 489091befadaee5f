"""The ``flowctl`` command line.

Only typer and the standard library are imported at start-up; httpx, rich and yaml are imported
by the commands that need them, so ``flowctl --version`` answers at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flowctl import __version__
from flowctl.cli import logs, resources, runs, server
from flowctl.cli.config import config_app
from flowctl.cli.events import event_app
from flowctl.cli.session import GlobalOptions

app = typer.Typer(
    name="flowctl",
    help="Command-line client of a Flowdapt server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"flowctl {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            "-s",
            envvar="FLOWDAPT_SERVER",
            help="Server URL or configured name (default: the current named server).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(server=server)


app.command()(resources.apply)
app.command()(resources.get)
app.command()(resources.inspect)
app.command()(resources.delete)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(runs.run)
app.command()(logs.logs)
app.command()(server.status)
app.command()(server.metrics)
app.add_typer(config_app, name="config")
app.add_typer(event_app, name="event")


def main() -> None:
    """Entry point of the ``flowctl`` script."""
    app()

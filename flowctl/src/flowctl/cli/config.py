"""``config add|use|current|show|remove``: named servers in the flowctl config file."""

from __future__ import annotations

from typing import Annotated

import typer

from flowctl.cli.session import handled, say
from flowctl.config import ServerConfig
from flowctl.output import Format, print_data, print_table

config_app = typer.Typer(
    help="Named servers (stored in $FLOWCTL_CONFIG or the user config directory).",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The server's name.")]


@config_app.command("add")
def add(name: NameArg, url: Annotated[str, typer.Argument(help="http(s)://HOST[:PORT]")]) -> None:
    """Add (or replace) a named server."""
    with handled():
        config = ServerConfig.load()
        normalized = config.add(name, url)
        config.save()
    say(f"server {name} = {normalized} (use it with: flowctl config use {name})")


@config_app.command("use")
def use(name: NameArg) -> None:
    """Make a named server the current one."""
    with handled():
        config = ServerConfig.load()
        config.use(name)
        config.save()
    say(f"now using {name} ({config.current_url()})")


@config_app.command("remove")
def remove(name: NameArg) -> None:
    """Forget a named server."""
    with handled():
        config = ServerConfig.load()
        config.remove(name)
        config.save()
    say(f"removed {name}")


@config_app.command("current")
def current() -> None:
    """Print the current server's name and URL."""
    with handled():
        config = ServerConfig.load()
    print(f"{config.current} {config.current_url()}")


@config_app.command("show")
def show(
    fmt: Annotated[Format, typer.Option("--format", "-o", help="Output format.")] = Format.table,
) -> None:
    """List the named servers; the current one is marked with ``*``."""
    with handled():
        config = ServerConfig.load()
    if fmt is not Format.table:
        data = {"path": str(config.path), "current": config.current, "servers": config.servers}
        print_data(data, fmt)
        return
    rows = [
        ["*" if name == config.current else "", name, url]
        for name, url in sorted(config.servers.items())
    ]
    print_table(["CURRENT", "NAME", "URL"], rows)

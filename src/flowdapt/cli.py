"""The ``flowdapt`` command: run the server, read and change its configuration, manage the
database schema, write the OpenAPI document.

    flowdapt run
    flowdapt --app-dir ./dev -o rpc.api.port=9000 run
    flowdapt config get database.target
    flowdapt db current
    flowdapt plugin new weather_tools --dir ./weather-tools
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn
import yaml

from flowdapt import __version__
from flowdapt.settings import (
    CONFIG_FILE_NAME,
    DEFAULT_APP_DIR,
    Settings,
    SettingsError,
    get_dotted,
    load_settings,
    read_config_file,
    set_dotted,
    unset_dotted,
    write_defaults,
)

app = typer.Typer(help="The Flowdapt server.", no_args_is_help=True, add_completion=False)
config_app = typer.Typer(help="Read and change the configuration file.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
dev_app = typer.Typer(help="Developer tools.", no_args_is_help=True)
plugin_app = typer.Typer(help="Create plugins and check the installed ones.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(dev_app, name="dev")
app.add_typer(plugin_app, name="plugin")


@dataclass
class GlobalOptions:
    """What the global options say; read by the commands."""

    app_dir: Path = DEFAULT_APP_DIR
    config_file: Path | None = None
    env_files: list[Path] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Settings:
        return load_settings(
            self.app_dir,
            config_file=self.config_file,
            env_files=self.env_files,
            overrides=self.overrides,
        )

    def config_path(self) -> Path:
        return self.config_file or self.app_dir / CONFIG_FILE_NAME


_options = GlobalOptions()


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, which makes the exit code
    -15; a clean stop is a success, so the captured signal is dropped. The signal also starts
    the compute service's drain at once (see `ComputeService.begin_stop`)."""

    def __init__(self, config: uvicorn.Config, on_stop_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop_signal = on_stop_signal

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._on_stop_signal()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flowdapt {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    app_dir: Annotated[
        Path, typer.Option("--app-dir", envvar="FLOWDAPT__APP_DIR", help="Application directory.")
    ] = DEFAULT_APP_DIR,
    config_file: Annotated[
        Path | None,
        typer.Option("--config-file", envvar="FLOWDAPT__CONFIG_FILE", help="Configuration file."),
    ] = None,
    env: Annotated[
        list[Path] | None, typer.Option("--env", help="A .env file to read (repeatable).")
    ] = None,
    override: Annotated[
        list[str] | None, typer.Option("--override", "-o", help="KEY=VALUE (repeatable).")
    ] = None,
) -> None:
    _options.app_dir = app_dir.expanduser()
    _options.config_file = config_file.expanduser() if config_file else None
    _options.env_files = list(env or [])
    overrides: dict[str, str] = {}
    for item in override or []:
        key, sep, value = item.partition("=")  # split on the first '=' only
        if not sep or not key:
            _fail(f"--override takes KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value
    _options.overrides = overrides


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return _options.settings()
    except SettingsError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Overrides rpc.api.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides rpc.api.port.")] = None,
) -> None:
    """Start the server (stops gracefully on SIGINT/SIGTERM)."""
    _limit_malloc_arenas()
    from flowdapt.bootstrap import build_app, configure_logging

    settings = _settings()
    configure_logging(settings)
    try:
        application = build_app(settings, stop_grace=STOP_GRACE)
    except SettingsError as exc:
        _fail(str(exc))
    server = _Server(
        uvicorn.Config(
            application,
            host=host or settings.rpc.api.host,
            port=settings.rpc.api.port if port is None else port,
            log_level=settings.logging.level,
            lifespan="on",
            access_log=settings.logging.level == "debug",
            # Longer than the runs' grace: clients waiting on a run get its final record.
            timeout_graceful_shutdown=int(STOP_GRACE) + 5,
        ),
        on_stop_signal=lambda: _begin_stop(application),
    )
    server.run()
    _exit_after_serving(0 if server.started else 1)


STOP_GRACE = 10.0  # seconds running runs get to finish after SIGTERM/SIGINT


def _begin_stop(application: Any) -> None:
    compute = application.state.services.compute
    if compute is not None:
        with contextlib.suppress(RuntimeError):  # no running loop: the lifespan stop does it
            compute.begin_stop(STOP_GRACE)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread its own malloc arena; the server's threads mostly wait, and two
    arenas keep its resident memory about 12 MB lower. Must run before threads start."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX


def _exit_after_serving(code: int) -> None:
    """Every run is recorded by now; a stage thread still blocked in user code must not keep
    the process alive (threads cannot be stopped), so leave without waiting for it."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@config_app.command("show")
def config_show(
    output: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
) -> None:
    """The effective configuration (file, .env, environment and overrides merged)."""
    data = _settings().model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2) if output == "json" else yaml.safe_dump(data))


@config_app.command("get")
def config_get(key: str) -> None:
    """One effective value, by dotted key (e.g. rpc.api.port)."""
    try:
        value = get_dotted(_settings().model_dump(mode="json"), key)
    except KeyError:
        _fail(f"no configuration key {key!r}")
    typer.echo(value if isinstance(value, str) else json.dumps(value))


@config_app.command("set")
def config_set(key: str, value: str) -> None:
    """Write KEY=VALUE into the configuration file (the value is read as YAML)."""
    _edit_file(lambda data: set_dotted(data, key, yaml.safe_load(value) if value else value))
    typer.echo(f"{key} = {value}")


@config_app.command("unset")
def config_unset(key: str) -> None:
    """Remove KEY from the configuration file (the default applies again)."""
    if not _edit_file(lambda data: unset_dotted(data, key)):
        _fail(f"{key!r} is not set in {_options.config_path()}", code=1)
    typer.echo(f"{key} unset")


def _edit_file(change: Any) -> Any:
    path = _options.config_path()
    try:
        if not path.exists():
            write_defaults(path)
        data = read_config_file(path)
        result = change(data)
        Settings(**data, app_dir=_options.app_dir)  # refuse to write an invalid file
    except SettingsError as exc:
        _fail(str(exc))
    except Exception as exc:
        _fail(f"the change would make the configuration invalid: {exc}")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return result if result is not None else True


def _sql_storage() -> Any:
    from flowdapt.storage.sql import SQLStorage
    from flowdapt.storage.targets import storage_from_target

    settings = _settings()
    storage = storage_from_target(
        settings.database.target, settings.database.options, settings.app_dir
    )
    if not isinstance(storage, SQLStorage):
        typer.echo(f"the {storage.kind} database has no schema migrations")
        raise typer.Exit(0)
    return storage


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the schema up (keeps data)."""
    storage = _sql_storage()
    asyncio.run(storage.upgrade(revision))
    typer.echo(f"database at {asyncio.run(storage.current_revision())}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION."""
    storage = _sql_storage()
    asyncio.run(storage.downgrade(revision))
    typer.echo(f"database at {asyncio.run(storage.current_revision())}")


@db_app.command("current")
def db_current() -> None:
    """The schema revision the database is at."""
    typer.echo(asyncio.run(_sql_storage().current_revision()) or "empty (no schema yet)")


@dev_app.command("spec")
def dev_spec(
    output: Annotated[Path | None, typer.Option("--output", "-O", help="File to write.")] = None,
) -> None:
    """Write the OpenAPI document of this server's REST API."""
    from flowdapt.bootstrap import build_app
    from flowdapt.settings import Settings

    settings = Settings(database={"target": "flowdapt.storage.memory.MemoryStorage"})
    document = json.dumps(build_app(settings).openapi(), indent=2)
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}")


@plugin_app.command("new")
def plugin_new(
    name: Annotated[str, typer.Argument(help="The plugin's name, e.g. weather_tools.")],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="The project directory (default ./NAME); missing or empty."),
    ] = None,
) -> None:
    """Create a plugin project: stages, a bundled workflow, tests, and its entry point."""
    from flowdapt.plugin_template import PluginTemplateError, create_plugin

    try:
        created = create_plugin(name, directory if directory is not None else Path(name))
    except PluginTemplateError as exc:
        _fail(f"error: {exc}")
        raise  # unreachable: _fail exits
    typer.echo(f"created plugin {created.plugin!r} in {created.root}")
    for file in created.files:
        typer.echo(f"  {file}")
    typer.echo(
        f"next: cd {created.root} && pip install -e '.[dev]' && pytest\n"
        f"then, with it installed beside the server: flowctl apply --plugin {created.plugin}"
    )


@plugin_app.command("list")
def plugin_list() -> None:
    """The plugins installed here, with their status; exits 1 if one is broken or conflicts."""
    from flowdapt.services.plugins import discover_plugins

    plugins = discover_plugins()
    if not plugins:
        typer.echo("no plugins installed")
    for plugin in plugins:
        version = plugin.metadata.get("version") or "-"
        typer.echo(f"{plugin.name}  {version}  {plugin.status}  {plugin.module or '-'}")
        if plugin.error:
            typer.secho(f"    {plugin.error}", fg=typer.colors.RED)
    if any(plugin.status != "ok" for plugin in plugins):
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

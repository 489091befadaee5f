"""The server's configuration: ``<app-dir>/flowdapt.yaml`` (YAML or JSON), ``.env`` files,
``FLOWDAPT__SECTION__KEY`` environment variables and ``-o key=value`` overrides, in rising order
of precedence.

    settings = load_settings(Path("~/.flowdapt").expanduser())
    settings.rpc.api.port            # 8080 unless configured

Sections naming a class accept both spellings users carry over from the original: ``target:``
(its docs) and ``__target__:`` (the file it writes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from flowdapt.domain.errors import FlowdaptError
from flowdapt.engine.config_selection import merge_data
from flowdapt.objects.config import DEFAULT_APP_DIR as DEFAULT_APP_DIR  # the CLI's default
from flowdapt.objects.config import StorageSettings, StrategyName, typed_text

CONFIG_FILE_NAME = "flowdapt.yaml"
DEFAULT_STORAGE_TARGET = "flowdapt.storage.sql.SQLStorage"
DEFAULT_EXECUTOR_TARGET = "flowdapt.executors.local.LocalExecutor"


class SettingsError(FlowdaptError):
    """The configuration cannot be used; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Targeted(BaseModel):
    """A section naming a class (``target`` or ``__target__``) plus that class's options."""

    model_config = ConfigDict(extra="allow")

    target: str

    @model_validator(mode="before")
    @classmethod
    def _accept_dunder_target(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "__target__" in data:
            data = dict(data)
            data.setdefault("target", data.pop("__target__"))
        return data

    @property
    def options(self) -> dict[str, Any]:
        """The class's options; text from environment variables (``"true"``, ``"4"``) typed."""
        return {key: typed_text(value) for key, value in (self.model_extra or {}).items()}


def _normalise_targets(data: Any) -> Any:
    """``__target__`` → ``target`` at every level, so that layers merge on one spelling."""
    if not isinstance(data, Mapping):
        return data
    return {
        ("target" if key == "__target__" else key): _normalise_targets(value)
        for key, value in data.items()
    }


class DatabaseSettings(Targeted):
    target: str = DEFAULT_STORAGE_TARGET


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    format: Literal["console", "json"] = "console"

    @model_validator(mode="before")
    @classmethod
    def _lower_case(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v.lower() if isinstance(v, str) else v for k, v in data.items()}
        return data


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # When set, POST /events/ (events sent in from outside) requires "Authorization: Bearer …".
    events_token: SecretStr | None = None


class EventBusSettings(_Section):
    url: str = "memory://"  # or amqp://user:password@host:5672/vhost (RabbitMQ)
    exchange: str = "flowdapt.events"  # servers sharing a broker and this name share events


class RpcSettings(_Section):
    api: ApiSettings = ApiSettings()
    event_bus: EventBusSettings = EventBusSettings()


class ExecutorSettings(Targeted):
    target: str = DEFAULT_EXECUTOR_TARGET


def _local_threads() -> ExecutorSettings:
    # The server runs stages in threads by default: cheap to start, and blocking code never blocks
    # the event loop. Set use_processes: true for CPU-bound Python.
    return ExecutorSettings.model_validate({"use_processes": False})


class ComputeSettings(_Section):
    enabled: bool = True
    executor: ExecutorSettings = Field(default_factory=_local_threads)
    default_namespace: str = "default"
    default_os_strategy: StrategyName = "fallback"
    # Values larger than this (serialised) go to artifacts instead (strategy fallback) or are
    # refused (cluster_memory); e.g. "512MB". None: as large as the backend takes.
    cluster_memory_max_size: ByteSize | None = None
    run_retention_duration: timedelta | None = None  # None keeps runs forever
    # A run's log keeps this many lines and bytes of messages; then one "truncated" line.
    log_max_lines: int = Field(default=10_000, ge=1)
    log_max_bytes: ByteSize = ByteSize(5 * 1024 * 1024)


class ServiceSwitch(_Section):
    enabled: bool = True


class TriggersSettings(_Section):
    enabled: bool = True
    max_depth: int = Field(default=10, ge=1)  # the loop guard: trigger firings per chain
    firing_retention_duration: timedelta = timedelta(days=7)


class ServicesSettings(_Section):
    compute: ComputeSettings = ComputeSettings()
    triggers: TriggersSettings = TriggersSettings()
    core: ServiceSwitch = ServiceSwitch()


class TelemetrySettings(_Section):
    """OpenTelemetry tracing of runs and stages; needs the extra ``flowdapt[telemetry]``."""

    enabled: bool = False
    exporter: Literal["otlp", "console"] = "otlp"
    endpoint: str = "http://localhost:4318/v1/traces"  # OTLP/HTTP, with the signal path
    service_name: str = "flowdapt"


class Settings(BaseSettings):
    """Every key of ``flowdapt.yaml``; each overridable as ``FLOWDAPT__SECTION__KEY``."""

    model_config = SettingsConfigDict(
        env_prefix="FLOWDAPT__",
        env_nested_delimiter="__",
        extra="forbid",
    )

    name: str = "flowdapt"
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    rpc: RpcSettings = RpcSettings()
    storage: StorageSettings = StorageSettings()
    services: ServicesSettings = ServicesSettings()
    telemetry: TelemetrySettings = TelemetrySettings()

    # Set by load_settings, not by the file: where the config lives.
    app_dir: Path = Field(default=DEFAULT_APP_DIR, exclude=True)

    def stage_settings(self) -> dict[str, Any]:
        """What stage code reads of this config, as plain data for every run's context: the
        storage (``file`` without a base path resolved to this server's app dir, which a worker
        elsewhere could not guess) and the object store's options."""
        storage = self.storage.model_dump()
        if not storage["base_path"] and storage["protocol"] in ("", "file", "local"):
            storage["base_path"] = str(self.app_dir.expanduser())
        compute = self.services.compute
        return {
            "storage": storage,
            "services": {
                "compute": {
                    "default_os_strategy": compute.default_os_strategy,
                    "cluster_memory_max_size": compute.cluster_memory_max_size,
                }
            },
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges file, .env, environment and overrides itself (in that order of
        # precedence) and passes the result in; nothing else is read behind its back.
        return (init_settings,)


def load_settings(
    app_dir: Path | None = None,
    *,
    config_file: Path | None = None,
    env_files: Iterable[Path] = (),
    overrides: Mapping[str, str] | None = None,
    create: bool = True,
) -> Settings:
    """Read the config file (written with defaults when missing), .env files, the environment
    and ``key=value`` overrides; raise SettingsError naming the key when something is invalid."""
    app_dir = (app_dir or Path(os.environ.get("FLOWDAPT__APP_DIR", DEFAULT_APP_DIR))).expanduser()
    path = config_file or Path(os.environ.get("FLOWDAPT__CONFIG_FILE", app_dir / CONFIG_FILE_NAME))
    if not path.exists() and create:
        write_defaults(path)
    layers: list[Mapping[str, Any]] = [read_config_file(path) if path.exists() else {}]
    if env_files:
        layers.append(DotEnvSettingsSource(Settings, env_file=tuple(env_files))())
    layers.append(EnvSettingsSource(Settings)())
    command_line: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        set_dotted(command_line, key, yaml.safe_load(value) if value else value)
    layers.append(command_line)
    try:
        merged = merge_data(_normalise_targets(layer) for layer in layers)
        merged.pop("app_dir", None)  # chosen above (FLOWDAPT__APP_DIR, --app-dir), not a key
        return Settings(**merged, app_dir=app_dir)
    except ValidationError as exc:
        raise SettingsError(describe(exc, path)) from None


def describe(error: ValidationError, path: Path) -> str:
    lines = [f"invalid configuration ({path}, environment FLOWDAPT__…):"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        lines.append(f"  {key}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML or JSON: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the configuration must be a mapping of sections")
    return data


def write_defaults(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    defaults = Settings.model_construct().model_dump(mode="json", exclude={"app_dir"})
    defaults["services"]["compute"]["executor"] = {
        "target": DEFAULT_EXECUTOR_TARGET,
        "use_processes": False,
    }
    path.write_text(yaml.safe_dump(defaults, sort_keys=False), encoding="utf-8")


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """``set_dotted(d, "rpc.api.port", 9000)`` creates the nested mappings as needed."""
    *parents, last = key.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def unset_dotted(data: dict[str, Any], key: str) -> bool:
    *parents, last = key.split(".")
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False


def get_dotted(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node

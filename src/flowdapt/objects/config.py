"""Where the object layer's settings come from: the server's config carried in the run's
context, else the environment at the time of use.

In a run that a server started, its ``storage`` and object-store options arrive with the run's
context in every worker (Local, Dask, Ray), whatever the worker's environment says. Everywhere
else (plugin tests calling ``execute_workflow``, scripts) they are read from the environment.
The keys are the server configuration's (``storage.protocol``, ``storage.base_path``,
``storage.parameters``, ``services.compute.default_os_strategy``,
``services.compute.default_namespace``, ``services.compute.cluster_memory_max_size``), spelled
as its environment variables ``FLOWDAPT__STORAGE__PROTOCOL`` …
``FLOWDAPT__STORAGE__PARAMETERS__ANON=true``. Every
call reads the environment afresh, so a plugin test that sets the variables around
``execute_workflow`` and removes them afterwards gets exactly what it set (the original cached
the first reading for the life of the process).

    os.environ["FLOWDAPT__STORAGE__PROTOCOL"] = "memory"
    storage_settings().protocol        # "memory"

Storage parameters may nest, as S3's do. Each level of ``__`` is a level of the mapping, and a
value that is a JSON (or YAML flow) mapping or list becomes one; the whole mapping may also be
given as JSON in ``FLOWDAPT__STORAGE__PARAMETERS``. These spell the same parameters::

    FLOWDAPT__STORAGE__PARAMETERS__ENDPOINT_URL=http://127.0.0.1:9000
    FLOWDAPT__STORAGE__PARAMETERS__CONFIG_KWARGS__CONNECT_TIMEOUT=5
    FLOWDAPT__STORAGE__PARAMETERS__CONFIG_KWARGS__RETRIES='{"max_attempts": 2}'

    FLOWDAPT__STORAGE__PARAMETERS='{"endpoint_url": "http://127.0.0.1:9000",
        "config_kwargs": {"connect_timeout": 5, "retries": {"max_attempts": 2}}}'

Names are case-insensitive and arrive lower-cased. Scalars are typed as the original typed them
(:func:`typed_text`: ``"5"`` → 5, ``"true"`` → True, ``"yes"`` stays text), except credentials
(``key``, ``secret``, ``token`` …), which stay the text they are.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ByteSize, ConfigDict, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from flowdapt.domain.errors import FlowdaptError
from flowdapt.engine.context import get_run_context

StrategyName = Literal["fallback", "artifact", "cluster_memory"]
DEFAULT_NAMESPACE = "default"
# Where the server keeps its files unless told otherwise; artifacts go there rather than to
# "/artifacts" when protocol file has no base path (the original wrote to the filesystem root).
DEFAULT_APP_DIR = Path("~/.flowdapt").expanduser()


class StorageSettingsError(FlowdaptError, ValueError):
    """The FLOWDAPT__STORAGE__… environment cannot be used; the message names the variable."""


class StorageSettings(BaseModel):
    """The ``storage`` section: the fsspec filesystem holding artifacts.

    ``StorageSettings(protocol="memory", base_path="test").parameters == {}``
    """

    model_config = ConfigDict(extra="forbid")

    protocol: str = "file"
    base_path: str = ""
    parameters: dict[str, Any] = {}

    @field_validator("parameters", mode="after")
    @classmethod
    def _typed_parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        # From the environment every value is text: "true" → True, "4" → 4 (typed_text).
        return {key: typed_parameter(item, key) for key, item in value.items()}

    def root(self) -> str:
        """The base path artifacts live under; the app dir for ``file`` without a base path."""
        if self.base_path or self.protocol not in ("file", "local"):
            return self.base_path
        app_dir = os.environ.get("FLOWDAPT__APP_DIR") or str(DEFAULT_APP_DIR)
        return str(Path(app_dir).expanduser())


_BOOLEANS = {"true": True, "false": False}


def typed_text(value: Any) -> Any:
    """Text from an environment variable as the scalar it spells, as the original typed it:
    ``true``/``false`` (any case, stripped) → bool, ``none``/``null`` → None, text without a
    ``.`` that is an int → int, text with a ``.`` that is a float → float, anything else stays
    text (``"yes"``, ``"0x10"``, ``"1e3"``); non-text values unchanged.

        typed_text("True"), typed_text("010"), typed_text("2.5"), typed_text("yes")
        # True, 10, 2.5, "yes"
    """
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word in _BOOLEANS:
        return _BOOLEANS[word]
    if word in ("none", "null"):
        return None
    # Not YAML's rules: YAML 1.1 reads "yes" as True, "010" as 8 and "0x10" as 16.
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


# Credentials stay text even when they look like numbers or booleans: an access key "0123"
# is not the integer 123 (keys compared lower-case, at any depth, e.g. inside client_kwargs).
_TEXT_PARAMETERS = frozenset(
    {
        "key",
        "secret",
        "token",
        "username",
        "password",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    }
)


def typed_parameter(value: Any, name: str = "") -> Any:
    """A storage parameter from the environment as the value it spells, at any depth.

    Mappings and lists are typed item by item; text that is a JSON or YAML flow mapping or
    list becomes one, typed as JSON types it (pydantic-settings leaves
    ``…__CLIENT_KWARGS='{"a": 1}'`` as text); credentials named in ``_TEXT_PARAMETERS`` stay
    text; other text as :func:`typed_text`.

        typed_parameter({"retries": {"max_attempts": "2"}, "key": "0123"})
        # {"retries": {"max_attempts": 2}, "key": "0123"}
    """
    if isinstance(value, dict):
        return {key: typed_parameter(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [typed_parameter(item) for item in value]
    if not isinstance(value, str) or name.lower() in _TEXT_PARAMETERS:
        return value
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            try:
                parsed = yaml.safe_load(text)
            except yaml.YAMLError:
                return value
        # Typed already: "5" in JSON was written as text on purpose.
        return parsed if isinstance(parsed, dict | list) else value
    return typed_text(value)


class _ComputeEnvironment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    default_os_strategy: StrategyName = "fallback"
    default_namespace: str = DEFAULT_NAMESPACE
    cluster_memory_max_size: ByteSize | None = None


class _ServicesEnvironment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    compute: _ComputeEnvironment = _ComputeEnvironment()


class _Environment(BaseSettings):
    # The server's prefix and nesting (flowdapt.settings.Settings), limited to what stages need.
    model_config = SettingsConfigDict(
        env_prefix="FLOWDAPT__", env_nested_delimiter="__", extra="ignore"
    )

    storage: StorageSettings = StorageSettings()
    services: _ServicesEnvironment = _ServicesEnvironment()


def _read_environment() -> _Environment:
    # In a run the server started, its config came along in the run's context: a Dask or Ray
    # worker has no server config, and its environment is not the server's.
    try:
        snapshot = get_run_context().settings
    except RuntimeError:
        snapshot = {}
    if snapshot:
        return _Environment.model_validate(snapshot)
    try:
        return _Environment(**EnvSettingsSource(_Environment)())
    except ValidationError as exc:
        problems = "; ".join(
            "FLOWDAPT__" + "__".join(str(part) for part in item["loc"]).upper() + f": {item['msg']}"
            for item in exc.errors()
        )
        raise StorageSettingsError(f"invalid environment: {problems}") from None


def storage_settings() -> StorageSettings:
    """The storage settings of the server that started the run, else as the environment says
    now (defaults where it says nothing)."""
    return _read_environment().storage


def default_strategy() -> StrategyName:
    """``services.compute.default_os_strategy`` as the environment says now (``fallback``)."""
    return _read_environment().services.compute.default_os_strategy


def cluster_memory_max_size() -> int | None:
    """``services.compute.cluster_memory_max_size`` in bytes, None for no limit."""
    size = _read_environment().services.compute.cluster_memory_max_size
    return None if size is None else int(size)


def current_namespace(namespace: str = "") -> str:
    """`namespace` if given, else the running stage's namespace, else
    ``services.compute.default_namespace`` as the environment says now (``"default"``).

    The run context is consulted only when needed, so these functions also work outside a stage
    (the original raised RuntimeError there, even with a namespace given).
    """
    if namespace:
        return namespace
    try:
        return get_run_context().namespace or DEFAULT_NAMESPACE
    except RuntimeError:
        return _read_environment().services.compute.default_namespace or DEFAULT_NAMESPACE

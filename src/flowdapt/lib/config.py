"""The original's ``flowdapt.lib.config``: the configuration model and what stage code sees of it.

The model is :class:`flowdapt.settings.Settings` (here also called ``Configuration``, the
original's name); the server reads it once at start and passes it on by constructor. Stage and
plugin code reads the storage and object-store settings through :mod:`flowdapt.objects.config`:
in a run a server started, the server's; elsewhere the ``FLOWDAPT__…`` environment *at the time
of use*, so the plugin-test pattern works::

    os.environ["FLOWDAPT__STORAGE__PROTOCOL"] = "memory"
    os.environ["FLOWDAPT__STORAGE__BASE_PATH"] = "test"
    execute_workflow(workflow, executor=executor)          # artifacts under memory://test/…
    get_configuration().storage.protocol                   # "memory"

Variables map to keys by dropping the prefix, lower-casing and nesting at every ``__``
(``FLOWDAPT__STORAGE__PARAMETERS__ANON=true`` is ``storage.parameters.anon = True``). Text is
typed only where the key is not text: ``FLOWDAPT__STORAGE__BASE_PATH=2024`` stays ``"2024"``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource

from flowdapt.objects.config import (
    StorageSettings,
    StorageSettingsError,
    cluster_memory_max_size,
    default_strategy,
    storage_settings,
)
from flowdapt.settings import (
    ComputeSettings,
    LoggingSettings,
    ServicesSettings,
    Settings,
    SettingsError,
    describe,
    load_settings,
    set_dotted,
)

__all__ = [
    "ComputeSettings",
    "Configuration",
    "LoggingSettings",
    "ServicesSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "StorageSettingsError",
    "default_strategy",
    "get_configuration",
    "load_settings",
    "storage_settings",
]

Configuration = Settings
ENVIRONMENT = Path("<environment>")  # what SettingsError names as the source


def get_configuration() -> Settings:
    """The configuration as stage code sees it now: built-in defaults under the ``FLOWDAPT__…``
    environment, with the storage and object-store settings of the server that started the
    current run, if any. SettingsError (or StorageSettingsError) names an invalid variable.

    Unlike the original, which cached its first reading for the life of the process, every call
    reads afresh, and outside a stage the environment counts too.
    """
    data = EnvSettingsSource(Settings)()
    data["storage"] = storage_settings()
    set_dotted(data, "services.compute.default_os_strategy", default_strategy())
    set_dotted(data, "services.compute.cluster_memory_max_size", cluster_memory_max_size())
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise SettingsError(describe(exc, ENVIRONMENT)) from None

"""The dataset handler registry: which function saves or loads a value of a given type on a
given executor, and the save and load hooks that dispatch through it.

A handler is stored under ``(executor, data_type, operation)``; a lookup tries the executor,
then ``"*"``. The built-in pandas and numpy handlers (``"*"``) and the Dask ones (``"dask"``)
are imported the first time a lookup needs them, so importing this module costs nothing.

    register_handler("*", "mylib.Table", "to_artifact", save_table)
    get_handler_func("local", "mylib.Table", "to_artifact")        # save_table, through "*"

    save = dataset_to_artifact("parquet")       # the executor is the run's, or "*"
    save(artifact, frame)                       # clear, value_type, the handler writes
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from flowdapt.engine.context import get_run_context
from flowdapt.objects.artifact import Artifact
from flowdapt.objects.hooks import LoadHook, SaveHook
from flowdapt.objects.partitions import describe

__all__ = [
    "Handler",
    "dataset_from_artifact",
    "dataset_to_artifact",
    "get_handler_func",
    "register_handler",
    "register_type_alias",
    "resolve_executor",
    "value_type_of",
]

Handler = Callable[..., Any]
ANY_EXECUTOR = "*"

_handlers: dict[tuple[str, str, str], Handler] = {}
# Other spellings of a type name -> the one written to metadata (pandas 3: "pandas.DataFrame").
_aliases: dict[str, str] = {}
# The modules registering each executor's built-in handlers, imported on the first lookup.
_PROVIDERS = {
    ANY_EXECUTOR: ("flowdapt.objects.dataframes", "flowdapt.objects.arrays"),
    "dask": ("flowdapt.objects.dask_datasets",),
}
_loaded: set[str] = set()


def register_handler(executor: str, data_type: str, operation: str, handler: Handler) -> None:
    """Store `handler` for ``(executor, data_type, operation)``, replacing an earlier one.

    register_handler("*", "numpy.ndarray", "to_artifact", save_array)
    """
    _handlers[(executor, canonical_type(data_type), operation)] = handler


def register_type_alias(spelling: str, data_type: str) -> None:
    """Make `spelling` find the handlers of `data_type` (read both, write `data_type`)."""
    _aliases[spelling] = data_type


def canonical_type(data_type: str) -> str:
    """The name handlers are registered and metadata is written under."""
    return _aliases.get(data_type, data_type)


def _load_builtins(executor: str) -> None:
    for name in (ANY_EXECUTOR, executor):
        if name not in _loaded:
            _loaded.add(name)
            for module in _PROVIDERS.get(name, ()):
                importlib.import_module(module)


def _find(executor: str, data_type: str, operation: str) -> Handler | None:
    _load_builtins(executor)
    data_type = canonical_type(data_type)
    found = _handlers.get((executor, data_type, operation))
    return found if found is not None else _handlers.get((ANY_EXECUTOR, data_type, operation))


def get_handler_func(executor: str, data_type: str, operation: str) -> Handler:
    """The handler for the executor, else the one for ``"*"``; ValueError if there is none.

    get_handler_func("local", "pandas.DataFrame", "from_artifact")   # the pandas loader
    """
    handler = _find(executor, data_type, operation)
    if handler is None:
        raise ValueError(
            f"No handler found for executor {executor!r}, data type {data_type!r} "
            f"and operation {operation!r}"
        )
    return handler


def _spelling(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def value_type_of(value: Any, executor: str = ANY_EXECUTOR) -> str:
    """The registered type `value` is an instance of (its class or the nearest base class
    with a ``to_artifact`` handler), else its own ``module.name``."""
    for cls in type(value).__mro__:
        if _find(executor, _spelling(cls), "to_artifact") is not None:
            return canonical_type(_spelling(cls))
    return _spelling(type(value))


def resolve_executor(executor: str = "") -> str:
    """`executor` if given, else the running stage's executor, else ``"*"``."""
    if executor:
        return executor
    try:
        return get_run_context().executor
    except RuntimeError:  # not in a stage
        return ANY_EXECUTOR


def dataset_to_artifact(format: str, *, executor: str = "", **kwargs: Any) -> SaveHook:
    """A save hook writing a value with its type's handler (the executor is resolved now)."""
    executor = resolve_executor(executor)

    def save(artifact: Artifact, value: Any) -> None:
        artifact.clear()  # old partitions go first, whatever fails next
        value_type = value_type_of(value, executor)
        try:
            handler = get_handler_func(executor, value_type, "to_artifact")
        except ValueError as exc:
            raise ValueError(f"cannot save to {describe(artifact)}: {exc}") from None
        artifact["value_type"] = value_type
        handler(artifact, value, format=format, **kwargs)

    return save


def dataset_from_artifact(format: str, *, executor: str = "", **kwargs: Any) -> LoadHook:
    """A load hook reading a value with the handler of the artifact's ``value_type``."""
    executor = resolve_executor(executor)

    def load(artifact: Artifact) -> Any:
        value_type = artifact["value_type"]
        try:
            handler = get_handler_func(executor, value_type, "from_artifact")  # None: never saved
        except ValueError as exc:
            raise ValueError(f"cannot load {describe(artifact)}: {exc}") from None
        return handler(artifact, format=format, **kwargs)

    return load

"""How a stage's function is called (SPEC §2), decided once per stage from its signature.

- A stage without dependencies gets the run input as keyword arguments, keeping only the names
  its signature accepts (all of them if it has ``**kwargs``).
- A stage with dependencies gets their results positionally, in ``depends_on`` order, and no input;
  values beyond its positional parameters are dropped unless it has ``*args``.
- A parameterized stage is called once per item with the item as first positional argument,
  followed by the remaining arguments above.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdapt.domain.errors import StageCallError

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_ITEM = object()  # stands in for the per-item argument when checking a parameterized call


@dataclass(frozen=True, slots=True)
class CallPlan:
    """A ready call: ``function(*args, **kwargs)`` or ``function(item, *args, **kwargs)``."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    is_async: bool = False

    def call(self) -> Any:
        return self.function(*self.args, **self.kwargs)

    def call_with(self, item: Any) -> Any:
        return self.function(item, *self.args, **self.kwargs)


def plan_call(
    function: Callable[..., Any],
    *,
    stage: str,
    positional: Sequence[Any] = (),
    keywords: Mapping[str, Any] | None = None,
    per_item: bool = False,
) -> CallPlan:
    """Filter the arguments to what `function` accepts and check that the call can bind.

    Raises StageCallError (a TypeError and a ValueError) naming the stage and the missing or
    surplus arguments.
    """
    signature, is_async = _inspect(function)
    if signature is None:  # some builtins have no signature: pass everything
        return CallPlan(function, tuple(positional), dict(keywords or {}), is_async)
    parameters = list(signature.parameters.values())
    kinds = {p.kind for p in parameters}
    leading = [_ITEM] if per_item else []

    args = list(positional)
    if inspect.Parameter.VAR_POSITIONAL not in kinds:
        slots = sum(p.kind in _POSITIONAL for p in parameters)
        if slots == 0 and (per_item or args):
            raise StageCallError(
                f"stage {stage!r}: {_describe(function)} takes no positional arguments but "
                + ("is called once per item" if per_item else "depends on a previous stage")
            )
        args = args[: slots - len(leading)]

    kwargs = dict(keywords or {})
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        accepted = {p.name for p in parameters if p.kind in _KEYWORD}
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}

    try:
        signature.bind(*leading, *args, **kwargs)
    except TypeError as exc:
        raise StageCallError(
            f"Invalid arguments provided: stage {stage!r} cannot call {_describe(function)}: {exc} "
            f"(given {len(leading) + len(args)} positional and keywords {sorted(kwargs)})"
        ) from None
    return CallPlan(function, tuple(args), kwargs, is_async)


def _inspect(function: Callable[..., Any]) -> tuple[inspect.Signature | None, bool]:
    # Signatures are costly to compute and every run of a workflow asks for the same ones.
    try:
        return _inspect_cached(function)
    except TypeError:  # an unhashable callable object
        return _inspect_uncached(function)


def _inspect_uncached(function: Callable[..., Any]) -> tuple[inspect.Signature | None, bool]:
    try:
        signature: inspect.Signature | None = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    return signature, _is_async(function)


_inspect_cached = functools.lru_cache(maxsize=4096)(_inspect_uncached)


def _is_async(function: Callable[..., Any]) -> bool:
    if inspect.isclass(function):  # calling a class builds an instance, whatever its __call__
        return False
    call = getattr(function, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


def _describe(function: Callable[..., Any]) -> str:
    name = getattr(function, "__qualname__", None) or repr(function)
    module = getattr(function, "__module__", None)
    return f"{module}.{name}" if module else name

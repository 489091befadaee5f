"""Turning a stage's ``target`` (an import string, or a callable in tests) into a callable."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def import_from_string(path: str) -> Any:
    """Import ``package.module.attribute`` (or ``package.module:attribute``) and return it.

    >>> import_from_string("os.path.join").__name__
    'join'
    """
    path = path.strip()
    module_path, sep, attribute = path.replace(":", ".").rpartition(".")
    if not sep or not module_path or not attribute:
        raise ImportError(
            f"{path!r} isn't a valid import path (expected 'package.module.function')"
        )
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError:
        # A file added since the last import (e.g. <app-dir>/user_modules/new.py): the import
        # system caches directory listings, so look again once before giving up.
        importlib.invalidate_caches()
        module = importlib.import_module(module_path)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"module {module_path!r} has no attribute {attribute!r}") from None


def resolve_target(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """The stage's callable; ImportError with the import path when it cannot be loaded."""
    if callable(target):
        return target
    try:
        function = import_from_string(target)
    except ImportError as exc:  # keeps ModuleNotFoundError a ModuleNotFoundError
        raise type(exc)(f"cannot import stage target {target!r}: {exc}") from exc
    except Exception as exc:  # the module itself raised while importing
        raise ImportError(
            f"cannot import stage target {target!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(function):
        raise ImportError(f"stage target {target!r} is a {type(function).__name__}, not a callable")
    return function  # type: ignore[no-any-return]

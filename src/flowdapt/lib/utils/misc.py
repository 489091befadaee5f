"""The original's ``flowdapt.lib.utils.misc``: importing by dotted path and random names.

``import_from_string`` is a thin layer over :func:`flowdapt.engine.targets.import_from_string`,
the one place stage targets are imported; ``generate_name`` is the slug that run names and the
default server name are made of.

    join = import_from_string("os.path.join")
    name = generate_name()            # e.g. "brave-otter"
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from flowdapt.engine.targets import import_from_string as _import_attribute

__all__ = ["generate_name", "import_from_string"]

_imported: dict[tuple[str, bool], Any] = {}

# coolname words that are off-colour in a name shown on dashboards and in logs.
DENIED_WORDS = frozenset(
    {"booby", "chubby", "demonic", "fat", "gay", "godlike", "heretic", "kickass", "sexy", "sloppy"}
)


def import_from_string(path: str, is_module: bool = False, use_cache: bool = False) -> Any:
    """The attribute named by ``package.module.attribute``, or with `is_module` the module
    ``package.module`` itself; with `use_cache`, a path imported before is not imported again.

    ImportError for a path without a module part or a missing attribute, ModuleNotFoundError for
    a missing module. Unlike the original, modules are not reloaded: reloading re-ran them, which
    reset their state and broke ``isinstance`` checks against objects made before.

    >>> import_from_string("os.path.join").__name__
    'join'
    """
    key = (path, is_module)
    if use_cache and key in _imported:
        return _imported[key]
    value = importlib.import_module(path.strip()) if is_module else _import_attribute(path)
    if use_cache:
        _imported[key] = value
    return value


def _coolname_words(size: int) -> list[str]:
    from coolname import generate  # its word lists load on first use

    return list(generate(size))


def generate_name(size: int = 2, *, words: Callable[[int], list[str]] = _coolname_words) -> str:
    """`size` random lowercase words joined by ``-``, none of them in ``DENIED_WORDS``; `words`
    draws them (coolname's generator unless a test gives another).

        generate_name()      # "brave-otter"
        generate_name(3)     # "placid-junglefowl-of-glory"
    """
    drawn = words(size)
    while DENIED_WORDS.intersection(drawn):
        drawn = words(size)
    return "-".join(drawn)

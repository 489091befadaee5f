"""Names made from a dict of values (exchange, symbol, city …), for artifacts, files and ids.

Only the values count, in insertion order, and only the truthy ones::

    artifact_name_from_dict({"exchange": "binance", "symbol": "BTC/USDT:USDT", "interval": "1h"})
    # 'binance_BTCUSDT3AUSDT_1h'
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

_UNSAFE_IN_PATHS = re.compile(r'[\\/:*?"<>|]')
_WHITESPACE = re.compile(r"\s+")


def dict_to_list_string(d: Mapping[Any, Any]) -> tuple[list[str], str]:
    """The truthy values of `d` as text, in insertion order, and those joined by ``_``.

    >>> dict_to_list_string({"a": "x", "b": None, "c": 3})
    (['x', '3'], 'x_3')
    """
    values = [str(value) for value in d.values() if value]
    return values, "_".join(values)


def artifact_name_from_dict(d: Mapping[Any, Any]) -> str:
    """A name of ``[A-Za-z0-9_~-]`` made from the truthy values of `d`.

    Existing deployments store artifacts under these names, so the steps are the original's,
    surprises included: the values are percent-encoded and then the ``%`` signs dropped, which
    leaves the hex digits (a space becomes ``20``), and dots become ``_``. The result may be
    empty or contain ``~``, neither of which is a valid artifact name.

    >>> artifact_name_from_dict({"city": "Los Angeles"})
    'Los20Angeles'
    """
    name = quote(dict_to_list_string(d)[1])
    name = _UNSAFE_IN_PATHS.sub("", name)
    name = _WHITESPACE.sub("-", name)
    name = name.replace("%", "")
    return name.replace(" ", "_").replace(".", "_")


def path_from_string(s: str) -> Path:
    """Every ``_`` as a path separator: ``path_from_string("a_b_c") == Path("a/b/c")``."""
    return Path(s.replace("_", "/"))


def string_to_uuid(s: str) -> str:
    """The name-based (version 5, DNS namespace) UUID of `s`, as text; the same `s` always gives
    the same UUID.

    >>> string_to_uuid("Los20Angeles")
    '4820c7d7-f08a-5b87-acd2-b7ec21163bed'
    """
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, s))

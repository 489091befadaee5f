"""Parsing of human-written quantities such as ``memory: 8GB`` in stage resources."""

from __future__ import annotations

import math
import re
from decimal import Decimal

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_byte_size(value: int | float | str) -> int:
    """Return a size in bytes from ``2GB``, ``512 MiB``, ``1.5g`` or a plain number of bytes.

    >>> parse_byte_size("2GB")
    2000000000
    >>> parse_byte_size("1GiB")
    1073741824
    """
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"size must be a finite, non-negative number: {value!r}")
        return int(value)
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"not a size: {value!r} (expected e.g. 512MB, 2GB, 1GiB)")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(
            f"unknown size unit {unit!r} in {value!r} (use B, KB, MB, GB, TB or KiB…TiB)"
        )
    return int(Decimal(number) * factor)  # exact: no binary rounding of "1.001KB" or huge ints

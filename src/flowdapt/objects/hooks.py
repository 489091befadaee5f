"""Save and load hooks: how a value becomes the files of an artifact and back.

A save hook is ``(artifact, value) -> None``, a load hook ``(artifact) -> value``; each factory
below returns one (``flowdapt.compute.artifacts.misc`` and the object store's defaults).

    save = json_to_artifact()                  # writes file.json, value_type "json"
    save(artifact, {"key": "value"})
    json_from_artifact()(artifact)             # {"key": "value"}
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any, Protocol

import cloudpickle

from flowdapt.objects.artifact import Artifact
from flowdapt.objects.errors import ArtifactNotFoundError

logger = logging.getLogger(__name__)

SaveHook = Callable[[Artifact, Any], None]
LoadHook = Callable[[Artifact], Any]
OBJECT_FILE = "object"


class Serializer(Protocol):
    """Turns values into bytes and back (``CloudPickleSerializer`` by default)."""

    @staticmethod
    def dumps(value: Any) -> bytes: ...

    @staticmethod
    def loads(data: bytes) -> Any: ...


class CloudPickleSerializer:
    """cloudpickle both ways, so lambdas, closures and local classes can be stored."""

    @staticmethod
    def dumps(value: Any) -> bytes:
        return bytes(cloudpickle.dumps(value))

    @staticmethod
    def loads(data: bytes) -> Any:
        return cloudpickle.loads(data)


def _write_file(artifact: Artifact, filename: str, content: str | bytes) -> None:
    artifact.new_file(filename).write(content)


# -- JSON --------------------------------------------------------------------------------------


def _check_keys(value: Any) -> None:
    # The original's serializer refused non-string keys; the stdlib would silently stringify them.
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)


def _skip_string(text: str, start: int) -> int:
    """The index just after the JSON string literal starting at `start`."""
    end = start + 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return end + 1


def _without_comments_and_trailing_commas(text: str) -> str:
    """JSON text without ``//`` and ``/* */`` comments and trailing commas (outside strings)."""
    out: list[str] = []
    last_comma: int | None = None  # where in `out` a comma waits to see what follows it
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            continue
        step = _skip_string(text, i) - i if char == '"' else 1
        if char in "]}" and last_comma is not None:
            out[last_comma] = ""
        if not char.isspace():
            last_comma = len(out) if char == "," else None
        out.append(text[i : i + step])
        i += step
    return "".join(out)


def json_to_artifact(name: str = "file") -> SaveHook:
    """A hook writing the value as pretty JSON (4-space indent) to ``{name}.json``."""

    def save(artifact: Artifact, value: Any) -> None:
        _check_keys(value)
        text = json.dumps(value, indent=4, allow_nan=True)
        artifact["value_type"] = "json"
        _write_file(artifact, f"{name}.json", text)

    return save


def json_from_artifact(name: str = "file") -> LoadHook:
    """A hook reading ``{name}.json`` leniently (comments, trailing commas, NaN accepted)."""

    def load(artifact: Artifact) -> Any:
        assert artifact["value_type"] == "json", "Artifact is not a JSON object."
        text = artifact.get_file(f"{name}.json").read(mode="r")
        return json.loads(_without_comments_and_trailing_commas(text), parse_constant=_constant)

    return load


def _constant(token: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[token]


# -- pickle ------------------------------------------------------------------------------------


def pickle_to_artifact(name: str = "file") -> SaveHook:
    """A hook writing the value with cloudpickle to ``{name}.pkl``."""

    def save(artifact: Artifact, value: Any) -> None:
        data = CloudPickleSerializer.dumps(value)
        artifact["value_type"] = "pickle"
        _write_file(artifact, f"{name}.pkl", data)

    return save


def pickle_from_artifact(name: str = "file") -> LoadHook:
    """A hook unpickling ``{name}.pkl``."""

    def load(artifact: Artifact) -> Any:
        assert artifact["value_type"] == "pickle", "Artifact is not a pickled object."
        return CloudPickleSerializer.loads(artifact.get_file(f"{name}.pkl").read())

    return load


# -- the object store's defaults ----------------------------------------------------------------


def default_save_hook(serializer: type[Serializer] = CloudPickleSerializer) -> SaveHook:
    """A hook writing the serialised value to the file ``object`` (value_type ``object``)."""

    def save(artifact: Artifact, value: Any) -> None:
        data = serializer.dumps(value)
        artifact["value_type"] = "object"
        _write_file(artifact, OBJECT_FILE, data)

    return save


def default_load_hook(serializer: type[Serializer] = CloudPickleSerializer) -> LoadHook:
    """A hook reading the file ``object``; warns when the artifact was saved another way."""

    def load(artifact: Artifact) -> Any:
        value_type = artifact["value_type"]
        if value_type != "object":
            logger.warning(
                "ArtifactHookMismatchWarning: artifact %s in namespace %s has value_type %r, "
                "loading it as %r",
                artifact.name,
                artifact.namespace,
                value_type,
                "object",
            )
        if not artifact.has_file(OBJECT_FILE):
            raise ArtifactNotFoundError(
                f"artifact `{artifact.name}` in namespace `{artifact.namespace}` has no file "
                f"`{OBJECT_FILE}`: it was probably not saved with the default save hook"
            )
        return serializer.loads(artifact.get_file(OBJECT_FILE).read())

    return load

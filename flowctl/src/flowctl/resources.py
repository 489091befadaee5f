"""Resource kinds, their REST collections, and how to tell whether a document changed.

A resource on the wire is a bare ``{kind, metadata, spec}`` mapping; flowctl keeps it as a plain
``dict`` (:data:`Resource`) so that whatever the server adds is shown and round-trips unchanged.
"""

from __future__ import annotations

import copy
from typing import Any, Final, Literal, TypeAlias, cast, get_args

Resource: TypeAlias = dict[str, Any]
"""A resource document: ``{"kind": ..., "metadata": {"name": ..., ...}, "spec": {...}}``."""

Run: TypeAlias = dict[str, Any]
"""A workflow run: ``{uid, name, workflow, started_at, finished_at, result, state, source}``."""

Kind = Literal["workflow", "config", "trigger_rule"]
"""The kinds of stored resources; also the ``<type>`` of their ``X-API-Version`` header."""

KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

COLLECTIONS: Final[dict[Kind, str]] = {
    "workflow": "/workflows/",
    "config": "/configs/",
    "trigger_rule": "/triggers/",
}
"""The REST collection of each kind (with the trailing slash the original uses)."""

_ALIASES: Final[dict[str, Kind]] = {
    "workflow": "workflow",
    "workflows": "workflow",
    "config": "config",
    "configs": "config",
    "trigger_rule": "trigger_rule",
    "trigger_rules": "trigger_rule",
    "triggerrule": "trigger_rule",
    "trigger": "trigger_rule",
    "triggers": "trigger_rule",
}


def parse_kind(value: str) -> Kind | None:
    """Return the canonical kind for ``value`` (singular, plural or alias), else ``None``.

    Example::

        assert parse_kind("Triggers") == "trigger_rule"
    """
    return _ALIASES.get(value.strip().lower().replace("-", "_"))


def resource_name(document: Resource) -> str:
    """Return ``metadata.name`` of a validated document."""
    return cast(str, document["metadata"]["name"])


# Defaults the original's schemas fill in; a document that omits them is not "changed".
_STAGE_DEFAULTS: Final[dict[str, Any]] = {
    "type": "simple",
    "description": "",
    "version": "",
    "depends_on": [],
    "options": {},
    "resources": {},
    "priority": None,
}


def _with_defaults(kind: Kind, spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    if kind == "workflow":
        stages = spec.get("stages")
        if isinstance(stages, list):
            spec["stages"] = [
                {**_STAGE_DEFAULTS, **stage} if isinstance(stage, dict) else stage
                for stage in stages
            ]
    elif kind == "config":
        selector = spec.get("selector")
        if isinstance(selector, dict):
            spec["selector"] = {"type": "name", **selector}
    else:
        spec.setdefault("type", "condition")
        action = spec.get("action")
        if isinstance(action, dict):
            spec["action"] = {"parameters": {}, **action}
    return spec


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _same(local: Any, remote: Any) -> bool:
    """True when ``remote`` holds ``local``, allowing keys the server adds with empty values."""
    if isinstance(local, dict) and isinstance(remote, dict):
        if any(key not in local and not _is_empty(value) for key, value in remote.items()):
            return False
        return all(
            _same(value, remote[key]) if key in remote else _is_empty(value)
            for key, value in local.items()
        )
    if isinstance(local, list) and isinstance(remote, list):
        return len(local) == len(remote) and all(map(_same, local, remote))
    return bool(local == remote)


def _annotations(document: Resource) -> dict[str, str]:
    raw = document.get("metadata", {}).get("annotations") or {}
    return {str(key): str(value) for key, value in raw.items()}


def differs(kind: Kind, local: Resource, remote: Resource) -> bool:
    """Whether applying ``local`` would change the stored ``remote`` (spec or annotations).

    Defaults the server fills in (a stage's ``type: simple``, empty ``depends_on``…) do not
    count as differences.

    Example::

        stored = {"metadata": {"name": "w"}, "spec": {"stages": [
            {"name": "a", "target": "m.f", "type": "simple", "depends_on": []}]}}
        mine = {"metadata": {"name": "w"}, "spec": {"stages": [{"name": "a", "target": "m.f"}]}}
        assert not differs("workflow", mine, stored)
    """
    if _annotations(local) != _annotations(remote):
        return True
    local_spec = _with_defaults(kind, local.get("spec") or {})
    remote_spec = _with_defaults(kind, remote.get("spec") or {})
    return not _same(local_spec, remote_spec)

"""Reading resource documents from YAML or JSON text (several documents per file allowed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import (
    ConfigResource,
    Resource,
    TriggerRuleResource,
    WorkflowResource,
)

M = TypeVar("M", bound=BaseModel)

RESOURCE_MODELS: dict[str, type[BaseModel]] = {
    "workflow": WorkflowResource,
    "config": ConfigResource,
    "trigger_rule": TriggerRuleResource,
}


def problems_from(error: ValidationError) -> list[str]:
    """One line per problem, each starting with the dotted location of the offending field."""
    lines: list[str] = []
    for item in error.errors():
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"])
        where = where.replace(".[", "[")
        message = item["msg"].removeprefix("Value error, ")
        for line in message.splitlines():
            # Whole-workflow rules name their own locations; field errors get theirs prepended.
            lines.append(line if line.startswith("spec.") or not where else f"{where}: {line}")
    return lines


def validate_resource(model: type[M], document: Any) -> M:
    """Validate `document` as `model`, turning pydantic's error into an InvalidResourceError."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = problems_from(exc)
        kind = getattr(model.model_fields.get("kind"), "default", model.__name__)
        raise InvalidResourceError(
            f"invalid {kind}:\n  " + "\n  ".join(problems), problems
        ) from None


def parse_resource(document: Any, *, default_kind: str | None = None) -> Resource:
    """Build the resource model named by the document's ``kind``."""
    if not isinstance(document, Mapping):
        raise InvalidResourceError(
            f"a resource is a mapping with kind, metadata and spec, not {type(document).__name__}"
        )
    kind = document.get("kind", default_kind)
    if kind is None:
        raise InvalidResourceError(
            "kind: missing (expected one of " + ", ".join(RESOURCE_MODELS) + ")"
        )
    model = RESOURCE_MODELS.get(str(kind).lower())
    if model is None:
        raise InvalidResourceError(
            f"kind: unknown kind {kind!r} (expected one of {', '.join(RESOURCE_MODELS)})"
        )
    resource: Resource = validate_resource(model, {**document, "kind": str(kind).lower()})  # type: ignore[assignment]
    return resource


def load_documents(text: str, *, source: str = "<text>") -> list[Any]:
    """Parse YAML (JSON is a subset) into its non-empty documents."""
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise InvalidResourceError(f"{source}: not valid YAML or JSON: {exc}") from None


def load_resources(source: str | Path) -> list[Resource]:
    """Read every resource in a file (or, given text, in that text); all-or-nothing."""
    if isinstance(source, Path):
        documents = load_documents(source.read_text(encoding="utf-8"), source=str(source))
        where = str(source)
    else:
        documents = load_documents(source)
        where = "<text>"
    resources: list[Resource] = []
    for index, document in enumerate(documents):
        try:
            resources.append(parse_resource(document))
        except InvalidResourceError as exc:
            raise InvalidResourceError(
                f"{where}, document {index + 1}: {exc}", exc.problems
            ) from None
    return resources

"""The dashboard's YAML editor: a stored resource as YAML text, and YAML text back to a document
with syntax errors located (line and column) so the page can point at them."""

from __future__ import annotations

from typing import Any

import yaml

from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import ResourceBase


class DocumentSyntaxError(InvalidResourceError):
    """The editor's text is not YAML; `line` and `column` count from 1 (None if unknown)."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def resource_yaml(resource: ResourceBase) -> str:
    """What the editor shows: kind, name, annotations and spec. The uid and timestamps are the
    server's (it ignores them on apply), so they are left out of the text."""
    document = resource.model_dump(mode="json")
    metadata = {"name": document["metadata"]["name"]}
    if document["metadata"].get("annotations"):
        metadata["annotations"] = document["metadata"]["annotations"]
    spec = document["spec"]
    if document["kind"] == "workflow":
        spec = {**spec, "stages": [_written_stage(stage) for stage in spec["stages"]]}
    elif document["kind"] == "config" and spec.get("selector"):
        spec = {**spec, "selector": _without_nulls(spec["selector"])}
    elif document["kind"] == "trigger_rule":
        spec = _without_nulls(spec)  # an absent timezone, say
    editable = {"kind": document["kind"], "metadata": metadata, "spec": spec}
    return yaml.safe_dump(editable, sort_keys=False, allow_unicode=True, width=100)


# Only the top level of a stage, selector or rule spec is tidied: nulls and empty values inside
# a config's data or a rule's expression mean something.


def _written_stage(stage: dict[str, Any]) -> dict[str, Any]:
    """A stage as people write it: without the empty fields and the default type."""
    return {
        key: value
        for key, value in stage.items()
        if value not in ("", None, [], {}) and not (key == "type" and value == "simple")
    }


def _without_nulls(part: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in part.items() if value is not None}


def parse_yaml(text: str) -> Any:
    """The one document in `text`; DocumentSyntaxError if it is not YAML (or not one document)."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        column = None if mark is None else mark.column + 1
        where = "" if line is None else f"line {line}, column {column}: "
        raise DocumentSyntaxError(
            f"not valid YAML: {where}{exc.problem or exc}", line, column
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"not valid YAML: {exc}", None, None) from None
    if len(documents) != 1:
        raise InvalidResourceError(
            f"the editor applies exactly one document; this text holds {len(documents)}"
        )
    return documents[0]

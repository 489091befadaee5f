"""Which config resources apply to a workflow, and how their data merges.

Merge order, lowest precedence first (later ones win, mappings merge key by key, anything else is
replaced):

1. configs selected by annotation, the ones matching fewer annotations first, then by name;
2. configs selected by the workflow's name, by config name.

A config without a selector applies to no workflow. A selector with ``kind`` set applies only to
resources of that kind (``workflow``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from flowdapt.domain.resources import ConfigResource, SelectorType, WorkflowResource


def select_configs(
    workflow: WorkflowResource, configs: Iterable[ConfigResource]
) -> list[ConfigResource]:
    """The configs that apply to `workflow`, in merge order (lowest precedence first)."""
    by_annotation: list[tuple[int, str, ConfigResource]] = []
    by_name: list[tuple[str, ConfigResource]] = []
    annotations = workflow.metadata.annotations
    for config in configs:
        selector = config.spec.selector
        if selector is None or selector.kind not in (None, "", workflow.kind):
            continue
        if selector.type is SelectorType.NAME and selector.value == workflow.name:
            by_name.append((config.name, config))
        elif selector.type is SelectorType.ANNOTATION and isinstance(selector.value, dict):
            wanted = selector.value
            if wanted and all(annotations.get(k) == v for k, v in wanted.items()):
                by_annotation.append((len(wanted), config.name, config))
    by_annotation.sort(key=lambda entry: entry[:2])
    by_name.sort(key=lambda entry: entry[0])
    return [entry[-1] for entry in by_annotation] + [entry[-1] for entry in by_name]


def merge_data(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Deep-merge mappings; later layers win."""
    merged: dict[str, Any] = {}
    for layer in layers:
        _merge_into(merged, layer)
    return merged


def _merge_into(target: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def resolve_config(workflow: WorkflowResource, configs: Iterable[ConfigResource]) -> dict[str, Any]:
    """The merged config data a run of `workflow` sees as ``get_run_context().config``."""
    return merge_data(config.spec.data for config in select_configs(workflow, configs))

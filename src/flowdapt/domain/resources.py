"""Resource documents: ``kind`` + ``metadata`` + ``spec``, as users write them in YAML.

The models accept every field of the original's wire format and keep what the user wrote (for
example ``memory: 2GB`` stays a string on the way back out); parsed views such as
:meth:`WorkflowStage.parsed_resources` are computed on demand.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flowdapt.domain.conditions import condition_problems
from flowdapt.domain.schedules import schedule_problems, timezone_problems
from flowdapt.domain.timestamps import UtcDatetime, utcnow
from flowdapt.domain.workflow_rules import (
    StageOptions,
    StageResources,
    check_stages,
    stage_groups,
)

NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"
MAX_NAME_LENGTH = 255  # what every database backend stores
# Validation context flag for documents read back from storage: they passed the whole-workflow
# rules when they were stored, so listing thousands does not check every graph again.
TRUSTED = "trusted"
_NAME = re.compile(NAME_PATTERN)


def string_values(value: Any) -> Any:
    """A mapping's keys and values as strings (YAML turns `version: 1` into an int, while
    annotations are strings on the wire); anything else unchanged, for pydantic to judge."""
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
    return value


class ResourceMetadata(BaseModel):
    """Identity of a resource: a `name` unique per kind, a `uid`, annotations and timestamps."""

    model_config = ConfigDict(extra="ignore")

    name: str
    uid: uuid.UUID = Field(default_factory=uuid.uuid4)
    annotations: dict[str, str] = Field(default_factory=dict)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a valid name (letters, digits, '_' and '-' only)")
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"a name has at most {MAX_NAME_LENGTH} characters, not {len(name)}")
        return name

    @field_validator("annotations", mode="before")
    @classmethod
    def _annotations_as_strings(cls, value: Any) -> Any:
        return string_values(value)


class ResourceBase(BaseModel):
    """What every resource kind shares: ``kind``, ``metadata`` and a ``spec``."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    metadata: ResourceMetadata

    @property
    def name(self) -> str:
        return self.metadata.name


def _target_name(target: object) -> str:
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", "")
    return f"{module}.{getattr(target, '__qualname__', repr(target))}"


# A stage target is an import string; `execute_workflow` also accepts the callable itself.
Target = Annotated[str | Callable[..., Any], PlainSerializer(_target_name, return_type=str)]


class StageType(StrEnum):
    SIMPLE = "simple"
    PARAMETERIZED = "parameterized"


class WorkflowStage(BaseModel):
    """One stage of a workflow: a plain Python callable plus how to call it."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    target: Target
    type: str = StageType.SIMPLE.value
    description: str = ""
    version: str = ""
    depends_on: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, Any] = Field(default_factory=dict)
    priority: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_stage_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        # The original keeps `map_on` under `options`; accept it at stage level too.
        if "map_on" in data:
            options = dict(data.get("options") or {})
            options.setdefault("map_on", data.pop("map_on"))
            data["options"] = options
        if not data.get("name") and "target" in data:
            data["name"] = _target_name(data["target"]).rsplit(".", 1)[-1]
        for key in ("depends_on", "options", "resources"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @property
    def stage_type(self) -> StageType:
        return StageType(self.type)

    # Parsed once (validation parses them, the graph reuses them); raises like the parsers do.
    _options: StageOptions | None = PrivateAttr(default=None)
    _resources: StageResources | None = PrivateAttr(default=None)

    def parsed_options(self) -> StageOptions:
        if self._options is None:
            self._options = StageOptions.model_validate(self.options)
        return self._options

    def parsed_resources(self) -> StageResources:
        if self._resources is None:
            self._resources = StageResources.from_mapping(self.resources)
        return self._resources


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stages: list[WorkflowStage] = Field(min_length=1)


class WorkflowResource(ResourceBase):
    """A workflow: stages wired by ``depends_on``. Construction validates the whole graph.

    >>> WorkflowResource.model_validate({"metadata": {"name": "w"},
    ...     "spec": {"stages": [{"name": "a", "target": "builtins.dict"}]}}).metadata.name
    'w'
    """

    kind: Literal["workflow"] = "workflow"
    spec: WorkflowSpec

    _groups: list[list[str]] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _graph_is_valid(self, info: ValidationInfo) -> WorkflowResource:
        if info.context and info.context.get(TRUSTED):
            return self  # read back from storage: checked when it was stored
        problems, self._groups = check_stages(self.spec.stages)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def stage_groups(self) -> list[list[str]]:
        """Stage names in dependency order, grouped (see ``workflow_rules.stage_groups``)."""
        if self._groups is None:
            self._groups = stage_groups(self.spec.stages)
        return self._groups


class SelectorType(StrEnum):
    NAME = "name"
    ANNOTATION = "annotation"


class ConfigSelector(BaseModel):
    """Which workflows a config applies to: by workflow name, or by matching annotations."""

    model_config = ConfigDict(extra="ignore")

    kind: str | None = None
    type: SelectorType = SelectorType.NAME
    value: str | dict[str, str] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _annotation_values_as_strings(cls, value: Any) -> Any:
        return string_values(value)  # written like annotations: `version: 1` selects "1"

    @model_validator(mode="after")
    def _value_fits_type(self) -> ConfigSelector:
        if self.type is SelectorType.NAME and not isinstance(self.value, str | None):
            raise ValueError("a 'name' selector takes a workflow name as its value")
        if self.type is SelectorType.ANNOTATION and not isinstance(self.value, dict):
            raise ValueError("an 'annotation' selector takes a mapping of annotations as its value")
        return self


class ConfigSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    selector: ConfigSelector | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ConfigResource(ResourceBase):
    """Data made available to the workflows its selector picks (``get_run_context().config``)."""

    kind: Literal["config"] = "config"
    spec: ConfigSpec


class TriggerRuleType(StrEnum):
    SCHEDULE = "schedule"
    CONDITION = "condition"


class TriggerAction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class TriggerRuleSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: TriggerRuleType = TriggerRuleType.CONDITION
    rule: dict[str, Any] | list[str]
    action: TriggerAction
    timezone: str | None = None  # IANA name for schedule rules; UTC when absent

    @model_validator(mode="after")
    def _rule_fits_type(self) -> TriggerRuleSpec:
        if self.type is TriggerRuleType.SCHEDULE:
            if not isinstance(self.rule, list):
                raise ValueError("a schedule rule is a list of cron expressions")
            problems = schedule_problems(self.rule, "spec.rule")
            problems += timezone_problems(self.timezone, "spec.timezone")
            if problems:
                raise ValueError("\n".join(problems))
        if self.type is TriggerRuleType.CONDITION:
            if not isinstance(self.rule, dict):
                raise ValueError(
                    "a condition rule is a mapping (an expression of the rule language)"
                )
            problems = condition_problems(self.rule, "spec.rule")
            if problems:
                raise ValueError("\n".join(problems))
        return self


class TriggerRuleResource(ResourceBase):
    """Starts an action on a schedule or when a condition over an event holds."""

    kind: Literal["trigger_rule"] = "trigger_rule"
    spec: TriggerRuleSpec


Resource = WorkflowResource | ConfigResource | TriggerRuleResource

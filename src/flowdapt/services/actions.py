"""What a trigger rule does when it fires: actions, resolved by name through one registry.

    registry = ActionRegistry.with_builtins()          # run_workflow
    registry.register("notify", notify)                # or a plugin's entry point (below)
    outcome = await registry.run("run_workflow", request)

An action is an async callable taking an `ActionRequest` and returning an `ActionOutcome`; it
raises `ActionError` with a message for the firing's record when it cannot be carried out.
Plugins add actions with an entry point in the ``flowdapt.trigger_actions`` group whose name is
the action's target and whose value is the callable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from flowdapt.domain.errors import FlowdaptError, NotFoundError
from flowdapt.domain.events import Event
from flowdapt.domain.resources import TriggerRuleResource
from flowdapt.services.compute import ComputeService

logger = logging.getLogger(__name__)

ACTION_GROUP = "flowdapt.trigger_actions"
RUN_WORKFLOW = "run_workflow"


class ActionError(FlowdaptError):
    """An action could not be carried out; the message is recorded with the firing."""


@dataclass(frozen=True)
class ActionRequest:
    """Everything an action may need: the rule, its parameters, and the event that fired it."""

    rule: TriggerRuleResource
    event: Event  # for a schedule rule, a `com.event.trigger_rule.schedule_fired` event
    compute: ComputeService | None  # None on a server whose compute service is disabled

    @property
    def parameters(self) -> dict[str, Any]:
        return self.rule.spec.action.parameters

    @property
    def source(self) -> str:
        """What runs started by this firing give as their `source`."""
        return f"trigger:{self.rule.name}"


@dataclass(frozen=True)
class ActionOutcome:
    run: str | None = None  # the name of a run the action started
    detail: str = ""


Action = Callable[[ActionRequest], Awaitable[ActionOutcome]]


async def run_workflow(request: ActionRequest) -> ActionOutcome:
    """``{target: run_workflow, parameters: {workflow: NAME, input: {...}}}``: start a run (not
    waiting for it); its stages see the triggering event as ``get_run_context().event``."""
    workflow = request.parameters.get("workflow")
    if not isinstance(workflow, str) or not workflow:
        raise ActionError("parameters.workflow: name the workflow to run")
    run_input = request.parameters.get("input") or {}
    if not isinstance(run_input, Mapping):
        raise ActionError("parameters.input: a mapping of the run's input")
    if request.compute is None:
        raise ActionError("the compute service is disabled on this server")
    try:
        run = await request.compute.run_workflow(
            workflow, run_input, wait=False, source=request.source, cause=request.event
        )
    except NotFoundError:
        raise ActionError(f"workflow {workflow!r} does not exist") from None
    return ActionOutcome(run=run.name)


@dataclass
class ActionRegistry:
    """Actions by target name."""

    actions: dict[str, Action] = field(default_factory=dict)

    @classmethod
    def with_builtins(cls, *, plugins: bool = True) -> ActionRegistry:
        registry = cls({RUN_WORKFLOW: run_workflow})
        if plugins:
            registry.load_entry_points()
        return registry

    def register(self, target: str, action: Action) -> None:
        self.actions[target] = action

    def load_entry_points(self) -> None:
        """Add the actions plugins declare; one that fails to load is logged and left out."""
        for entry in entry_points(group=ACTION_GROUP):
            try:
                action = entry.load()
            except Exception:  # a broken plugin must not stop the server
                logger.exception("trigger action %r (%s) failed to load", entry.name, entry.value)
                continue
            if entry.name in self.actions:
                logger.warning("trigger action %r from %s ignored: taken", entry.name, entry.value)
                continue
            self.register(entry.name, action)

    async def run(self, target: str, request: ActionRequest) -> ActionOutcome:
        action = self.actions.get(target)
        if action is None:
            known = ", ".join(sorted(self.actions)) or "none"
            raise ActionError(f"unknown action target {target!r} (known: {known})")
        return await action(request)

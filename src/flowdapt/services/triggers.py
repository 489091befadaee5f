"""The trigger service: evaluates condition rules against every event on the bus, fires schedule
rules on time, and carries out their actions.

    triggers = TriggerService(storage, bus, ActionRegistry.with_builtins(), compute=compute)
    await triggers.start()
    ...
    await triggers.stop()

Several servers may share one broker and one database; each event reaches one of them (the
bus's ``triggers`` group), and every firing is claimed in the database before its action runs
(``firings``: unique per rule and cause), so a rule fires once per event and once per scheduled
instant whatever the number of servers — and an event the broker delivers twice fires once.

Loop guard: a run a trigger started publishes events one level deeper in the trigger chain
(``Event.trigger_depth``); a rule is not fired for an event `max_depth` levels deep, and the
firing is recorded as skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

from flowdapt.bus.base import EventBus
from flowdapt.domain.errors import FlowdaptError
from flowdapt.domain.events import Event, resource_event_type
from flowdapt.domain.firings import Firing, FiringState, TriggerRuleStatus
from flowdapt.domain.resources import TriggerRuleResource, TriggerRuleType
from flowdapt.domain.schedules import next_firing
from flowdapt.domain.timestamps import utcnow
from flowdapt.services.actions import ActionError, ActionRegistry, ActionRequest
from flowdapt.services.compute import ComputeService
from flowdapt.services.metrics import Metrics
from flowdapt.services.rule_set import RuleSet
from flowdapt.storage.base import Storage, StorageUnavailableError

logger = logging.getLogger(__name__)

TRIGGER_GROUP = "triggers"
SCHEDULE_FIRED = "com.event.trigger_rule.schedule_fired"
# An action only starts a run: a firing pending this long was interrupted (its server stopped).
PENDING_PATIENCE = timedelta(minutes=5)
INTERRUPTED_FIRING = "interrupted: the server stopped between claiming the firing and its action"
RULE_CHANGES = frozenset(
    resource_event_type("trigger_rule", change) for change in ("created", "updated", "deleted")
)


class ServiceStoppingError(FlowdaptError):
    """Handed to the bus subscriptions when the service stops, so that an event taken but not
    finished is not acknowledged."""


class TriggerService:
    """Owns its tasks: the event consumer, the rule watcher, the scheduler and housekeeping."""

    def __init__(
        self,
        storage: Storage,
        bus: EventBus,
        actions: ActionRegistry,
        *,
        compute: ComputeService | None = None,
        metrics: Metrics | None = None,
        name: str = "flowdapt",
        max_depth: int = 10,
        refresh_interval: float = 5.0,
        firing_retention: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._storage, self._bus, self._actions = storage, bus, actions
        self._compute = compute
        self._metrics = metrics or Metrics()
        self._source = f"{name}.triggers"
        self.max_depth = max_depth
        self._refresh_interval = refresh_interval
        self._firing_retention = firing_retention
        self._clock = clock
        self.rules = RuleSet()
        self._rules_changed = asyncio.Event()  # wakes the scheduler: a firing may be earlier
        self._stale = False  # a rule changed since the last reload
        self._reload_wanted = asyncio.Event()
        self._idle = asyncio.Event()  # the consumer is not in the middle of an event
        self._idle.set()
        self._exit_stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, schedule: bool = True) -> None:
        """Subscribe, load the rules and start the loops (`schedule=False`: no scheduler loop,
        for tests that drive `fire_due` with their own clock)."""
        work = await self._exit_stack.enter_async_context(self._bus.subscribe(group=TRIGGER_GROUP))
        changes = await self._exit_stack.enter_async_context(
            self._bus.subscribe(types=RULE_CHANGES)
        )
        await self.reload()
        loops = [
            self._consume(work),
            self._watch_rules(changes),
            self._reloader(),
            self._housekeeping(),
        ]
        if schedule:
            loops.append(self._schedule())
        self._tasks = [asyncio.ensure_future(loop) for loop in loops]

    async def stop(self, grace: float = 5.0) -> None:
        """Let the event being evaluated finish (up to `grace` s), then stop every loop. An event
        taken but not finished is not acknowledged: the broker gives it to another server."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._idle.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        stopping = ServiceStoppingError("the trigger service stopped")
        await self._exit_stack.__aexit__(type(stopping), stopping, None)

    async def reload(self) -> None:
        """Read the rules again (after a change, and periodically for changes made elsewhere)."""
        self._stale = False  # a change arriving while this reads marks the rules stale again
        try:
            rules = await self._storage.triggers.list()
        except Exception:  # database away: keep acting on the rules we have
            logger.warning(
                "could not read the trigger rules; keeping the loaded ones", exc_info=True
            )
            return
        self.rules.load(rules, self._clock())
        self._rules_changed.set()

    # --- firing ----------------------------------------------------------------------------------

    async def handle(self, event: Event) -> list[Firing]:
        """Fire every condition rule that holds for `event`; the firings this server made."""
        matched = self.rules.matching(event.model_dump(mode="json"))
        firings = [await self._fire(rule, f"event:{event.id}", event) for rule in matched]
        return [firing for firing in firings if firing is not None]

    async def fire_due(self) -> list[Firing]:
        """Fire every schedule rule due now (by this service's clock)."""
        firings = []
        for rule, instant in self.rules.due(self._clock()):
            cause = Event(
                type=SCHEDULE_FIRED,
                source=self._source,
                data={"rule": rule.name, "scheduled_for": instant.isoformat()},
            )
            firings.append(await self._fire(rule, f"schedule:{instant.isoformat()}", cause))
        return [firing for firing in firings if firing is not None]

    async def _fire(self, rule: TriggerRuleResource, key: str, cause: Event) -> Firing | None:
        firing = Firing(rule=rule.name, key=key, fired_at=self._clock())
        if cause.trigger_depth >= self.max_depth:
            firing.state = FiringState.SKIPPED
            firing.error = (
                f"loop guard: event {cause.type} ({cause.id}) is {cause.trigger_depth} trigger "
                f"firings deep (limit services.triggers.max_depth={self.max_depth})"
            )
            logger.warning("trigger rule %s not fired: %s", rule.name, firing.error)
        try:
            if not await self._claim(firing):
                return None  # another server (or an earlier delivery of this event) has it
        except Exception:
            logger.error(
                "trigger rule %s not fired for %s: cannot record the firing",
                rule.name,
                key,
                exc_info=True,
            )
            return None
        if firing.state is FiringState.PENDING:
            await self._act(rule, firing, cause)
        self._metrics.count("flowdapt.triggers.firings", rule=rule.name, state=firing.state.value)
        try:
            await self._storage.firings.update(firing)
        except Exception:
            logger.warning(
                "could not record the outcome of %s firing %s", rule.name, key, exc_info=True
            )
        return firing

    async def _claim(self, firing: Firing, patience: float = 15.0) -> bool:
        """Claim the firing, waiting out a short database outage (events queue meanwhile)."""
        delay, waited = 0.1, 0.0
        while True:
            try:
                return await self._storage.firings.claim(firing)
            except StorageUnavailableError:
                if waited >= patience:
                    raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)

    async def _act(self, rule: TriggerRuleResource, firing: Firing, cause: Event) -> None:
        request = ActionRequest(rule=rule, event=cause, compute=self._compute)
        try:
            outcome = await self._actions.run(rule.spec.action.target, request)
        except ActionError as exc:
            firing.state, firing.error = FiringState.FAILED, str(exc)
            logger.warning("trigger rule %s fired, its action failed: %s", rule.name, exc)
            return
        except Exception as exc:  # an action's own bug: recorded, the service lives on
            firing.state, firing.error = FiringState.FAILED, f"{type(exc).__name__}: {exc}"
            logger.exception(
                "trigger rule %s: action %s raised", rule.name, rule.spec.action.target
            )
            return
        firing.state, firing.run = FiringState.STARTED, outcome.run
        logger.info(
            "trigger rule %s fired (%s)%s",
            rule.name,
            firing.key,
            f": run {outcome.run}" if outcome.run else "",
        )

    # --- the loops -------------------------------------------------------------------------------

    async def _consume(self, events: AsyncIterator[Event]) -> None:
        async for event in events:
            self._idle.clear()
            try:
                if event.type in RULE_CHANGES:
                    # In order with the events that follow it: an event this server receives
                    # after a rule change is judged by the changed rules (reloaded once for a
                    # burst of changes, before the first other event).
                    self._stale = True
                elif self._stale:
                    await self.reload()
                await self.handle(event)
            except Exception:  # a loop boundary: one bad event must not stop the triggers
                logger.exception(
                    "trigger evaluation failed for event %s (%s)", event.id, event.type
                )
            finally:
                self._idle.set()

    async def _watch_rules(self, changes: AsyncIterator[Event]) -> None:
        """Changes made on any server (broadcast): ask the reloader for a reload."""
        async for _ in changes:
            self._stale = True
            self._reload_wanted.set()

    async def _reloader(self, debounce: float = 0.05) -> None:
        """At most one reload per `debounce` seconds, however many rules a burst changes."""
        while True:
            await self._reload_wanted.wait()
            self._reload_wanted.clear()
            await asyncio.sleep(debounce)
            if self._stale:
                await self.reload()  # never raises: a failed read keeps the loaded rules

    async def _housekeeping(self) -> None:
        pruned_at = self._clock()
        while True:
            await asyncio.sleep(self._refresh_interval)
            await self.reload()  # for changes whose event this server missed
            await self.settle_interrupted()
            if self._clock() - pruned_at >= timedelta(hours=1):
                pruned_at = self._clock()
                try:
                    await self._storage.firings.delete_before(pruned_at - self._firing_retention)
                except Exception:
                    logger.warning("could not prune old firings", exc_info=True)

    async def settle_interrupted(self) -> int:
        """Firings left pending for `PENDING_PATIENCE` by a server that stopped between the
        claim and the action become failed, so that no rule shows "pending" for ever (the
        action is not retried: the firing is taken)."""
        try:
            settled = await self._storage.firings.fail_pending_before(
                self._clock() - PENDING_PATIENCE, INTERRUPTED_FIRING
            )
        except Exception:
            logger.warning("could not settle interrupted firings", exc_info=True)
            return 0
        if settled:
            logger.warning("%d firing(s) interrupted before their action ran", settled)
        return settled

    async def _schedule(self) -> None:
        while True:
            await self._sleep_until_due()
            try:
                await self.fire_due()
            except Exception:  # a loop boundary
                logger.exception("schedule firing failed")

    async def _sleep_until_due(self) -> None:
        wakeup = self.rules.next_wakeup()
        delay = 60.0 if wakeup is None else (wakeup - self._clock()).total_seconds()
        if delay <= 0:
            return
        self._rules_changed.clear()
        # A changed rule set may bring an earlier firing: wake up and look again.
        # (asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # coincides with the event being set, and stop() would wait for ever.)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(delay, 60.0)):
                await self._rules_changed.wait()

    # --- what the API shows ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        health = self._bus.health()
        return {
            "status": "OK" if health.up else "degraded",
            "condition_rules": len(self.rules.conditions),
            "schedule_rules": len(self.rules.schedules),
            "max_depth": self.max_depth,
        }


async def rule_status(
    storage: Storage, rules: list[TriggerRuleResource], now: datetime
) -> dict[str, TriggerRuleStatus]:
    """Per rule: its last firing and (schedule rules) its next one — what `flowctl get
    triggers` shows. Computed from the database, so any server answers the same."""
    latest = await storage.firings.latest([rule.name for rule in rules])
    status: dict[str, TriggerRuleStatus] = {}
    for rule in rules:
        next_fire = None
        if rule.spec.type is TriggerRuleType.SCHEDULE and isinstance(rule.spec.rule, list):
            with contextlib.suppress(Exception):  # a rule stored by an older version, say
                next_fire = next_firing(rule.spec.rule, now, rule.spec.timezone)
        status[rule.name] = TriggerRuleStatus.of(latest.get(rule.name), next_fire)
    return status

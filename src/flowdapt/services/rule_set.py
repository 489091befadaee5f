"""The trigger rules a server acts on, prepared for the two questions it asks all day: which
condition rules match this event, and which schedule rules are due now. Pure: no I/O, no clock
of its own (the caller passes `now`), so every decision is testable without sleeping.

    rules = RuleSet()
    rules.load(await storage.triggers.list(), now)
    rules.matching(event.model_dump(mode="json"))      # condition rules that hold
    rules.due(now)                                      # (rule, scheduled instant) to fire

Schedules do not drift: the next firing is computed from the scheduled instant, never from when
the loop woke up. Firings missed while the server was down are not made up: a rule loaded at
start-up fires next at its first instant after `now`. A server that falls behind by more than a
whole period (suspended, overloaded) fires the first missed instant once and logs the skip.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowdapt.domain.conditions import Condition, compile_condition
from flowdapt.domain.resources import TriggerRuleResource, TriggerRuleType
from flowdapt.domain.schedules import next_firing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConditionRule:
    resource: TriggerRuleResource
    condition: Condition


@dataclass
class ScheduleRule:
    resource: TriggerRuleResource
    next_fire: datetime

    def following(self, instant: datetime) -> datetime:
        spec = self.resource.spec
        assert isinstance(spec.rule, list)
        return next_firing(spec.rule, instant, spec.timezone)


def _version(rule: TriggerRuleResource) -> tuple[str, datetime]:
    return (str(rule.metadata.uid), rule.metadata.updated_at)


class RuleSet:
    def __init__(self) -> None:
        self.conditions: list[ConditionRule] = []
        self.schedules: dict[str, ScheduleRule] = {}

    def __len__(self) -> int:
        return len(self.conditions) + len(self.schedules)

    def load(self, rules: Iterable[TriggerRuleResource], now: datetime) -> None:
        """Replace the rules; a schedule rule that did not change keeps its next firing. A rule
        that cannot be prepared (stored by an older version, say) is left out and logged."""
        conditions: list[ConditionRule] = []
        schedules: dict[str, ScheduleRule] = {}
        for rule in rules:
            try:
                if rule.spec.type is TriggerRuleType.CONDITION:
                    conditions.append(ConditionRule(rule, compile_condition(rule.spec.rule)))
                else:
                    schedules[rule.name] = self._schedule(rule, now)
            except Exception:  # one broken rule must not take the others down
                logger.exception("trigger rule %s cannot be loaded; it is ignored", rule.name)
        self.conditions, self.schedules = conditions, schedules

    def _schedule(self, rule: TriggerRuleResource, now: datetime) -> ScheduleRule:
        kept = self.schedules.get(rule.name)
        if kept is not None and _version(kept.resource) == _version(rule):
            return kept
        schedule = ScheduleRule(rule, now)
        schedule.next_fire = schedule.following(now)
        return schedule

    def matching(self, event: Mapping[str, Any]) -> list[TriggerRuleResource]:
        """The condition rules that hold for `event` (a plain mapping, dumped once per event)."""
        matched: list[TriggerRuleResource] = []
        for rule in self.conditions:
            try:
                holds = rule.condition(event)
            except Exception:  # e.g. a rule deep enough to exhaust the stack: it does not hold
                logger.warning("rule %s could not be evaluated", rule.resource.name, exc_info=True)
                continue
            if holds:
                matched.append(rule.resource)
        return matched

    def due(self, now: datetime) -> list[tuple[TriggerRuleResource, datetime]]:
        """Schedule rules whose firing is due at `now`, with the instant each is due for;
        their next firings move on."""
        fired: list[tuple[TriggerRuleResource, datetime]] = []
        for schedule in self.schedules.values():
            if schedule.next_fire > now:
                continue
            instant = schedule.next_fire
            following = schedule.following(instant)
            if following <= now:  # behind by more than a period: fire once, skip the rest
                following = schedule.following(now)
                logger.warning(
                    "schedule rule %s: behind schedule; firing once for %s and skipping the "
                    "firings missed until %s",
                    schedule.resource.name,
                    instant.isoformat(),
                    now.isoformat(),
                )
            fired.append((schedule.resource, instant))
            schedule.next_fire = following
        return fired

    def next_wakeup(self) -> datetime | None:
        """When the earliest schedule rule is due (None without schedule rules)."""
        return min((s.next_fire for s in self.schedules.values()), default=None)

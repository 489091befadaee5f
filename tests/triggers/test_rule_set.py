"""Which rules match an event and which schedules are due: pure decisions, a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flowdapt.domain.resources import TriggerRuleResource
from flowdapt.services.rule_set import RuleSet

T0 = datetime(2026, 12, 2, 15, 0, 30, tzinfo=UTC)


def rule(name: str, kind: str, body, timezone: str | None = None) -> TriggerRuleResource:
    spec = {"type": kind, "rule": body, "action": {"target": "run_workflow"}}
    if timezone:
        spec["timezone"] = timezone
    return TriggerRuleResource.model_validate({"metadata": {"name": name}, "spec": spec})


def test_condition_rules_that_hold_are_returned_others_not():
    rules = RuleSet()
    rules.load(
        [
            rule("failed", "condition", {"eq": [{"var": "data.state"}, "failed"]}),
            rule("any", "condition", {"bool": {"var": "type"}}),
            rule("odd", "condition", {"gt": [{"var": "data.state"}, 3]}),  # str > int: false
        ],
        T0,
    )
    matched = rules.matching({"type": "x", "data": {"state": "failed"}})
    assert [r.name for r in matched] == ["failed", "any"]


def test_a_schedule_fires_on_its_instants_without_drift():
    rules = RuleSet()
    rules.load([rule("every5", "schedule", ["*/5 * * * *"])], T0)
    assert rules.next_wakeup() == datetime(2026, 12, 2, 15, 5, tzinfo=UTC)
    assert rules.due(T0 + timedelta(minutes=4)) == []
    late = datetime(2026, 12, 2, 15, 5, 0, 700_000, tzinfo=UTC)  # woke 0.7 s late
    ((fired, instant),) = rules.due(late)
    assert fired.name == "every5" and instant == datetime(2026, 12, 2, 15, 5, tzinfo=UTC)
    # the next instant comes from the scheduled one, not from when the loop woke up
    assert rules.next_wakeup() == datetime(2026, 12, 2, 15, 10, tzinfo=UTC)
    assert rules.due(late) == []  # fired once


def test_several_expressions_and_a_time_zone():
    rules = RuleSet()
    rules.load([rule("oslo", "schedule", ["0 6 * * *", "30 18 * * *"], "Europe/Oslo")], T0)
    # 15:00 UTC is 16:00 in Oslo (CET): next is 18:30 Oslo = 17:30 UTC
    assert rules.next_wakeup() == datetime(2026, 12, 2, 17, 30, tzinfo=UTC)


def test_missed_firings_are_not_made_up_after_a_stall(caplog):
    rules = RuleSet()
    rules.load([rule("minutely", "schedule", ["* * * * *"])], T0)
    stalled = T0 + timedelta(minutes=10)
    ((_, instant),) = rules.due(stalled)  # ten were due: one firing, the rest skipped
    assert instant == datetime(2026, 12, 2, 15, 1, tzinfo=UTC)
    assert rules.next_wakeup() == datetime(2026, 12, 2, 15, 11, tzinfo=UTC)
    assert "behind schedule" in caplog.text


def test_reloading_keeps_the_next_firing_of_an_unchanged_rule_and_resets_a_changed_one():
    rules = RuleSet()
    minutely = rule("minutely", "schedule", ["* * * * *"])
    rules.load([minutely], T0)
    rules.load([minutely], T0 + timedelta(minutes=5))  # unchanged: 15:01 is still due
    assert rules.next_wakeup() == datetime(2026, 12, 2, 15, 1, tzinfo=UTC)
    changed = minutely.model_copy(deep=True)
    changed.metadata.updated_at = T0 + timedelta(minutes=5)
    changed.spec.rule = ["0 * * * *"]
    rules.load([changed], T0 + timedelta(minutes=5))
    assert rules.next_wakeup() == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    rules.load([], T0)
    assert rules.next_wakeup() is None and len(rules) == 0


def test_a_rule_that_cannot_be_evaluated_does_not_hold(caplog):
    rules = RuleSet()
    ok = rule("ok", "condition", {"bool": True})
    rules.load([rule("broken", "condition", {"eq": [1, 1]}), ok], T0)
    rules.conditions[0] = type(rules.conditions[0])(rules.conditions[0].resource, _raises)
    assert [r.name for r in rules.matching({"type": "x"})] == ["ok"]
    assert "could not be evaluated" in caplog.text


def _raises(_event):
    raise RecursionError("too deep")


def test_a_rule_that_cannot_be_prepared_is_left_out_and_the_others_load(caplog):
    # Stored before validation refused such rules (February 31 never comes): not a crash.
    never = rule("never", "schedule", ["0 0 1 1 *"])
    never.spec.rule = ["0 0 31 2 *"]
    rules = RuleSet()
    rules.load([never, rule("fine", "schedule", ["* * * * *"])], T0)
    assert list(rules.schedules) == ["fine"]
    assert "never cannot be loaded" in caplog.text

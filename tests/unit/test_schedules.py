"""Schedule rules: five-field cron, validated when applied; next firing, UTC or a time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowdapt.domain.documents import validate_resource
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import TriggerRuleResource
from flowdapt.domain.schedules import next_firing, schedule_problems


def trigger(rule, **spec) -> dict:
    return {
        "metadata": {"name": "t"},
        "spec": {
            "type": "schedule",
            "rule": rule,
            **spec,
            "action": {"target": "run_workflow", "parameters": {"workflow": "w"}},
        },
    }


@pytest.mark.parametrize(
    ("expressions", "fragment"),
    [
        (["* * * * * *"], "rule[0]: '* * * * * *' has 6 fields"),
        (["61 * * * *"], "rule[0]: '61 * * * *' is not a valid cron expression"),
        (["*/5 * * * *", "0 25 * * *"], "rule[1]: '0 25 * * *' is not a valid"),
        ([], "at least one cron expression"),
    ],
)
def test_invalid_schedules_name_the_expression(expressions, fragment):
    assert any(fragment in problem for problem in schedule_problems(expressions)), fragment


def test_a_trigger_with_a_bad_cron_or_time_zone_is_refused():
    with pytest.raises(InvalidResourceError, match="6 fields"):
        validate_resource(TriggerRuleResource, trigger(["0 0 * * * *"]))
    with pytest.raises(InvalidResourceError, match="unknown time zone 'Mars/Olympus'"):
        validate_resource(TriggerRuleResource, trigger(["0 6 * * *"], timezone="Mars/Olympus"))
    ok = validate_resource(TriggerRuleResource, trigger(["*/5 * * * *"], timezone="Europe/Oslo"))
    assert ok.spec.timezone == "Europe/Oslo"


def test_next_firing_in_utc_and_in_a_time_zone():
    after = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert next_firing(["*/5 * * * *"], after) == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    assert next_firing(["0 6 * * *", "30 0 * * *"], after) == datetime(
        2026, 1, 1, 0, 30, tzinfo=UTC
    )
    # 06:00 in Oslo is 05:00 UTC in winter and 04:00 UTC in summer: no drift across DST.
    assert next_firing(["0 6 * * *"], after, "Europe/Oslo") == datetime(
        2026, 1, 1, 5, 0, tzinfo=UTC
    )
    summer = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    assert next_firing(["0 6 * * *"], summer, "Europe/Oslo") == datetime(
        2026, 7, 1, 4, 0, tzinfo=UTC
    )

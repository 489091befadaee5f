"""Trigger rules are validated when applied: a 422 naming the place inside the rule."""

from __future__ import annotations

import pytest

from tests.triggers.conftest import System, trigger


@pytest.mark.parametrize(
    ("rule", "kind", "message"),
    [
        (
            {"and": [{"eq": [1, 1]}, {"nope": [1]}]},
            "condition",
            "spec.rule.and[1]: unknown operator",
        ),
        ({"eq": [1]}, "condition", "spec.rule.eq: takes 2 argument(s), got 1"),
        ({"not": [1, 2]}, "condition", "spec.rule.not: takes 1 argument(s), got 2"),
        ({"var": 5}, "condition", "spec.rule.var: takes a dot path"),
        (["0 * * * * *"], "schedule", "'0 * * * * *' has 6 fields"),
        (["61 * * * *"], "schedule", "'61 * * * *' is not a valid cron expression"),
        (["* 25 * * *"], "schedule", "'* 25 * * *' is not a valid cron expression"),
        ([], "schedule", "at least one cron expression"),
        (["0 0 31 2 *"], "schedule", "'0 0 31 2 *' never fires (no such date)"),
        ({"eq": [1, 1]}, "schedule", "a schedule rule is a list of cron expressions"),
        (["* * * * *"], "condition", "a condition rule is a mapping"),
    ],
)
async def test_invalid_rules_are_refused_and_nothing_is_stored(system: System, rule, kind, message):
    response = await system.client.post("/triggers/", json=trigger("bad", rule, "w", kind=kind))
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert (await system.client.get("/triggers/bad")).status_code == 404


async def test_a_rule_nested_too_deeply_is_refused(system: System):
    rule: dict = {"var": "type"}
    for _ in range(100):
        rule = {"not": rule}
    response = await system.client.post("/triggers/", json=trigger("deep", rule, "w"))
    assert response.status_code == 422
    assert "nests deeper than 64 operators" in response.json()["detail"]


async def test_an_unknown_time_zone_is_refused(system: System):
    document = trigger("tz", ["0 6 * * *"], "w", kind="schedule")
    document["spec"]["timezone"] = "Mars/Olympus"
    response = await system.client.post("/triggers/", json=document)
    assert response.status_code == 422
    assert "unknown time zone 'Mars/Olympus'" in response.json()["detail"]

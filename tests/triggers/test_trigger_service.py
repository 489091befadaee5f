"""The trigger service in the whole server, in process: condition rules over workflow and
inbound events, schedules on an injected clock, actions, the loop guard, and what the API shows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from flowdapt.domain.events import Event
from flowdapt.domain.firings import FiringState
from flowdapt.services.actions import ActionOutcome, ActionRegistry, ActionRequest
from flowdapt.services.triggers import TriggerService
from tests.triggers.conftest import System, finished_in_state, trigger, workflow


async def test_fallback_runs_when_a_workflow_fails_with_the_failure_in_its_context(system: System):
    await system.create("/workflows/", workflow("test_simple", "fail_always"))
    await system.create("/workflows/", workflow("fallback_workflow", "report_event"))
    await system.create(
        "/triggers/",
        trigger(
            "on_failure",
            finished_in_state("test_simple", "failed"),
            "fallback_workflow",
            reason="upstream failed",
        ),
    )
    failed = (await system.client.post("/workflows/test_simple/run")).json()
    assert failed["state"] == "failed"

    (fallback,) = await system.finished_runs("fallback_workflow")
    assert fallback["state"] == "finished" and fallback["source"] == "trigger:on_failure"
    result = fallback["result"]
    assert result["input"] == {"reason": "upstream failed"}
    assert result["event_type"] == "com.event.workflow.workflow_finished"
    assert result["event_data"]["name"] == failed["name"]
    assert result["event_data"]["result"] == ["ValueError", "the upstream data was empty"]
    # the fallback run's own finish matches nothing: exactly one fallback
    await system.finished_runs("fallback_workflow")
    assert len(await system.runs("fallback_workflow")) == 1


async def test_a_finished_run_does_not_match_the_failure_rule(system: System):
    await system.create("/workflows/", workflow("fine", "noop"))
    await system.create("/workflows/", workflow("fallback_workflow", "report_event"))
    await system.create(
        "/triggers/",
        trigger("on_failure", finished_in_state("fine", "failed"), "fallback_workflow"),
    )
    assert (await system.client.post("/workflows/fine/run")).json()["state"] == "finished"
    firings = (await system.client.get("/triggers/on_failure/firings")).json()
    assert firings == [] and await system.runs("fallback_workflow") == []


async def test_an_inbound_event_starts_a_workflow_that_reads_its_payload(system: System):
    await system.create("/workflows/", workflow("ingest", "report_event"))
    rule = {"eq": [{"var": "type"}, "com.example.data_arrived"]}
    await system.create("/triggers/", trigger("on_data", rule, "ingest"))
    response = await system.client.post(
        "/events/", json={"type": "com.example.data_arrived", "data": {"city": "Oslo", "rows": 3}}
    )
    assert response.status_code == 202, response.text
    sent = response.json()
    assert sent["id"] and sent["source"] == "external"

    (run,) = await system.finished_runs("ingest")
    assert run["source"] == "trigger:on_data"
    assert run["result"]["event_data"] == {"city": "Oslo", "rows": 3}
    (firing,) = (await system.client.get("/triggers/on_data/firings")).json()
    assert firing["state"] == "started" and firing["run"] == run["name"]
    assert firing["key"] == f"event:{sent['id']}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "com.event.workflow.workflow_finished"}, "server's own events"),
        ({"type": ""}, "type"),
        ({"type": "has spaces"}, "type"),
        ({"type": "ok", "headers": {"trigger_depth": "0"}}, "set by the server"),
        ({"type": "ok", "unknown": 1}, "unknown"),
        ({"data": 1}, "type"),
    ],
)
async def test_bad_inbound_events_are_refused_with_a_clear_422(system: System, body, message):
    response = await system.client.post("/events/", json=body)
    assert response.status_code == 422
    assert message in response.json()["detail"]


async def test_an_action_naming_a_missing_workflow_is_a_failed_firing_and_the_service_lives(
    system: System,
):
    await system.create("/workflows/", workflow("ingest", "report_event"))
    rule = {"eq": [{"var": "type"}, "com.example.ping"]}
    await system.create("/triggers/", trigger("broken", rule, "no_such_workflow"))
    await system.create("/triggers/", trigger("working", rule, "ingest"))
    await system.client.post("/events/", json={"type": "com.example.ping"})
    await system.finished_runs("ingest")

    async def failed_firing():
        firings = (await system.client.get("/triggers/broken/firings")).json()
        return firings if firings else None

    (firing,) = await system.wait_for(failed_firing, "the failed firing")
    assert firing["state"] == "failed"
    assert firing["error"] == "workflow 'no_such_workflow' does not exist"
    listed = {t["metadata"]["name"]: t for t in (await system.client.get("/triggers/")).json()}
    assert listed["broken"]["status"]["last_state"] == "failed"
    assert listed["broken"]["status"]["last_error"] == "workflow 'no_such_workflow' does not exist"
    # the service lives: the next event fires both rules again
    await system.client.post("/events/", json={"type": "com.example.ping"})
    await system.finished_runs("ingest", count=2)


async def test_an_unknown_action_target_is_recorded_with_the_known_ones(system: System):
    document = trigger("odd", {"eq": [{"var": "type"}, "com.example.x"]}, "w")
    document["spec"]["action"]["target"] = "send_fax"
    await system.create("/triggers/", document)
    triggers = system.services.triggers
    assert triggers is not None
    await system.wait_for(lambda: _has_rule(triggers, "odd"), "the rule")
    (firing,) = await triggers.handle(Event(type="com.example.x"))
    assert firing.state is FiringState.FAILED
    assert firing.error == "unknown action target 'send_fax' (known: run_workflow)"


async def test_the_same_event_delivered_twice_fires_once(system: System):
    await system.create("/workflows/", workflow("ingest", "noop"))
    await system.create(
        "/triggers/", trigger("once", {"eq": [{"var": "type"}, "com.example.dup"]}, "ingest")
    )
    triggers = system.services.triggers
    assert triggers is not None
    await system.wait_for(lambda: _has_rule(triggers, "once"), "the rule")
    event = Event(type="com.example.dup")
    assert len(await triggers.handle(event)) == 1
    assert await triggers.handle(event) == []  # a redelivery: claimed already
    await system.finished_runs("ingest")
    assert len(await system.runs("ingest")) == 1


async def test_the_loop_guard_stops_a_rule_that_triggers_itself(system: System, caplog):
    caplog.set_level(logging.WARNING, "flowdapt.services.triggers")
    await system.create("/workflows/", workflow("looper", "noop"))
    await system.create(
        "/triggers/", trigger("again", finished_in_state("looper", "finished"), "looper")
    )
    await system.client.post("/workflows/looper/run")  # max_depth is 3 in this fixture

    async def skipped():
        firings = (await system.client.get("/triggers/again/firings")).json()
        return firings if any(f["state"] == "skipped" for f in firings) else None

    firings = await system.wait_for(skipped, "the loop guard")
    assert [f["state"] for f in firings] == ["skipped", "started", "started", "started"]
    assert "loop guard" in firings[0]["error"] and "max_depth=3" in firings[0]["error"]
    assert len(await system.finished_runs("looper", count=4)) == 4
    assert "loop guard" in caplog.text


async def test_rules_applied_while_running_take_effect_at_once_and_deleted_ones_stop(
    system: System,
):
    await system.create("/workflows/", workflow("ingest", "noop"))
    triggers = system.services.triggers
    assert triggers is not None
    await system.create(
        "/triggers/", trigger("late", {"eq": [{"var": "type"}, "com.example.y"]}, "ingest")
    )
    await system.wait_for(lambda: _has_rule(triggers, "late"), "the new rule")
    await system.client.post("/events/", json={"type": "com.example.y"})
    await system.finished_runs("ingest")
    await system.client.delete("/triggers/late")
    await system.wait_for(lambda: _lacks_rule(triggers, "late"), "the rule to go")


async def _has_rule(triggers: TriggerService, name: str) -> bool:
    return any(rule.resource.name == name for rule in triggers.rules.conditions)


async def _lacks_rule(triggers: TriggerService, name: str) -> bool:
    return not await _has_rule(triggers, name)


async def test_a_schedule_fires_on_an_injected_clock_once_per_instant(system: System):
    await system.create("/workflows/", workflow("refresh", "report_event"))
    rule = trigger("every5", ["*/5 * * * *"], "refresh", kind="schedule")
    await system.create("/triggers/", rule)
    now = [datetime(2026, 12, 2, 15, 3, tzinfo=UTC)]
    services = system.services
    scheduler = TriggerService(
        services.storage,
        services.bus,
        ActionRegistry.with_builtins(plugins=False),
        compute=services.compute,
        clock=lambda: now[0],
    )
    await scheduler.reload()
    assert await scheduler.fire_due() == []
    now[0] = datetime(2026, 12, 2, 15, 5, 0, 200_000, tzinfo=UTC)
    (firing,) = await scheduler.fire_due()
    assert firing.key == "schedule:2026-12-02T15:05:00+00:00"
    assert await scheduler.fire_due() == []
    (run,) = await system.finished_runs("refresh")
    assert run["source"] == "trigger:every5"
    assert run["result"]["event_type"] == "com.event.trigger_rule.schedule_fired"
    assert run["result"]["event_data"]["scheduled_for"] == "2026-12-02T15:05:00+00:00"
    # a second server (another service, same database) at the same instant fires nothing
    twin = TriggerService(
        services.storage,
        services.bus,
        ActionRegistry.with_builtins(plugins=False),
        compute=services.compute,
        clock=lambda: now[0] - timedelta(seconds=1),
    )
    await twin.reload()
    now[0] += timedelta(seconds=1)
    twin._clock = lambda: now[0]
    assert await twin.fire_due() == []


async def test_trigger_listing_shows_last_and_next_firing(system: System):
    await system.create("/triggers/", trigger("nightly", ["0 3 * * *"], "x", kind="schedule"))
    (listed,) = (await system.client.get("/triggers/")).json()
    status = listed["status"]
    assert status["last_fired_at"] is None
    next_fire = datetime.fromisoformat(status["next_fire_at"])
    assert next_fire.hour == 3 and next_fire.minute == 0
    one = (await system.client.get("/triggers/nightly")).json()
    assert one["status"]["next_fire_at"] == status["next_fire_at"]
    assert (await system.client.get("/triggers/nope/firings")).status_code == 404


async def test_status_reports_the_bus_and_the_triggers(system: System):
    status = (await system.client.get("/status")).json()
    assert status["event_bus"]["kind"] == "memory" and status["event_bus"]["status"] == "up"
    assert status["services"]["triggers"]["status"] == "OK"


async def test_resource_changes_are_published(system: System):
    bus = system.services.bus
    async with bus.subscribe() as events:
        await system.create("/workflows/", workflow("w", "noop"))
        event = await anext(events)
    assert event.type == "com.event.workflow.workflow_created"
    assert event.data["metadata"]["name"] == "w"


async def test_a_plugin_action_is_resolved_through_the_registry(system: System):
    seen: list[ActionRequest] = []

    async def notify(request: ActionRequest) -> ActionOutcome:
        seen.append(request)
        return ActionOutcome(detail="sent")

    triggers = system.services.triggers
    assert triggers is not None
    triggers._actions.register("notify", notify)
    document = trigger("tell", {"eq": [{"var": "data.level"}, "high"]}, "x")
    document["spec"]["action"] = {"target": "notify", "parameters": {"to": "ops"}}
    await system.create("/triggers/", document)
    await system.wait_for(lambda: _has_rule(triggers, "tell"), "the rule")
    (firing,) = await triggers.handle(Event(type="com.example.alert", data={"level": "high"}))
    assert firing.state is FiringState.STARTED
    assert seen[0].parameters == {"to": "ops"} and seen[0].event.data == {"level": "high"}


async def test_events_need_the_token_when_one_is_configured(tmp_path):
    import httpx

    from flowdapt.bootstrap import build_app
    from flowdapt.settings import Settings

    settings = Settings(
        app_dir=tmp_path,
        database={"target": "flowdapt.storage.memory.MemoryStorage"},
        rpc={"api": {"events_token": "s3cret"}},
    )
    app = build_app(settings, stop_grace=1)
    body = {"type": "com.example.ping"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdapt") as client:
            missing = await client.post("/events/", json=body)
            wrong = await client.post(
                "/events/", json=body, headers={"Authorization": "Bearer nope"}
            )
            right = await client.post(
                "/events/", json=body, headers={"Authorization": "Bearer s3cret"}
            )
    assert missing.status_code == wrong.status_code == 401
    assert "Bearer" in missing.json()["detail"]
    assert right.status_code == 202


async def test_a_burst_of_rule_changes_is_loaded_with_few_reloads(system: System, monkeypatch):
    triggers = system.services.triggers
    assert triggers is not None
    reloads = []
    original = triggers.reload

    async def counting() -> None:
        reloads.append(1)
        await original()

    monkeypatch.setattr(triggers, "reload", counting)
    for index in range(40):
        rule = {"eq": [{"var": "data.n"}, index]}
        await system.create("/triggers/", trigger(f"r{index}", rule, "w"))
    await system.wait_for(lambda: _has_rule(triggers, "r39"), "the last rule")
    assert len(triggers.rules.conditions) == 40
    assert len(reloads) < 20  # not one (or two) per change


async def test_a_firing_interrupted_before_its_action_is_settled_as_failed(system: System):
    from flowdapt.domain.firings import Firing
    from flowdapt.domain.timestamps import utcnow

    triggers = system.services.triggers
    assert triggers is not None
    await system.create("/triggers/", trigger("cut", {"eq": [1, 1]}, "w"))
    left = Firing(rule="cut", key="event:x", fired_at=utcnow() - timedelta(minutes=10))
    await system.services.storage.firings.claim(left)  # a server died right after this
    fresh = Firing(rule="cut", key="event:y")  # in progress elsewhere: left alone
    await system.services.storage.firings.claim(fresh)

    assert await triggers.settle_interrupted() == 1
    (listed,) = (await system.client.get("/triggers/")).json()
    assert listed["status"]["last_state"] == "pending"  # the newest is still in progress
    states = {f["key"]: f for f in (await system.client.get("/triggers/cut/firings")).json()}
    assert states["event:x"]["state"] == "failed"
    assert states["event:x"]["error"].startswith("interrupted")
    assert states["event:y"]["state"] == "pending"

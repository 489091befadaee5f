"""The embedded event bus, and the workflow events the compute service publishes on it."""

from __future__ import annotations

import asyncio

import pytest

from flowdapt.bus import MemoryEventBus
from flowdapt.domain.events import WORKFLOW_FINISHED, WORKFLOW_STARTED, Event
from flowdapt.domain.resources import WorkflowResource
from flowdapt.executors.local import LocalExecutor
from flowdapt.services.compute import ComputeService
from flowdapt.storage.memory import MemoryStorage


async def next_event(events) -> Event:
    return await asyncio.wait_for(anext(events), 5)


async def test_subscribers_get_the_types_and_channels_they_ask_for():
    bus = MemoryEventBus()
    async with bus.subscribe(types={"a"}) as only_a, bus.subscribe(channel="other") as other:
        await bus.publish(Event(type="b"))
        await bus.publish(Event(type="a", data=1))
        await bus.publish(Event(type="b", channel="other", data=2))
        assert (await next_event(only_a)).data == 1
        assert (await next_event(other)).data == 2


async def test_a_slow_subscriber_loses_the_oldest_events_not_the_publisher(caplog):
    bus = MemoryEventBus()
    async with bus.subscribe() as events:
        for number in range(10_005):
            await bus.publish(Event(type="tick", data=number))
        assert (await next_event(events)).data == 5  # 0..4 dropped, nothing blocked
    assert "lost" in caplog.text


async def test_runs_publish_started_and_finished_events_shaped_like_the_run():
    storage, bus = MemoryStorage(), MemoryEventBus()
    await storage.start()
    service = ComputeService(storage, LocalExecutor(use_processes=False), bus=bus, name="srv")
    await service.start()
    await storage.workflows.create(
        WorkflowResource.model_validate(
            {
                "metadata": {"name": "w"},
                "spec": {"stages": [{"name": "s", "target": "builtins.dict"}]},
            }
        )
    )
    try:
        async with bus.subscribe(types={WORKFLOW_STARTED, WORKFLOW_FINISHED}) as events:
            run = await service.run_workflow("w", {"k": 1})
            started, finished = await next_event(events), await next_event(events)
    finally:
        await service.stop(grace=1)
    assert started.type == WORKFLOW_STARTED and finished.type == WORKFLOW_FINISHED
    assert started.source == "srv.compute"
    assert started.data["uid"] == finished.data["uid"] == str(run.uid)
    assert started.data["state"] == "running" and started.data["workflow"] == "w"
    assert finished.data["state"] == "finished" and finished.data["result"] == {"k": 1}
    assert "stages" not in finished.data


@pytest.mark.parametrize("url", ["kafka://localhost:9092", "nats://127.0.0.1:4222", "rabbit"])
async def test_an_unsupported_bus_url_is_a_settings_error(tmp_path, url):
    from flowdapt.bootstrap import build_services
    from flowdapt.settings import Settings, SettingsError

    settings = Settings(app_dir=tmp_path, rpc={"event_bus": {"url": url}})
    with pytest.raises(SettingsError, match=r"rpc\.event_bus\.url: unsupported scheme"):
        build_services(settings)


async def test_an_amqp_url_builds_the_rabbitmq_bus_without_connecting(tmp_path):
    from flowdapt.bootstrap import build_services
    from flowdapt.bus.rabbitmq import RabbitMQEventBus
    from flowdapt.settings import Settings

    settings = Settings(
        app_dir=tmp_path,
        rpc={"event_bus": {"url": "amqp://guest:guest@127.0.0.1:5672/", "exchange": "x.test"}},
    )
    assert isinstance(build_services(settings).bus, RabbitMQEventBus)

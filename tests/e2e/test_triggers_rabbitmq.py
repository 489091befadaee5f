"""Triggers across servers: two server processes sharing one PostgreSQL database and one
RabbitMQ broker fire every rule exactly once; a broker that is down at start-up leaves the
server up, reported as degraded, and recovering on its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import httpx
import pytest

from tests.e2e.conftest import Server, ThreadedRelay, flowctl, wait_until
from tests.e2e.triggers_helpers import final_runs, firings, runs_of

RESOURCES = Path(__file__).with_name("triggers.yaml")
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
EVERY_MINUTE = """
kind: workflow
metadata: {name: tick}
spec:
  stages: [{name: only, target: tests.triggers.stages.report_event}]
---
kind: trigger_rule
metadata: {name: every_minute}
spec:
  type: schedule
  rule: ["* * * * *"]
  action: {target: run_workflow, parameters: {workflow: tick}}
"""


async def _delete(exchange: str) -> None:
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{exchange}.triggers")
        await channel.exchange_delete(exchange)


@pytest.fixture
def exchange() -> Iterator[str]:
    """An exchange of the test's own; it and the triggers' queue are deleted afterwards."""
    name = f"flowdapt.e2e.{uuid.uuid4().hex}"
    yield name
    asyncio.run(_delete(name))


def bus_options(exchange: str, url: str = AMQP) -> tuple[str, ...]:
    return (f"rpc.event_bus.url={url}", f"rpc.event_bus.exchange={exchange}")


def status(server: Server) -> dict:
    return httpx.get(f"{server.url}/status", timeout=10).json()


def rules_loaded(server: Server, condition: int, schedule: int) -> bool:
    triggers = status(server)["services"]["triggers"]
    return triggers["condition_rules"] == condition and triggers["schedule_rules"] == schedule


@pytest.mark.slow
@pytest.mark.timeout(180)  # waits for the next wall-clock minute: up to 60 s on top of the rest
def test_two_servers_on_one_broker_fire_each_rule_once(
    servers, fresh_postgres_url, exchange, tmp_path
):
    # Servers sharing a database have names of their own (each settles only its runs).
    first = servers(fresh_postgres_url, options=(*bus_options(exchange), "name=first"))
    second = servers(fresh_postgres_url, options=(*bus_options(exchange), "name=second"))
    first.start()
    second.start()
    assert status(first)["event_bus"] == {
        "kind": "rabbitmq",
        "status": "up",
        "undelivered": 0,
        "dropped": 0,
    }
    schedule_file = tmp_path / "every_minute.yaml"
    schedule_file.write_text(EVERY_MINUTE)
    for path in (RESOURCES, schedule_file):
        applied = flowctl(first, "apply", "-p", str(path))
        assert applied.returncode == 0, applied.stderr
    for server in (first, second):  # the second server hears of the rules through the broker
        wait_until(lambda s=server: rules_loaded(s, 2, 1), 10, "the rules to load")

    # a failure on the second server: one fallback, whichever server evaluates the event
    assert flowctl(second, "run", "test_simple").returncode == 1
    final_runs(first.url, "fallback_workflow")
    # an event sent to the first server: one ingest run
    assert flowctl(first, "event", "send", "com.example.data_arrived", "--n", "1").returncode == 0
    final_runs(first.url, "ingest")

    # the schedule, in real time: the next wall-clock minute fires once across both servers
    now = datetime.now(UTC)
    boundary = now.replace(second=0, microsecond=0).timestamp() + 60
    time.sleep(max(0.0, boundary - time.time()) + 3)
    (tick,) = final_runs(first.url, "tick")
    started = datetime.fromisoformat(tick["started_at"]).replace(tzinfo=UTC).timestamp()
    assert 0 <= started - boundary < 2  # within a second or so of the minute
    assert tick["source"] == "trigger:every_minute"

    time.sleep(1)  # anything duplicated would have shown up by now
    assert len(runs_of(first.url, "fallback_workflow")) == 1
    assert len(runs_of(first.url, "ingest")) == 1
    assert len(runs_of(first.url, "tick")) == 1
    assert [f["state"] for f in firings(first.url, "every_minute")] == ["started"]
    assert len(firings(second.url, "on_failure")) == 1


def test_a_broker_down_at_start_up_is_degraded_then_recovers(servers, exchange):
    relay = ThreadedRelay(5672)
    try:
        relay.up()
        relay.down()  # the port is kept: the server is pointed at a broker that is not there
        url = f"amqp://guest:secret-pw@127.0.0.1:{relay.port}/"
        server = servers(options=bus_options(exchange, url.replace("secret-pw", "guest")))
        server.start()  # answers although the broker is away
        bus = status(server)["event_bus"]
        assert bus["kind"] == "rabbitmq" and bus["status"] == "degraded" and bus["detail"]
        assert status(server)["services"]["triggers"]["status"] == "degraded"
        assert flowctl(server, "apply", "-p", str(RESOURCES)).returncode == 0
        # sent while the broker is away: kept in the outbox, not lost
        assert flowctl(server, "event", "send", "com.example.data_arrived").returncode == 0
        assert status(server)["event_bus"]["undelivered"] >= 1

        relay.up()
        wait_until(lambda: status(server)["event_bus"]["status"] == "up", 15, "the bus to recover")
        assert status(server)["services"]["triggers"]["status"] == "OK"
        (run,) = final_runs(server.url, "ingest")
        assert run["source"] == "trigger:on_data"
        assert "guest:guest" not in server.log()  # no password in the log
    finally:
        relay.close()

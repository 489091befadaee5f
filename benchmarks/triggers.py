"""Triggers on the real server: how soon an event starts a triggered run, what judging 1,000
condition rules costs per event, and how close to the minute a cron rule fires.

    uv run python benchmarks/triggers.py [--quick] [--skip-rabbitmq] [--skip-cron]

1. Event -> triggered run latency, on the memory bus and on RabbitMQ (a local broker at
   `amqp://guest:guest@127.0.0.1:5672/`, on an exchange of this run's own, deleted at the end):
   a `flowdapt run` process on embedded defaults (SQLite, thread executor) with a condition rule
   "when source_wf finishes, run target_wf". source_wf is run N times one after another with
   `?wait=True`; each time the triggered run's `started_at` minus the source run's `finished_at`
   (both server timestamps) is one sample. Beside it, the bare trivial run over HTTP and in
   process (`execute_workflow`), measured in the same run, and where the time goes (source
   finished -> firing recorded -> triggered run started, from the firing's `fired_at`).
2. Rule evaluation with 1,000 condition rules per event, in process: `RuleSet.matching` of a
   `workflow_finished` event dumped to JSON (the dump included, as the service does it per
   event), against the same rules written as plain Python lambdas and against `evaluate`, which
   compiles the expression at every call.
3. Cron accuracy: a server with a `* * * * *` schedule rule; the triggered run's `started_at`
   minus the minute it was scheduled for (this waits for the next one or two minutes).

Prints each figure next to the goal of the triggers issue.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from flowdapt.domain.conditions import evaluate
from flowdapt.domain.events import WORKFLOW_FINISHED, WORKFLOW_STARTED, Event
from flowdapt.domain.resources import TriggerRuleResource
from flowdapt.domain.runs import ErrorInfo, RunState, WorkflowRun
from flowdapt.services.rule_set import RuleSet

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import build_request, load
from reference import raw_engine_latency
from server_process import ServerProcess

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
STAGE = "benchmarks.workloads.noop"  # importable by the server: PYTHONPATH is the repo root
RULE = "on_source"
SCHEDULE_RULE = "every_minute"
Json = dict[str, Any]


def report(name: str, value: str, goal: str, met: bool | None, raw: str = "") -> None:
    verdict = "" if met is None else ("MET" if met else "NOT MET")
    print(f"{name:<46} {value:>14} {raw:>22}  goal {goal:<14} {verdict}", flush=True)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1e3:.{digits}f} ms"


def workflow(name: str) -> Json:
    return {
        "kind": "workflow",
        "metadata": {"name": name},
        "spec": {"stages": [{"name": "only", "target": STAGE}]},
    }


def stamp(text: str) -> datetime:
    """A server timestamp (naive ISO UTC) as an aware datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.002) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def create(client: httpx.Client, path: str, document: Json) -> None:
    response = client.post(path, json=document)
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path}: HTTP {response.status_code} {response.text}")


def triggers_status(client: httpx.Client) -> Json:
    return dict(client.get("/status").json())


# --- 1. event -> triggered run ------------------------------------------------------------------

CONDITION_RULE: Json = {
    "kind": "trigger_rule",
    "metadata": {"name": RULE},
    "spec": {
        "type": "condition",
        "rule": {
            "and": [
                {"eq": [{"var": "type"}, WORKFLOW_FINISHED]},
                {"eq": [{"var": "data.workflow"}, "source_wf"]},
            ]
        },
        "action": {"target": "run_workflow", "parameters": {"workflow": "target_wf"}},
    },
}


def set_up_condition(client: httpx.Client) -> None:
    for name in ("source_wf", "target_wf", "bare_wf"):
        create(client, "/workflows/", workflow(name))
    create(client, "/triggers/", CONDITION_RULE)

    def ready() -> bool:
        status = triggers_status(client)
        loaded = status["services"]["triggers"]["condition_rules"] == 1
        return bool(loaded and status["event_bus"]["status"] == "up")

    wait_for(ready, 30, "the rule to be loaded and the bus to be up", 0.05)


def newest_final_run(client: httpx.Client, workflow_name: str, after: str | None) -> Json | None:
    runs = client.get(f"/workflows/{workflow_name}/run", params={"limit": 1}).json()
    if not runs or runs[0]["name"] == after or runs[0]["state"] not in ("finished", "failed"):
        return None
    return dict(runs[0])


@dataclass
class Sample:
    source_finished: datetime
    run: str
    started: datetime


def one_triggered_run(client: httpx.Client, previous: str | None) -> Sample:
    source = client.post("/workflows/source_wf/run", params={"wait": "True"}).json()
    if source["state"] != "finished":
        raise RuntimeError(f"source_wf did not finish: {source}")
    triggered = wait_for(
        lambda: newest_final_run(client, "target_wf", previous), 10, "the triggered run"
    )
    if triggered["source"] != f"trigger:{RULE}":
        raise RuntimeError(f"unexpected run of target_wf: {triggered}")
    return Sample(stamp(source["finished_at"]), triggered["name"], stamp(triggered["started_at"]))


def triggered_samples(client: httpx.Client, count: int, warmup: int) -> list[Sample]:
    samples: list[Sample] = []
    previous: str | None = None
    for index in range(warmup + count):
        sample = one_triggered_run(client, previous)
        previous = sample.run
        if index >= warmup:
            samples.append(sample)
    return samples


def fired_at(client: httpx.Client, limit: int) -> dict[str, datetime]:
    """When each run of the rule was fired (the firing's record), by run name."""
    firings = client.get(f"/triggers/{RULE}/firings", params={"limit": limit}).json()
    return {f["run"]: stamp(f["fired_at"]) for f in firings if f["run"]}


def bare_http_latency(server: ServerProcess, seconds: float) -> float:
    request = build_request("POST", "/workflows/bare_wf/run?wait=True", "127.0.0.1")
    _, _, durations = asyncio.run(load("127.0.0.1", server.port, request, 1, seconds))
    return statistics.median(durations)


@dataclass(frozen=True)
class Bus:
    label: str
    options: tuple[str, ...]
    goal_p50: float
    goal_p95: float | None  # None: no goal


def report_latency(bus: Bus, samples: list[Sample], fired: dict[str, datetime]) -> None:
    total = [(s.started - s.source_finished).total_seconds() for s in samples]
    to_firing = [(fired[s.run] - s.source_finished).total_seconds() for s in samples]
    to_start = [(s.started - fired[s.run]).total_seconds() for s in samples]
    p50, p95 = statistics.median(total), percentile(total, 95)
    report(
        f"event -> triggered run ({bus.label}): p50",
        ms(p50),
        f"<= {bus.goal_p50 * 1e3:.0f} ms",
        p50 <= bus.goal_p50,
        f"{len(samples)} runs",
    )
    if bus.goal_p95 is None:
        report(f"event -> triggered run ({bus.label}): p95", ms(p95), "(no goal)", None)
    else:
        report(
            f"event -> triggered run ({bus.label}): p95",
            ms(p95),
            f"<= {bus.goal_p95 * 1e3:.0f} ms",
            p95 <= bus.goal_p95,
        )
    report(
        "  source finished -> firing recorded: p50",
        ms(statistics.median(to_firing)),
        "(no goal)",
        None,
        f"p95 {ms(percentile(to_firing, 95))}",
    )
    report(
        "  firing -> triggered run started: p50",
        ms(statistics.median(to_start)),
        "(no goal)",
        None,
        f"p95 {ms(percentile(to_start, 95))}",
    )


def bare_run(server: ServerProcess, client: httpx.Client, seconds: float) -> None:
    """The reference: a trivial run by itself, over HTTP and in process."""
    for _ in range(20):  # warm up the bare workflow
        client.post("/workflows/bare_wf/run", params={"wait": "True"})
    bare = bare_http_latency(server, seconds)
    raw = asyncio.run(raw_engine_latency(500))
    report(
        "bare trivial run over HTTP, wait: p50",
        ms(bare),
        "(no goal)",
        None,
        f"raw engine {ms(raw)}",
    )


def trigger_latency(app_dir: Path, bus: Bus, runs: int, bare_seconds: float | None) -> None:
    """One server: idle RSS, the bare run (if `bare_seconds`), then the triggered runs."""
    server = ServerProcess(app_dir, options=bus.options)
    server.start()
    try:
        time.sleep(1.0)
        rss = server.rss() / 1e6
        report(f"idle server RSS ({bus.label} bus)", f"{rss:.0f} MB", "(no goal)", None)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            set_up_condition(client)
            if bare_seconds is not None:
                bare_run(server, client, bare_seconds)
            samples = triggered_samples(client, runs, warmup=10)
            fired = fired_at(client, runs + 20)
        report_latency(bus, samples, fired)
    finally:
        server.stop()


async def broker_reachable() -> bool:
    import aio_pika

    try:
        connection = await asyncio.wait_for(aio_pika.connect(AMQP), 5)
    except Exception:
        return False
    await connection.close()
    return True


async def delete_exchange(exchange: str) -> None:
    """Leave the broker as found: the group queue the triggers created, then the exchange."""
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{exchange}.triggers")
        await channel.exchange_delete(exchange)


def rabbitmq_latency(app_dir: Path, runs: int) -> None:
    if not asyncio.run(broker_reachable()):
        print(f"RabbitMQ not reachable at {AMQP}: skipped (--skip-rabbitmq to say so)")
        return
    exchange = f"flowdapt.bench.{secrets.token_hex(6)}"
    options = (f"rpc.event_bus.url={AMQP}", f"rpc.event_bus.exchange={exchange}")
    try:
        trigger_latency(app_dir, Bus("RabbitMQ", options, 0.020, None), runs, None)
    finally:
        asyncio.run(delete_exchange(exchange))


# --- 2. rule evaluation -------------------------------------------------------------------------

WORKFLOWS = 250  # distinct workflow names the rules and events use


def comparison(name: str, path: str, value: Any) -> Json:
    return {name: [{"var": path}, value]}


def rule_expression(index: int) -> Json:
    """An `and` of three tests on type, workflow and state; a few use `or`, `not`, `ne`, `bool`."""
    kind = WORKFLOW_STARTED if index % 5 == 4 else WORKFLOW_FINISHED
    name, other = f"wf{index % WORKFLOWS:03}", f"wf{(index * 7 + 3) % WORKFLOWS:03}"
    state = ("finished", "failed")[index % 2]
    tests = [
        comparison("eq", "type", kind),
        comparison("eq", "data.workflow", name),
        comparison("eq", "data.state", state),
    ]
    shape = index % 10
    if shape == 6:
        tests[1] = {"or": [tests[1], comparison("eq", "data.workflow", other)]}
    elif shape == 7:
        tests[2] = {"not": comparison("eq", "data.state", "failed")}
    elif shape == 8:
        tests[2] = comparison("ne", "data.source", "api")
    elif shape == 9:
        tests[2] = {"bool": {"var": "data.error"}}
    return {"and": tests}


def handwritten(index: int) -> Callable[[Mapping[str, Any]], bool]:
    """The same rule as `rule_expression(index)`, written as plain Python."""
    kind = WORKFLOW_STARTED if index % 5 == 4 else WORKFLOW_FINISHED
    name, other = f"wf{index % WORKFLOWS:03}", f"wf{(index * 7 + 3) % WORKFLOWS:03}"
    state = ("finished", "failed")[index % 2]
    shape = index % 10
    if shape == 6:
        return lambda e: (
            e["type"] == kind
            and e["data"]["workflow"] in (name, other)
            and e["data"]["state"] == state
        )
    if shape == 7:
        return lambda e: (
            e["type"] == kind and e["data"]["workflow"] == name and e["data"]["state"] != "failed"
        )
    if shape == 8:
        return lambda e: (
            e["type"] == kind and e["data"]["workflow"] == name and e["data"]["source"] != "api"
        )
    if shape == 9:
        return lambda e: (
            e["type"] == kind and e["data"]["workflow"] == name and bool(e["data"]["error"])
        )
    return lambda e: (
        e["type"] == kind and e["data"]["workflow"] == name and e["data"]["state"] == state
    )


def trigger_rule(index: int) -> TriggerRuleResource:
    return TriggerRuleResource.model_validate(
        {
            "kind": "trigger_rule",
            "metadata": {"name": f"rule{index:04}"},
            "spec": {
                "type": "condition",
                "rule": rule_expression(index),
                "action": {"target": "run_workflow", "parameters": {"workflow": "target_wf"}},
            },
        }
    )


def finished_event(index: int) -> Event:
    """A workflow_finished event as the compute service publishes it."""
    run = WorkflowRun(
        workflow=f"wf{index % WORKFLOWS:03}", source=("api", "trigger:x")[index % 3 == 0]
    )
    run.state, run.started_at = RunState.RUNNING, datetime.now(UTC)
    if index % 2:
        run.error = ErrorInfo(type="ValueError", message="the upstream data was empty")
        run.set_finished(("ValueError", "the upstream data was empty"), RunState.FAILED)
    else:
        run.set_finished({"rows": index, "city": "Oslo"})
    data = run.model_dump(mode="json", exclude={"stages"}, fallback=repr)
    return Event(type=WORKFLOW_FINISHED, source="flowdapt.compute", data=data)


def time_per_event(
    events: list[Event], samples: int, judge: Callable[[Json], list[Any]]
) -> list[float]:
    durations = []
    gc.collect()
    for index in range(samples):
        event = events[index % len(events)]
        began = time.perf_counter()
        judge(event.model_dump(mode="json"))
        durations.append(time.perf_counter() - began)
    return durations


def rule_evaluation(samples: int) -> None:
    resources = [trigger_rule(index) for index in range(1000)]
    rules = RuleSet()
    rules.load(resources, datetime.now(UTC))
    plain = [(resource, handwritten(index)) for index, resource in enumerate(resources)]
    events = [finished_event(index) for index in range(WORKFLOWS * 2)]

    def by_lambdas(event: Json) -> list[Any]:
        return [resource for resource, holds in plain if holds(event)]

    def by_evaluate(event: Json) -> list[Any]:
        return [resource for resource in resources if evaluate(resource.spec.rule, event)]

    for event in events:  # the three agree, and rules do match
        dumped = event.model_dump(mode="json")
        assert rules.matching(dumped) == by_lambdas(dumped) == by_evaluate(dumped)
    matched = statistics.mean(len(rules.matching(e.model_dump(mode="json"))) for e in events)
    compiled = time_per_event(events, samples, rules.matching)
    lambdas = time_per_event(events, samples, by_lambdas)
    recompiled = time_per_event(events, max(20, samples // 20), by_evaluate)
    p50, p95, raw = (
        statistics.median(compiled),
        percentile(compiled, 95),
        statistics.median(lambdas),
    )
    print(f"{'':<46} (1,000 condition rules, {matched:.1f} matching per event on average)")
    report(
        "rule evaluation, 1,000 rules: per event p50",
        ms(p50, 3),
        "<= 5 ms",
        p50 <= 0.005,
        f"lambdas {ms(raw, 3)}",
    )
    report(
        "rule evaluation, 1,000 rules: per event p95",
        ms(p95, 3),
        "<= 5 ms",
        p95 <= 0.005,
        f"lambdas {ms(percentile(lambdas, 95), 3)}",
    )
    report("  ratio to hand-written lambdas (p50)", f"{p50 / raw:.2f}x", "(no goal)", None)
    slow = statistics.median(recompiled)
    report(
        "  same rules with evaluate (compiled per call)",
        ms(slow, 3),
        "(no goal)",
        None,
        f"{slow / p50:.1f}x RuleSet",
    )


# --- 3. cron accuracy ---------------------------------------------------------------------------


def schedule_resources() -> list[tuple[str, Json]]:
    rule = {
        "kind": "trigger_rule",
        "metadata": {"name": SCHEDULE_RULE},
        "spec": {
            "type": "schedule",
            "rule": ["* * * * *"],
            "action": {"target": "run_workflow", "parameters": {"workflow": "tick"}},
        },
    }
    return [("/workflows/", workflow("tick")), ("/triggers/", rule)]


def started_firings(client: httpx.Client, count: int) -> list[Json] | None:
    firings = client.get(f"/triggers/{SCHEDULE_RULE}/firings").json()
    done = [f for f in firings if f["state"] == "started" and f["run"]]
    if len(done) < count:
        return None
    runs = {r["name"]: r for r in client.get("/workflows/tick/run", params={"limit": 100}).json()}
    final = [f for f in done if runs.get(f["run"], {}).get("state") in ("finished", "failed")]
    if len(final) < count:
        return None
    return [{**f, "started_at": runs[f["run"]]["started_at"]} for f in final]


def cron_accuracy(app_dir: Path, boundaries: int) -> None:
    server = ServerProcess(app_dir)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for path, document in schedule_resources():
                create(client, path, document)
            now = datetime.now(UTC)
            until = now.replace(second=0, microsecond=0) + timedelta(minutes=boundaries)
            wait = (until - now).total_seconds()
            print(
                f"{'':<46} (waiting for {boundaries} minute boundar"
                f"{'y' if boundaries == 1 else 'ies'}, until {until:%H:%M:%S} UTC, ~{wait:.0f} s)",
                flush=True,
            )
            firings = wait_for(
                lambda: started_firings(client, boundaries), wait + 75, "cron firings", 0.5
            )
    finally:
        server.stop()
    delays, fires = [], []
    for firing in reversed(firings[:boundaries]):  # oldest first
        instant = stamp(firing["key"].removeprefix("schedule:"))
        if instant.second or instant.microsecond:
            raise RuntimeError(f"not a minute boundary: {firing}")
        delays.append((stamp(firing["started_at"]) - instant).total_seconds())
        fires.append((stamp(firing["fired_at"]) - instant).total_seconds())
    worst = max(delays, key=abs)
    each = ", ".join(f"{delay * 1e3:.1f}" for delay in delays)
    report(
        "cron * * * * *: run started after the minute",
        ms(worst, 1),
        "<= 1 s",
        abs(worst) <= 1.0,
        f"each {each} ms",
    )
    report("  scheduler fired after the minute (max)", ms(max(fires), 1), "(no goal)", None)


def main(quick: bool, rabbitmq: bool, cron: bool) -> None:
    print(
        f"flowdapt triggers benchmark - {datetime.now(UTC):%Y-%m-%d %H:%M} UTC - "
        f"{platform.python_implementation()} {platform.python_version()} - "
        f"{os.cpu_count()} CPUs - {platform.machine()} - embedded defaults (SQLite, threads)",
        flush=True,
    )
    runs = 30 if quick else 200
    rule_evaluation(300 if quick else 3000)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        memory = Bus("memory", (), 0.005, 0.015)
        trigger_latency(workdir / "memory", memory, runs, 2.0 if quick else 5.0)
        if rabbitmq:
            rabbitmq_latency(workdir / "rabbitmq", runs)
        if cron:
            cron_accuracy(workdir / "cron", 1 if quick else 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples, one cron firing")
    parser.add_argument("--skip-rabbitmq", action="store_true", help="no broker on this machine")
    parser.add_argument("--skip-cron", action="store_true", help="do not wait for the minute")
    args = parser.parse_args()
    main(args.quick, not args.skip_rabbitmq, not args.skip_cron)

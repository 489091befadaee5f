"""Property: any DAG runs every stage once, after all of its dependencies, with their results."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdapt.compute.executor.local import LocalExecutor
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.runs import RunState, StageState
from tests.conftest import workflow


def collect(name):
    def stage(*upstream):
        return (name, tuple(upstream))

    return stage


@st.composite
def dags(draw):
    count = draw(st.integers(min_value=1, max_value=10))
    names = [f"s{i}" for i in range(count)]
    stages = []
    for index, name in enumerate(names):
        deps = draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
        stages.append({"name": name, "target": collect(name), "depends_on": deps})
    return draw(st.permutations(stages))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dags_run_in_topological_order(stages):
    async def run_it():
        async with LocalExecutor(use_processes=False, threads=4) as executor:
            return await execute_workflow(workflow(*stages), executor=executor)

    run = asyncio.run(run_it())
    assert run.state is RunState.FINISHED
    by_name = {stage["name"]: stage for stage in stages}
    for record in run.stages:
        assert record.state is StageState.FINISHED
        for dependency in by_name[record.name]["depends_on"]:
            assert run.stage(dependency).finished_at <= record.started_at
    sinks = [s["name"] for s in stages if not any(s["name"] in o["depends_on"] for o in stages)]
    results = run.result if len(sinks) > 1 else {sinks[0]: run.result}
    assert list(results) == sinks

    def expected(name):
        return (name, tuple(expected(dep) for dep in by_name[name]["depends_on"]))

    for sink, value in results.items():
        assert value == expected(sink)

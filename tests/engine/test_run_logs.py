"""What stages log and print is captured per stage and item, on every executor."""

from __future__ import annotations

from typing import Any

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, StageRun, WorkflowRun
from flowdapt.engine import log_capture
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import WorkflowRunner
from tests.conftest import workflow

L = "tests.resources.log_stages"


class Collect:
    def __init__(self) -> None:
        self.lines: list[tuple[str, Any, str, str, str]] = []
        self.dropped = 0

    def run_changed(self, run: WorkflowRun) -> None:
        pass

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        pass

    def stage_logs(self, run: WorkflowRun, stage: StageRun, lines: list, dropped: int) -> None:
        self.lines += [(stage.name, x.position, x.level, x.source, x.message) for x in lines]
        self.dropped += dropped


async def _run(definition: dict, executor: Any, input: dict) -> tuple[WorkflowRun, Collect]:
    collect = Collect()
    resource = WorkflowResource.model_validate({**definition, "kind": "workflow"})
    runner = WorkflowRunner(
        WorkflowGraph.build(resource), executor, WorkflowRun(workflow="w"), input=input,
        observer=collect,
    )  # fmt: skip
    return await runner.run(), collect


async def test_prints_and_log_records_are_captured_by_stage_and_item(executor):
    definition = workflow(
        {"name": "greet", "target": f"{L}.greet"},
        {"name": "shout", "target": f"{L}.shout", "type": "parameterized", "map_on": "items",
         "depends_on": ["greet"], "options": {"batch_size": 2}},
        {"name": "whisper", "target": f"{L}.whisper", "type": "parameterized",
         "map_on": "items"},
    )  # fmt: skip
    run, collect = await _run(definition, executor, {"name": "Oslo", "items": [0, 1, 2]})
    assert run.state is RunState.FINISHED, run.result
    lines = set(collect.lines)
    assert ("greet", None, "INFO", "stdout", "hello Oslo") in lines
    assert ("greet", None, "INFO", "log", "greeted Oslo") in lines
    for item in (0, 1, 2):  # the item's index in the fan-out, across batches
        stream, level = ("stderr", "ERROR") if item % 2 else ("stdout", "INFO")
        assert ("shout", item, level, stream, f"item {item} for Oslo") in lines
        assert ("shout", item, "WARNING", "log", f"warning from item {item}") in lines
        assert ("whisper", item, "INFO", "log", f"async item {item}") in lines
    assert len(collect.lines) == 11  # nothing from elsewhere, nothing twice


async def test_a_stage_that_prints_megabytes_is_capped_in_its_worker(executor):
    definition = workflow({"name": "flood", "target": f"{L}.flood"})
    run, collect = await _run(definition, executor, {"megabytes": 3})
    assert run.state is RunState.FINISHED
    kept = sum(len(line[4]) for line in collect.lines)
    assert kept <= log_capture.MAX_BYTES
    assert len(collect.lines) + collect.dropped == 3 * 1024  # every line counted


async def test_a_failing_stage_leaves_its_output_and_the_error_in_the_log(executor):
    run, collect = await _run(
        workflow({"name": "fail", "target": f"{L}.fail_loudly"}), executor, {}
    )
    assert run.state is RunState.FAILED
    assert ("fail", None, "INFO", "stdout", "about to fail") in collect.lines
    error = [line for line in collect.lines if line[2] == "ERROR"]
    assert len(error) == 1 and error[0][4].startswith(
        "stage 'fail' failed: RuntimeError: stage broke"
    )
    assert "Traceback" in error[0][4]

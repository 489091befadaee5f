"""Run the example nowcast workflow in this process and print what happens.

make run        (or: python -m flowdapt.examples.hello)
"""

from __future__ import annotations

import asyncio
from importlib.resources import files

from flowdapt.domain.documents import load_resources
from flowdapt.domain.resources import ConfigResource, WorkflowResource
from flowdapt.domain.runs import StageRun, WorkflowRun
from flowdapt.engine.config_selection import resolve_config
from flowdapt.execute import execute_workflow
from flowdapt.executors.local import LocalExecutor


class PrintProgress:
    """A run observer that prints each stage as it finishes."""

    def run_changed(self, run: WorkflowRun) -> None:
        print(f"run {run.name}: {run.state.value}")

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        if stage.finished_at is None:
            return
        items = "" if stage.items_total is None else f" ({stage.items_done}/{stage.items_total})"
        print(
            f"  {stage.name:<18} {stage.state.value:<9} {1000 * (stage.duration or 0):7.1f} ms"
            f"{items}"
        )


async def main() -> None:
    resources = load_resources(files("flowdapt.examples").joinpath("nowcast.yaml").read_text())
    workflow = next(r for r in resources if isinstance(r, WorkflowResource))
    configs = [r for r in resources if isinstance(r, ConfigResource)]
    config = resolve_config(workflow, configs)
    async with LocalExecutor(use_processes=False) as executor:
        run = await execute_workflow(
            workflow, executor=executor, config=config, observer=PrintProgress()
        )
    print("next-hour temperatures (°C):")
    for city, value in run.result.items():
        print(f"  {city:<10} {value:6.2f}")


if __name__ == "__main__":
    asyncio.run(main())

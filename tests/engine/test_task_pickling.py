"""How a fan-out's batches travel to workers: the run's context is pickled once for all of them,
and a worker that receives several batches of it unpickles it once."""

from __future__ import annotations

import cloudpickle

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import WorkflowRun
from flowdapt.engine.calling import plan_call
from flowdapt.engine.context import WorkflowRunContext
from flowdapt.engine.task import PickledOnce, StageTask
from tests.conftest import workflow


def double(x: int) -> int:
    return 2 * x


def _context(items: list[int]) -> WorkflowRunContext:
    resource = WorkflowResource.model_validate(
        workflow({"name": "s", "target": double, "type": "parameterized", "map_on": "x"})
    )
    return WorkflowRunContext(
        executor="local", run=WorkflowRun(workflow="w"), definition=resource, input={"x": items}
    )


def _batches(context: WorkflowRunContext, shared: PickledOnce | None) -> list[StageTask]:
    plan = plan_call(double, stage="s", per_item=True)
    items = context.input["x"]
    return [
        StageTask("s", plan, context, items[start : start + 10], shared_context=shared)
        for start in range(0, len(items), 10)
    ]


def test_batches_share_one_pickled_context_and_a_worker_unpickles_it_once():
    context = _context(list(range(40)))
    shared = PickledOnce(context)
    sent = [cloudpickle.dumps(task) for task in _batches(context, shared)]
    received = [cloudpickle.loads(data) for data in sent]
    assert received[0].context == context
    assert all(task.context is received[0].context for task in received)
    assert [task().values for task in received][1] == [2 * x for x in range(10, 20)]
    assert shared.data() is shared.data()  # pickled once


def test_without_a_shared_context_each_batch_carries_its_own():
    context = _context(list(range(20)))
    received = [cloudpickle.loads(cloudpickle.dumps(t)) for t in _batches(context, None)]
    assert received[0].context == received[1].context
    assert received[0].context is not received[1].context


def test_another_runs_context_is_never_taken_for_this_one():
    first, second = _context([1, 2]), _context([3, 4])
    one = cloudpickle.loads(cloudpickle.dumps(_batches(first, PickledOnce(first))[0]))
    two = cloudpickle.loads(cloudpickle.dumps(_batches(second, PickledOnce(second))[0]))
    assert (one.context.input, two.context.input) == ({"x": [1, 2]}, {"x": [3, 4]})

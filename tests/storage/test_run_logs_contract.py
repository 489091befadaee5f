"""The run-log half of the storage contract, on every backend: lines in seq order, pages by run
and by stage, following from a seq, and lines of deleted runs swept away."""

from __future__ import annotations

import uuid

from flowdapt.domain.run_logs import LogLine
from flowdapt.domain.runs import WorkflowRun
from flowdapt.storage import Storage
from tests.storage.samples import at


def lines(first: int, count: int, stage: str | None = "s", **fields: object) -> list[LogLine]:
    return [
        LogLine.model_validate(
            {"seq": seq, "time": at(seq), "level": "INFO", "stage": stage,
             "message": f"line {seq}", **fields}
        )
        for seq in range(first, first + count)
    ]  # fmt: skip


async def test_lines_come_back_in_order_in_pages(storage: Storage) -> None:
    run = uuid.uuid4()
    await storage.logs.append(run, lines(0, 3))
    await storage.logs.append(run, lines(3, 4, stage="other", item=2, source="stdout"))
    await storage.logs.append(uuid.uuid4(), lines(0, 5))  # another run's
    total, page = await storage.logs.page(run, offset=2, limit=3)
    assert total == 7
    assert [line.seq for line in page] == [2, 3, 4]
    assert page[1] == lines(3, 1, stage="other", item=2, source="stdout")[0]  # every field kept
    assert page[1].time == at(3)
    total, page = await storage.logs.page(run, stage="other", limit=None)
    assert (total, [line.seq for line in page]) == (4, [3, 4, 5, 6])
    assert await storage.logs.page(uuid.uuid4()) == (0, [])


async def test_following_reads_what_came_after_a_seq(storage: Storage) -> None:
    run = uuid.uuid4()
    await storage.logs.append(run, lines(0, 5))
    assert [line.seq for line in await storage.logs.after(run, 2)] == [3, 4]
    assert [line.seq for line in await storage.logs.after(run, -1, limit=2)] == [0, 1]
    assert await storage.logs.after(run, 4) == []
    assert await storage.logs.after(run, 0, stage="nothing") == []


async def test_the_lines_of_deleted_runs_are_swept(storage: Storage) -> None:
    kept = await storage.runs.create(WorkflowRun(workflow="w"))
    gone = await storage.runs.create(WorkflowRun(workflow="w"))
    await storage.logs.append(kept.uid, lines(0, 2))
    await storage.logs.append(gone.uid, lines(0, 3))
    await storage.runs.delete(str(gone.uid))
    assert await storage.logs.delete_orphans() == 3
    assert (await storage.logs.page(gone.uid))[0] == 0
    assert (await storage.logs.page(kept.uid))[0] == 2
    assert await storage.logs.delete_orphans() == 0

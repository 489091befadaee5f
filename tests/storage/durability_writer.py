"""Child process for the durability tests: writes until killed, acknowledging each write.

    python durability_writer.py sqlite|tinydb PATH

After each write returns it prints the workflow's number, so the parent knows what was
acknowledged when it sends SIGKILL.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

from flowdapt.domain.runs import WorkflowRun
from flowdapt.storage import SQLStorage, Storage, TinyDBStorage
from tests.storage.samples import workflow


async def write_forever(backend: str, path: str) -> None:
    storage: Storage = (
        SQLStorage(f"sqlite+aiosqlite:///{path}") if backend == "sqlite" else TinyDBStorage(path)
    )
    await storage.start()
    for number in itertools.count():
        await storage.workflows.create(workflow(f"w{number}"))
        await storage.runs.create(WorkflowRun(workflow=f"w{number}", name=f"r{number}"))
        print(number, flush=True)


if __name__ == "__main__":
    asyncio.run(write_forever(sys.argv[1], sys.argv[2]))

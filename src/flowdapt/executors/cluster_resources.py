"""Stage resources against what a cluster's machines declare: shared by Dask and Ray.

Both engines keep a task that asks for a resource no machine declares waiting for ever, and one
that asks for more than any machine has as well. So a resource nobody declares is dropped
(logged once per executor: the stage runs as it would on the LocalExecutor), and more than the
largest machine has is an ExecutorError at once.

    needs = resource_needs(placement, memory_name="MEMORY")     # {"CPU": 1.0, "MEMORY": 1e9}
    wanted = fit_to_cluster("train", needs, machines, dropped, "Dask worker")
"""

from __future__ import annotations

import logging

from flowdapt.domain.errors import ExecutorError
from flowdapt.engine.executor import Placement

logger = logging.getLogger(__name__)


def resource_needs(placement: Placement, *, memory_name: str) -> dict[str, float]:
    """The stage's resources by the engine's names (``CPU``, ``GPU``, `memory_name`, custom)."""
    resources = placement.resources
    needs = {
        "CPU": resources.cpus,
        "GPU": resources.gpus,
        memory_name: None if resources.memory is None else float(resources.memory),
        **resources.custom,
    }
    return {name: amount for name, amount in needs.items() if amount}


def fit_to_cluster(
    stage: str,
    needs: dict[str, float],
    machines: list[dict[str, float]],
    dropped: set[str],
    machine: str,
) -> dict[str, float]:
    """The `needs` some machine declares; ExecutorError for more than the largest one has.

    `dropped` collects the names already warned about; `machine` names one ("Ray node").
    """
    wanted: dict[str, float] = {}
    for name, amount in needs.items():
        capacities = [declared[name] for declared in machines if name in declared]
        if not capacities:
            if name not in dropped:
                dropped.add(name)
                logger.warning(
                    "stage %r asks for resource %s=%g, which no %s declares; ignored",
                    stage,
                    name,
                    amount,
                    machine,
                )
            continue
        if amount > max(capacities):
            raise ExecutorError(
                f"stage {stage!r} asks for {name}={amount:g}, but no {machine} has that much "
                f"(largest: {max(capacities):g})"
            )
        wanted[name] = amount
    return wanted

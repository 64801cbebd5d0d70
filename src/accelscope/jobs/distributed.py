"""A distributed ``bench``: measure a training step on several processes and store the run
(kind ``distributed``: one point with the world layout, per-rank medians and E(N))."""

from __future__ import annotations

from typing import Any

from accelscope.measure.distributed import DistributedResult, bench_distributed as measure
from accelscope.measure.environment import collect_environment
from accelscope.workload.spec import WorkloadSpec


def bench_distributed(spec: WorkloadSpec, *, store=None, command: str = "", **options: Any
                      ) -> tuple[DistributedResult, int | None]:
    """(result, run id or None): :func:`accelscope.measure.distributed.bench_distributed`,
    stored in ``store`` when one is given."""
    result = measure(spec, **options)
    if store is None:
        return result, None
    d = result.to_dict()
    run_id = store.add_run(kind="distributed", record=d, status="ok" if result.step_time_s else "failed",
                           config={"spec": spec.to_dict(), "world": d["world"]},
                           environment=collect_environment().to_dict(), command=command,
                           label=f"{result.strategy} x{result.world_size}", model=spec.model, device=result.device,
                           task=spec.task, batch_size=spec.batch_size, precision=spec.precision,
                           time_s=result.step_time_s, throughput_samples_per_s=result.throughput_samples_per_s)
    return result, run_id

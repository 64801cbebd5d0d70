"""``bench-comm``: measure collectives through the launcher and store the run (points of kind
``collective`` per op and size, ``collective_fit`` per op's alpha-beta fit)."""

from __future__ import annotations

from typing import Any

from accelscope.measure.comm import OPS, CommResult, bench_comm as measure_comm
from accelscope.measure.environment import collect_environment


def bench_comm(*, store=None, command: str = "", **options: Any) -> tuple[CommResult, int | None]:
    """Run :func:`accelscope.measure.comm.bench_comm` with ``options`` and store the result in
    ``store`` (a :class:`~accelscope.store.Store`, or None): (result, run id or None)."""
    result = measure_comm(**options)
    if store is None or not result.points:
        return result, None
    config = {"ops": list(options.get("ops", OPS)), "max_bytes": options.get("max_bytes"),
              "world": {"nnodes": result.nnodes, "nproc_per_node": result.nproc_per_node,
                        "world_size": result.world_size, "backend": result.backend, "device": result.device}}
    with store.recording(kind="comm", config=config, environment=collect_environment().to_dict(),
                         command=command, label=f"{result.backend} x{result.world_size}",
                         planned=len(result.points) + len(result.fits)) as run_id:
        for p in result.points:
            store.add_point(run_id, kind="collective", record=p.to_dict(), status="ok" if p.time_s else "failed",
                            device=result.device, task=p.op, time_s=p.time_s)
        for f in result.fits:
            store.add_point(run_id, kind="collective_fit", record=f.to_dict(), status="ok", device=result.device,
                            task=f.op, time_s=f.alpha_s)
    return result, run_id

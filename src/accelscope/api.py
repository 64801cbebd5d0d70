"""The public API: one function per job a user runs, keyword arguments, a documented result.

Every workload argument is a :class:`~accelscope.workload.spec.WorkloadSpec` or a model name
with the spec's fields as keyword arguments (``task``, ``batch_size``, ``seq_len``,
``image_size``, ``precision``, ``optimizer``, ``channels_last``, ``input_shape``,
``input_dtype``, ``inputs``). A ``store`` is a :class:`~accelscope.store.Store`, a path to
one, or ``None`` (the default store where the job keeps results; no store where it only reads).
Importing this module imports no torch: each function loads what it needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelscope.hardware.catalog import list_hardware, load_hardware
from accelscope.workload.spec import WorkloadSpec

if TYPE_CHECKING:
    from accelscope.store.db import Store
    from accelscope.cost import Assumptions, Priced
    from accelscope.jobs.calibrate import CalibrationResult, CommCalibrationResult
    from accelscope.jobs.explore import ExploreResult
    from accelscope.jobs.advise import Advice, Constraints
    from accelscope.jobs.job import JobAssumptions, JobResult
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import Prediction
    from accelscope.jobs.report import ReportResult
    from accelscope.jobs.simulate import DseJobResult, SimulationResult
    from accelscope.measure.bench import BenchRun
    from accelscope.measure.comm import CommResult
    from accelscope.models.systolic.dse import DesignSpace
    from accelscope.workload.profile import Profile

__all__ = ["Store", "WorkloadSpec", "advise", "bench", "bench_comm", "calibrate", "calibrate_comm", "dse", "explore",
           "fpga_estimate", "job", "write_report",
           "list_hardware", "load_hardware", "predict", "profile", "simulate"]


@contextlib.contextmanager
def _store(store: "Store | str | Path | None", *, default: bool) -> Iterator[Store | None]:
    """A Store for ``store`` (opened here and closed after when given as a path; the default
    store when ``default`` and none is given)."""
    if store is not None and not isinstance(store, (str, Path)):  # an open Store
        yield store
        return
    if store is None and not default:
        yield None
        return
    from accelscope.store.db import Store  # SQLAlchemy: imported only by what uses a store

    db = Store(store)
    try:
        yield db
    finally:
        db.close()


def profile(model: "str | WorkloadSpec", *, cache: bool = True, **workload: Any) -> "Profile":
    """Count the FLOPs and bytes of every op of one inference pass or training step, on fake
    tensors (nothing is allocated). Returns a :class:`~accelscope.workload.profile.Profile`:
    ``flops``, ``flops_by_phase``, ``memory_bytes``, ``ops``, ``uncovered_ops``, ...
    Zoo and torchvision profiles are cached on disk (``cache=False`` traces anew)."""
    from accelscope.workload import profile as trace_profile

    return trace_profile(model, cache=cache, **workload)


def bench(model: "str | WorkloadSpec", *, devices: "str | Sequence[str]" = "cpu",
          tasks: "str | Sequence[str] | None" = None, batch_sizes: Sequence[int] | None = None,
          precisions: "str | Sequence[str] | None" = None, compile: bool = False, threads: int | None = None,
          max_time_s: float = 10.0, store: "Store | str | Path | None" = None,
          progress: Callable | None = None, **workload: Any) -> "BenchRun":
    """Measure the workload for real on local devices (``cpu``, ``cuda``, ``cuda:N``, ``mps``,
    ``null``, ``auto``), sweeping ``tasks`` x ``batch_sizes`` x ``precisions`` (default: the
    spec's own). Returns a :class:`~accelscope.measure.bench.BenchRun` whose ``measurements``
    hold step-time statistics, throughput, speedup vs the CPU, energy and peak memory. Results
    are stored only when ``store`` is given."""
    from accelscope.measure.bench import bench as run_bench

    with _store(store, default=False) as db:
        return run_bench(model, devices=devices, tasks=tasks, batch_sizes=batch_sizes, precisions=precisions,
                         compile=compile, threads=threads, max_time_s=max_time_s, store=db,
                         progress=progress, **workload)


def bench_comm(*, nproc_per_node: int = 2, nnodes: int = 1, node_rank: int = 0, rdzv_endpoint: str | None = None,
               ops: Sequence[str] | None = None, max_bytes: int | None = None, device: str = "cpu",
               store: "Store | str | Path | None" = None) -> "CommResult":
    """Measure all_reduce, all_gather, reduce_scatter, all_to_all and broadcast on
    ``nnodes x nproc_per_node`` processes launched through torch.distributed's launcher
    (gloo on CPUs, NCCL on CUDA): time, algbw and busbw per size (nccl-tests' definitions) and
    an alpha-beta fit per op. Stored as a ``comm`` run (default: not stored). Returns an
    :class:`~accelscope.measure.comm.CommResult`."""
    from accelscope.jobs.comm import bench_comm as run_comm
    from accelscope.measure.comm import OPS

    opts = dict(nproc_per_node=nproc_per_node, nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint,
                ops=tuple(ops or OPS), max_bytes=max_bytes, device=device)
    with _store(store, default=False) as db:
        return run_comm(store=db, **opts)[0]


def predict(model: "str | WorkloadSpec", *, hardware: "str | Sequence[str] | None" = None,
            kind: "str | Sequence[str] | None" = None, hardware_paths: Sequence[str | Path] | None = None,
            store: "Store | str | Path | None" = None, calibrated: bool = True,
            assumptions: "Assumptions | None" = None, cache: bool = True, host_cpu: str | None = None,
            parallel: "Parallel | None" = None, serving: "dict | None" = None,
            progress: "Callable[[int, int, str], None] | None" = None, **workload: Any) -> "Prediction":
    """Predict the workload on catalog hardware (names, ``.toml`` design files, or every entry
    of a ``kind``; all of the catalog when neither is given), timed by each entry's
    performance model and priced. ``precision`` defaults to ``auto`` (each device in the
    precision a practitioner would use there). Stored calibrations (``calibrate``) are used
    unless ``calibrated=False``. ``host_cpu`` drives every GPU from that system or host CPU
    (``accelscope hardware hosts``) instead of the one its file names; ``mode`` (a workload
    option: eager, cuda-graphs, compile) says how the step runs. Returns a
    :class:`~accelscope.jobs.predict.Prediction`: ``results`` (:class:`~accelscope.cost.Priced`,
    fastest first) and ``unavailable``. ``parallel`` (a :class:`~accelscope.jobs.parallel.Parallel`,
    or a dict of its fields: ``devices``, ``system``, ``parallel="dp=8,tp=8"``, ``zero``,
    ``micro_batch``, ``global_batch``, ``recompute``, ``schedule``, ``search``) predicts one
    training iteration on that many devices; ``searches`` then holds the ranked layouts. A
    ``task="serve"`` workload (``input_tokens``, ``output_tokens``, ``batch_size`` or
    ``concurrency``) is predicted as a prefill and decode steps; ``serving`` (a
    :class:`~accelscope.jobs.serving.Serving` or a dict of ``devices``, ``system``,
    ``ttft_slo_s``, ``tpot_slo_s``) spreads it over devices or searches the latency targets.
    ``progress(done, total, what)`` follows a layout search."""
    from accelscope.jobs.predict import predict as run_predict

    calibrations = None if calibrated else {}
    with _store(store, default=False) as db:
        if isinstance(parallel, dict):
            from accelscope.jobs.parallel import Parallel

            parallel = Parallel(**parallel)
        if isinstance(serving, dict):
            from accelscope.jobs.serving import Serving

            serving = Serving(**serving)
        return run_predict(model, hardware=hardware, kind=kind, hardware_paths=hardware_paths, host_cpu=host_cpu,
                           calibrations=calibrations, store=db, assumptions=assumptions, cache=cache,
                           parallel=parallel, serving=serving, progress=progress, **workload)


def explore(workloads: "Sequence[str | WorkloadSpec] | None" = None, *, devices: str = "auto",
            kinds: Sequence[str] | None = None, hardware_paths: Sequence[str | Path] | None = None,
            max_time_s: float = 6.0, store: "Store | str | Path | None" = None,
            progress: Callable[[int, int, str], None] | None = None, host_cpu: str | None = None,
            vs_cpu: str | None = None) -> "ExploreResult":
    """The main job: measure the workloads on this machine's devices, predict every catalog
    device, rank them per workload (speedup vs the local CPU, J and $ per sample, memory fit).
    ``workloads`` default to a built-in set that runs in under a minute on a laptop CPU.
    ``vs_cpu`` (a catalog CPU) adds each device's predicted speedup over that CPU;
    ``progress(done, total, what)`` follows the work. Everything is stored (``store``, default: the default store). Returns an
    :class:`~accelscope.jobs.explore.ExploreResult`."""
    from accelscope.jobs.explore import DEFAULT_WORKLOADS
    from accelscope.jobs.explore import explore as run_explore

    with _store(store, default=True) as db:
        return run_explore(workloads or DEFAULT_WORKLOADS, devices=devices, kinds=kinds,
                           hardware_paths=hardware_paths, max_time_s=max_time_s, store=db, progress=progress,
                           host_cpu=host_cpu, vs_cpu=vs_cpu)


def calibrate(device: str = "cpu", *, hardware: str | None = None,
              store: "Store | str | Path | None" = None) -> "CalibrationResult":
    """Fit ``device``'s roofline parameters to its measurements in the store and keep the fit
    (later ``predict`` and ``explore`` calls use it). Returns a
    :class:`~accelscope.jobs.calibrate.CalibrationResult`."""
    from accelscope.jobs.calibrate import calibrate as run_calibrate

    with _store(store, default=True) as db:
        return run_calibrate(device, hardware=hardware, store=db)


def calibrate_comm(system: str, *, run: "str | int | None" = None,
                   store: "Store | str | Path | None" = None) -> "CommCalibrationResult":
    """Calibrate ``system``'s link (intra-node from a one-node run, else its network) from the
    all-reduce fit of a stored ``bench-comm`` run (default: the newest) and keep it: later
    ``predict(..., parallel=...)`` calls on that system use it. Returns a
    :class:`~accelscope.jobs.calibrate.CommCalibrationResult`."""
    from accelscope.jobs.calibrate import calibrate_comm as run_calibrate_comm

    with _store(store, default=True) as db:
        return run_calibrate_comm(system, run=run, store=db)


def job(model: "str | WorkloadSpec", *, hardware: str, devices: int = 1, train_tokens: float | None = None,
        train_samples: float | None = None, epochs: float = 1.0, requests_per_s: float | None = None,
        duration_s: float = 365 * 86400, assumptions: "JobAssumptions | None" = None,
        **options: Any) -> "JobResult":
    """A whole job on each ``hardware`` entry: a training run (``train_tokens`` or
    ``train_samples`` x ``epochs`` on ``devices`` devices, layout options as ``predict``'s
    ``parallel``) or, for ``task="serve"`` (a decoder's requests) or ``task="infer"`` with
    ``requests_per_s`` (an inference fleet), that load for ``duration_s`` (``devices`` per
    replica): wall time, device-hours, energy, carbon and dollars per option — every cloud
    offering, the purchase, a custom design's build (:class:`~accelscope.jobs.job.JobResult`;
    assumptions, region and build costs: :class:`~accelscope.jobs.job.JobAssumptions`)."""
    from accelscope.jobs.job import whole_job

    return whole_job(model, hardware=hardware, devices=devices, train_tokens=train_tokens,
                     train_samples=train_samples, epochs=epochs, requests_per_s=requests_per_s,
                     duration_s=duration_s, assumptions=assumptions, **options)


def advise(model: "str | WorkloadSpec", *, hardware: str, devices: "int | Sequence[int]" = 1,
           constraints: "Constraints | None" = None, assumptions: "JobAssumptions | None" = None,
           **job_options: Any) -> "Advice":
    """Rank the ways to run a job (:func:`job`'s options at each of ``devices``) by cost within
    ``constraints`` (:class:`~accelscope.jobs.advise.Constraints`: ``budget_usd``,
    ``deadline_s``, ``max_tco2e``); name the binding constraint and what would change the
    ranking (:class:`~accelscope.jobs.advise.Advice`)."""
    from accelscope.jobs.advise import Constraints
    from accelscope.jobs.advise import advise as run_advise
    from accelscope.jobs.job import JobAssumptions

    a = assumptions or JobAssumptions()
    counts = [devices] if isinstance(devices, int) else list(devices)
    results = [job(model, hardware=hardware, devices=n, assumptions=a, **dict(job_options)) for n in counts]
    return run_advise(results, constraints=constraints or Constraints(), assumptions=a)


def simulate(model: "str | WorkloadSpec | None" = None, **options: Any) -> "SimulationResult":
    """Cycle-exact systolic-array simulation (SCALE-Sim 3.0.0's model) of a model or a SCALE-Sim
    topology, with energy and area. Options: ``config``, ``topology``, ``topology_kind``,
    ``preset``, ``hardware``, ``array`` ("128x128"), ``dataflow``, ``sram_kib``, ``clock_hz``,
    ``word_bytes``, ``node_nm``, ``out`` (a directory for SCALE-Sim's report CSVs),
    ``save_design_path`` (a hardware file ``predict`` takes), and workload options. Returns a
    :class:`~accelscope.jobs.simulate.SimulationResult` (``.result``: the NetworkResult)."""
    from accelscope.jobs.simulate import simulate as run_simulate

    return run_simulate(model, **options)


def dse(model: "str | WorkloadSpec | None" = None, *, space: "DesignSpace | None" = None,
        **options: Any) -> "DseJobResult":
    """Design-space exploration of systolic arrays for a workload: latency, energy and area
    over a :class:`~accelscope.models.systolic.dse.DesignSpace`, and their Pareto front.
    ``save_design_path`` with ``pick`` (fastest, lowest-energy, smallest) saves a front point
    as a hardware file."""
    from accelscope.jobs.simulate import dse as run_dse

    return run_dse(model, space=space, **options)


def fpga_estimate(model: "str | WorkloadSpec", *, device: str, **options: Any) -> "Priced":
    """An FPGA design for a model (or a layer-list file) on a catalog FPGA, without synthesis:
    FINN/hls4ml dataflow or a DPU overlay, its latency, frame rate, resources and energy.
    Returns a :class:`~accelscope.cost.Priced` (``.estimate.parameters`` has the design)."""
    from accelscope.jobs.fpga import fpga

    return fpga(model, device=device, **options)


def write_report(out: str | Path = "report.html", runs: "Sequence[str | int] | None" = None, *,
           store: "Store | str | Path | None" = None, png: str | Path | None = None, svg: str | Path | None = None,
           force: bool = False, title: str | None = None) -> "ReportResult":
    """Write the interactive HTML report of stored ``runs`` (default: the latest explore, with
    its measurements and profiled ops) to ``out``: one self-contained file. ``png`` / ``svg``:
    also every chart as an image in that directory (matplotlib). Returns a
    :class:`~accelscope.jobs.report.ReportResult` (path, runs, number of charts, images).
    (Named ``write_report``: ``accelscope.report`` is the rendering package.)"""
    from accelscope.jobs.report import write_report as write

    with _store(store, default=True) as db:
        return write(db, out, runs, png=png, svg=svg, force=force, title=title)


def __getattr__(name: str) -> Any:
    if name == "Store":  # the results database, imported on first use (it brings SQLAlchemy)
        from accelscope.store.db import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

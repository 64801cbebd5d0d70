"""Run a Workload for real on devices: a sweep of (task, batch size, device, precision) points.

For each point the runner builds the model on the device, makes one step function
(inference: eval mode under ``torch.inference_mode``; training: forward, loss, backward,
optimizer step, ``zero_grad``), times it with :func:`accelscope.measure.timer.time_step`,
reads energy over a window of at least a second and the peak memory, and returns a
:class:`Measurement`. A point that fails (out of memory, a dtype the device lacks, a
shape error) becomes a failed Measurement with the reason, and the sweep goes on.

Precisions (``accelscope.workload.PRECISIONS``):

* ``fp32``: float32, with TensorFloat-32 *off* for matmuls and cuDNN convolutions (PyTorch
  turns it on for convolutions by default, which would make "fp32" partly tf32).
* ``tf32``: float32 tensors, TF32 allowed for matmuls and convolutions
  (``allow_tf32`` flags and ``set_float32_matmul_precision("high")``); no effect on CPUs.
* ``bf16`` / ``fp16``: the model and floating-point inputs cast to that dtype.
* ``amp-bf16`` / ``amp-fp16``: float32 weights under ``torch.autocast``; ``amp-fp16``
  training adds ``torch.amp.GradScaler`` (scale, unscale/inf-check, update).

The optimizer is AdamW (lr 1e-4, weight decay 0.01) or SGD (lr 0.01, momentum 0.9) with
PyTorch's default implementation for the device (the ``foreach`` kernels on GPUs), which
is what a user's training loop runs. Its state is created by the cold-start step.

CPU threads: ``torch.set_num_threads(threads)`` for the whole sweep, default the number of
physical cores available to the process; the count is recorded in every Measurement.

Points run in the order task, batch size, device (the CPU first), precision, so that a
device's speedup can be computed against the CPU point as soon as it finishes: the CPU
point of the same task, batch and precision, or else the CPU fp32 point
(``speedup_baseline`` names it); the interval is a bootstrap of the ratio of medians.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone

import torch

from accelscope.errors import ConfigError, WorkloadError
from accelscope.measure.devices import Device, resolve_devices
from accelscope.measure.energy import MIN_ENERGY_WINDOW_S
from accelscope.measure.environment import Environment, busy_cores, collect_environment, physical_cores
from accelscope.measure.result import Measurement
from accelscope.measure.stats import bootstrap_ratio_ci
from accelscope.measure.onnxrt import OnnxWorkload
from accelscope.measure.timer import TimerConfig, time_step
from accelscope.workload import PRECISIONS, TASKS, WorkloadSpec, as_spec, load_workload
from accelscope.workload.spec import PREDICTED_ONLY
from accelscope.workload.workload import Workload, make_optimizer, map_inputs, temporarily


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchConfig:
    """Everything that defines a sweep (stored with the run): the workload, and the axes swept
    over it (``tasks``, ``batch_sizes`` and ``precisions`` replace the spec's own values)."""

    spec: WorkloadSpec
    devices: tuple[str, ...] = ("cpu",)
    tasks: tuple[str, ...] = ("infer",)
    batch_sizes: tuple[int, ...] = ()            #: () : the spec's batch (the preset's default)
    precisions: tuple[str, ...] = ("fp32",)
    compile: bool = False
    threads: int | None = None                  #: None: physical cores
    max_time_s: float = 10.0                    #: cap on each point's measured phase
    min_energy_window_s: float = MIN_ENERGY_WINDOW_S
    seed: int = 0

    def __post_init__(self) -> None:
        for t in self.tasks:
            if t not in TASKS:
                raise ConfigError(f"task {t!r} is not one of {', '.join(TASKS)} (e.g. --task train,infer)")
        for p in self.precisions:
            if p not in PRECISIONS:
                raise ConfigError(f"precision {p!r} is not one of {', '.join(PRECISIONS)} (a measurement "
                                  "needs a concrete precision; 'auto' is for predict and explore)")
            if p in PREDICTED_ONLY:
                raise ConfigError(f"precision {p} is predicted, not measured: FP8 training needs FP8 hardware and "
                                  "Transformer Engine or torchao, which bench does not drive; use predict or explore "
                                  "with it, or bench its 16-bit base (amp-bf16 or bf16)")
        for b in self.batch_sizes:
            if not isinstance(b, int) or b < 1:
                raise ConfigError(f"batch sizes must be positive integers, got {b!r} (e.g. --batch 1,8,64)")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be at least 1, got {self.threads}")
        if not self.tasks or not self.precisions or not self.devices:
            raise ConfigError("need at least one task, one precision and one device")
        if not self.max_time_s > 0:
            raise ConfigError(f"max time must be positive, got {self.max_time_s!r} seconds")

    @property
    def model(self) -> str:
        return self.spec.model

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["spec"] = self.spec.to_dict()
        d["model"] = self.spec.model
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchRun:
    """The outcome of :func:`bench`: every point, failed ones included."""

    run_id: int | None
    config: BenchConfig
    environment: Environment
    measurements: tuple[Measurement, ...]
    status: str = "complete"

    def to_dict(self, samples: bool = True) -> dict:
        return {"run_id": self.run_id, "status": self.status, "config": self.config.to_dict(),
                "environment": self.environment.to_dict(),
                "results": [m.to_dict(samples=samples, environment=False) for m in self.measurements]}


# -- building the step ------------------------------------------------------------------------


@contextlib.contextmanager
def precision_mode(precision: str):
    """TF32 on for ``tf32``, off for everything else; restored afterwards."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    tf32 = precision == "tf32"
    try:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.set_float32_matmul_precision("high" if tf32 else "highest")
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[0], saved[1]
        torch.set_float32_matmul_precision(saved[2])


def cpu_threads(n: int):
    """Run a block with ``n`` torch CPU threads."""
    return temporarily(torch.get_num_threads, torch.set_num_threads, n)


def _to_device(x, device: torch.device):
    """Tensors (also inside tuples, lists and dicts) moved to ``device``, strides kept."""
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, (tuple, list)):
        return type(x)(_to_device(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _to_device(v, device) for k, v in x.items()}
    return x


@dataclass(slots=True)
class PreparedStep:
    """A ready-to-call step and the objects it keeps alive (dropped by :meth:`release`)."""

    step: Callable[[], None]
    notes: list[str]
    keep: dict = field(default_factory=dict)

    def release(self) -> None:
        self.keep.clear()
        self.step = lambda: None


def build_step(workload: Workload, device: Device, *, compile: bool = False,
               wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None) -> PreparedStep:
    """Build ``workload``'s model and inputs on ``device`` and return its step function
    (weights and 4-D inputs channels-last when the workload says so). ``wrap`` replaces the
    model once it is on the device (DistributedDataParallel, FSDP2's ``fully_shard``)."""
    w = workload
    dev = device.torch_device
    notes: list[str] = []
    model = w.build_model()
    model = model.to(device=dev)
    if w.param_dtype != torch.float32:
        model = model.to(dtype=w.param_dtype)
    if w.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if wrap is not None:
        model = wrap(model)
    try:
        args, kwargs = map_inputs(lambda x: _to_device(x, dev), *w.make_model_inputs())
        targets = (_to_device(w.make_targets(w.batch_size), dev)
                   if w.task == "train" and w.make_targets is not None else None)
    except WorkloadError:
        raise
    except Exception as exc:
        raise WorkloadError(f"model {w.name!r}: making its inputs failed: {type(exc).__name__}: {exc}") from exc
    run_model = torch.compile(model) if compile else model
    amp_dtype = w.autocast_dtype

    def autocast():
        if amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.autocast_device_type, dtype=amp_dtype)

    keep: dict = {"model": model, "run_model": run_model, "inputs": (args, kwargs), "targets": targets}
    if w.task == "infer":
        model.eval()

        def step() -> None:
            with torch.inference_mode(), autocast():
                run_model(*args, **kwargs)
    else:
        model.train()
        opt = make_optimizer(model, w.optimizer)
        keep["optimizer"] = opt
        loss_fn = w.loss_fn
        if w.precision == "amp-fp16":
            scaler = torch.amp.GradScaler(device.autocast_device_type)
            keep["scaler"] = scaler

            def step() -> None:
                with autocast():
                    loss = loss_fn(run_model(*args, **kwargs), targets)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                opt.zero_grad(set_to_none=True)
        else:
            def step() -> None:
                with autocast():
                    loss = loss_fn(run_model(*args, **kwargs), targets)
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
    if w.precision == "fp32" and device.kind == "cuda":
        notes.append("fp32: TF32 off for matmuls and cuDNN convolutions")
    return PreparedStep(step=step, notes=notes, keep=keep)


# -- failures ---------------------------------------------------------------------------------


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(error_kind, message) for an exception raised by a point."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    low = str(exc).lower()
    if isinstance(exc, getattr(torch.cuda, "OutOfMemoryError", ())) or "out of memory" in low \
            or "can't allocate memory" in low:
        return "oom", f"out of memory: {type(exc).__name__}: {text[:300]}. Try a smaller --batch."
    if isinstance(exc, NotImplementedError) or "not implemented for" in low or "unsupported" in low \
            or "does not support" in low or "not supported" in low:
        return "unsupported", f"unsupported on this device: {type(exc).__name__}: {text[:300]}"
    return "error", f"{type(exc).__name__}: {text[:300]}"


# -- one point --------------------------------------------------------------------------------


def measure_point(workload: Workload, device: Device, *, timer: TimerConfig = TimerConfig(),
                  compile: bool = False, min_energy_window_s: float = MIN_ENERGY_WINDOW_S, seed: int = 0,
                  environment: Environment | None = None, run_id: int | None = None) -> Measurement:
    """Measure one (workload, device) point. Failures are returned, not raised (except Ctrl-C)."""
    w = workload
    base = dict(spec=w.spec.with_(mode="compile") if compile else w.spec, device=device.name, compile=compile, threads=torch.get_num_threads(),
                environment=environment, run_id=run_id,
                timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    try:
        base["device_model"] = device.describe().get("model")
    except Exception:
        base["device_model"] = None
    notes: list[str] = []
    if (n := device.precision_note(w.precision)) is not None:
        notes.append(n)
    if device.kind == "cpu":
        base.update(cpu_load(base["threads"], notes))
    if (reason := device.unsupported_reason(w.precision)) is not None:
        return Measurement(**base, status="failed", error=f"unsupported on this device: {reason}",
                           error_kind="unsupported", notes=tuple(notes))
    prepared: PreparedStep | None = None
    meter = None
    try:
        with device.activate(), precision_mode(w.precision):
            torch.manual_seed(seed)
            device.reset_peak_memory()
            if isinstance(w, OnnxWorkload):
                from accelscope.measure import onnxrt

                prepared = onnxrt.build_step(w, device)
            else:
                prepared = build_step(w, device, compile=compile)
            notes += prepared.notes
            step = prepared.step
            meter = device.energy_meter()
            window: dict = {}

            def start_energy() -> None:
                window["t0"] = device.clock()
                meter.start()

            timing = time_step(step, device, timer, on_start=start_energy, on_sample=meter.poll)
            # Extend the energy window to at least min_energy_window_s (counters update every
            # 20-100 ms; a short window would be mostly quantisation error).
            extra = 0
            per_step = max(timing.stats.median, 1e-9)
            while (remaining := min_energy_window_s - (device.clock() - window["t0"])) > 0:
                k = max(1, min(100_000, math.ceil(remaining / per_step)))
                device.time_block(step, k)
                extra += k
                meter.poll()
            reading = meter.stop()
            mem = device.peak_memory()
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        kind, msg = classify_error(exc)
        return Measurement(**base, status="failed", error=msg, error_kind=kind, notes=tuple(notes))
    finally:
        if meter is not None:
            meter.close()
        if prepared is not None:
            prepared.release()
        gc.collect()
        with contextlib.suppress(Exception):
            device.empty_cache()
    if not timing.warmup_steady:
        notes.append("warm-up budget ran out before step times settled")
    if timing.noisy:
        notes.append(f"noisy: IQR is {timing.stats.rel_iqr:.0%} of the median (> 10%)")
    return Measurement(
        **base, status="ok", step_time_s=timing.stats, converged=timing.converged,
        stop_reason=timing.stop_reason, cold_start_s=timing.cold_start_s, warmup_samples=timing.warmup_samples,
        warmup_steady=timing.warmup_steady, block_size=timing.block_size, iterations=timing.iterations,
        energy_j=reading.energy_j, energy_window_s=reading.window_s,
        energy_iterations=timing.iterations + extra, energy_method=reading.method, energy_scope=reading.scope,
        energy_confidence=reading.confidence, energy_note=reading.note,
        peak_mem_allocated_bytes=mem.allocated_bytes, peak_mem_reserved_bytes=mem.reserved_bytes,
        peak_rss_bytes=mem.rss_bytes, memory_note=mem.note, notes=tuple(notes),
    )


def cpu_load(threads: int, notes: list[str]) -> dict:
    """Other processes' load on the CPU just before a CPU point (``busy_cores_before``), and
    whether it and the point's threads oversubscribe the physical cores; a note says so."""
    busy = busy_cores()
    if busy is None:
        return {}
    cores = physical_cores()
    over = busy + threads > cores + 0.5
    if over:
        notes.append(f"oversubscribed: other processes kept {busy:.1f} CPUs busy while {threads} threads ran "
                     f"on {cores} physical cores; the step time is slower than on an idle machine (try --threads "
                     f"{max(1, int(cores - busy))} or a quieter machine)")
    return {"busy_cores_before": round(busy, 2), "oversubscribed": over}


def with_speedup(m: Measurement, cpu_points: dict[tuple, Measurement]) -> Measurement:
    """``m`` with its speedup over the matching CPU point (see the module docstring); a
    baseline or a point that is not ``converged`` is named in ``speedup_note``."""
    if not m.ok:
        return m
    for precision in (m.precision, "fp32"):
        base = cpu_points.get((m.task, m.batch_size, precision))
        if base is None or not base.ok or base is m:
            continue
        if base.step_time_s.median <= 0 or m.step_time_s.median <= 0:
            return m  # a clock that did not tick: no ratio to take
        ci = bootstrap_ratio_ci(base.step_time_s.samples, m.step_time_s.samples)
        doubts = [f"{who}: {x.verdict}" for who, x in (("baseline", base), ("this point", m)) if x.flags]
        return replace(m, speedup_vs_cpu=ci.ratio, speedup_ci_low=ci.ci_low, speedup_ci_high=ci.ci_high,
                       speedup_baseline=f"cpu {precision} batch {m.batch_size} ({base.threads} threads)",
                       speedup_note="; ".join(doubts) or None)
    return m


# -- the sweep --------------------------------------------------------------------------------

ProgressFn = Callable[[int, int, str, Measurement | None], None]


def sweep_points(tasks: Sequence[str], batches: Sequence[int], devices: Sequence[Device],
                 precisions: Sequence[str]) -> list[tuple[str, int, Device, str]]:
    """Points in run order: task, batch, device (CPU first, so baselines exist), precision."""
    ordered = sorted(devices, key=lambda d: d.kind != "cpu")
    return [(t, b, d, p) for t in tasks for b in batches for d in ordered for p in precisions]


def bench(model: "str | WorkloadSpec | Workload", *, devices: str | Iterable[str | Device] = ("cpu",),
          tasks: str | Iterable[str] | None = None, batch_sizes: Iterable[int] | None = None,
          precisions: str | Iterable[str] | None = None, compile: bool = False, threads: int | None = None,
          max_time_s: float = 10.0, min_energy_window_s: float = MIN_ENERGY_WINDOW_S, store=None,
          progress: ProgressFn | None = None, timer: TimerConfig | None = None, seed: int = 0,
          command: str = "", part_of: int | None = None, **workload_options) -> BenchRun:
    """Measure ``model`` on ``devices`` for every task x batch size x precision.

    ``model`` is a :class:`~accelscope.workload.spec.WorkloadSpec`, a model name with workload
    options (the spec's fields: ``seq_len``, ``image_size``, ``channels_last``, ``optimizer``,
    ``input_shape``, ``inputs``, ...), or a hand-built Workload. ``tasks``, ``batch_sizes`` and
    ``precisions`` sweep over the spec (default: its own task, batch and precision).
    ``store`` is a :class:`accelscope.store.Store` (each finished point is committed at
    once, so an interrupted sweep keeps its completed points), or None to keep nothing;
    ``part_of``: the run of a larger job (``explore``'s estimate run) this one belongs to.
    ``progress(i, total, label, measurement)`` is called before (measurement None) and
    after each point.
    """
    def _tuple(v):
        return tuple(s.strip() for s in v.split(",") if s.strip()) if isinstance(v, str) else tuple(v)

    dev_objs: list[Device] = []
    for d in ([devices] if isinstance(devices, str) else list(devices)):
        dev_objs += [d] if isinstance(d, Device) else resolve_devices(d)
    names: list[str] = []
    devs: list[Device] = []
    for d in dev_objs:
        if d.name not in names:
            names.append(d.name)
            devs.append(d)
    base = None
    if isinstance(model, Workload):
        base = model if not workload_options else model.with_(**workload_options)
        spec = base.spec
    else:
        spec = as_spec(model, **workload_options)
        first = dict(task=_tuple(tasks)[0] if tasks else None,
                     precision=_tuple(precisions)[0] if precisions else None,
                     batch_size=list(batch_sizes)[0] if batch_sizes else None)
        spec = spec.with_(**{k: v for k, v in first.items() if v is not None}).resolved()
    if spec.mode == "cuda-graphs":
        raise ConfigError("bench measures --mode eager or compile; capturing the step as a CUDA graph is not "
                          "measured yet (predict it with `accelscope predict --mode cuda-graphs`)")
    compile = compile or spec.mode == "compile"
    if compile and spec.mode != "compile":
        spec = spec.with_(mode="compile")
    # every option is checked before any model is built
    cfg = BenchConfig(spec=spec, devices=tuple(names), tasks=_tuple(tasks) if tasks else (spec.task,),
                      batch_sizes=tuple(batch_sizes) if batch_sizes is not None else (),
                      precisions=_tuple(precisions) if precisions else (spec.precision,), compile=compile,
                      threads=threads, max_time_s=max_time_s, min_energy_window_s=min_energy_window_s, seed=seed)
    if base is None and spec.is_onnx:
        if compile:
            raise ConfigError("an ONNX graph runs in ONNX Runtime, which optimises it itself: leave out --compile")
        base = OnnxWorkload.from_spec(spec)
    elif base is None:
        base = load_workload(spec)
    batches = cfg.batch_sizes or (base.batch_size,)
    n_threads = threads if threads is not None else physical_cores()
    timer_cfg = timer or TimerConfig(max_time_s=max_time_s)
    points = sweep_points(cfg.tasks, batches, devs, cfg.precisions)

    with cpu_threads(n_threads):
        env = collect_environment()
        config = cfg.to_dict() | ({"part_of": part_of} if part_of is not None else {})
        recording = (store.recording(kind="measurement", config=config, environment=env.to_dict(),
                                     command=command, label=spec.model, planned=len(points))
                     if store is not None else contextlib.nullcontext(None))
        results: list[Measurement] = []
        cpu_points: dict[tuple, Measurement] = {}
        with recording as run_id:
            for i, (task, batch, dev, precision) in enumerate(points):
                label = f"{spec.model} {task} b{batch} {precision} on {dev.name}"
                if progress:
                    progress(i, len(points), label, None)
                w = base.with_(task=task, batch_size=batch, precision=precision)
                m = measure_point(w, dev, timer=timer_cfg, compile=compile,
                                  min_energy_window_s=min_energy_window_s, seed=seed, environment=env,
                                  run_id=run_id)
                if dev.kind == "cpu":
                    cpu_points[(task, batch, precision)] = m
                m = with_speedup(m, cpu_points)
                if store is not None:
                    store.add_measurement(run_id, m)
                results.append(m)
                if progress:
                    progress(i + 1, len(points), label, m)
    return BenchRun(run_id=run_id, config=cfg, environment=env, measurements=tuple(results), status="complete")

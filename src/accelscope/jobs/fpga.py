"""fpga: latency, throughput, resource fit and energy of a model on an FPGA, without synthesis.

The workload is a profiled model (a spec, inference) or a layer-list file (``.json``,
``.toml``, ``.yaml``; it may carry its own folding). Folding, at most one of: a ``fold``
file (per-layer PE/SIMD or reuse factors), a ``reuse_factor`` for every layer (hls4ml), a
``target_fps``; an explicit option wins over folding found in the layer file; with none,
the fastest folding that fits the device. Energy is board power x time per frame
(``power_w``, else the catalog's ``tdp_w``), priced by :func:`accelscope.cost.price`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accelscope.cost import Assumptions, Priced, price
from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.workload.spec import WorkloadSpec, as_spec

LAYER_FILE_SUFFIXES = (".json", ".toml", ".yaml", ".yml")


def is_layer_file(model: "str | WorkloadSpec") -> bool:
    return isinstance(model, str) and Path(model).suffix.lower() in LAYER_FILE_SUFFIXES


def fpga(model: "str | WorkloadSpec", *, device: str, style: str = "dataflow", framework: str = "finn",
         bits: tuple[int, int] = (8, 8), target_fps: float | None = None, reuse_factor: int | None = None,
         fold: str | Path | None = None, resource_type: str = "auto", mem_style: str = "auto",
         clock_hz: float | None = None, power_w: float | None = None, dpu: str | None = None,
         cores: int | None = None, hardware_paths=None, cache: bool = True, **workload_options: Any) -> Priced:
    """Estimate an FPGA design for ``model`` on ``device`` (see the module docstring)."""
    from accelscope.models.fpga import fpga_estimate
    from accelscope.models.fpga.network import folds_for, layers_from_profile, load_layer_list, read_file

    if sum(x is not None for x in (target_fps, reuse_factor, fold)) > 1:
        raise ConfigError("give at most one of --target-fps, --reuse-factor and --fold")
    if cores is not None and cores < 1:
        raise ConfigError(f"--cores must be at least 1, got {cores}")
    for name, value in (("--reuse-factor", reuse_factor), ("--target-fps", target_fps), ("--clock-mhz", clock_hz)):
        if value is not None and not value > 0:
            raise ConfigError(f"{name} must be positive, got {value:g}")
    if reuse_factor is not None and int(reuse_factor) != reuse_factor:
        raise ConfigError(f"--reuse-factor must be a whole number, got {reuse_factor}")
    w_bits, a_bits = bits
    if not (1 <= w_bits <= 32 and 1 <= a_bits <= 32):
        raise ConfigError(f"--bits {w_bits},{a_bits}: weight and activation bits must be within 1..32")
    assumptions = Assumptions(power_w=power_w)  # validates the power before any work
    spec = load_hardware(device, paths=hardware_paths)
    if reuse_factor is not None:
        framework = "hls4ml"
    folds = None
    if is_layer_file(model):
        workload, folds = load_layer_list(model)
        name = Path(model).stem
    else:
        from accelscope.workload import profile

        options = {"task": "infer", "batch_size": 1} | {k: v for k, v in workload_options.items() if v is not None}
        workload = profile(as_spec(model, **options), cache=cache)
        name = workload.model
    if fold is not None:
        layers = workload if isinstance(workload, list) else layers_from_profile(workload)[0]
        folds = folds_for(layers, read_file(fold).get("folding"))
        workload = layers
    if folds is not None and (target_fps is not None or reuse_factor is not None):
        folds = None  # an explicit option wins over folding found in the layer file
    e = fpga_estimate(workload, spec, style=style, framework=framework, w_bits=w_bits, a_bits=a_bits,
                      target_fps=target_fps, reuse_factor=reuse_factor, folds=folds,
                      resource_type=resource_type, mem_style=mem_style, clock_hz=clock_hz,
                      dpu_arch=dpu, dpu_cores=cores, workload_name=name)
    if style == "overlay" and (dpu is not None or cores is not None) and e.fits_in_memory is False:
        # a DPU configuration asked for by name that the board cannot hold is bad input
        why = next((n for n in e.notes if n.startswith("does not fit")), "does not fit")
        raise ConfigError(f"{e.model} on {spec.name}: {why}; ask for fewer --cores or a smaller "
                          "--dpu (B512 ... B4096), or leave both out for the board's own design")
    return price(e, spec, assumptions)


def store_design(priced: Priced, store) -> int:
    """Keep an FPGA design estimate in ``store`` as a run of kind ``fpga`` (one point); its id."""
    e = priced.estimate
    return store.add_run(kind="fpga", record=priced.to_dict(),
                         config={"workload": e.workload, "hardware": e.hardware, "style": e.parameters.get("style")},
                         command="fpga", label=f"{e.workload} on {e.hardware}", model=e.workload, device=e.hardware,
                         precision=e.precision, time_s=e.step_time_s,
                         throughput_samples_per_s=e.throughput_samples_per_s,
                         energy_j_per_sample=priced.energy_j_per_sample)

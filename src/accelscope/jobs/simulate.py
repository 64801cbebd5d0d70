"""simulate and dse: a workload on a systolic array, and a sweep over array designs.

The workload is a SCALE-Sim topology file (``topology``, or the one a ``config`` names) or a
profiled model (a spec: its matrix products, convolutions and attention mapped onto array
layers; what cannot be mapped is listed in the notes). The array is, in order of precedence:
a ``preset`` (``tpu-v1``), a ``hardware`` entry with a ``[systolic]`` table (a catalog name
or a design file saved earlier), a SCALE-Sim ``config``, or a 32x32 weight-stationary array
with 64 KiB scratchpads; ``array``, ``dataflow``, ``sram_kib``, ``clock_hz`` and
``word_bytes`` then change it. ``save_design`` writes the array (for ``dse``: the chosen
point of the Pareto front) as a hardware file that ``predict`` and ``explore`` take.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from accelscope.errors import ConfigError
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.dse import DesignSpace, DSEResult
from accelscope.models.systolic.network import NetworkResult
from accelscope.workload.spec import WorkloadSpec, as_spec

DEFAULT_ARRAY = ArrayConfig(rows=32, cols=32, dataflow="ws")
PICKS = {"fastest": "latency_s", "lowest-energy": "energy_j", "smallest": "area_m2"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult:
    """The simulated network, what the workload was, notes, and files written."""

    workload: str
    result: NetworkResult
    notes: tuple[str, ...] = ()
    written: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict() | {"workload": self.workload, "notes": list(self.notes),
                                        "written": list(self.written)}


@dataclass(frozen=True, slots=True, kw_only=True)
class DseJobResult:
    workload: str
    result: DSEResult
    notes: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    run_id: int | None = None  #: the stored run (None: not stored)

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "method": self.result.method, "points": len(self.result),
                "notes": list(self.result.notes) + list(self.notes), "pareto_front": self.result.front(),
                "written": list(self.written), "run_id": self.run_id}


def parse_array(text: str) -> tuple[int, int]:
    try:
        r, c = text.lower().split("x")
        return int(r), int(c)
    except ValueError:
        raise ConfigError(f"array {text!r}: expected ROWSxCOLS, e.g. 32x32.") from None


def workload_layers(model: "str | WorkloadSpec | None" = None, *, config: str | Path | None = None,
                    topology: str | Path | None = None, topology_kind: str | None = None,
                    cache: bool = True, **workload_options: Any):
    """(layers, notes, label) from a SCALE-Sim topology or a profiled model."""
    from accelscope.models.systolic import map_profile, scalesim_io

    notes: list[str] = []
    if topology is None and config is not None:
        _, topo = scalesim_io.read_config(config)
        if topo:
            topology = Path(topo)
    if topology is not None:
        if model is not None:
            raise ConfigError("give either a MODEL or --topology/--config, not both.")
        topology = Path(topology)
        return scalesim_io.read_topology(topology, topology_kind), notes, topology.stem
    if model is None:
        raise ConfigError("nothing to simulate: give a MODEL (see `accelscope models`) or "
                          "--config C --topology T.")
    from accelscope.workload import profile

    spec = as_spec(model, **workload_options)
    mapped = map_profile(profile(spec, cache=cache))
    for name, reason in mapped.unmapped:
        notes.append(f"not mapped onto the array: {name}: {reason}")
    if not mapped.layers:
        raise ConfigError(f"{spec.model}: no matmul, convolution or attention ops to simulate.")
    return list(mapped.layers), notes, spec.model


def array_config(*, config=None, preset: str | None = None, hardware: str | None = None,
                 array: "str | tuple[int, int] | None" = None, dataflow: str | None = None,
                 sram_kib: "tuple[int, int, int] | None" = None, clock_hz: float | None = None,
                 word_bytes: int | None = None, dram_bw: "tuple[int, int, int] | None" = None,
                 hardware_paths=None) -> ArrayConfig:
    """The array to simulate (see the module docstring for the precedence). ``dram_bw``
    (ifmap, filter, ofmap words per cycle) selects SCALE-Sim's USER bandwidth mode."""
    from accelscope.models.systolic import scalesim_io
    from accelscope.models.systolic.presets import preset as get_preset

    if sum(x is not None for x in (preset, hardware)) > 1:
        raise ConfigError("give --preset or --hardware, not both")
    if preset:
        cfg = get_preset(preset)
    elif hardware:
        from accelscope.errors import PredictionError
        from accelscope.hardware.catalog import load_hardware
        from accelscope.models.systolic.model import array_config as from_spec

        try:
            cfg = from_spec(load_hardware(hardware, paths=hardware_paths))
        except PredictionError as exc:
            raise ConfigError(str(exc)) from exc
    elif config is not None:
        cfg, _ = scalesim_io.read_config(config)
    else:
        cfg = DEFAULT_ARRAY
    changes: dict[str, Any] = {}
    if array:
        changes["rows"], changes["cols"] = parse_array(array) if isinstance(array, str) else array
    if dataflow:
        changes["dataflow"] = dataflow.lower()
    if sram_kib:
        if len(sram_kib) != 3:
            raise ConfigError("the scratchpads need three sizes in KiB: ifmap,filter,ofmap.")
        changes.update(ifmap_sram_bytes=sram_kib[0] * 1024, filter_sram_bytes=sram_kib[1] * 1024,
                       ofmap_sram_bytes=sram_kib[2] * 1024)
    if clock_hz is not None:
        changes["clock_hz"] = clock_hz
    if word_bytes is not None:
        changes["word_bytes"] = word_bytes
    if dram_bw is not None:
        if len(dram_bw) != 3:
            raise ConfigError("the DRAM bandwidth needs three figures in words per cycle: "
                              "ifmap,filter,ofmap (e.g. 10,10,10).")
        changes["dram_bw_words_per_cycle"] = tuple(dram_bw)
    return cfg.with_(**changes) if changes else cfg


def _out_dir(out: str | Path, names: list[str], force: bool) -> Path:
    """The report directory (created), refusing to overwrite reports already there unless ``force``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a file; give a directory for the reports (it is created)")
    there = [n for n in names if (out / n).exists()]
    if there and not force:
        raise ConfigError(f"--out {str(out)!r} already holds {', '.join(there)}; nothing was overwritten: "
                          "give another directory, or --force to replace them")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {str(out)!r}: cannot create the directory ({exc})") from exc
    return out


def save_design(path: str | Path, cfg: ArrayConfig, *, node_nm: float, dtype: str, origin: str,
                force: bool = False) -> Path:
    """Write ``cfg`` as a hardware file (an existing one only with ``force``), checked by loading it back."""
    from accelscope.hardware.catalog import load_spec_file
    from accelscope.models.systolic.model import design_toml

    path = Path(path)
    if path.suffix != ".toml":
        raise ConfigError(f"--save-design {str(path)!r}: a hardware file ends in .toml (its stem is the device name)")
    if path.exists() and not force:
        raise ConfigError(f"--save-design {str(path)!r} exists; nothing was overwritten: "
                          "choose another name, or --force to replace it")
    text = design_toml(cfg, name=path.stem, node_nm=node_nm, dtype=dtype, origin=origin,
                       date=date.today().isoformat())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        load_spec_file(path)  # the catalog's own checks (names, units, sources)
    except OSError as exc:
        raise ConfigError(f"--save-design {str(path)!r}: cannot write it ({exc})") from exc
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True, slots=True, kw_only=True)
class RowStationaryResult:
    """A workload on a row-stationary (Eyeriss) array: per-level access counts, time, energy."""

    workload: str
    result: Any  # models.systolic.row_stationary.RSNetworkResult
    notes: tuple[str, ...] = ()
    written: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict() | {"workload": self.workload, "notes": list(self.notes),
                                        "written": list(self.written)}


#: simulate options that describe a SCALE-Sim array, which a row-stationary array does not have
_NOT_RS = {"config": "--config", "preset": "--preset", "hardware": "--hardware", "sram_kib": "--sram-kib",
           "dram_bw": "--dram-bw", "save_design_path": "--save-design"}


def simulate_row_stationary(model: "str | WorkloadSpec | None" = None, *, topology=None, topology_kind=None,
                            array=None, clock_hz=None, word_bytes=None, node_nm: float = 65.0, out=None,
                            force: bool = False, cache: bool = True, **workload_options) -> RowStationaryResult:
    """The workload on an Eyeriss-like row-stationary array (``models.systolic.row_stationary``):
    the JSSC 2017 chip unless ``array`` (ROWSxCOLS), ``clock_hz`` or ``word_bytes`` change it.
    A profiled model's convolutions keep their batch (filters reused across its images); its
    matrix products run as 1 x 1 convolutions of their rows."""
    from dataclasses import replace

    from accelscope.models.systolic import EnergyModel
    from accelscope.models.systolic import row_stationary as rs
    from accelscope.models.systolic.energy import precision_for_word_bytes

    cfg = rs.eyeriss()
    if array is not None:
        rows, cols = parse_array(array)
        cfg = replace(cfg, rows=rows, cols=cols)
    if clock_hz is not None:
        cfg = replace(cfg, clock_hz=float(clock_hz))
    if word_bytes is not None:
        cfg = replace(cfg, word_bytes=int(word_bytes))
    energy = EnergyModel(node_nm=node_nm, precision=precision_for_word_bytes(cfg.word_bytes))
    layers, notes, label = workload_layers(model, topology=topology, topology_kind=topology_kind, cache=cache,
                                           **workload_options)
    batch = 1
    if model is not None:
        batch = as_spec(model, **workload_options).resolved().batch_size or 1
    groups: dict[int, list] = {}
    for layer in layers:
        b = batch if not rs.is_gemm(layer) and batch > 1 and layer.count % batch == 0 else 1
        groups.setdefault(b, []).append(replace(layer, count=layer.count // b))
    parts = [rs.simulate(group, cfg, energy, batch=b) for b, group in groups.items()]
    res = rs.RSNetworkResult(config=cfg, energy_model=energy, layers=tuple(c for p in parts for c in p.layers))
    notes = [*notes, "row stationary: run-length compression of DRAM traffic, zero skipping and per-pass "
             "delivery time are not modelled"]
    written: list[str] = []
    if out is not None:
        directory = _out_dir(out, ["row_stationary.json"], force)
        sim = RowStationaryResult(workload=label, result=res, notes=tuple(notes))
        (directory / "row_stationary.json").write_text(json.dumps(sim.to_dict(), indent=2))
        written.append(str(directory / "row_stationary.json"))
    return RowStationaryResult(workload=label, result=res, notes=tuple(notes), written=tuple(written))


def simulate(model: "str | WorkloadSpec | None" = None, *, config=None, topology=None, topology_kind=None,
             preset=None, hardware=None, array=None, dataflow=None, sram_kib=None, clock_hz=None,
             word_bytes=None, dram_bw=None, node_nm: float = 45.0, out=None, save_design_path=None,
             hardware_paths=None, force: bool = False, cache: bool = True,
             **workload_options) -> "SimulationResult | RowStationaryResult":
    """Cycle-exact simulation of a workload on one array, with energy and area; ``dataflow="rs"``:
    the row-stationary model (:func:`simulate_row_stationary`)."""
    if isinstance(dataflow, str) and dataflow.strip().lower() == "rs":
        given = {"config": config, "preset": preset, "hardware": hardware, "sram_kib": sram_kib,
                 "dram_bw": dram_bw, "save_design_path": save_design_path}
        bad = [_NOT_RS[k] for k, v in given.items() if v is not None]
        if bad:
            raise ConfigError(f"--dataflow rs simulates an Eyeriss-like array (12 x 14 PEs, per-PE scratchpads, "
                              f"a 108 kB global buffer); {', '.join(bad)} describe(s) a SCALE-Sim array: leave "
                              "them out (--array, --clock-hz, --word-bytes and --node apply)")
        return simulate_row_stationary(model, topology=topology, topology_kind=topology_kind, array=array,
                                       clock_hz=clock_hz, word_bytes=word_bytes, node_nm=node_nm, out=out,
                                       force=force, cache=cache, **workload_options)
    from accelscope.models.systolic import EnergyModel, scalesim_io
    from accelscope.models.systolic import simulate as run
    from accelscope.models.systolic.energy import precision_for_word_bytes

    # the array and its energy model first: bad values fail before the workload is profiled
    cfg = array_config(config=config, preset=preset, hardware=hardware, array=array, dataflow=dataflow,
                       sram_kib=sram_kib, clock_hz=clock_hz, word_bytes=word_bytes, dram_bw=dram_bw,
                       hardware_paths=hardware_paths)
    energy = EnergyModel(node_nm=node_nm, precision=precision_for_word_bytes(cfg.word_bytes))
    layers, notes, label = workload_layers(model, config=config, topology=topology,
                                           topology_kind=topology_kind, cache=cache, **workload_options)
    res = run(layers, cfg, energy)
    written: list[str] = []
    if out is not None:
        directory = _out_dir(out, [*scalesim_io.REPORT_FILES, "simulation.json"], force)
        written += [str(p) for p in scalesim_io.write_reports(res.layers, directory)]
        sim = SimulationResult(workload=label, result=res, notes=tuple(notes))
        (directory / "simulation.json").write_text(json.dumps(sim.to_dict(), indent=2))
        written.append(str(directory / "simulation.json"))
    if save_design_path is not None:
        written.append(str(save_design(save_design_path, cfg, node_nm=node_nm, dtype=energy.precision,
                                       origin=f"accelscope simulate of {label}", force=force)))
    return SimulationResult(workload=label, result=res, notes=tuple(notes), written=tuple(written))


def dse(model: "str | WorkloadSpec | None" = None, *, config=None, topology=None, topology_kind=None,
        space: DesignSpace | None = None, method: str = "estimate", out=None, save_design_path=None,
        pick: str = "fastest", force: bool = False, cache: bool = True, progress=None, store=None,
        **workload_options) -> DseJobResult:
    """Sweep array designs for a workload; the latency/energy/area Pareto front
    (``progress(done, total, what)`` per array shape and dataflow swept). With a ``store``, the
    front is kept there as a run of kind ``dse`` (one point: :meth:`DseJobResult.to_dict`), which
    ``accelscope report`` draws."""
    from accelscope.models.systolic import explore

    if pick not in PICKS:
        raise ConfigError(f"--pick {pick!r} is not one of {', '.join(PICKS)}")
    if method not in ("estimate", "exact"):
        raise ConfigError(f"--method {method!r} is not one of estimate, exact")
    layers, notes, label = workload_layers(model, config=config, topology=topology,
                                           topology_kind=topology_kind, cache=cache, **workload_options)
    space = space or DesignSpace()
    res = explore(layers, space, method=method, progress=progress)
    written: list[str] = []
    if out is not None:
        directory = _out_dir(out, ["dse_points.csv", "dse_points.json"], force)
        (directory / "dse_points.csv").write_text(res.to_csv())
        (directory / "dse_points.json").write_text(res.to_json())
        written += [str(directory / "dse_points.csv"), str(directory / "dse_points.json")]
    if save_design_path is not None:
        p = min(res.front(), key=lambda row: row[PICKS[pick]])
        from accelscope.models.systolic.model import WORD_BYTES

        word = WORD_BYTES[space.precision]
        cfg = ArrayConfig(rows=int(p["rows"]), cols=int(p["cols"]), dataflow=str(p["dataflow"]),
                          ifmap_sram_bytes=int(p["ifmap_sram_kib"]) * 1024,
                          filter_sram_bytes=int(p["filter_sram_kib"]) * 1024,
                          ofmap_sram_bytes=int(p["ofmap_sram_kib"]) * 1024, word_bytes=word,
                          clock_hz=float(p["clock_hz"]), name=Path(save_design_path).stem)
        written.append(str(save_design(save_design_path, cfg, node_nm=float(p["node_nm"]), dtype=space.precision,
                                       origin=f"accelscope dse of {label}, the {pick} point of the Pareto front",
                                       force=force)))
    job = DseJobResult(workload=label, result=res, notes=tuple(notes), written=tuple(written))
    if store is not None:
        record = job.to_dict() | {"space": asdict(space)}
        job = replace(job, run_id=store.add_run(kind="dse", record=record, config={"workload": label, "method": method},
                                                command="dse", label=label, model=label))
    return job

"""Measuring an ONNX graph through ONNX Runtime, with bench's timer, energy and memory methodology.

``bench model.onnx --device cpu|cuda`` runs the file in an ``onnxruntime.InferenceSession``:
the CPU execution provider (intra-op threads = bench's ``--threads``), or the CUDA one when
the installed onnxruntime has it (``onnxruntime-gpu``), inputs and outputs bound on the GPU
(``io_binding``) so a step is the graph's run, not host copies. Inputs are made from the
graph's declared inputs, their symbolic dimensions bound as the ONNX frontend binds them
(``--batch``, ``--seq-len``, ``--dim``): floats from a normal distribution, integers (token
ids, indices) zero, booleans (masks) true. The graph runs in its own float type; a step is
one ``run`` (ONNX Runtime returns once the device has finished). The session's graph
optimisations are ONNX Runtime's defaults (all), as a deployment would run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accelscope.errors import ConfigError, MeasurementError
from accelscope.workload.spec import SpecFields, WorkloadSpec

#: the execution provider of each accelscope device kind
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("measuring an .onnx file needs onnxruntime: pip install 'accelscope[onnx]' "
                          "(onnxruntime-gpu for --device cuda)") from None
    return onnxruntime


@dataclass(frozen=True, slots=True)
class OnnxWorkload(SpecFields):
    """An ONNX graph to run: what ``bench`` sweeps in place of a PyTorch Workload (the spec's
    fields as properties, as a Workload has them)."""

    spec: WorkloadSpec

    @classmethod
    def from_spec(cls, spec: WorkloadSpec) -> "OnnxWorkload":
        from accelscope.workload import onnx

        spec = onnx.defaults(spec)
        graph = onnx._GRAPH_PRECISION.get(onnx._graph_dtype(onnx.load(spec.model)))
        if spec.precision != graph:
            raise ConfigError(f"{spec.model} computes in {graph or 'a type accelscope does not name'}; ONNX Runtime "
                              f"runs the graph in its own type: measure it with --precision {graph} (or export the "
                              f"model in {spec.precision})")
        return cls(spec)

    def with_(self, **changes: Any) -> "OnnxWorkload":
        return OnnxWorkload.from_spec(self.spec.with_(**{k: v for k, v in changes.items() if v is not None}))


def _feeds(model, spec: WorkloadSpec) -> dict[str, Any]:
    import numpy as np

    from accelscope.workload import onnx

    shapes = onnx.bind(model, spec)
    rng = np.random.default_rng(0)
    out = {}
    for inp in onnx.inputs(model):
        elem = onnx._elem_name(inp.elem_type)
        shape = shapes[inp.name]
        if elem in ("FLOAT", "FLOAT16", "DOUBLE"):
            dtype = {"FLOAT": np.float32, "FLOAT16": np.float16, "DOUBLE": np.float64}[elem]
            out[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif elem == "BOOL":
            out[inp.name] = np.ones(shape, dtype=bool)
        elif elem.startswith(("INT", "UINT")):
            out[inp.name] = np.zeros(shape, dtype=np.dtype(elem.lower()))
        else:
            raise MeasurementError(f"input {inp.name!r} is {elem}: accelscope makes float, integer and boolean "
                                   "inputs only")
    return out


def build_step(w: OnnxWorkload, device) -> "PreparedStep":
    """An InferenceSession of ``w``'s file on ``device`` and its one-run step."""
    import torch

    from accelscope.measure.bench import PreparedStep
    from accelscope.workload import onnx

    ort = _ort()
    provider = PROVIDERS.get(device.kind)
    if provider is None:
        raise MeasurementError(f"ONNX Runtime runs on cpu and cuda here, not {device.kind}")
    if provider not in ort.get_available_providers():
        raise MeasurementError(f"the installed onnxruntime {ort.__version__} has no {provider} "
                               f"(it has {', '.join(ort.get_available_providers())}); pip install onnxruntime-gpu")
    model = onnx.load(w.spec.model)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.log_severity_level = 3
    options = [{"device_id": device.index or 0}] if device.kind == "cuda" else [{}]
    sess = ort.InferenceSession(w.spec.model, sess_options=opts, providers=[provider], provider_options=options)
    feeds = _feeds(model, w.spec)
    notes = [f"ONNX Runtime {ort.__version__}, {provider}, graph optimisations: all, "
             f"{opts.intra_op_num_threads} intra-op threads"]
    if device.kind == "cuda":
        binding = sess.io_binding()
        keep = {"sess": sess, "binding": binding,
                "values": {k: ort.OrtValue.ortvalue_from_numpy(v, "cuda", device.index or 0) for k, v in feeds.items()}}
        for k, v in keep["values"].items():
            binding.bind_ortvalue_input(k, v)
        for o in sess.get_outputs():
            binding.bind_output(o.name, "cuda", device.index or 0)

        def step() -> None:
            sess.run_with_iobinding(binding)
    else:
        keep = {"sess": sess, "feeds": feeds}

        def step() -> None:
            sess.run(None, feeds)
    return PreparedStep(step=step, notes=notes, keep=keep)


__all__ = ["OnnxWorkload", "PROVIDERS", "build_step"]

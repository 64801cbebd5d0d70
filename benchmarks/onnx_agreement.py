"""The ONNX frontend against the PyTorch one, and ONNX Runtime against PyTorch on this CPU.

    python benchmarks/onnx_agreement.py

Exports the zoo's resnet50 (dynamic batch), bert-base and gpt2-small with torch.onnx.export
(dynamo) to a scratch directory and prints, per model: the FLOPs of both profiles and their
difference, and the predicted fp32 step time on two GPUs from both (resnet50's PyTorch side
is the zoo model with batch norm folded into its convolutions, as the exporter folds it:
the same computation). Then each model measured on this CPU at batch 1 through PyTorch
(`bench`) and through ONNX Runtime (`bench model.onnx`) side by side: the ratio is the figure.
Goals (issue 19): FLOPs within 2%, step times within 5%.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accelscope.jobs.predict import predict  # noqa: E402
from accelscope.measure.bench import bench  # noqa: E402
from accelscope.workload import profile  # noqa: E402
from tests.workload.test_onnx import _export, _fused_resnet50_spec  # noqa: E402

GPUS = ("h100-sxm", "a100-sxm4-80gb")
CASES = (("resnet50", 32, True), ("bert-base", 2, False), ("gpt2-small", 1, True))


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        files = {name: _export(name, Path(d) / f"{name}.onnx", batch=2 if not dyn else 1,
                               dynamic=({0: torch.export.Dim("batch")},) if dyn else None) for name, _, dyn in CASES}
        print(f"{'model':<11} {'batch':>5} {'FLOPs torch':>12} {'FLOPs onnx':>12} {'diff':>7}  "
              + "  ".join(f"{hw + ' torch/onnx ms':>30}" for hw in GPUS))
        for name, batch, _ in CASES:
            t, o = profile(name, batch_size=batch), profile(files[name], batch_size=batch)
            row = f"{name:<11} {batch:>5} {t.flops / 1e9:>11.4g}G {o.flops / 1e9:>11.4g}G {o.flops / t.flops - 1:>+7.2%}  "
            model = _fused_resnet50_spec(batch) if name == "resnet50" else name
            cells = []
            for hw in GPUS:
                te = predict(model, hardware=hw, precision="fp32", calibrations={}, task="infer",
                             batch_size=batch).results[0].estimate
                oe = predict(files[name], hardware=hw, precision="fp32", calibrations={}, task="infer",
                             batch_size=batch).results[0].estimate
                cells.append(f"{te.step_time_s * 1e3:.4g} / {oe.step_time_s * 1e3:.4g} "
                             f"({oe.step_time_s / te.step_time_s - 1:+.1%})")
            print(row + "  ".join(f"{c:>30}" for c in cells))
        print(f"\nthis CPU, batch 1, fp32, {torch.get_num_threads()} threads: median step time")
        for name, _, dyn in CASES:
            spec = files[name]
            kw = {"batch_sizes": [1]} if dyn else {}
            pt = bench(name, devices="cpu", max_time_s=3.0, batch_sizes=[1 if dyn else 2]).measurements[0]
            ox = bench(spec, devices="cpu", max_time_s=3.0, **kw).measurements[0]
            a, b = pt.step_time_s.median, ox.step_time_s.median
            print(f"  {name:<11} batch {pt.batch_size}: PyTorch {a * 1e3:.4g} ms, ONNX Runtime {b * 1e3:.4g} ms "
                  f"(ONNX Runtime / PyTorch {b / a:.2f})")


if __name__ == "__main__":
    main()

"""Score the serving predictions against TensorRT-LLM's published tables (no target measurement).

Reads benchmarks/data/llm_serving.csv (a copy of the project's shared validation file: each
row names its source, file, version and how its unit reads) and predicts every row accelscope
can express with the default (uncalibrated) model: output tokens/s per GPU of static batches
(goal: median |error| <= 15%) and first-token latency at batch 1 (goal: median <= 25%), each
next to the naive roofline at 100% of the datasheet peak and bandwidth (every pass
max(FLOPs / peak, bytes / bandwidth), no overhead, no communication).

How the rows are run, from their own columns and notes:
* LLaMA 7B (the doc reproduces with Llama-2-7B: 32 layers, 4096 wide, 11008 MLP) and LLaMA
  70B (Llama-2-70B: 80 layers, 8 K/V heads) as ``llama:`` decoders with 4,096 positions; GPT-J
  6B and Falcon 180B (the doc's builds: 80 layers, 232 heads, 8 K/V heads, 14848 wide) as
  ``gpt:`` decoders with parallel attention and MLP and rotary positions (the ``gpt-j-6b`` and
  ``falcon-180b`` presets at 4,096 positions; GPT-J's head is tied here, untied in the original).
* FP16 rows in ``fp16``; FP8 rows (``--enable_fp8 --fp8_kv_cache``) in ``fp16`` with
  ``--weights fp8`` (FP8 products, FP8 KV cache).
* A TensorRT engine runs its kernels from its C++ runtime, with no per-op Python: ``--mode
  cuda-graphs`` (no host time per op, kernels at the device's graph-replay time).
* A100 rows on ``a100-sxm4-80gb`` (the doc does not say SXM or 80 GB), H100 on ``h100-sxm``,
  L40S on ``l40s``; tensor parallelism on the DGX systems' NVLink.
* Units, per the rows' notes: the v0.6.1 H100 table is per GPU; the A100 table is "per GPU with
  caution" (its TP > 1 rows only match as per GPU); the L40S rows are TP = 1; the v0.5.0 H100
  excerpt's TP > 1 rows have an unknown unit and are not scored.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np

from accelscope.errors import AccelscopeError
from accelscope.hardware.catalog import load_hardware
from accelscope.jobs.serving import Serving, ServingEvaluator
from accelscope.workload import WorkloadSpec
from accelscope.workload.serving import serving_pieces

DATA = Path(__file__).resolve().parent / "data" / "llm_serving.csv"
MODELS = {
    "GPT-J 6B": "gpt:layers=28,hidden=4096,heads=16,vocab=50400,seq=4096,parallel=1,rotary=1",
    "Falcon 180B": "gpt:layers=80,hidden=14848,heads=232,kv_heads=8,vocab=65024,seq=4096,parallel=1,rotary=1",
    "LLaMA 7B": "llama:layers=32,hidden=4096,heads=32,ffn=11008,vocab=32000,seq=4096",
    "LLaMA 70B": "llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672,vocab=32000,seq=4096",
}
HARDWARE = {"A100": ("a100-sxm4-80gb", "dgx-a100"), "H100": ("h100-sxm", "dgx-h100"), "L40S": ("l40s", None)}


def row_config(r: dict) -> tuple[dict | None, str | None]:
    model = next((v for k, v in MODELS.items() if r["model"].startswith(k)), None)
    if model is None:
        return None, f"{r['model'].split(' (')[0]}: not a gpt or llama decoder"
    gpu = next((v for k, v in HARDWARE.items() if r["gpu"].startswith(k)), None)
    if gpu is None:
        return None, f"GPU {r['gpu']} not in the catalog"
    tp = int(r["tp"] or 1)
    if "v0.5.0" in r["framework"] and tp > 1:
        return None, "v0.5.0 excerpt with TP > 1: unit unknown"
    fp8 = "FP8" in r["precision"]
    return dict(model=model, hardware=gpu[0], system=gpu[1], tp=tp, batch=int(r["batch_or_concurrency"]),
                inp=int(r["input_tokens"]), out=int(r["output_tokens"]), weights="fp8" if fp8 else None,
                metric=r["metric"], value=float(r["value"])), None


def naive(spec: WorkloadSpec, hw, tp: int) -> tuple[float, float]:
    """(TTFT, TPOT) of the 100%-efficiency roofline on the datasheet peak and bandwidth."""
    pc = serving_pieces(spec, batch=spec.batch_size, tp=tp)
    precision = "fp8" if spec.weights == "fp8" else spec.precision
    peak, bw = hw.peak_flops_per_s(precision), hw.mem_bandwidth_bytes_per_s.number
    L = pc.shape.layers

    def t(profile, n=1):
        return n * max(profile.flops / peak, profile.bytes_moved / bw)

    ttft = t(pc.prefill_block, L) + t(pc.prefill_embed) + t(pc.prefill_head)
    tpot = t(pc.decode_block, L) + t(pc.decode_embed) + t(pc.decode_head)
    return ttft, tpot


def main(path: Path = DATA) -> None:
    rows = list(csv.DictReader(path.open()))
    scored, skipped = [], {}
    evaluators: dict[tuple, ServingEvaluator] = {}
    for r in rows:
        cfg, why = row_config(r)
        if cfg is None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        hw = load_hardware(cfg["hardware"])
        spec = WorkloadSpec(model=cfg["model"], task="serve", batch_size=cfg["batch"], input_tokens=cfg["inp"],
                            output_tokens=cfg["out"], precision="fp16", weights=cfg["weights"],
                            mode="cuda-graphs").resolved()
        key = (cfg["hardware"], cfg["system"])
        ev = evaluators.setdefault(key, ServingEvaluator(spec, hw, Serving(system=cfg["system"])))
        try:
            e = ev(spec, cfg["tp"])
            n_ttft, n_tpot = naive(spec, hw, cfg["tp"])
        except AccelscopeError as exc:
            skipped[f"refused: {str(exc)[:80]}"] = skipped.get(f"refused: {str(exc)[:80]}", 0) + 1
            continue
        if cfg["metric"] == "ttft_ms":
            pred, base = e.ttft_s * 1e3, n_ttft * 1e3
        else:
            pred = e.tokens_per_s / cfg["tp"]
            base = cfg["batch"] * cfg["out"] / (n_ttft + (cfg["out"] - 1) * n_tpot) / cfg["tp"]
        scored.append((cfg, r, pred, base, e))

    print(f"{'GPU':5s} {'model':10s} {'fmt':4s} {'TP':>2s} {'batch':>5s} {'in':>5s} {'out':>5s} {'metric':>10s} "
          f"{'published':>10s} {'predicted':>10s} {'error':>7s} {'naive':>10s} {'error':>7s}  fits")
    for cfg, r, pred, base, e in scored:
        name = next(k for k, v in MODELS.items() if v == cfg["model"])
        metric = "TTFT ms" if cfg["metric"] == "ttft_ms" else "tok/s/GPU"
        print(f"{r['gpu'][:5]:5s} {name:10s} {'fp8' if cfg['weights'] else 'fp16':4s} {cfg['tp']:2d} {cfg['batch']:5d} "
              f"{cfg['inp']:5d} {cfg['out']:5d} {metric:>10s} {cfg['value']:10.4g} {pred:10.4g} "
              f"{pred / cfg['value'] - 1:+7.1%} {base:10.4g} {base / cfg['value'] - 1:+7.1%}  "
              f"{'yes' if e.fits_in_memory else 'no'}")
    print()
    for metric, label, goal in (("output_tokens_per_s", "throughput", 0.15), ("ttft_ms", "first-token latency", 0.25)):
        got = [(abs(p / c["value"] - 1), abs(b / c["value"] - 1)) for c, _, p, b, _ in scored if c["metric"] == metric]
        if not got:
            continue
        errs, naive_errs = np.array([g[0] for g in got]), np.array([g[1] for g in got])
        print(f"{label:20s} rows {len(got):3d}  median |error| {np.median(errs):6.1%}  max {errs.max():6.1%}   "
              f"naive roofline {np.median(naive_errs):6.1%}   (goal: median <= {goal:.0%})")
    print("\nnot scored:")
    for why, n in sorted(skipped.items(), key=lambda x: -x[1]):
        print(f"  {n:4d}  {why}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)

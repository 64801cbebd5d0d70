"""Score the predictions for TPUs, commercial ASICs, FPGAs and CPUs against published per-chip
figures nobody here measured (benchmarks/data/accelerators_published.csv, a copy of the
project's shared validation file; every row carries its source).

Each row the zoo can express is predicted from the model, the hardware entry, the batch and
the layout the row states, with no measurement of the target, next to the naive baseline
(the model's FLOPs at the device's dense peak: time = FLOPs / peak). Printed per row:
published, predicted, naive, and their errors; then the median and p90 |error| per family.
A row that cannot be expressed, or that the model refuses, is listed with why.

Families and what each row needs:

* **TPU** (maxtext's "Expected performance" tables, training): a dense decoder of the row's
  dimensions (``gpt:...,head_dim=...``; maxtext's MLP is ReLU, non-gated: the same FLOPs as
  GELU), the row's chips, per-chip batch and ``ici_tp``, FSDP (ZeRO-3) over the rest, full
  rematerialisation. The figure compared is TFLOP/s per chip in maxtext's own model-FLOP count
  of that era: per token ``6 x (the blocks' matmul weights + the unembedding) + 12 x layers x
  heads x head_dim x seq`` (attention not halved for the causal mask), times the predicted
  tokens per second per chip. The ``mfu`` rows are the same runs divided by the peak, and are
  not scored twice.
* **Gaudi** (Intel's Gaudi 2 model performance pages, FP8 training of LLaMA 2 and 3.1, tokens/s
  over all cards): the decoder of Meta's dimensions at ``precision="bf16-fp8"`` (Megatron-DeepSpeed's
  bf16 weights with FP8 linear products) on that many
  ``gaudi2`` in ``gaudi2-hls2`` servers, the row's global batch, ZeRO-1 and micro-batch 1
  (neither stated); the layout where the page states it (1.17.0's TP,PP,DP; its 1.19.0 rows of
  the same LLaMA 2 runs take the same), else the fastest that fits (``--search``); recompute not
  stated: the fastest that fits of none, selective and full. Naive: every card at its FP8 peak
  over 6 N FLOPs per token.
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "accelerators_published.csv"


@dataclass
class Scored:
    family: str
    label: str
    metric: str
    published: float
    predicted: float | None
    naive: float | None
    note: str = ""

    @property
    def error(self) -> float | None:
        return None if self.predicted is None else self.predicted / self.published - 1

    @property
    def naive_error(self) -> float | None:
        return None if self.naive is None else self.naive / self.published - 1


# -- TPU: maxtext dense decoders --------------------------------------------------------------

_DIMS = re.compile(r"emb=(\d+), heads=(\d+)x(\d+), mlp=(\d+) \(relu, non-gated\), layers=(\d+), vocab=(\d+)")


def maxtext_flops_per_token(*, emb: int, heads: int, head_dim: int, mlp: int, layers: int, vocab: int,
                            seq: int) -> float:
    """maxtext's training model FLOPs per token of that era (no causal halving)."""
    width = heads * head_dim
    block = emb * 3 * width + width * emb + 2 * emb * mlp  # q, k, v, out; two MLP products
    return 6 * (layers * block + emb * vocab) + 12 * layers * heads * head_dim * seq


def tpu_row(r: dict) -> Scored:
    from accelscope.hardware.catalog import load_hardware
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import predict

    m = _DIMS.search(r["notes"])
    chips = int(r["num_devices"])
    device = "tpu-v4" if r["device"].startswith("TPU v4") else "tpu-v5e"
    label = f"{r['device']} {r['model'].split(' dense')[0]}"
    if not m:
        return Scored("TPU", label, r["metric"], float(r["value"]), None, None, "dimensions not in the row")
    emb, heads, hd, mlp, layers, vocab = (int(x) for x in m.groups())
    per_chip = int(r["batch_size"].split()[0])
    seq = int(r["seq_len_or_image_size"])
    tp_m = re.search(r"ici_tp=(\d+)", r["notes"])
    tp = int(tp_m.group(1)) if tp_m else 1
    model = f"gpt:layers={layers},hidden={emb},heads={heads},head_dim={hd},ffn={mlp},vocab={vocab},seq={seq}"
    flops_token = maxtext_flops_per_token(emb=emb, heads=heads, head_dim=hd, mlp=mlp, layers=layers, vocab=vocab,
                                          seq=seq)
    peak = load_hardware(device).peak("bf16").flops_per_s
    naive = peak / 1e12  # the naive model: every chip at its dense peak
    try:
        par = Parallel(devices=chips, parallel=f"tp={tp}" if tp > 1 else None, zero=3, recompute="full",
                       global_batch=per_chip * chips // tp, micro_batch=per_chip * 1)
        pred = predict(model, hardware=device, task="train", seq_len=seq, precision="bf16", parallel=par,
                       calibrations={})
    except Exception as exc:  # a refusal is reported, not hidden
        return Scored("TPU", label, r["metric"], float(r["value"]), None, naive, f"refused: {exc}")
    if not pred.results:
        return Scored("TPU", label, r["metric"], float(r["value"]), None, naive,
                      "; ".join(u.reason for u in pred.unavailable))
    e = pred.results[0].estimate
    tflops = e.tokens_per_step / e.step_time_s / chips * flops_token / 1e12
    lay = e.parameters["parallel"]["layout"]
    return Scored("TPU", label, r["metric"], float(r["value"]), tflops, naive,
                  f"dp{lay['dp']} tp{lay['tp']} mb{lay['micro_batch']}")


# -- Intel Gaudi 2: FP8 training of LLaMA decoders (Intel's model performance pages) ----------

#: (layers, hidden, heads, kv heads, ffn, vocab) of the rows' models (Meta's model cards)
GAUDI_MODELS = {"2 7B": (32, 4096, 32, 32, 11008, 32000), "2 13B": (40, 5120, 40, 40, 13824, 32000),
                "2 70B": (80, 8192, 64, 8, 28672, 32000), "3.1 8B": (32, 4096, 32, 8, 14336, 128256),
                "3.1 70B": (80, 8192, 64, 8, 28672, 128256)}
#: the layouts Intel's 1.17.0 page states (Megatron-DeepSpeed PR #374), by model; its 1.19.0
#: page lists the same LLaMA 2 runs without them ("the same workload family")
GAUDI_LAYOUTS: dict[str, str] = {}


def gaudi_row(r: dict) -> Scored:
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import predict

    m = re.search(r"LLaMA (?:V)?(2|3\.1) (\d+B)", r["model"])
    key = f"{m.group(1)} {m.group(2)}" if m else None
    label = f"Gaudi 2 x{r['num_devices']} LLaMA {key} ({r['commit_or_version'].split(',')[0][-7:]})"
    value = float(r["value"])
    if key not in GAUDI_MODELS:
        return Scored("Gaudi", label, r["metric"], value, None, None, "model not expressed")
    L, h, a, kv, f, vocab = GAUDI_MODELS[key]
    n, seq = int(r["num_devices"]), int(r["seq_len_or_image_size"])
    gb = int(r["batch_size"].split()[0])
    lay = re.search(r"TP,PP,DP = (\d+),(\d+),(\d+)", r["notes"])
    if lay:
        GAUDI_LAYOUTS[key] = f"tp={lay.group(1)},pp={lay.group(2)}"
    layout = GAUDI_LAYOUTS.get(key)
    model = f"llama:layers={L},hidden={h},heads={a},kv_heads={kv},ffn={f},vocab={vocab},seq={seq}"
    peak = 835e12  # the catalog's FP8 peak (gaudi2.toml); naive: every card at it, 6 N D FLOPs
    params = L * (4 * h * h * (1 + kv / a) / 2 + 3 * h * f) + 2 * vocab * h
    naive = n * peak / (6 * params)
    best = None
    for rc in ("none", "selective", "full") if layout else ("none",):
        par = Parallel(devices=n, system="gaudi2-hls2", parallel=layout, search=layout is None, zero=1,
                       micro_batch=1, global_batch=gb, recompute=rc)
        try:
            pred = predict(model, hardware="gaudi2", task="train", seq_len=seq, precision="bf16-fp8", parallel=par,
                           calibrations={})
        except Exception as exc:  # a refusal is reported, not hidden
            return Scored("Gaudi", label, r["metric"], value, None, naive, f"refused: {str(exc)[:80]}")
        if not pred.results:
            continue
        e = pred.results[0].estimate
        rank = (e.fits_in_memory is not False, -e.step_time_s)
        if best is None or rank > best[0]:
            best = (rank, e)
    if best is None:
        return Scored("Gaudi", label, r["metric"], value, None, naive, "no layout predicted")
    e = best[1]
    got = e.parameters["parallel"]["layout"]
    how = f"tp{got['tp']} pp{got['pp']} dp{got['dp']} {got['recompute']}" + ("" if layout else " (searched)")
    return Scored("Gaudi", label, r["metric"], value, e.tokens_per_step / e.step_time_s, naive, how)


# -- AWS Inferentia2: one chip, HF and torchvision models ------------------------------------

#: the rows' models in the zoo's terms (RoBERTa-base is BERT-base's shape with another
#: vocabulary: the same FLOPs per token; DistilBERT has no zoo entry)
NEURON_MODELS = {"bert-base-uncased": "bert-base", "bert-large-uncased": "bert-large", "roberta-base": "bert-base",
                 "google/vit-base-patch16-224": "vit_b_16", "resnet18": "resnet18", "resnet50": "resnet50",
                 "resnet101": "torchvision:resnet101", "vgg16": "torchvision:vgg16"}
#: NeuronCore-v2s per Inferentia2 chip; the benchmark runs one model copy per core
NEURON_CORES = 2
#: The rows' "FP32 model, autocast Matmult-BF16": neuronx-cc "will automatically cast FP32 matrix
#: multiplication operations to BF16. The remaining operations are performed in the data type
#: specified by the model" (Neuron docs, "Mixed Precision and Performance-accuracy Tuning
#: (neuronx-cc)"). So tensors stay FP32 in memory and only the products run at the BF16 rate:
#: accelscope's ``tf32`` (FP32 tensors, products at the TF32 rate), exact on Inferentia2, whose TF32
#: and BF16 peaks are one figure (190 TFLOPS); checked in ``neuron_row``.
NEURON_PRECISION = "tf32"


def neuron_row(r: dict) -> Scored:
    from accelscope.hardware.catalog import load_hardware
    from accelscope.jobs.predict import predict

    chip = load_hardware("inferentia2")
    if chip.peak("tf32").flops_per_s != chip.peak("bf16").flops_per_s:
        sys.exit("inferentia2's tf32 and bf16 peaks differ: tf32 no longer stands for FP32 tensors with BF16 products")
    label = f"inf2 {r['model']} b{r['batch_size'].split()[0]}"
    zoo = NEURON_MODELS.get(r["model"])
    value = float(r["value"])
    if zoo is None:
        return Scored("Neuron", label, r["metric"], value, None, None, "model not in the zoo")
    batch = int(r["batch_size"].split()[0])
    size = r["seq_len_or_image_size"]
    shape = {"seq_len": int(size)} if size.isdigit() else {"image_size": int(size.split("x")[0])}
    # one copy per NeuronCore: a batch of `batch` on each of the chip's cores is the chip
    # running NEURON_CORES x batch (the latency is one copy's, the throughput both cores')
    pred = predict(zoo, hardware="inferentia2", task="infer", batch_size=NEURON_CORES * batch,
                   precision=NEURON_PRECISION, calibrations={}, **shape)
    if not pred.results:
        return Scored("Neuron", label, r["metric"], value, None, None, "; ".join(u.reason for u in pred.unavailable))
    e = pred.results[0].estimate
    naive_s = e.flops / e.peak_flops_per_s
    if r["metric"] == "latency_ms":
        return Scored("Neuron", label, r["metric"], value, e.step_time_s * 1e3, naive_s * 1e3, "one copy's latency")
    return Scored("Neuron", label, r["metric"], value, NEURON_CORES * batch / e.step_time_s,
                  NEURON_CORES * batch / naive_s, "both cores")


# -- Vitis AI DPU on Zynq boards --------------------------------------------------------------

#: the rows' models in the zoo's terms (the TF ResNet-50 v1 and YOLOv3 have no zoo entry)
VITIS_MODELS = {"ResNet-50 (torchvision)": "resnet50", "ResNet-50 (PyTorch": "resnet50",
                "MobileNet-v2 1.0": "mobilenet_v2", "Inception-v3": "torchvision:inception_v3",
                "EfficientNet-B0": "efficientnet_b0"}
VITIS_BOARDS = {"Xilinx ZCU104": "zcu104", "Xilinx Kria KV260": "kv260"}


def vitis_row(r: dict) -> Scored:
    from accelscope.api import fpga_estimate

    board = next((v for k, v in VITIS_BOARDS.items() if r["device"].startswith(k)), None)
    zoo = next((v for k, v in VITIS_MODELS.items() if r["model"].startswith(k)), None)
    threads = "multi" if "Multi-thread" in r["notes"] else "single"
    label = f"{r['device'].split(' (')[0]} {r['model'].split(' (')[0]} {threads if r['metric'] == 'fps' else ''}"
    value = float(r["value"])
    if board is None:
        return Scored("DPU", label, r["metric"], value, None, None, "board not in the catalog")
    if zoo is None:
        return Scored("DPU", label, r["metric"], value, None, None, "model not in the zoo")
    size = int(r["seq_len_or_image_size"].split("x")[0])
    try:
        p = fpga_estimate(zoo, device=board, style="overlay", image_size=size)
    except Exception as exc:
        return Scored("DPU", label, r["metric"], value, None, None, f"refused: {exc}")
    d, e = p.estimate.parameters, p.estimate
    naive_s = e.flops / (d["peak_ops_per_clock"] * d["clock_hz"] * d["cores"])
    if r["metric"] == "latency_ms":
        return Scored("DPU", label, r["metric"], value, d["latency_s"] * 1e3, naive_s * d["cores"] * 1e3,
                      "one core, one thread")
    fps = d["fps_multi_thread"] if threads == "multi" else d["fps_single_thread"]
    naive = 1 / naive_s if threads == "multi" else 1 / (naive_s * d["cores"])
    return Scored("DPU", label, r["metric"], value, fps, naive, f"{d['cores']}x{d['arch']}")


# -- CPUs: OpenVINO benchmark_app -------------------------------------------------------------

CPU_DEVICES = {"Intel® Xeon® Platinum 8380": "xeon-8380", "Intel® Core™ i9-13900K": "core-i9-13900k",
               "Intel® Core™ i7-1185G7": "core-i7-1185g7"}
#: Open Model Zoo models in the zoo's terms: resnet-50-tf is ResNet-50 v1 at 8.22 GFLOPs, the
#: torchvision network's count; mobilenet-v2-pytorch is torchvision's; bert-base-cased at 128
CPU_MODELS = {"resnet-50": "resnet50", "mobilenet-v2": "mobilenet_v2", "bert-base-cased": "bert-base"}


def cpu_row(r: dict) -> Scored:
    from accelscope.hardware.catalog import load_hardware
    from accelscope.jobs.predict import predict

    dev = CPU_DEVICES.get(r["device"])
    key = next((k for k in CPU_MODELS if r["model"].startswith(k)), None)
    precision = r["precision"].split()[0].lower()
    label = f"{r['device'].replace('Intel® ', '').replace('®', '').replace('™', '')} {r['model'].split(' (')[0]} " \
            f"{precision}"
    value = float(r["value"])
    if key is None:
        return Scored("CPU", label, r["metric"], value, None, None, "model not expressed (LLM rows: weight-only "
                      "formats on a CPU are not modelled)")
    try:
        spec = load_hardware(dev)
    except Exception as exc:
        return Scored("CPU", label, r["metric"], value, None, None, f"not in the catalog: {exc}")
    sockets = int(r["num_devices"])
    size = r["seq_len_or_image_size"]
    shape = {"seq_len": int(size.split()[0])} if "token" in size else {"image_size": int(size.split("x")[0])}
    cores = spec.compute_units.number
    # throughput mode: every core busy on its own request (OpenVINO's streams); latency mode: one
    # request on the whole socket. Several sockets: each runs its share (throughput x sockets).
    batch = 1 if r["metric"] == "latency_ms" else int(cores or 1)
    # OpenVINO's INT8 rows are quantised models (weights and activations): w8a8
    prec = {"fp32": "fp32", "int8": "w8a8"}.get(precision)
    if prec is None:
        return Scored("CPU", label, r["metric"], value, None, None, f"{precision} not a workload precision")
    pred = predict(CPU_MODELS[key], hardware=dev, task="infer", batch_size=batch, precision=prec, mode="compile",
                   calibrations={}, **shape)
    if not pred.results:
        return Scored("CPU", label, r["metric"], value, None, None, "; ".join(u.reason for u in pred.unavailable))
    e = pred.results[0].estimate
    naive_s = e.flops / e.peak_flops_per_s if e.peak_flops_per_s else None
    if r["metric"] == "latency_ms":
        return Scored("CPU", label, r["metric"], value, e.step_time_s * 1e3, naive_s and naive_s * 1e3, "batch 1")
    return Scored("CPU", label, r["metric"], value, sockets * batch / e.step_time_s,
                  naive_s and sockets * batch / naive_s, f"batch {batch} x {sockets} socket(s)")


def rows(path: Path):
    return list(csv.DictReader(path.open()))


def main(path: Path = DATA) -> None:
    t0 = time.perf_counter()
    scored: list[Scored] = []
    skipped: list[tuple[str, str]] = []
    for r in rows(path):
        if r["device_kind"] == "tpu" and r["metric"] == "tflops_per_device":
            scored.append(tpu_row(r))
        elif r["device_kind"] == "tpu" and r["metric"] == "mfu":
            continue  # the tflops row of the same run, divided by the peak
        elif r["device"].startswith("AWS Inferentia2 (Inf2.xlarge)"):
            scored.append(neuron_row(r))
        elif r["device_kind"] == "fpga":
            scored.append(vitis_row(r))
        elif r["device_kind"] == "cpu":
            scored.append(cpu_row(r))
        elif r["device"].startswith("Intel Gaudi 2"):
            scored.append(gaudi_row(r))
        elif r["device"].startswith("AWS Inferentia2 (Inf2.48xlarge)"):
            skipped.append((r["device"], f"{r['model']} {r['metric']}: tensor parallel 24 over NeuronCores does not "
                                         "divide 32 or 64 heads (Neuron pads them; the serving model splits heads "
                                         "evenly)"))
        else:
            skipped.append((r["device"], f"{r['model'][:40]} {r['metric']}: not in the zoo (MLPerf scenario)"))
    print(f"{'family':7s} {'row':44s} {'metric':18s} {'published':>10s} {'predicted':>10s} {'err':>7s} "
          f"{'naive':>9s} {'err':>7s}  note")
    for s in scored:
        def f(v):
            return f"{v:10.4g}" if v is not None else "         -"

        def e(v):
            return f"{v:+7.1%}" if v is not None else "      -"

        print(f"{s.family:7s} {s.label[:44]:44s} {s.metric:18s} {s.published:10.4g} {f(s.predicted)} {e(s.error)} "
              f"{f(s.naive)[1:]} {e(s.naive_error)}  {s.note}")
    print()
    for fam in sorted({s.family for s in scored}):
        errs = [abs(s.error) for s in scored if s.family == fam and s.error is not None]
        naive = [abs(s.naive_error) for s in scored if s.family == fam and s.naive_error is not None]
        if errs:
            q = statistics.quantiles(errs, n=10)[-1] if len(errs) > 1 else errs[0]
            nq = statistics.median(naive) if naive else float("nan")
            print(f"{fam:7s}: {len(errs)} rows, median |error| {statistics.median(errs):.1%}, p90 {q:.1%} "
                  f"(naive FLOPs/peak: median {nq:.1%})")
    reasons: dict[str, int] = {}
    for dev, why in skipped:
        key = f"{dev.split(' (')[0]}: {why.split(': ', 1)[1]}"
        reasons[key] = reasons.get(key, 0) + 1
    for why, n in reasons.items():
        print(f"not scored: {n} row(s) of {why}")
    done = sum(s.predicted is not None for s in scored)
    print(f"\n{len(scored) + len(skipped)} rows: {done} predicted and scored, {len(scored) - done} listed above "
          f"without a prediction, {len(skipped)} not scored; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)

"""Score accelscope's GPU predictions against published throughput (no target-GPU measurement).

Reads the NVIDIA DeepLearningExamples figures in benchmarks/data/published_gpu_throughput.csv
(a copy of the project's shared validation file; each row names its source README and commit;
or the path given as the first argument), keeps every row the zoo can express (ResNet-50
training and inference, BERT-large pre-training, SQuAD fine-tuning and inference on a
catalog GPU), profiles each configuration, predicts it with the default (uncalibrated)
parameters, and prints per-row errors, the median and p90 absolute % error per GPU and
overall, next to the naive baseline: total matmul/conv/attention FLOPs / datasheet peak.
Each row is profiled as its recipe runs it, from the recipe's files: BERT with unfused
attention (DeepLearningExamples' modeling.py), ResNet-50's AMP recipes channels-last
(ConvNets/configs.yml: memory_format nhwc), FP32/TF32 NCHW. BERT phase-2 pre-training rows are
not scored (their sequences are binned by length, so the tokens per sequence are unknown):
the prediction at a full 512 tokens is printed as a lower bound on each instead.
Pre-training rows, whose recipe accumulates gradients over many micro-batches (the README's
pre-training tables list the accumulation steps), are compared without the optimizer step,
which such runs amortise over the accumulated batch; SQuAD fine-tuning steps it every batch.

Nothing in the model is fitted to these rows except one figure, the reference host's eager
cost per op (``hardware/data/hosts.toml``): its scale is fitted here, by least absolute log
error, and scored leave-one-GPU-out (each GPU's rows predicted with the scale fitted to the
other GPUs' rows). The achievable ceilings are measured figures from microbenchmarks (or derived
from other cards' measurements); the "ceilings withheld" table scores each GPU with its own
measurements removed, so its ceilings are derived from the other cards'.

Goals (issue 13): median <= 12% and p90 <= 25% overall, no GPU's median above 15%.
"""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

from dataclasses import replace

import numpy as np

import accelscope
from accelscope.errors import AccelscopeError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.schema import AchievableTable
from accelscope.models import roofline
from accelscope.models.predict import naive_step_time, predict

DEFAULT = Path(__file__).resolve().parent / "data" / "published_gpu_throughput.csv"
#: A held-out model: DeepLearningExamples' EfficientNet-B0 figures, transcribed into this
#: project after the predictor's choices were made (see the file's notes column for sources).
HELD_OUT = Path(__file__).resolve().parent / "data" / "dle_efficientnet_b0.csv"
#: DeepLearningExamples' BERT (PyTorch/LanguageModeling/BERT/modeling.py, BertSelfAttention)
#: computes attention unfused: matmul, scale, additive mask, softmax, dropout, matmul.
MODELS = {"resnet50": "resnet50", "efficientnet-b0": "efficientnet_b0", "bert-large-pretrain": "bert-large-eager",
          "bert-large-squad-finetune": "bert-large-eager", "bert-large-squad": "bert-large-eager"}
PRECISION = {"FP32": "fp32", "TF32": "tf32", "AMP": "amp-fp16"}


@lru_cache(maxsize=None)
def _profile(model: str, task: str, batch: int, size: int, precision: str):
    if model in ("resnet50", "efficientnet_b0"):
        # ConvNets/configs.yml: the AMP recipes set memory_format: nhwc; FP32/TF32 run NCHW.
        opts = {"image_size": size, "channels_last": precision.startswith("amp")}
    else:
        opts = {"seq_len": size}
    return accelscope.profile(model, task=task, batch_size=batch, precision=precision, **opts)


def _step(r: dict, est, host_scale: float = 1.0) -> float:
    """The row's step time from an estimate, with the host's per-op cost scaled by ``host_scale``."""
    ops = est.ops
    if r["model"] == "bert-large-pretrain":
        # Pre-training accumulates gradients over many micro-batches (the README's tables list
        # the accumulation steps): the optimizer step is amortised away.
        ops = [o for o in ops if o.phase != "optimizer"]
    if host_scale != 1.0:
        ops = [replace(o, overhead_s=o.overhead_s * host_scale) for o in ops]
    return roofline.step_time(ops, roofline.DEFAULTS["gpu"])[0]


def _predicted(r: dict, spec, size: int):
    """(profile, estimate, predicted samples/s) for a row at ``size`` (image side or tokens)."""
    p = _profile(MODELS[r["model"]], r["task"], int(r["batch_size"]), size, PRECISION[r["precision"]])
    est = predict(p, spec)
    return p, est, p.samples_per_step / _step(r, est)


#: Scales of the reference host's per-op cost tried by the fit.
SCALES = np.round(np.arange(0.30, 1.51, 0.01), 2)


def _errors(rows: list[dict], scale: float) -> np.ndarray:
    return np.array([s["profile"].samples_per_step / _step(s["row"], s["est"], scale) / s["measured"] - 1
                     for s in rows])


def fit_host_scale(rows: list[dict]) -> float:
    """The scale of the host's per-op cost that minimises the mean |log(predicted / published)|."""
    losses = [np.mean(np.abs(np.log1p(_errors(rows, k)))) for k in SCALES]
    return float(SCALES[int(np.argmin(losses))])


def _summary(label: str, errs: np.ndarray, naive: np.ndarray | None = None) -> str:
    e = np.abs(errs) * 100
    line = f"{label:<26}{len(e):>5}{np.median(e):>13.1f}%{np.percentile(e, 90):>10.1f}%"
    if naive is not None:
        n = np.abs(naive) * 100
        line += f"{np.median(n):>13.1f}%{np.percentile(n, 90):>10.1f}%"
    return line


def main(path: Path, title: str = "", fit: bool = True) -> None:
    if title:
        print(f"\n== {title} ==")
    rows = list(csv.DictReader(path.open()))
    scored, skipped, bounds = [], {}, []
    for r in rows:
        model = MODELS.get(r["model"])
        why = None
        if model is None:
            why = f"model {r['model']} not in the zoo"
        elif r["unit"] not in ("images/s", "sequences/s"):
            why = f"unit {r['unit']}"
        elif r["num_gpus"] != "1":
            why = "multi-GPU"
        elif r["model"] == "bert-large-pretrain" and r["seq_len_or_image_size"] == "512":
            # README changelog (January 2022): "Binned pretraining for phase2 with LDDL using a
            # bin size of 64": each batch is padded to its own length, not to 512, and the
            # tokens per sequence are not published.
            why = "BERT phase 2 (sequences binned by length, not 512 tokens)"
        try:
            spec = load_hardware(r["gpu"]) if why is None else None
        except AccelscopeError:
            why = f"GPU {r['gpu']} not in the catalog"
        if why and why.startswith("BERT phase 2"):
            # still a check: at a full 512 tokens per sequence the prediction must not be faster
            spec = load_hardware(r["gpu"])
            bounds.append((r, spec.name, _predicted(r, spec, 512)[2], float(r["throughput"])))
        if why:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        size = int(r["seq_len_or_image_size"])
        p, est, predicted = _predicted(r, spec, size)
        bare = replace(spec, measured_ceilings=AchievableTable())
        withheld = p.samples_per_step / _step(r, predict(p, bare))
        measured = float(r["throughput"])
        naive = p.samples_per_step / naive_step_time(p, spec)
        scored.append(dict(row=r, gpu=spec.name, profile=p, est=est, predicted=predicted, measured=measured,
                           err=predicted / measured - 1, naive_err=naive / measured - 1, bound=est.bound,
                           withheld_err=withheld / measured - 1))

    print(f"{'model':<26}{'task':<6}{'gpu':<16}{'prec':<5}{'batch':>6}{'size':>5}"
          f"{'published':>11}{'predicted':>11}{'error':>9}{'naive err':>11}  bound")
    for s in scored:
        r = s["row"]
        print(f"{r['model']:<26}{r['task']:<6}{s['gpu']:<16}{r['precision']:<5}{r['batch_size']:>6}"
              f"{r['seq_len_or_image_size']:>5}{s['measured']:>11.1f}{s['predicted']:>11.1f}"
              f"{s['err']:>+9.1%}{s['naive_err']:>+11.1%}  {s['bound']}")
    gpus = sorted({s["gpu"] for s in scored})
    header = f"{'':<26}{'rows':>5}{'median |err|':>14}{'p90 |err|':>11}"

    print("\nas shipped" + (" (the reference host's per-op cost was fitted to these rows: in-sample for that one "
                            "figure; the leave-one-GPU-out table below is the score)" if fit else ""))
    print(header + f"{'naive median':>14}{'naive p90':>11}")
    for g in gpus + ["overall"]:
        sel = [s for s in scored if g == "overall" or s["gpu"] == g]
        print(_summary(g, np.array([s["err"] for s in sel]), np.array([s["naive_err"] for s in sel])))
    print("per model")
    for m in sorted({(s["row"]["model"], s["row"]["task"]) for s in scored}):
        sel = [s for s in scored if (s["row"]["model"], s["row"]["task"]) == m]
        print(_summary(f"{m[0]} {m[1]}", np.array([s["err"] for s in sel])))

    if not fit:
        return
    fitted = fit_host_scale(scored)
    print(f"\nleave-one-GPU-out: each GPU's rows with the host's per-op cost fitted to the other GPUs' rows "
          f"(fitted to all rows: x{fitted:.2f} of the shipped figure)")
    print(header + f"{'fitted scale':>14}")
    logo = []
    for g in gpus:
        rest = [s for s in scored if s["gpu"] != g]
        mine = [s for s in scored if s["gpu"] == g]
        k = fit_host_scale(rest)
        errs = _errors(mine, k)
        logo.extend(errs)
        print(_summary(g, errs) + f"{k:>13.2f}x")
    print(_summary("overall (held out)", np.array(logo)))

    print("\nceilings withheld: each GPU's own measured ceilings removed, derived from the other cards'")
    print(header)
    for g in gpus + ["overall"]:
        sel = [s for s in scored if g == "overall" or s["gpu"] == g]
        print(_summary(g, np.array([s["withheld_err"] for s in sel])))
    if not title:
        print("\ngoal: median <= 12%, p90 <= 25% overall (held out), no GPU's median above 15%")
    if bounds:
        print("\nnot scored, BERT phase 2 (sequences binned to multiples of 64 tokens): the prediction at a "
              "full 512 tokens is a lower bound")
        for r, gpu, pred, pub in bounds:
            print(f"  {gpu:<16}{r['precision']:<5} batch {r['batch_size']:>3}: predicted at 512 tokens {pred:7.1f}"
                  f" <= published {pub:7.1f} seq/s: {'yes' if pred <= pub else 'NO'}")
    print("skipped rows: " + "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
    if len(sys.argv) == 1 and HELD_OUT.exists():
        main(HELD_OUT, "held-out model: EfficientNet-B0 (not part of the goal; nothing fitted to it)", fit=False)

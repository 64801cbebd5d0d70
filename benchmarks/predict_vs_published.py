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

Goal (issue 4): median <= 15%, p90 <= 35%.
"""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

import accelscope
from accelscope.errors import AccelscopeError
from accelscope.hardware.catalog import load_hardware
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


def _predicted(r: dict, spec, size: int):
    """(profile, estimate, predicted samples/s) for a row at ``size`` (image side or tokens)."""
    p = _profile(MODELS[r["model"]], r["task"], int(r["batch_size"]), size, PRECISION[r["precision"]])
    est = predict(p, spec)
    step_s = est.step_time_s
    if r["model"] == "bert-large-pretrain":
        # Pre-training accumulates gradients over many micro-batches (the README's tables list
        # the accumulation steps): the optimizer step is amortised away.
        step_s -= est.time_by_phase_s.get("optimizer", 0.0)
    return p, est, p.samples_per_step / step_s


def main(path: Path, title: str = "") -> None:
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
        p, est, predicted = _predicted(r, spec, int(r["seq_len_or_image_size"]))
        measured = float(r["throughput"])
        naive = p.samples_per_step / naive_step_time(p, spec)
        scored.append(dict(row=r, gpu=spec.name, predicted=predicted, measured=measured,
                           err=predicted / measured - 1, naive_err=naive / measured - 1, bound=est.bound))

    print(f"{'model':<26}{'task':<6}{'gpu':<16}{'prec':<5}{'batch':>6}{'size':>5}"
          f"{'published':>11}{'predicted':>11}{'error':>9}{'naive err':>11}  bound")
    for s in scored:
        r = s["row"]
        print(f"{r['model']:<26}{r['task']:<6}{s['gpu']:<16}{r['precision']:<5}{r['batch_size']:>6}"
              f"{r['seq_len_or_image_size']:>5}{s['measured']:>11.1f}{s['predicted']:>11.1f}"
              f"{s['err']:>+9.1%}{s['naive_err']:>+11.1%}  {s['bound']}")
    print()
    print(f"{'GPU':<18}{'rows':>5}{'median |err|':>14}{'p90 |err|':>11}{'naive median':>14}{'naive p90':>11}")
    groups = sorted({s["gpu"] for s in scored}) + ["overall"]
    for g in groups:
        sel = [s for s in scored if g == "overall" or s["gpu"] == g]
        e = np.abs([s["err"] for s in sel]) * 100
        n = np.abs([s["naive_err"] for s in sel]) * 100
        print(f"{g:<18}{len(sel):>5}{np.median(e):>13.1f}%{np.percentile(e, 90):>10.1f}%"
              f"{np.median(n):>13.1f}%{np.percentile(n, 90):>10.1f}%")
    if not title:
        print(f"\ngoal: median <= 15%, p90 <= 35% (overall)")
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
        main(HELD_OUT, "held-out model: EfficientNet-B0 (not part of the goal)")

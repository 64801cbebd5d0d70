"""How much does the harness add, and how repeatable is it?

1. Overhead: the harness's median step time (``accelscope.measure.time_step``) for a fixed
   small workload against a bare timed loop of the *same* step function (``perf_counter``
   around each call), in interleaved rounds (bare, harness, bare, harness, ...) so that
   drifts of a shared machine hit both alike; the figure is the median over rounds of the
   paired ratio harness / bare. Goal: within 1%.
2. Repeatability: the coefficient of variation (std / mean) of the medians of five
   repeated harness runs (the first five rounds). Goal: <= 2% on a quiet machine.

Usage: python benchmarks/bench_overhead.py [--model mlp] [--task train] [--batch 32] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from accelscope.measure import TimerConfig, build_step, get_device, time_step
from accelscope.measure.environment import collect_environment
from accelscope.workload import load_workload


def bare_loop_median(step, seconds: float, block: int = 1) -> float:
    """The simplest honest loop: ``perf_counter`` around every ``block`` back-to-back calls.

    ``block`` is the harness's own block size, so the two differ only by what the harness
    adds (warm-up logic, adaptive stopping, statistics, hooks); the garbage collector is
    paused in both, as the harness does.
    """
    import gc

    gc.disable()
    for _ in range(10):  # a warm start
        step()
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(block):
            step()
        samples.append((time.perf_counter() - t0) / block)
    gc.enable()
    return float(np.median(samples))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--task", default="train")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=2.0, help="time per bare loop and per harness run")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved bare/harness rounds (>= 5)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    env = collect_environment()
    dev = get_device("cpu")
    w = load_workload(args.model, task=args.task, batch_size=args.batch)
    prepared = build_step(w, dev)
    step = prepared.step
    cfg = TimerConfig(max_time_s=args.seconds)

    block = time_step(step, dev, TimerConfig(max_time_s=0.2)).block_size  # the harness's choice
    bare, harness, converged = [], [], []
    for _ in range(max(5, args.rounds)):
        bare.append(bare_loop_median(step, args.seconds, block))
        r = time_step(step, dev, cfg)
        harness.append(r.stats.median)
        converged.append(r.converged)
        block = r.block_size
    ratios = [h / b for h, b in zip(harness, bare)]
    overhead = statistics.median(ratios) - 1
    cv = statistics.stdev(harness[:5]) / statistics.mean(harness[:5])

    print(f"machine: {env.cpu_model}, {env.physical_cores} physical / {env.logical_cores} logical cores, "
          f"torch {env.torch_version}, {args.threads} thread(s), {env.timestamp[:10]}")
    print(f"workload: {args.model} {args.task} batch {args.batch} on cpu, {len(bare)} interleaved rounds "
          f"of {args.seconds:g} s each (bare loop, then harness); {block} step(s) per timed block")
    print(f"{'round':>6} {'bare loop median':>18} {'harness median':>16} {'harness/bare':>13} {'converged':>10}")
    for i, (b, h, c) in enumerate(zip(bare, harness, converged), 1):
        print(f"{i:>6} {b * 1e3:>15.4f} ms {h * 1e3:>13.4f} ms {h / b - 1:>+12.2%} {str(c):>10}")
    print(f"overhead (median over rounds of harness median / bare-loop median): {overhead:+.2%} (goal: within 1%)")
    print(f"repeatability (CV of 5 harness runs' medians): {cv:.2%} (goal: <= 2% on a quiet machine)")


if __name__ == "__main__":
    main()

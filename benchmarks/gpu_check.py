"""One prepared GPU check: resnet50 and gpt2-small, inference and a training step, cuda vs cpu.

On a CUDA machine it measures, for each model and task, the CPU in fp32 and amp-bf16 (small
batches, short time caps) and the GPU in fp32, amp-bf16 and amp-fp16 at the same batch,
so every GPU row has a speedup over the CPU with a bootstrap CI; then a few GPU-only rows
at realistic batch sizes, ResNet-50 training also in channels-last memory format. Energy comes from NVML (pip install nvidia-ml-py) on the GPU and
RAPL on the CPU where readable; peak memory from the CUDA caching allocator. It prints a
compact table and, with --json-out, writes every Measurement (raw samples included). Last, it
predicts every GPU row with the uncalibrated predictor for the catalog entry that matches the
card's name and prints predicted vs measured step time, and from a batch-1 (host-bound) step
the measured eager host time per op against the host model's. It times a decoder's generate
loop on the GPU (bench --task serve: TTFT, TPOT) next to the serving model's prediction. With
two GPUs or more it also measures NCCL collectives (bench-comm) and a 2-rank DDP training step
with its E(2).

On a machine without CUDA it runs the CPU rows only and says that the CUDA rows were
skipped. A global deadline (--budget, default 330 s) skips what would not fit; the plan
is sized for ~4 minutes on an H100 host with 16 cores.

Usage: python benchmarks/gpu_check.py [--quick] [--budget 330] [--json-out results.json] [--store PATH]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from accelscope.measure import bench
from accelscope.measure.bench import with_speedup
from accelscope.measure.environment import collect_environment
from accelscope.units import fmt_bytes, fmt_seconds

# (model, options, cpu/gpu shared batch, gpu-only large batch)
PLAN = [
    ("resnet50", {"image_size": 224}, 8, 128),
    ("gpt2-small", {"seq_len": 256}, 4, 16),
]
QUICK_PLAN = [
    ("resnet50", {"image_size": 64}, 2, 8),
    ("gpt2-small", {"seq_len": 32}, 2, 4),
]
CPU_PRECISIONS = ("fp32", "amp-bf16")
GPU_PRECISIONS = ("fp32", "amp-bf16", "amp-fp16")


def row(m) -> str:
    if not m.ok:
        return f"{m.model:<11} {m.task:<5} {m.batch_size:>4} {m.device:<7} {m.precision:<9} FAILED: {m.error}"
    st = m.step_time_s
    sp = (f"{m.speedup_vs_cpu:7.1f}x [{m.speedup_ci_low:.1f}-{m.speedup_ci_high:.1f}]"
          if m.speedup_vs_cpu is not None else f"{'-':>7}")
    e = f"{m.energy_j_per_sample:.4g} J" if m.energy_j_per_sample is not None else "n/a"
    w = f"{m.mean_power_w:.0f} W" if m.mean_power_w is not None else "n/a"
    mem = fmt_bytes(m.peak_mem_allocated_bytes if m.peak_mem_allocated_bytes is not None else m.peak_rss_bytes)
    flags = "" if not m.flags else m.verdict
    return (f"{m.model:<11} {m.task:<5} {m.batch_size:>4} {m.device:<7} {m.precision:<9} "
            f"{fmt_seconds(st.median):>9} ±{fmt_seconds(st.iqr):>8} {m.throughput_samples_per_s:>9.1f}/s "
            f"{sp:<22} {e:>11} {w:>6} {m.energy_method:<20} {mem:>9} {flags}")


def predictor_vs_measured(results) -> None:
    """Predict each successful CUDA measurement on the matching catalog spec; print the error."""
    import accelscope
    from accelscope.errors import AccelscopeError
    from accelscope.hardware.detect import match_catalog
    from accelscope.models.predict import predict

    rows = [m for m in results if m.ok and m.device.startswith("cuda")]
    if not rows:
        return
    print("\npredictor vs measurement (uncalibrated; catalog entry matched by the card's name):")
    errors = []
    for m in rows:
        spec = match_catalog(m.device_model or "", "gpu")
        label = f"{m.model:<11} {m.task:<5} {m.batch_size:>4} {m.precision:<9}{' NHWC' if m.channels_last else ''}"
        if spec is None:
            print(f"{label} {m.device_model!r} is not in the catalog")
            continue
        try:
            e = predict(accelscope.profile(m.spec), spec)  # the workload exactly as measured
        except AccelscopeError as exc:
            print(f"{label} no estimate on {spec.name}: {exc}")
            continue
        err = e.step_time_s / m.step_time_s.median - 1
        errors.append(abs(err))
        print(f"{label} {spec.name:<15} measured {fmt_seconds(m.step_time_s.median):>9}  predicted "
              f"{fmt_seconds(e.step_time_s):>9}  {err:+7.1%}  ({e.bound}-bound, MFU {e.mfu or 0:.0%})")
    if errors:
        errors.sort()
        print(f"median |error| {errors[len(errors) // 2]:.1%} over {len(errors)} GPU rows")
    # the host model: a batch-1 step is host-bound in eager PyTorch, so its time over its ops
    # is this machine's eager cost per op, against the catalog host's and the reference's
    for m in rows:
        if m.batch_size == 1 and m.task == "infer":
            from accelscope.hardware.hosts import host_of, load_host

            prof = accelscope.profile(m.spec)
            n_ops = sum(o.count for o in prof.ops if not o.is_view)
            spec = match_catalog(m.device_model or "", "gpu")
            catalog_host = host_of(spec) if spec is not None else load_host("reference")
            print(f"host-bound {m.model} batch 1 {m.precision}: {fmt_seconds(m.step_time_s.median)} over {n_ops} ops "
                  f"= {m.step_time_s.median / n_ops * 1e6:.1f} us per op measured on this host; the model's "
                  f"{catalog_host.label}: {catalog_host.eager_op_s.number * 1e6:.1f} us "
                  f"(reference {load_host('reference').eager_op_s.number * 1e6:.1f} us)")


def collectives_and_ddp(n_gpus: int) -> None:
    """NCCL collectives (bench-comm up to 256 MiB) and a 2-rank DDP training step, when the
    machine has two GPUs or more."""
    from accelscope.measure.comm import bench_comm
    from accelscope.measure.distributed import bench_distributed
    from accelscope.workload.spec import as_spec

    comm = bench_comm(nproc_per_node=min(n_gpus, 8), device="cuda", max_bytes=256 * 2**20,
                      ops=("all_reduce", "all_gather", "reduce_scatter"))
    print(f"\nNCCL collectives on {comm.world_size} GPUs (largest message):")
    for op in ("all_reduce", "all_gather", "reduce_scatter"):
        pts = [p for p in comm.points if p.op == op and p.time_s]
        if pts:
            p = pts[-1]
            print(f"  {op:<15} {fmt_bytes(p.bytes):>9} {fmt_seconds(p.time_s):>9}  busbw "
                  f"{p.busbw_bytes_per_s / 1e9:7.1f} GB/s")
    for f in comm.fits:
        print(f"  {f.op:<15} alpha {fmt_seconds(f.alpha_s)}, beta {f.beta_bytes_per_s / 1e9:.1f} GB/s")
    d = bench_distributed(as_spec("resnet50", task="train", batch_size=64, precision="amp-bf16").resolved(),
                          nproc_per_node=2, device="cuda", max_time_s=3)
    print(f"DDP resnet50 train b64 amp-bf16 on 2 GPUs: step {fmt_seconds(d.step_time_s)}, one GPU "
          f"{fmt_seconds(d.single_process_step_s)}, E(2) = {d.scaling_efficiency or float('nan'):.2f}"
          + (f" ({d.error})" if d.error else ""))


def serving_vs_predicted(quick: bool) -> None:
    """A decoder's generate loop measured on the GPU (bench --task serve: TTFT, TPOT) next to
    the serving model's prediction for the catalog entry matching the card (cuda-graphs would
    be optimistic for an eager loop: predicted in eager mode, as it runs)."""
    from accelscope.hardware.detect import match_catalog
    from accelscope.jobs.serving import Serving, serve_on
    from accelscope.measure.environment import collect_environment
    from accelscope.measure.serve import bench_serve
    from accelscope.workload import WorkloadSpec

    model = "gpt2-small" if quick else "llama:layers=16,hidden=2048,heads=16,kv_heads=4,vocab=32000,seq=4096"
    spec = WorkloadSpec(model=model, task="serve", batch_size=8, input_tokens=512, output_tokens=64,
                        precision="bf16").resolved()
    m = bench_serve(spec, device="cuda", max_time_s=3)
    gpus = collect_environment().gpus
    hw = match_catalog(gpus[0]["name"] if gpus else "", "gpu")
    line = (f"\nserving {model} b8 512+64 bf16 measured: TTFT {fmt_seconds(m.ttft_s)}, TPOT {fmt_seconds(m.tpot_s)}, "
            f"{m.output_tokens_per_s:.0f} tok/s, parts/whole {m.consistency:.3f}")
    if hw is not None:
        e = serve_on(Serving(), spec, hw)
        line += (f"; predicted ({hw.name}, eager): TTFT {fmt_seconds(e.ttft_s)} ({e.ttft_s / m.ttft_s - 1:+.0%}), "
                 f"TPOT {fmt_seconds(e.tpot_s)} ({e.tpot_s / m.tpot_s - 1:+.0%})")
    print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script runs")
    ap.add_argument("--budget", type=float, default=330.0, help="seconds; points that would start later are skipped")
    ap.add_argument("--cpu-max-time", type=float, default=2.0)
    ap.add_argument("--gpu-max-time", type=float, default=3.0)
    ap.add_argument("--json-out", default=None)
    ap.add_argument("--store", default=None, help="also store the runs in this results database")
    args = ap.parse_args()
    t_start = time.perf_counter()
    plan = QUICK_PLAN if args.quick else PLAN

    env = collect_environment()
    has_cuda = torch.cuda.is_available()
    print(f"accelscope gpu_check  {env.timestamp}  host {env.hostname}")
    print(f"CPU {env.cpu_model}: {env.physical_cores} physical / {env.logical_cores} logical cores; "
          f"torch {env.torch_version}, CUDA {env.cuda_version}, cuDNN {env.cudnn_version}")
    if has_cuda:
        print("GPUs: " + ", ".join(f"{g['name']} ({fmt_bytes(g['memory_bytes'])}, sm {g['compute_capability']})"
                                   for g in env.gpus) + f"; driver {env.gpu_driver}")
        try:
            import pynvml  # noqa: F401
        except ImportError:
            print("note: nvidia-ml-py is not installed: GPU energy will be n/a (pip install nvidia-ml-py)")
    else:
        print("CUDA is not available on this machine: skipping every CUDA row (CPU rows only).")

    store = None
    if args.store:
        from accelscope.store import Store

        store = Store(args.store)
    results = []
    skipped = []

    def run(model, opts, devices, tasks, batch, precisions, max_time, channels_last=False):
        if time.perf_counter() - t_start > args.budget:
            skipped.append(f"{model} {tasks} b{batch} {devices} {precisions}")
            return []
        r = bench(model, devices=devices, tasks=tasks, batch_sizes=[batch], precisions=precisions,
                  max_time_s=max_time, store=store, command="benchmarks/gpu_check.py",
                  channels_last=channels_last, **opts)
        return list(r.measurements)

    for model, opts, batch, big_batch in plan:
        for task in ("infer", "train"):
            cpu = run(model, opts, ["cpu"], task, batch, CPU_PRECISIONS, args.cpu_max_time)
            results += cpu
            if not has_cuda:
                continue
            cpu_points = {(m.task, m.batch_size, m.precision): m for m in cpu}
            gpu = run(model, opts, ["cuda"], task, batch, GPU_PRECISIONS, args.gpu_max_time)
            results += [with_speedup(m, cpu_points) for m in gpu]
    if has_cuda:  # realistic GPU batches (no CPU counterpart: too slow there)
        for model, opts, batch, big_batch in plan:
            results += run(model, opts, ["cuda"], "infer,train", big_batch, ("amp-bf16",), args.gpu_max_time)
        # a host-bound step: eager PyTorch's host cost per op on this machine (the host model)
        model, opts, batch, big_batch = plan[0]
        results += run(model, opts, ["cuda"], "infer", 1, ("fp32", "amp-bf16"), args.gpu_max_time)
        # NCHW vs channels-last tensor-core convolutions: the predictor charges cuDNN's transposes
        model, opts, batch, big_batch = plan[0]
        results += run(model, opts, ["cuda"], "train", big_batch, ("amp-bf16",), args.gpu_max_time, channels_last=True)

    print()
    print(f"{'model':<11} {'task':<5} {'bat':>4} {'device':<7} {'precision':<9} {'median':>9} {'IQR':>9} "
          f"{'throughput':>11} {'speedup vs cpu [95% CI]':<22} {'J/sample':>11} {'power':>6} "
          f"{'energy method':<20} {'peak mem':>9}")
    for m in results:
        print(row(m))
    threads = sorted({m.threads for m in results})
    print(f"\nCPU threads {threads}; cold starts: " + ", ".join(
        f"{m.model}/{m.task}/{m.device}/{m.precision} {fmt_seconds(m.cold_start_s)}" for m in results
        if m.ok and m.device != "cpu")[:600])
    for m in results:
        if m.ok and m.energy_method == "unavailable":
            print(f"energy n/a on {m.device}: {m.energy_note}")
            break
    if skipped:
        print(f"skipped (over the {args.budget:g} s budget): " + "; ".join(skipped))
    n_gpus = torch.cuda.device_count() if has_cuda else 0
    if n_gpus >= 2 and time.perf_counter() - t_start < args.budget:
        collectives_and_ddp(n_gpus)
    elif has_cuda:
        print("NCCL collectives and DDP need two GPUs: skipped on this machine")
    if has_cuda and time.perf_counter() - t_start < args.budget:
        serving_vs_predicted(args.quick)
    print(f"total wall time {time.perf_counter() - t_start:.0f} s")
    predictor_vs_measured(results)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"environment": env.to_dict(), "results": [m.to_dict(environment=False) for m in results]},
                      f, indent=1)
    if store is not None:
        store.close()


if __name__ == "__main__":
    main()

"""Score `accelscope job` against published whole training runs (no GPU-hours given to it).

Reads benchmarks/data/training_jobs.csv (a copy of the project's shared validation file) and,
for each run whose model, token count and hardware are published, predicts the run from the
model, the tokens and the hardware alone: one iteration on the run's devices (the fastest
layout that fits, the run's global batch), the steps the tokens take, the default goodput
(0.9: Llama 3's "higher than 90% effective training time"), the cost layer's power model.
Goals: device-hours within 25% of each published figure; energy within 25%; tCO2e within 20%
given the published intensity.

The runs, as their rows say:
* Llama 2 7B / 13B / 70B (model card): 2.0T tokens, 4M-token batches of 4,096-token
  sequences, A100 80 GB; the card gives GPU-hours and tCO2e at 400 W per GPU "adjusted for"
  PUE, so the energy compared is GPU-hours x 400 W and the intensity the card's implied one
  (tCO2e / that energy). The GPU count is not published: 2,048 (Meta's RSC scale) is assumed.
* OPT-175B (metaseq logbook): 300B tokens on 1,024 A100 80 GB, "roughly ~33 days of continuous
  training ... assuming no hardware issues": compared with goodput 1 (GPU-hours derived, 811k);
  2M-token batches of 2,048 tokens (the OPT paper).
* Not scored: BLOOM (tokens not published in the row), GPT-3 (its figures are second-hand), the
  Llama 2 family total (a sum of the three), BLOOM's life-cycle estimate.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from accelscope.jobs.job import JobAssumptions, training_job

DATA = Path(__file__).resolve().parent / "data" / "training_jobs.csv"
RUNS = {
    "Llama 2 7B": dict(model="llama2-7b", devices=2048, seq_len=4096, global_batch=1024),
    "Llama 2 13B": dict(model="llama:layers=40,hidden=5120,heads=40,ffn=13824,vocab=32000,seq=4096", devices=2048,
                        seq_len=4096, global_batch=1024),
    "Llama 2 70B": dict(model="llama2-70b", devices=2048, seq_len=4096, global_batch=1024),
    "OPT-175B": dict(model="gpt:layers=96,hidden=12288,heads=96,vocab=50272,seq=2048", devices=1024, seq_len=2048,
                     global_batch=1024, goodput=1.0),
}


def main(path: Path = DATA) -> None:
    rows = {r["model"]: r for r in csv.DictReader(path.open())}
    print(f"{'run':12s} {'GPUs':>5s} {'published GPU-h':>16s} {'predicted':>10s} {'error':>7s} "
          f"{'energy MWh pub':>15s} {'pred':>8s} {'error':>7s} {'tCO2e pub':>10s} {'pred':>8s} {'error':>7s}  layout")
    t0 = time.perf_counter()
    for name, run in RUNS.items():
        r = rows[name]
        tokens = float(r["tokens_trained_b"]) * 1e9
        if name == "OPT-175B":
            published_h = 33 * 24 * 1024  # "roughly ~33 days of continuous training on 1024 80GB A100s"
        else:
            published_h = float(r["gpu_hours"])
        energy_pub = published_h * float(r["power_w_per_gpu_assumed"] or 400) / 1e6 if r["power_w_per_gpu_assumed"] \
            else None
        co2_pub = float(r["tco2e"]) if r["tco2e"] else None
        intensity = co2_pub * 1e6 / (energy_pub * 1e3) if (co2_pub and energy_pub) else None
        # Meta's 400 W includes PUE: compare at PUE 1
        a = JobAssumptions(goodput=run.get("goodput", 0.9), pue=1.0, grid_g_per_kwh=intensity)
        res = training_job(run["model"], hardware="a100-sxm4-80gb", devices=run["devices"], train_tokens=tokens,
                           seq_len=run["seq_len"], global_batch=run["global_batch"], assumptions=a)
        o = res.options[0]
        lay = o.per_step["layout"]
        label = f"dp{lay['dp']} tp{lay['tp']} pp{lay['pp']} cp{lay['cp']}" + (f" z{lay['zero']}" if lay["zero"] else "") + \
            (f" {lay['recompute']}" if lay["recompute"] != "none" else "")

        def err(p, q):
            return f"{p / q - 1:+7.1%}" if p is not None and q else "      -"

        e_mwh = o.energy_kwh / 1e3 if o.energy_kwh is not None else None
        print(f"{name:12s} {run['devices']:5d} {published_h:16,.0f} {o.device_hours:10,.0f} {err(o.device_hours, published_h)} "
              f"{energy_pub if energy_pub else float('nan'):15.1f} {e_mwh or float('nan'):8.1f} {err(e_mwh, energy_pub)} "
              f"{co2_pub or float('nan'):10.2f} {o.tco2e or float('nan'):8.2f} {err(o.tco2e, co2_pub)}  {label}")
    print(f"\n{len(RUNS)} runs predicted in {time.perf_counter() - t0:.0f} s (A100 80 GB, the catalog's power model: "
          "idle + (TDP - idle) x utilisation)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)

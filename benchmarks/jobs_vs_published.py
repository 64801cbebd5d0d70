"""Score `accelscope job` against published whole training runs (no GPU-hours given to it).

Reads benchmarks/data/training_jobs.csv (a copy of the project's shared validation file) and,
for each run whose model, token count and hardware are published, predicts the run from the
model, the tokens and the hardware alone: one iteration on the run's devices (the layout the
run published, else the fastest that fits; each device in the precision a practitioner
would use there: mixed bf16 on A100, mixed fp16 on V100), the steps the tokens take, the default goodput
(0.9: Llama 3's "higher than 90% effective training time"), the default PUE (1.1), the cost
layer's power model. Goals: device-hours within 25% of each published figure; energy within
25%; tCO2e within 20% given the published intensity.

The intensity given is the one each publication used, implied by its own figures (tCO2e /
energy): Llama 2 423 g/kWh, BLOOM 57 (Jean Zay, France), GPT-3 429 (Patterson et al.). The
carbon error is then the energy error; a second column prices the same energy at the
shipped grid data for the run's region (its latest year, not the year of the run) to show how
much the year matters.

The runs, as their rows (and the sources named here) say:
* Llama 2 7B / 13B / 70B (model card): 2.0T tokens, 4M-token batches of 4,096-token
  sequences, A100 80 GB; GPU-hours and tCO2e at 400 W per GPU "adjusted for" PUE, so the
  published energy is GPU-hours x 400 W. The GPU count is not published: 2,048 is assumed
  (Meta's RSC scale). Region not published.
* BLOOM-176B (row: 384 A100 80 GB, 1,082,990 GPU-hours and 433 MWh, 24.7 tCO2e; GENCI's news
  page gives the same hours and energy): 366B tokens, 2,048 sequences of 2,048 tokens per
  batch, TP 4 x PP 12 x DP 8 (the BLOOM paper, arXiv 2211.05100, as summarised secondhand):
  70 layers over 12 stages, unevenly (stages of 5 and 6 layers); hidden 14,336, 112 heads,
  vocabulary 250,680. Region France.
* GPT-3 175B (row: 10,000 V100 for 14.8 days, 1,287 MWh, 552 tCO2e, Patterson et al. via
  metaseq): 300B tokens and 3.2M-token batches of 2,048 (Brown et al. 2020, "Language Models
  are Few-Shot Learners", section 2.2 and Table 2.1); GPU-hours derived (14.8 d x 10,000);
  layout searched. No layout of exactly 10,000 devices exists for this model (10,000 = 2^4 x
  5^4, and no degree can take a 5: 96 layers, 96 heads, 1,536 sequences), so the run is
  predicted on the largest count below it that has one (the rule for any such row), and
  device-hours, which depend on the count only through efficiency, are compared.
* OPT-175B (metaseq logbook): 300B tokens on 1,024 A100 80 GB, "roughly ~33 days of continuous
  training ... assuming no hardware issues": compared with goodput 1 (GPU-hours derived, 811k);
  2M-token batches of 2,048 tokens (the OPT paper). No energy or carbon published.
* Not scored: the Llama 2 family total (a sum of the three), BLOOM's life-cycle estimate
  (it adds manufacturing and idle power).
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

from accelscope.cost.carbon import grid_intensity
from accelscope.jobs.job import JobAssumptions, training_job

DATA = Path(__file__).resolve().parent / "data" / "training_jobs.csv"
LLAMA = dict(devices=2048, seq_len=4096, global_batch=1024)
RUNS = {
    "Llama 2 7B": dict(model="llama2-7b", **LLAMA),
    "Llama 2 13B": dict(model="llama:layers=40,hidden=5120,heads=40,ffn=13824,vocab=32000,seq=4096", **LLAMA),
    "Llama 2 70B": dict(model="llama2-70b", **LLAMA),
    "BLOOM-176B (final training run)": dict(
        model="gpt:layers=70,hidden=14336,heads=112,vocab=250680,seq=2048", devices=384, seq_len=2048,
        global_batch=2048, parallel="tp=4,pp=12", tokens=366e9, region="FRA"),
    "GPT-3 175B": dict(model="gpt:layers=96,hidden=12288,heads=96,vocab=50257,seq=2048", devices=10000, seq_len=2048,
                       global_batch=1536, tokens=300e9, gpu_hours=14.8 * 24 * 10000, region="USA"),
    "OPT-175B": dict(model="gpt:layers=96,hidden=12288,heads=96,vocab=50272,seq=2048", devices=1024, seq_len=2048,
                     global_batch=1024, goodput=1.0, gpu_hours=33 * 24 * 1024),
}


def _f(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def main(path: Path = DATA) -> None:
    rows = {r["model"]: r for r in csv.DictReader(path.open())}
    print(f"{'run':24s} {'GPUs':>6s} {'GPU-h pub':>10s} {'pred':>10s} {'err':>7s} {'MWh pub':>8s} {'pred':>8s} "
          f"{'err':>7s} {'tCO2e pub':>9s} {'pred':>8s} {'err':>7s} {'@region':>8s}  layout")
    t0 = time.perf_counter()
    errs: dict[str, list[float]] = {"hours": [], "energy": [], "co2": []}
    for name, run in RUNS.items():
        r = rows[name]
        tokens = run.get("tokens") or float(r["tokens_trained_b"]) * 1e9
        hours_pub = run.get("gpu_hours") or _f(r["gpu_hours"])
        energy_pub = _f(r["energy_mwh"])
        if energy_pub is None and r["power_w_per_gpu_assumed"] and hours_pub:
            energy_pub = hours_pub * float(r["power_w_per_gpu_assumed"]) / 1e6  # Meta: GPU-hours x 400 W
        co2_pub = _f(r["tco2e"])
        intensity = co2_pub / energy_pub if (co2_pub and energy_pub) else None  # t/MWh = kg/kWh
        a = JobAssumptions(goodput=run.get("goodput", 0.9),
                           grid_g_per_kwh=None if intensity is None else intensity * 1e3)
        hw = "v100-sxm2-32gb" if "V100" in r["hardware"] else "a100-sxm4-80gb"
        devices = run["devices"]
        while True:
            res = training_job(run["model"], hardware=hw, devices=devices, train_tokens=tokens, seq_len=run["seq_len"],
                               global_batch=run["global_batch"], parallel=run.get("parallel"), assumptions=a)
            if res.options or run.get("parallel") or devices <= run["devices"] * 0.8 or \
                    "no valid layout" not in " ".join(u.reason for u in res.unavailable):
                break
            devices -= 1  # the largest count below the published one that has a layout
        if not res.options:
            print(f"{name[:24]:24s} {devices:6d} not predicted: " + "; ".join(u.reason for u in res.unavailable))
            continue
        o = min(res.options, key=lambda x: x.wall_time_s)  # every option runs the same prediction
        lay = o.per_step["layout"]
        label = f"dp{lay['dp']} tp{lay['tp']} pp{lay['pp']} cp{lay['cp']}" + (f" z{lay['zero']}" if lay["zero"] else "") \
            + (f" {lay['recompute']}" if lay["recompute"] != "none" else "")
        e_mwh = o.energy_kwh / 1e3 if o.energy_kwh is not None else None
        at_region = None
        if run.get("region") and e_mwh is not None:
            at_region = e_mwh * grid_intensity(run["region"]).g_co2_per_kwh / 1e3

        def err(p, q, key):
            if p is None or not q:
                return "      -"
            errs[key].append(abs(p / q - 1))
            return f"{p / q - 1:+7.1%}"

        def num(v, fmt):
            return format(v, fmt) if v is not None else "-"

        print(f"{name[:24]:24s} {devices:6d} {num(hours_pub, '10,.0f')} {o.device_hours:10,.0f} "
              f"{err(o.device_hours, hours_pub, 'hours')} {num(energy_pub, '8.1f')} {num(e_mwh, '8.1f')} "
              f"{err(e_mwh, energy_pub, 'energy')} {num(co2_pub, '9.2f')} {num(o.tco2e, '8.2f')} "
              f"{err(o.tco2e, co2_pub, 'co2')} {num(at_region, '8.2f')}  {label}")
    print()
    goals = {"hours": 0.25, "energy": 0.25, "co2": 0.20}
    for key, label in (("hours", "device-hours"), ("energy", "energy"), ("co2", "tCO2e")):
        e = errs[key]
        if e:
            print(f"{label:12s}: median |error| {statistics.median(e):.1%}, max {max(e):.1%}, "
                  f"{sum(x <= goals[key] for x in e)}/{len(e)} within the {goals[key]:.0%} goal")
    print(f"\n{len(RUNS)} runs predicted in {time.perf_counter() - t0:.0f} s (the catalog's power model: idle + "
          "(TDP - idle) x utilisation; PUE 1.1; goodput 0.9 unless stated)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)

"""Compare two runs point by point: a change is flagged only when it is large AND significant.

For every point present in both runs (same model, device, task, batch size, precision,
optimizer, input size, compile and memory-format settings) the ratio of median step times
``B / A`` is computed with a bootstrap 95% confidence interval from the raw samples, and a
Mann-Whitney U p-value is reported beside it. The verdict:

* ``regression``: B is slower by more than ``threshold`` (5%) **and** the interval lies
  entirely above 1 (the slowdown is not noise);
* ``improvement``: B faster by more than the threshold and the interval entirely below 1;
* ``unchanged``: anything else (a small change, or a large one that noise could explain);
* ``missing`` / ``failed``: the point is absent from one run or failed in one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accelscope.measure.stats import bootstrap_ratio_ci, mann_whitney_p

KEY_FIELDS = ("model", "device", "task", "batch_size", "precision", "optimizer", "seq_len", "image_size",
              "compile", "channels_last")
DEFAULT_THRESHOLD = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class PointChange:
    key: dict
    verdict: str               #: regression | improvement | unchanged | missing | failed
    a_median_s: float | None = None
    b_median_s: float | None = None
    ratio: float | None = None  #: median(B) / median(A): > 1 is slower
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    note: str = ""

    @property
    def change(self) -> float | None:
        """Relative change in step time, B vs A (+0.10 = 10% slower)."""
        return None if self.ratio is None else self.ratio - 1

    def to_dict(self) -> dict:
        return {"key": self.key, "verdict": self.verdict, "a_median_s": self.a_median_s,
                "b_median_s": self.b_median_s, "ratio": self.ratio, "change": self.change,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value, "note": self.note}


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    run_a: int | None
    run_b: int | None
    threshold: float
    points: tuple[PointChange, ...]
    #: what differs between the two runs' environments (host, CPU, versions): a change may be theirs
    notes: tuple[str, ...] = ()

    @property
    def regressions(self) -> tuple[PointChange, ...]:
        return tuple(p for p in self.points if p.verdict == "regression")

    @property
    def has_regression(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict:
        return {"run_a": self.run_a, "run_b": self.run_b, "threshold": self.threshold,
                "regressions": len(self.regressions), "points": [p.to_dict() for p in self.points],
                "notes": list(self.notes)}


def _key(d: dict) -> tuple:
    return tuple(d.get(k) for k in KEY_FIELDS)


def _samples(d: dict) -> list[float]:
    st = d.get("step_time_s") or {}
    return list(st.get("samples") or [])


def compare_points(a: Sequence[dict], b: Sequence[dict], *, threshold: float = DEFAULT_THRESHOLD,
                   run_a: int | None = None, run_b: int | None = None, seed: int = 0) -> Comparison:
    """Compare two lists of point records (``Measurement.to_dict()`` with samples)."""
    ia = {_key(d): d for d in a}
    ib = {_key(d): d for d in b}
    out: list[PointChange] = []
    for k in list(ia) + [k for k in ib if k not in ia]:
        key = dict(zip(KEY_FIELDS, k))
        pa, pb = ia.get(k), ib.get(k)
        if pa is None or pb is None:
            out.append(PointChange(key=key, verdict="missing", note=f"only in run {'A' if pb is None else 'B'}"))
            continue
        if pa.get("status") != "ok" or pb.get("status") != "ok":
            which = [n for n, p in (("A", pa), ("B", pb)) if p.get("status") != "ok"]
            out.append(PointChange(key=key, verdict="failed", note=f"failed in run {' and '.join(which)}"))
            continue
        sa, sb = _samples(pa), _samples(pb)
        if not sa or not sb:
            out.append(PointChange(key=key, verdict="unchanged", note="no raw samples stored; cannot test"))
            continue
        ci = bootstrap_ratio_ci(sb, sa, seed=seed)
        p = mann_whitney_p(sa, sb)
        if ci.ratio > 1 + threshold and ci.ci_low > 1:
            verdict = "regression"
        elif ci.ratio < 1 - threshold and ci.ci_high < 1:
            verdict = "improvement"
        else:
            verdict = "unchanged"
        notes = []
        if verdict == "unchanged" and abs(ci.ratio - 1) > threshold:
            notes.append("change above the threshold but not significant (CI includes 1)")
        if pa.get("threads") != pb.get("threads"):
            notes.append(f"CPU threads differ: A {pa.get('threads')}, B {pb.get('threads')}")
        notes += [f"{n} {p['verdict']}" for n, p in (("A", pa), ("B", pb)) if p.get("verdict") not in (None, "converged")]
        note = "; ".join(notes)
        out.append(PointChange(key=key, verdict=verdict, a_median_s=pa["step_time_s"]["median"],
                               b_median_s=pb["step_time_s"]["median"], ratio=ci.ratio, ci_low=ci.ci_low,
                               ci_high=ci.ci_high, p_value=p, note=note))
    return Comparison(run_a=run_a, run_b=run_b, threshold=threshold, points=tuple(out))


#: environment fields whose difference between two runs can explain a change by itself
ENV_FIELDS = ("hostname", "cpu_model", "physical_cores", "torch_version", "cuda_version", "cudnn_version",
              "gpu_driver", "accelscope_version", "python_version")


def environment_differences(a: dict | None, b: dict | None) -> list[str]:
    """``"torch_version: 2.14.1 -> 2.13.0"`` for every field of ``ENV_FIELDS`` that differs."""
    a, b = a or {}, b or {}
    out = [f"{k}: {a.get(k)} -> {b.get(k)}" for k in ENV_FIELDS if a.get(k) != b.get(k)]
    if [g.get("name") for g in a.get("gpus", [])] != [g.get("name") for g in b.get("gpus", [])]:
        out.append("gpus differ")
    return out


def compare_runs(store, a: str | int, b: str | int, *, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """Compare stored runs ``a`` (the reference) and ``b`` (the candidate), whoever made them;
    environments that differ, and runs by different users, are named in the notes."""
    ra, rb = store.resolve_run_id(a), store.resolve_run_id(b)
    cmp = compare_points(store.points(ra), store.points(rb), threshold=threshold, run_a=ra, run_b=rb)
    run_a, run_b = store.get_run(ra), store.get_run(rb)
    notes = []
    diff = environment_differences(run_a.environment, run_b.environment)
    if diff:
        notes.append(f"the runs' environments differ ({'; '.join(diff)}): a change may come from them")
    if run_a.user != run_b.user:
        notes.append(f"run A was made by {run_a.user or 'an unrecorded user'}, run B by "
                     f"{run_b.user or 'an unrecorded user'}")
    if not notes:
        return cmp
    return Comparison(run_a=cmp.run_a, run_b=cmp.run_b, threshold=cmp.threshold, points=cmp.points,
                      notes=tuple(notes))

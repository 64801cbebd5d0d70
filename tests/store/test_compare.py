import numpy as np
import pytest

from accelscope.cli.main import run as cli_run
from accelscope.measure.result import Measurement
from accelscope.measure.stats import summarize
from accelscope.store import Store, compare_points, compare_runs
from accelscope.workload import WorkloadSpec

RNG = np.random.default_rng(7)
BASE = RNG.lognormal(np.log(0.010), 0.01, 200)  # 10 ms steps, ~1% spread


def _point(samples, *, device="cpu", batch=8, status="ok"):
    m = Measurement(spec=WorkloadSpec(model="mlp", task="train", batch_size=batch, precision="fp32"), device=device, threads=2,
                    status=status, error=None if status == "ok" else "boom",
                    step_time_s=summarize(samples) if status == "ok" else None)
    return m.to_dict(environment=False)


def _verdict(a, b, **kw):
    (p,) = compare_points([_point(a)], [_point(b)], **kw).points
    return p


def test_large_significant_slowdown_is_a_regression():
    p = _verdict(BASE, BASE * 1.10)
    assert p.verdict == "regression" and p.change == pytest.approx(0.10, rel=1e-6)
    assert p.ci_low > 1 and p.p_value < 1e-6


def test_small_change_is_not_flagged_even_if_significant():
    p = _verdict(BASE, BASE * 1.03)
    assert p.verdict == "unchanged" and p.ci_low > 1  # significant, but under 5%


def test_large_change_within_noise_is_not_flagged():
    noisy_a = RNG.lognormal(np.log(0.010), 0.5, 8)
    p = _verdict(noisy_a, noisy_a[::-1] * 1.08)
    assert p.verdict == "unchanged" and "not significant" in p.note


def test_improvement_missing_and_failed():
    assert _verdict(BASE, BASE * 0.8).verdict == "improvement"
    cmp = compare_points([_point(BASE), _point(BASE, batch=1)],
                         [_point(BASE, status="failed"), _point(BASE, device="cuda:0")])
    verdicts = {(p.key["device"], p.key["batch_size"]): p.verdict for p in cmp.points}
    assert verdicts == {("cpu", 8): "failed", ("cpu", 1): "missing", ("cuda:0", 8): "missing"}
    assert not cmp.has_regression


def _store_runs(path, *sample_sets):
    ids = []
    with Store(path) as s:
        for samples in sample_sets:
            rid = s.begin_run(kind="measurement", config={"model": "mlp", "devices": ["cpu"]})
            s.add_measurement(rid, Measurement.from_dict(_point(samples)))
            s.finish_run(rid)
            ids.append(rid)
    return ids


def test_compare_runs_from_the_store(tmp_path):
    a, b = _store_runs(tmp_path / "s.sqlite", BASE, BASE * 1.2)
    with Store(tmp_path / "s.sqlite") as s:
        cmp = compare_runs(s, a, b)
    assert cmp.has_regression and (cmp.run_a, cmp.run_b) == (a, b)


def _exit_code(args):
    with pytest.raises(SystemExit) as e:
        cli_run(args)
    return e.value.code or 0


def test_runs_compare_exit_codes(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    a, b, c = _store_runs(path, BASE, BASE * 1.2, BASE * 1.01)
    assert _exit_code(["runs", "compare", str(a), str(b), "--store", path]) == 1   # 20% slower
    assert "regression" in capsys.readouterr().out
    assert _exit_code(["runs", "compare", str(b), str(a), "--store", path]) == 0   # faster
    capsys.readouterr()
    assert _exit_code(["runs", "compare", str(a), str(c), "--store", path, "--json"]) == 0  # 1%: unchanged
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["regressions"] == 0 and doc["points"][0]["verdict"] == "unchanged"
    assert _exit_code(["runs", "compare", str(a), "latest~2", "--store", path, "--threshold", "0.5"]) == 0
    assert _exit_code(["runs", "compare", str(a), "42", "--store", path]) == 2      # unknown run: usage error
    assert "no run 42" in capsys.readouterr().err

import math

import pytest
import torch
from torch import nn

from accelscope.errors import ConfigError
from accelscope.measure import bench, get_device
from accelscope.measure.bench import classify_error, sweep_points, with_speedup
from accelscope.measure.result import Measurement, stored_measurements
from accelscope.measure.stats import summarize
from accelscope.store import Store
from accelscope.workload import Workload, WorkloadSpec, load_workload

FAST = dict(max_time_s=0.1, min_energy_window_s=0.02, threads=1)


class _FailsAbove(nn.Module):
    """Raises an out-of-memory error (as CUDA would) for batches above ``limit``."""

    def __init__(self, limit=4, interrupt_at=None):
        super().__init__()
        self.lin = nn.Linear(8, 2)
        self.limit, self.interrupt_at = limit, interrupt_at

    def forward(self, x):
        if self.interrupt_at is not None and x.shape[0] == self.interrupt_at:
            raise KeyboardInterrupt
        if x.shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.lin(x)


def _workload(**kw):
    return Workload(name="fails-above", build_model=lambda: _FailsAbove(**kw),
                    make_inputs=lambda b: (torch.randn(b, 8),), make_targets=lambda b: torch.randint(0, 2, (b,)))


def test_cpu_sweep_measures_inference_and_training():
    run = bench("mlp", devices="cpu", tasks="infer,train", batch_sizes=[2], **FAST)
    assert [(m.task, m.batch_size, m.status) for m in run.measurements] == [("infer", 2, "ok"), ("train", 2, "ok")]
    for m in run.measurements:
        st = m.step_time_s
        assert st.n == len(st.samples) >= 1 and st.min <= st.p10 <= st.median <= st.p90
        assert m.throughput_samples_per_s == pytest.approx(2 / st.median)
        assert m.threads == 1 and m.cold_start_s > 0 and m.converged in (True, False) and m.stop_reason
        assert m.peak_rss_bytes > 0 and m.speedup_vs_cpu is None  # the CPU is the baseline
        assert m.iterations == st.n * m.block_size
        assert m.energy_window_s >= 0.02 and m.energy_iterations >= m.iterations
        if m.energy_j is None:  # no RAPL here: never a silent 0
            assert m.energy_method == "unavailable" and m.energy_note and m.energy_j_per_sample is None
        else:
            assert m.energy_j > 0 and m.energy_method == "rapl"
    assert run.measurements[1].optimizer == "adamw" and run.measurements[0].optimizer is None
    assert run.environment.torch_threads == 1


def test_threads_are_restored_and_default_to_physical_cores():
    from accelscope.measure.environment import physical_cores

    before = torch.get_num_threads()
    run = bench("mlp", devices="cpu", batch_sizes=[1], max_time_s=0.1, min_energy_window_s=0.02)
    assert run.measurements[0].threads == physical_cores()
    assert torch.get_num_threads() == before


def test_failed_point_is_recorded_and_the_sweep_goes_on(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        run = bench(_workload(limit=4), devices="cpu", tasks="infer", batch_sizes=[2, 8, 4], store=store, **FAST)
        stored = store.points(run.run_id)
        assert store.get_run(run.run_id).status == "complete"
    assert [(m.batch_size, m.status) for m in run.measurements] == [(2, "ok"), (8, "failed"), (4, "ok")]
    bad = run.measurements[1]
    assert bad.error_kind == "oom" and "out of memory" in bad.error and "--batch" in bad.error
    assert bad.step_time_s is None and bad.throughput_samples_per_s is None
    assert [p["status"] for p in stored] == ["ok", "failed", "ok"]


def test_unsupported_precision_is_recorded_and_the_sweep_goes_on():
    dev = get_device("null", fail_precisions=["fp16"])
    run = bench("mlp", devices=[dev], precisions="fp32,fp16,amp-bf16", batch_sizes=[1, 2], **FAST)
    got = [(m.batch_size, m.precision, m.status, m.error_kind) for m in run.measurements]
    assert got == [(1, "fp32", "ok", None), (1, "fp16", "failed", "unsupported"), (1, "amp-bf16", "ok", None),
                   (2, "fp32", "ok", None), (2, "fp16", "failed", "unsupported"), (2, "amp-bf16", "ok", None)]
    ok = run.measurements[0]
    # the null device's fake clock: 1 ms per step, 100 W, so 0.1 J per step
    assert ok.step_time_s.median == pytest.approx(1e-3) and ok.converged
    assert ok.energy_method == "fake" and ok.energy_j_per_sample == pytest.approx(0.1)
    assert ok.mean_power_w == pytest.approx(100.0)
    assert ok.energy_window_s >= 0.02


def test_every_precision_runs_a_training_step_on_the_cpu():
    run = bench("mlp", devices="cpu", tasks="train", precisions=["fp32", "tf32", "bf16", "fp16", "amp-fp16",
                                                                  "amp-bf16"], batch_sizes=[2], **FAST)
    by = {m.precision: m for m in run.measurements}
    assert set(by) == {"fp32", "tf32", "bf16", "fp16", "amp-fp16", "amp-bf16"}
    for m in by.values():  # each either ran or says why not
        assert m.status == "ok" or (m.error and m.error_kind)
    assert by["fp32"].ok and by["amp-bf16"].ok and by["bf16"].ok
    assert any("tf32 has no effect" in n for n in by["tf32"].notes)
    # the speedup of a CPU precision is against CPU fp32, and says so
    assert by["bf16"].speedup_vs_cpu is not None and by["bf16"].speedup_baseline.startswith("cpu fp32")
    assert by["fp32"].speedup_vs_cpu is None


def test_channels_last_and_user_workload():
    run = bench("cnn", devices="cpu", tasks="infer", batch_sizes=[2], channels_last=True, **FAST)
    m = run.measurements[0]
    assert m.ok and m.channels_last and m.image_size == 32


def test_interrupted_sweep_keeps_completed_points(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        with pytest.raises(KeyboardInterrupt):
            bench(_workload(limit=100, interrupt_at=3), devices="cpu", batch_sizes=[1, 2, 3, 4], store=store, **FAST)
    with Store(path) as store:  # a fresh connection sees what was committed
        run = store.list_runs()[0]
        assert run.status == "interrupted" and run.n_points == 2
        ms = stored_measurements(store, run.id)
        assert [m.batch_size for m in ms] == [1, 2] and all(m.ok and m.step_time_s.n >= 1 for m in ms)


def test_ctrl_c_between_points_via_progress(tmp_path):
    def progress(i, total, label, m):
        if i == 3 and m is None:
            raise KeyboardInterrupt

    dev = get_device("null")
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            bench("mlp", devices=[dev], batch_sizes=[1, 2, 3, 4, 5], store=store, progress=progress, **FAST)
        run = store.list_runs()[0]
        assert (run.status, run.n_points, run.n_ok) == ("interrupted", 3, 3)


def test_speedup_against_the_cpu_with_bootstrap_ci():
    def m(device, precision, samples, status="ok"):
        return Measurement(spec=WorkloadSpec(model="x", task="infer", batch_size=4, precision=precision), device=device, threads=2,
                           status=status, error=None if status == "ok" else "boom",
                           step_time_s=summarize(samples) if status == "ok" else None)

    cpu32 = m("cpu", "fp32", [0.010] * 20)
    cpu_amp = m("cpu", "amp-bf16", None, status="failed")
    cpu = {("infer", 4, "fp32"): cpu32, ("infer", 4, "amp-bf16"): cpu_amp}
    gpu = with_speedup(m("cuda:0", "fp32", [0.001] * 20), cpu)
    assert gpu.speedup_vs_cpu == pytest.approx(10) and gpu.speedup_ci_low == pytest.approx(10)
    assert gpu.speedup_baseline.startswith("cpu fp32 batch 4")
    amp = with_speedup(m("cuda:0", "amp-bf16", [0.0005] * 20), cpu)  # CPU amp failed: falls back to fp32
    assert amp.speedup_vs_cpu == pytest.approx(20) and amp.speedup_baseline.startswith("cpu fp32")
    assert with_speedup(cpu32, cpu).speedup_vs_cpu is None  # not against itself
    assert with_speedup(m("cuda:0", "fp32", [0.001] * 20), {}).speedup_vs_cpu is None


def test_sweep_order_puts_the_cpu_first():
    devs = [get_device("null"), get_device("cpu")]
    pts = sweep_points(["train"], [1, 8], devs, ["fp32", "amp-bf16"])
    assert [(b, d.name, p) for _, b, d, p in pts] == [
        (1, "cpu", "fp32"), (1, "cpu", "amp-bf16"), (1, "null", "fp32"), (1, "null", "amp-bf16"),
        (8, "cpu", "fp32"), (8, "cpu", "amp-bf16"), (8, "null", "fp32"), (8, "null", "amp-bf16")]


def test_classify_errors():
    assert classify_error(torch.cuda.OutOfMemoryError("CUDA out of memory"))[0] == "oom"
    assert classify_error(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried"))[0] == "oom"
    assert classify_error(RuntimeError('"addmm_impl_cpu_" not implemented for \'Half\''))[0] == "unsupported"
    assert classify_error(ValueError("bad shape"))[0] == "error"


def test_bad_options_raise_before_anything_runs():
    with pytest.raises(ConfigError):
        bench("mlp", devices="null", precisions="fp8")
    with pytest.raises(ConfigError):
        bench("mlp", devices="null", tasks="serve")
    with pytest.raises(ConfigError):
        bench("mlp", devices="null", batch_sizes=[0])


def test_the_execution_mode_reaches_the_measurement():
    with pytest.raises(ConfigError, match="not measured yet"):
        bench("mlp", devices="cpu", batch_sizes=[2], mode="cuda-graphs", **FAST)
    run = bench("mlp", devices="cpu", batch_sizes=[2], compile=True, **FAST)  # torch.compile (inductor)
    m = run.measurements[0]
    assert m.status == "ok", m.error
    assert m.compile and m.spec.mode == "compile" and m.mode == "compile"
    assert Measurement.from_dict(m.to_dict()).spec.mode == "compile"  # stored points keep it

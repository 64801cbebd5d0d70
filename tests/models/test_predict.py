import json
from dataclasses import replace

import pytest

import accelscope
from accelscope.cli.main import run
from accelscope.hardware.hosts import load_host
from accelscope.hardware.catalog import list_hardware, load_hardware
from accelscope.hardware.schema import HardwareSpec
from accelscope.models import roofline
from accelscope.models.calibrate import NOMINAL_CPU_RATES, CalibrationError, Calibrator
from accelscope.cost import price
from accelscope.jobs.predict import load_calibrations
from accelscope.models.predict import PredictionError, naive_step_time, predict
from accelscope.models.roofline_model import Calibrated
from accelscope.store import Store
from accelscope.store.calibrations import save
from accelscope.workload import WorkloadSpec


def estimate(profile, spec, calibration=None):
    """Predicted and priced, as `accelscope predict` does."""
    return price(predict(profile, spec, calibration), spec)

P = roofline.RooflineParams(tiles=((128, 128, 1.0),), k_half=0.0)


@pytest.fixture(scope="module")
def r50_1():
    return accelscope.profile("resnet50", batch_size=1)


@pytest.fixture(scope="module")
def r50_128():
    # a training step at batch 256: long enough on the device to hide the host's dispatch time
    return accelscope.profile("resnet50", task="train", batch_size=256, precision="amp-fp16")


def test_wave_quantisation_full_and_one_tile_over():
    units, p = 100, replace(P, k_half=32.0)  # K = 128 is too short to split
    full = roofline.matrix_efficiency((1, 128 * 10, 128 * 10, 128), units, p)
    over = roofline.matrix_efficiency((1, 128 * 10 + 1, 128 * 10, 128), units, p)
    assert full == pytest.approx(128 / 160)
    # 110 tiles on 100 units: two waves, and the extra row of tiles is nearly empty.
    assert over == pytest.approx(128 / 160 * (1281 / 1408) * 110 / 200, rel=1e-6)


def test_split_k_fills_the_device_for_small_outputs_with_long_k():
    p = replace(P, k_half=32.0)
    dims = (1, 256, 256, 65536)  # 4 tiles of 128x128 on 100 units without split-K
    eff = roofline.matrix_efficiency(dims, 100, p)
    assert eff > 4 / 100 * 1.5
    assert eff <= roofline.SPLIT_K_PENALTY


def test_short_k_lowers_efficiency():
    p = replace(P, k_half=32.0)
    assert roofline.matrix_efficiency((1, 1280, 1280, 32), 100, p) == pytest.approx(0.5)


def test_gpu_small_batch_is_host_bound_large_batch_is_not(r50_1, r50_128):
    h100 = load_hardware("h100-sxm")
    small, large = predict(r50_1, h100), predict(r50_128, h100)
    assert small.bound == "overhead"
    # the host issues every op; the device then runs the last one
    assert small.host_s < small.step_time_s < small.host_s * 1.01
    assert large.bound in ("compute", "memory")
    assert large.device_busy_s <= large.step_time_s < large.device_busy_s * 1.15
    assert large.throughput_samples_per_s > 10 * small.throughput_samples_per_s
    assert 0 < large.mfu < 1


def test_newer_gpus_are_faster_and_naive_baseline_is_faster_still(r50_128):
    t4, v100, a100, h100 = (predict(r50_128, load_hardware(n)).step_time_s
                            for n in ("t4", "v100-sxm2-16gb", "a100-80gb", "h100-sxm"))
    assert t4 > v100 > a100 > h100
    assert naive_step_time(r50_128, load_hardware("a100-80gb")) < a100


def test_cpu_host_time_adds_to_compute(r50_1):
    spec = HardwareSpec(name="c", kind="cpu", vendor="v", display_name="c")
    cal = Calibrated(device="c", params=roofline.DEFAULTS["cpu"], rates=NOMINAL_CPU_RATES)
    e = estimate(r50_1, spec, cal)
    assert e.step_time_s == pytest.approx(e.estimate.device_busy_s + e.estimate.host_s)
    assert e.estimate.calibrated and e.energy_j_per_sample is None and e.energy_method.startswith("unavailable")


def test_memory_fit_energy_and_cost(r50_128):
    h100 = load_hardware("h100-sxm")
    e = estimate(r50_128, h100)
    assert e.estimate.fits_in_memory is True
    tdp = h100.tdp_w.value
    assert 0.25 * tdp <= e.power_w <= tdp
    assert e.energy_j_per_step == pytest.approx(e.power_w * e.step_time_s)
    offer = h100.cheapest_offering()
    assert e.usd_per_million_samples == pytest.approx(
        offer.usd_per_device_hour / 3600 * e.step_time_s / e.estimate.samples_per_step * 1e6)
    assert e.usd_for_samples(2e6) == pytest.approx(2 * e.usd_per_million_samples)
    big = accelscope.profile("llama-70b", task="train", batch_size=1, seq_len=128)  # ~1.1 TB of state
    assert predict(big, h100).fits_in_memory is False


def test_missing_peak_is_an_error_not_a_guess():
    p = accelscope.profile("mlp", precision="bf16")
    with pytest.raises(PredictionError, match="bf16"):
        predict(p, load_hardware("v100-sxm2-16gb"))


def test_every_estimate_names_its_model_and_parameters():
    e = predict(accelscope.profile("resnet50", batch_size=8, precision="amp-bf16"), load_hardware("tpu-v4"))
    assert e.model.startswith("roofline") and e.parameters["host_overhead_s"] > 0
    assert e.kind == "tpu" and e.to_dict()["throughput_samples_per_s"] > 0


def test_calibration_recovers_known_parameters():
    spec = HardwareSpec(name="x", kind="cpu", vendor="v", display_name="x")
    truth = Calibrated(device="x", params=replace(roofline.DEFAULTS["cpu"], host_overhead_s=12e-6),
                       matrix_scale=0.37, bandwidth_scale=2.1, rates=NOMINAL_CPU_RATES)
    # Include memory-bound steps too big for the cache, so that bandwidth is identifiable.
    profs = [accelscope.profile(m, batch_size=b, **kw) for m, b, kw in
             [("mlp", 1, {}), ("mlp", 64, {}), ("cnn", 8, {}), ("resnet18", 1, {}), ("resnet18", 8, {}),
              ("gpt2-small", 1, {}), ("mobilenet_v2", 16, {}), ("gpt2-small", 4, dict(task="train", seq_len=256))]]
    measured = [predict(p, spec, truth).step_time_s for p in profs]
    c = Calibrator("x").fit(profs, measured)
    assert c.calibration_.matrix_scale == pytest.approx(0.37, rel=0.05)
    assert c.calibration_.bandwidth_scale == pytest.approx(2.1, rel=0.05)
    assert c.calibration_.params.host_overhead_s == pytest.approx(12e-6, rel=0.1)
    assert c.median_abs_error_ < 0.02
    with pytest.raises(CalibrationError, match="at least 2"):
        Calibrator("x").fit(profs[:1], measured[:1])


def test_calibrations_persist_in_the_store(tmp_path):
    cal = Calibrated(device="cpu", params=roofline.DEFAULTS["cpu"], matrix_scale=0.5, rates=NOMINAL_CPU_RATES,
                     fitted_on=3, median_abs_error=0.04)
    with Store(tmp_path / "s.sqlite") as s:
        save(cal.to_dict(), s, hardware="my-cpu")
        save(replace(cal, matrix_scale=0.6).to_dict(), s, hardware="my-cpu")
        got = load_calibrations(s)
        assert len(s.list_runs(kind="calibration")) == 2  # the older one is kept
    assert got["cpu"].matrix_scale == 0.6 and got["my-cpu"] == got["cpu"]
    assert got["cpu"].rates == NOMINAL_CPU_RATES and got["cpu"].params == roofline.DEFAULTS["cpu"]


def test_calibrations_stored_by_older_versions_still_load():
    for kind in ("cpu", "gpu"):
        d = Calibrated(device=kind, params=roofline.DEFAULTS[kind], matrix_scale=0.7, fitted_on=4).to_dict()
        for added in ("unfused_dropout", "nchw_transposes", "scalar_kernels"):
            del d["params"][added]  # parameters a calibration from an older version lacks
        d["params"]["from_a_newer_version"] = 1
        got = Calibrated.from_dict(d)
        assert got.params == roofline.DEFAULTS[kind] and got.matrix_scale == 0.7


def test_predict_cli_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "s.sqlite"))
    with pytest.raises(SystemExit) as e:
        run(["predict", "mlp", "--kind", "gpu", "--batch", "32", "--json", "--samples", "1e6"])
    assert e.value.code in (0, None)
    d = json.loads(capsys.readouterr().out)
    assert len(d["estimates"]) + len(d["unavailable"]) == len(list_hardware("gpu"))
    for est in d["estimates"]:
        for key in ("hardware", "kind", "step_time_s", "throughput_samples_per_s", "mfu",
                    "energy_j_per_sample", "usd_per_million_samples", "fits_in_memory", "bound", "model"):
            assert key in est
    rates = [est["throughput_samples_per_s"] for est in d["estimates"]]
    assert rates == sorted(rates, reverse=True)
    with pytest.raises(SystemExit) as e:
        run(["predict", "mlp"])
    assert e.value.code == 2


def test_training_batch_norm_reads_its_input_twice():
    train = accelscope.profile("cnn", task="train", batch_size=8)
    infer = accelscope.profile("cnn", task="infer", batch_size=8)
    [bn_train] = [o for o in train.ops if o.name == "aten.native_batch_norm.default" and o.input_shapes[0][1] == 32]
    [bn_eval] = [o for o in infer.ops if "batch_norm" in o.name and o.input_shapes[0][1] == 32]
    assert roofline.read_passes(bn_train) == 2 and roofline.read_passes(bn_eval) == 1
    rates = roofline.DeviceRates(matrix_flops_per_s={"float32": 1e12}, vector_flops_per_s=1e15,
                                 bandwidth_bytes_per_s=1e9, compute_units=1)
    p = replace(P, kernel_floor_s=0.0)
    [est] = [e for e, o in zip(roofline.estimate_ops(train, rates, p), [o for o in train.ops if not o.is_view])
             if o is bn_train]
    assert est.memory_s == pytest.approx((2 * bn_train.bytes_read + bn_train.bytes_written) / (1e9 * p.bw_efficiency))


def test_optimizer_ops_on_accelerators_are_foreach_batched(r50_128):
    """One dispatch per optimizer op type on a GPU; one per occurrence on a CPU."""
    h100 = load_hardware("h100-sxm")
    est = predict(r50_128, h100)
    ops = est.ops
    opt = [o for o in ops if o.phase == "optimizer"]
    per_name = {}
    for o in opt:
        per_name[o.name] = per_name.get(o.name, 0.0) + o.overhead_s * o.count
    per_op = est.parameters["host_overhead_s"]  # the DGX H100 host's eager cost per op
    assert per_op == pytest.approx(load_host("dgx-h100").eager_op_s.number)
    assert all(v == pytest.approx(per_op) for v in per_name.values())
    fwd = [o for o in ops if o.phase == "forward"]
    assert all(o.overhead_s == per_op for o in fwd)
    spec = HardwareSpec(name="c", kind="cpu", vendor="v", display_name="c")
    cpu = predict(r50_128, spec, Calibrated(device="c", params=roofline.DEFAULTS["cpu"], rates=NOMINAL_CPU_RATES))
    assert all(o.overhead_s == roofline.DEFAULTS["cpu"].host_overhead_s for o in cpu.ops)


def test_cpu_first_touch_of_large_fresh_outputs():
    """Out-of-place outputs above glibc's 32 MiB mmap threshold pay page faults on a CPU."""
    from accelscope.workload.profile import Op

    big = 64 * 2**20
    fresh = Op(name="aten.sqrt.default", category="elementwise", phase="forward", flops=big // 4,
               bytes_read=big, bytes_written=big, output_shapes=((big // 4,),), dtype="float32")
    inplace = replace(fresh, name="aten.sqrt_.default")
    small = replace(fresh, bytes_read=2**20, bytes_written=2**20, output_shapes=((2**18,),), flops=2**18)
    prof = accelscope.workload.Profile(spec=WorkloadSpec(model="m", batch_size=1), ops=(fresh, inplace, small), params=0, trainable_params=0,
                                       param_bytes=0, grad_bytes=0, optimizer_state_bytes=0,
                                       activation_bytes=0, input_bytes=0)
    cpu = roofline.DEFAULTS["cpu"]
    est = roofline.estimate_ops(prof, NOMINAL_CPU_RATES, cpu)
    assert est[0].alloc_s == pytest.approx(big / cpu.first_touch_bytes_per_s)
    assert est[0].time_s == pytest.approx(est[1].time_s + est[0].alloc_s)
    assert est[1].alloc_s == 0 and est[2].alloc_s == 0
    gpu = roofline.estimate_ops(prof, NOMINAL_CPU_RATES, roofline.DEFAULTS["gpu"])
    assert gpu[0].alloc_s == 0  # the CUDA caching allocator reuses its blocks


def test_cpu_gemm_packing_and_scalar_max_pool():
    cpu = replace(roofline.DEFAULTS["cpu"], k_half=0.0)
    big = roofline.matrix_efficiency((1, 4096, 4096, 4096), 2, cpu)
    short = roofline.matrix_efficiency((1, 32, 4096, 4096), 2, cpu)
    assert big == pytest.approx(4096 / (4096 + 20), rel=1e-6)
    assert short == pytest.approx(32 / (32 + 20), rel=1e-6)  # two full 16-row tiles, packing-bound
    assert roofline.matrix_efficiency((1, 32, 4096, 4096), 2, replace(cpu, m_half=0.0)) == pytest.approx(1.0)
    p = accelscope.profile("resnet18", batch_size=1)
    [pool] = [o for o in roofline.estimate_ops(p, NOMINAL_CPU_RATES, roofline.DEFAULTS["cpu"])
              if o.name == "aten.max_pool2d_with_indices.default"]
    [gpu_pool] = [o for o in roofline.estimate_ops(p, NOMINAL_CPU_RATES, roofline.DEFAULTS["gpu"])
                  if o.name == "aten.max_pool2d_with_indices.default"]
    assert pool.compute_s == pytest.approx(32 * gpu_pool.compute_s * 0.5 / 0.25)  # 32x, at the CPU vector eff.


def test_calibration_fits_convolutions_apart_from_matrix_products():
    spec = HardwareSpec(name="x", kind="cpu", vendor="v", display_name="x")
    truth = Calibrated(device="x", params=replace(roofline.DEFAULTS["cpu"], host_overhead_s=5e-6),
                       matrix_scale=2.0, conv_scale=4.5, bandwidth_scale=3.0, rates=NOMINAL_CPU_RATES)
    profs = [accelscope.profile(m, batch_size=b, **kw) for m, b, kw in
             [("mlp", 64, {}), ("cnn", 8, {}), ("resnet18", 4, {}), ("gpt2-small", 2, dict(seq_len=64)),
              ("mobilenet_v2", 2, {}), ("bert-base", 1, dict(seq_len=64)), ("resnet18", 1, {})]]
    measured = [predict(p, spec, truth).step_time_s for p in profs]
    cal = Calibrator("x").fit(profs, measured).calibration_
    assert cal.matrix_scale == pytest.approx(2.0, rel=0.05) and cal.conv_scale == pytest.approx(4.5, rel=0.05)
    # with convolutions only, one matrix scale covers both
    only_gemm = Calibrator("x").fit([profs[0], profs[3], profs[5]], [measured[0], measured[3], measured[5]])
    assert only_gemm.calibration_.conv_scale is None


def test_fp32_3x3_convolutions_use_winograd_on_gpus_only():
    rates = roofline.DeviceRates(matrix_flops_per_s={"float32": 1e13, "float16": 1e14}, vector_flops_per_s=1e13,
                                 bandwidth_bytes_per_s=1e15, compute_units=80)
    gpu = roofline.DEFAULTS["gpu"]

    def conv_compute(prec, p):
        prof = accelscope.profile("resnet50", batch_size=32, precision=prec)
        ops = [o for o in prof.ops if not o.is_view]
        return {(roofline.is_winograd_conv(o), o.input_shapes[1]): e.compute_s
                for o, e in zip(ops, roofline.estimate_ops(prof, rates, p)) if roofline.op_kind(o) == "convolution"}

    fp32, direct = conv_compute("fp32", gpu), conv_compute("fp32", replace(gpu, winograd_speedup=1.0))
    wino = [k for k in fp32 if k[0]]
    assert len(wino) == 4 and all(k[1][2:] == (3, 3) for k in wino)  # layer1-4's stride-1 3x3 convs
    assert all(fp32[k] == pytest.approx(direct[k] / 2.25) for k in wino)
    assert all(fp32[k] == direct[k] for k in fp32 if not k[0])  # 1x1, 7x7 and strided ones
    half = conv_compute("fp16", gpu)
    assert half == conv_compute("fp16", replace(gpu, winograd_speedup=1.0))  # tensor cores: implicit GEMM
    assert roofline.DEFAULTS["cpu"].winograd_speedup == 1.0


def test_fused_recurrent_layers_run_at_the_dnn_library_rate():
    """nn.LSTM runs in cuDNN/oneDNN like a convolution: the convolution scale applies to it."""
    prof = accelscope.profile("lstm-lm", batch_size=4, seq_len=8)
    p = roofline.DEFAULTS["cpu"]
    base = roofline.estimate_ops(prof, NOMINAL_CPU_RATES, p)
    fast = roofline.estimate_ops(prof, replace(NOMINAL_CPU_RATES, conv_factor=2.0), p)
    ops = [o for o in prof.ops if not o.is_view]
    for o, b, f in zip(ops, base, fast):
        if b.unit != "matrix":
            continue
        assert b.dnn_library == bool(o.attrs.get("fused_in"))
        assert f.compute_s == pytest.approx(b.compute_s / (2.0 if b.dnn_library else 1.0))
    assert any(b.dnn_library for b in base) and any(b.unit == "matrix" and not b.dnn_library for b in base)
    # batch-4 per-step products (M = 4) are blocked over the time steps: still matrix work
    per_step = [b for o, b in zip(ops, base) if o.attrs.get("fused_in") and o.category == "matmul" and o.flops]
    assert per_step and all(b.unit == "matrix" for b in per_step)


def test_nchw_tensor_core_convolutions_pay_layout_transposes():
    """cuDNN transposes NCHW tensors to NHWC and back around a tensor-core convolution."""
    gpu = roofline.DEFAULTS["gpu"]
    rates = roofline.DeviceRates(matrix_flops_per_s={"float32": 1e13, "float16": 1e14}, vector_flops_per_s=1e13,
                                 bandwidth_bytes_per_s=1e12, compute_units=80)

    def layout(prec, cl, p=gpu, r=rates):
        prof = accelscope.profile("resnet18", task="train", batch_size=8, image_size=64, precision=prec,
                                  channels_last=cl)
        ops = [o for o in prof.ops if not o.is_view]
        return [(o, e) for o, e in zip(ops, roofline.estimate_ops(prof, r, p)) if o.category == "conv"]

    nchw = layout("amp-fp16", False)
    assert nchw and all(e.layout_s == pytest.approx(
        max(2 * (o.bytes_read + o.bytes_written) / (1e12 * gpu.bw_efficiency), 2 * gpu.kernel_floor_s))
        for o, e in nchw)
    assert all(e.time_s >= e.layout_s + max(e.compute_s, e.memory_s) * 0.999 for o, e in nchw)
    assert all(e.layout_s == 0 for o, e in layout("amp-fp16", True))  # channels last: no transposes
    assert all(e.layout_s == 0 for o, e in layout("fp32", False))  # CUDA cores run NCHW kernels
    tf32 = replace(rates, fp32_is_tensor=True)
    assert all(e.layout_s > 0 for o, e in layout("fp32", False, r=tf32))  # TF32 runs on tensor cores
    assert all(e.layout_s == 0 for o, e in layout("amp-fp16", False, p=roofline.DEFAULTS["cpu"]))


def test_channels_last_speedup_of_resnet50_amp_training_is_about_thirty_percent(r50_128):
    """MosaicML's Channels Last method card: ~30% faster ResNet-50 training on V100 and A100."""
    nhwc = accelscope.profile("resnet50", task="train", batch_size=256, precision="amp-fp16", channels_last=True)
    for gpu in ("v100-sxm2-16gb", "a100-sxm4-80gb"):
        spec = load_hardware(gpu)
        speedup = predict(r50_128, spec).step_time_s / predict(nhwc, spec).step_time_s
        assert 1.15 < speedup < 1.5, (gpu, speedup)


def _op(count, host_s, device_s):
    from accelscope.models.estimate import OpEstimate
    return OpEstimate(name="aten.x.default", category="elementwise", phase="forward", count=count, time_s=device_s,
                      compute_s=device_s, memory_s=0.0, overhead_s=host_s, bound="memory", efficiency=1.0)


def test_a_stretch_between_syncs_is_bound_by_the_slower_side_plus_an_op_of_the_other():
    # 5 host-heavy ops (10 us host, 1 us device), then 3 device-heavy ones (2 us host, 10 us device)
    ops = [_op(5, 10e-6, 1e-6), _op(3, 2e-6, 10e-6)]
    device, host = 5 * 1e-6 + 3 * 10e-6, 5 * 10e-6 + 3 * 2e-6
    # host-bound: all 56 us of host, then the last kernel's 10 us
    assert roofline.segment_time(ops) == pytest.approx(host + 10e-6)
    step, busy, issued, by_phase = roofline.step_time(ops, roofline.DEFAULTS["gpu"])
    assert (step, busy, issued) == (pytest.approx(66e-6), pytest.approx(device), pytest.approx(host))
    assert by_phase == {"forward": pytest.approx(step)}
    cpu_step, _, _, cpu_phases = roofline.step_time(ops, roofline.DEFAULTS["cpu"])
    assert cpu_step == pytest.approx(device + host) and cpu_phases == {"forward": pytest.approx(device + host)}
    # device-bound: the first op's host time, then every kernel
    assert roofline.segment_time([_op(100, 2e-6, 10e-6)]) == pytest.approx(2e-6 + 100 * 10e-6)
    assert roofline.segment_time([_op(100, 10e-6, 2e-6)]) == pytest.approx(100 * 10e-6 + 2e-6)


def test_gradscaler_syncs_the_host_before_the_optimizer():
    unscale = replace(_op(1, 5e-6, 1e-6), name="aten._amp_foreach_non_finite_check_and_unscale_.default")
    fwd = _op(10, 1e-6, 100e-6)  # device-bound: the host runs far ahead
    opt = replace(_op(20, 10e-6, 1e-6), phase="optimizer")  # host-bound
    ops = [fwd, unscale, opt]
    assert [len(s) for s in roofline.segments(ops)] == [2, 1]
    step = roofline.step_time(ops, roofline.DEFAULTS["gpu"])[0]
    # without the sync the optimizer's 200 us of host would hide under the 1 ms of device work
    assert step == pytest.approx(roofline.segment_time([fwd, unscale]) + roofline.segment_time([opt]))
    assert step > roofline.segment_time(ops) + 150e-6


def test_cpu_runs_dropout_as_atens_four_kernel_decomposition():
    prof = accelscope.profile("bert-base", task="train", batch_size=2, seq_len=16)
    cpu = roofline.DEFAULTS["cpu"]
    ops = [o for o in prof.ops if not o.is_view]
    rates = replace(NOMINAL_CPU_RATES, cache_bytes=0)  # every byte from memory at 20 GB/s
    unfused = roofline.estimate_ops(prof, rates, cpu)
    fused = roofline.estimate_ops(prof, rates, replace(cpu, unfused_dropout=False))
    seen = set()
    for o, u, f in zip(ops, unfused, fused):
        kind = roofline.op_kind(o)
        if kind not in ("native_dropout", "native_dropout_backward"):
            assert u == f
            continue
        seen.add(kind)
        assert f.memory_s == pytest.approx((o.bytes_read + o.bytes_written) / (2e10 * cpu.bw_efficiency))
        if kind == "native_dropout":  # bernoulli_ (w), div_ (r+w), mul (2r+w) of the input's size
            assert u.memory_s == pytest.approx(6 * o.bytes_read / (2e10 * cpu.bw_efficiency))
            assert u.overhead_s == pytest.approx(4 * cpu.host_overhead_s)
        else:  # one mul of gradient and mask
            assert u.memory_s == pytest.approx(3 * o.bytes_written / (2e10 * cpu.bw_efficiency))
            assert u.overhead_s == pytest.approx(cpu.host_overhead_s)
    assert seen == {"native_dropout", "native_dropout_backward"}
    assert roofline.DEFAULTS["gpu"].unfused_dropout is False


def test_calibration_counts_dispatches_as_the_predictor_does():
    from accelscope.models.calibrate import _op_terms

    cpu = roofline.DEFAULTS["cpu"]
    for name, opts in (("lstm-lm", dict(seq_len=8)), ("bert-base", dict(seq_len=16))):
        prof = accelscope.profile(name, task="train", batch_size=2, **opts)
        ops = [o for o in prof.ops if not o.is_view]
        dispatch = _op_terms(prof, NOMINAL_CPU_RATES, cpu)[-1]
        expected = [0 if o.attrs.get("fused_in") else 4 if roofline.op_kind(o) == "native_dropout" else 1
                    for o in ops]
        assert list(dispatch) == pytest.approx(expected)
        assert 0 in expected if name == "lstm-lm" else 4 in expected


def test_a_catalog_cpu_streams_what_fits_its_last_level_cache_at_the_cache_rate():
    from accelscope.models.roofline_model import CPU_CACHE_BYTES_PER_CYCLE, device_rates

    xeon = load_hardware("xeon-8380")
    rates = device_rates(xeon, "fp32")
    assert rates.cache_bytes == 60 * 2**20
    # 40 cores x 29 B/cycle x 2.3 GHz (the base clock the peaks use)
    assert rates.cache_bandwidth_bytes_per_s == pytest.approx(40 * CPU_CACHE_BYTES_PER_CYCLE * 2.3e9)
    assert rates.cache_bandwidth_bytes_per_s > 10 * rates.bandwidth_bytes_per_s
    assert device_rates(load_hardware("h100-sxm"), "bf16").cache_bytes == 0  # GPUs: measured ceilings only
    # an element-wise op: a batch whose tensors fit the 60 MiB L3 runs at the cache rate, a
    # batch 16x larger streams from DRAM, so time per byte jumps past the cache's size
    cpu = roofline.DEFAULTS["cpu"]

    def per_sample(batch):
        prof = accelscope.profile("resnet18", task="infer", batch_size=batch, image_size=64)
        ops = roofline.estimate_ops(prof, rates, cpu)
        relu = [e for o, e in zip([o for o in prof.ops if not o.is_view], ops)
                if roofline.op_kind(o).startswith("relu")]
        return relu[0].memory_s / batch, relu[0]

    small, _ = per_sample(2)
    large, _ = per_sample(256)
    assert large == pytest.approx(small * rates.cache_bandwidth_bytes_per_s / rates.bandwidth_bytes_per_s, rel=0.05)

"""The host and the execution mode are part of the system (issue 13): per-op host time from the
host CPU's single-thread speed, eager / CUDA graphs / compile applied the same way everywhere."""

from dataclasses import replace

import pytest

import accelscope
from accelscope.errors import PredictionError, UnknownNameError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.hosts import host_catalog, load_host
from accelscope.jobs.predict import select_hardware
from accelscope.models.predict import predict
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def r50():
    return {
        "infer1": accelscope.profile("resnet50", task="infer", batch_size=1, precision="amp-fp16"),
        "train256": accelscope.profile("resnet50", task="train", batch_size=256, precision="amp-fp16",
                                       channels_last=True),
    }


def _on(spec, host):
    return replace(spec, host=host)


@pytest.mark.parametrize("gpu", ["a100-sxm4-80gb", "h100-sxm", "t4"])
def test_changing_only_the_host_changes_small_batch_inference_not_large_batch_training(r50, gpu):
    spec = load_hardware(gpu)
    slow, fast = _on(spec, "aws-p3"), _on(spec, "workstation")
    small = predict(r50["infer1"], slow).step_time_s / predict(r50["infer1"], fast).step_time_s
    big = predict(r50["train256"], slow).step_time_s / predict(r50["train256"], fast).step_time_s
    # the hosts' eager costs: 77.8 us (E5-2686 v4) vs 23.3 us (i9-13900K) per op
    assert small > 2.0
    assert big == pytest.approx(1.0, abs=0.02)


def test_the_eager_cost_scales_with_the_single_thread_score():
    cat = host_catalog()
    ref = cat.reference_op_s.number
    for name in ("dgx-1", "dgx-h100", "workstation"):
        h = load_host(name)
        assert h.eager_op_s.number == pytest.approx(
            ref * cat.cpus[cat.reference_cpu].single_thread_score.number / h.cpu.single_thread_score.number)
        assert h.eager_op_s.derived and h.cpu.display_name in h.eager_op_s.derived
    assert load_host("dgx-h100").eager_op_s.number < load_host("dgx-1").eager_op_s.number


def test_systems_name_their_host_cpu():
    assert load_host("dgx-1").cpu.name == "xeon-e5-2698-v4"
    assert load_host("dgx-a100").cpu.name == "epyc-7742"
    assert load_host("dgx-h100").cpu.name == "xeon-platinum-8480c"
    assert load_hardware("v100-sxm2-16gb").host == "dgx-1"
    assert load_hardware("a100").host == "dgx-a100"


def test_host_cpu_override_reaches_every_gpu_and_unknown_names_are_refused(r50):
    specs = select_hardware("h100-sxm,tpu-v5e", host_cpu="workstation")
    assert specs[0].host == "workstation" and specs[1].host is None  # a TPU has no eager host term
    est = predict(r50["infer1"], specs[0])
    assert est.host == "workstation"
    assert est.parameters["host_overhead_s"] == pytest.approx(load_host("workstation").eager_op_s.number)
    with pytest.raises(UnknownNameError, match="dgx-h100"):
        select_hardware("h100-sxm", host_cpu="dgx-h10")


def test_cuda_graphs_remove_the_per_op_host_time(r50):
    h100 = load_hardware("h100-sxm")
    graphs = r50["infer1"].spec.with_(mode="cuda-graphs")
    eager_est = predict(r50["infer1"], h100)
    graph_est = predict(replace(r50["infer1"], spec=graphs), h100)
    assert graph_est.mode == "cuda-graphs" and graph_est.host_s < 1e-5
    assert graph_est.step_time_s < eager_est.step_time_s / 5  # batch 1 is all host time in eager
    # large batches are device-bound either way
    t = r50["train256"]
    t_graph = predict(replace(t, spec=t.spec.with_(mode="cuda-graphs")), h100).step_time_s
    assert t_graph == pytest.approx(predict(t, h100).step_time_s, rel=0.03)


def test_cuda_graphs_are_refused_where_there_are_none(r50):
    prof = replace(r50["infer1"], spec=r50["infer1"].spec.with_(mode="cuda-graphs"))
    with pytest.raises(PredictionError, match="CUDA/HIP graphs"):
        predict(prof, load_hardware("apple-m2-max"))


def test_compile_fuses_elementwise_work_and_tpus_always_run_compiled(r50):
    t = r50["train256"]
    a100 = load_hardware("a100")
    eager = predict(t, a100)
    comp = predict(replace(t, spec=t.spec.with_(mode="compile")), a100)
    assert comp.mode == "compile"
    assert comp.time_by_category_s["elementwise"] < 0.7 * eager.time_by_category_s["elementwise"]
    assert comp.step_time_s < eager.step_time_s
    b = accelscope.profile("resnet18", task="train", batch_size=64, precision="amp-bf16")
    tpu = predict(b, load_hardware("tpu-v5e"))  # asked to run eager: TPUs run compiled graphs
    assert tpu.mode == "compile" and any("compiled graph" in n for n in tpu.notes)
    assert tpu.step_time_s == pytest.approx(predict(replace(b, spec=b.spec.with_(mode="compile")),
                                                    load_hardware("tpu-v5e")).step_time_s)


def test_a_profile_traced_once_serves_every_mode():
    a = accelscope.profile("resnet18", batch_size=2, mode="compile")
    b = accelscope.profile("resnet18", batch_size=2)
    assert a.spec.mode == "compile" and b.spec.mode == "eager"
    assert a.ops == b.ops
    assert "mode=compile" in a.spec.label


_cli = run_cli


def test_the_cli_takes_a_mode_and_a_host_cpu_and_shows_them(capsys):
    import json

    base = ["predict", "resnet18", "--batch", "1", "--hardware", "h100,t4", "--json"]
    by = lambda args: {r["hardware"]: r for r in json.loads(_cli(args, capsys)[1])["estimates"]}  # noqa: E731
    default, fast, graphs = by(base), by(base + ["--host-cpu", "workstation"]), by(base + ["--mode", "cuda-graphs"])
    assert default["h100-sxm"]["host"] == "dgx-h100" and default["t4"]["host"] == "reference-v100-host"
    assert {r["host"] for r in fast.values()} == {"workstation"}
    for name in ("h100-sxm", "t4"):
        assert fast[name]["step_time_s"] < 0.7 * default[name]["step_time_s"]
        assert graphs[name]["mode"] == "cuda-graphs"
        assert graphs[name]["step_time_s"] < 0.3 * default[name]["step_time_s"]
    code, out, _ = _cli(["predict", "resnet18", "--batch", "1", "--hardware", "h100", "--mode", "compile", "--wide"],
                        capsys)
    assert code == 0 and "compile" in out and "dgx-h100" in out
    code, _, err = _cli(base + ["--host-cpu", "dgx-h10"], capsys)
    assert code == 2 and "unknown host 'dgx-h10'" in err and "dgx-h100" in err and len(err.strip().splitlines()) == 1
    code, _, err = _cli(base + ["--mode", "graphs"], capsys)
    assert code == 2 and "mode 'graphs' is not one of eager, cuda-graphs, compile" in err
    code, out, _ = _cli(["hardware", "hosts", "--json"], capsys)
    assert {s["name"] for s in json.loads(out)["systems"]} >= {"dgx-1", "dgx-a100", "dgx-h100", "workstation"}


def test_a_compiled_graph_folds_inference_batch_norms_and_a_compiled_cpu_graph_plans_its_buffers(r50):
    infer, train = r50["infer1"], r50["train256"]
    a100 = load_hardware("a100")
    comp = predict(replace(infer, spec=infer.spec.with_(mode="compile")), a100)
    assert predict(infer, a100).time_by_category_s["norm"] > 0
    assert comp.time_by_category_s.get("norm", 0.0) == 0.0  # folded into the convolutions
    # training batch norms compute their batch statistics: not folded
    assert predict(replace(train, spec=train.spec.with_(mode="compile")), a100).time_by_category_s["norm"] > 0
    # a CPU: eager pays the first touch of large fresh outputs, a compiled graph does not
    xeon = load_hardware("xeon-8380")
    big = accelscope.profile("resnet50", task="infer", batch_size=32)
    eager_ops = predict(big, xeon).ops
    comp_ops = predict(replace(big, spec=big.spec.with_(mode="compile")), xeon).ops
    assert sum(o.alloc_s * o.count for o in eager_ops) > 0 and all(o.alloc_s == 0 for o in comp_ops)


def _estimates_by_op(profile, rates, params) -> dict:
    """``roofline.estimate_ops`` of ``profile``, keyed by the id of each (non-view) op."""
    from accelscope.models import roofline

    return dict(zip((id(o) for o in profile.ops if not o.is_view), roofline.estimate_ops(profile, rates, params)))


def test_a_compiled_cpu_graph_runs_element_wise_ops_as_post_ops_and_allocates_nothing_per_step():
    """OpenVINO's CPU plugin fuses ReLU and the residual add into the convolution before them
    (oneDNN post-ops): a fused ReLU moves nothing, a fused add reads only its skip tensor; its
    buffers are planned once, so the trace's allocations cost no dispatch. A GPU's compiled
    graph (inductor: cuDNN convolutions stay external) still writes each fused op's output."""
    from accelscope.models import roofline
    from accelscope.models.roofline_model import device_rates, execution

    p = accelscope.profile("resnet50", task="infer", batch_size=8)
    p = replace(p, spec=p.spec.with_(mode="compile"))
    xeon = load_hardware("xeon-8380")
    params, mode, _, _ = execution(xeon, "compile", roofline.DEFAULTS["cpu"])
    assert params.epilogue_fusion == "inference" and params.planned_buffers and mode == "compile"
    rates = replace(device_rates(xeon, "fp32"), cache_bytes=0)  # every tensor from DRAM
    ops = [o for o in p.ops if not o.is_view]
    est = _estimates_by_op(p, rates, params)
    relu = next(o for o in ops if o.name == "aten.relu_.default")
    add = next(o for o in ops if o.name == "aten.add_.Tensor")
    bw = rates.bandwidth_bytes_per_s * params.bw_efficiency
    assert est[id(relu)].time_s == pytest.approx(relu.flops / (rates.vector_flops_per_s * params.vector_efficiency))
    assert est[id(relu)].memory_s == 0.0
    skip = add.bytes_read - add.bytes_written  # one of its two operands: the residual
    assert skip == add.bytes_written and est[id(add)].memory_s == pytest.approx(skip / bw)
    empties = [o for o in ops if o.name.startswith("aten.empty")]
    assert empties and all(est[id(o)].overhead_s == 0.0 for o in empties)
    eager_params, *_ = execution(xeon, "eager", roofline.DEFAULTS["cpu"])
    eager = _estimates_by_op(p, rates, eager_params)
    assert all(eager[id(o)].overhead_s == params.host_overhead_s for o in empties)
    # a training graph on a CPU: fused, the add writes its output (no post-ops in training)
    t = accelscope.profile("resnet18", task="train", batch_size=2)
    t_add = next(o for o in t.ops if o.name == "aten.add_.Tensor" and o.phase == "forward")
    t_est = _estimates_by_op(t, rates, params)
    assert t_est[id(t_add)].memory_s == pytest.approx(t_add.bytes_written / bw)
    tpu, *_ = execution(load_hardware("tpu-v5e"), "eager", roofline.DEFAULTS["tpu"])
    assert tpu.epilogue_fusion == "always"  # XLA fuses into its matrix ops in training too
    # inductor on a GPU: fused, but the add still writes its output
    gpu, *_ = execution(load_hardware("a100"), "compile", roofline.DEFAULTS["gpu"])
    assert not gpu.epilogue_fusion
    g = _estimates_by_op(p, rates, gpu)
    assert g[id(add)].memory_s == pytest.approx(add.bytes_written / (rates.bandwidth_bytes_per_s * gpu.bw_efficiency))

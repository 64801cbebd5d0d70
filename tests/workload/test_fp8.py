"""FP8 training (amp-fp8): the amp-bf16 profile with its linear products in FP8."""

import pytest

import accelscope
from accelscope.errors import ConfigError
from accelscope.jobs.predict import predict
from accelscope.workload.fp8 import FP8_DTYPE, is_linear_product


def test_amp_fp8_retypes_every_linear_product_and_halves_its_operand_bytes():
    bf16 = accelscope.profile("gpt2-small", task="train", batch_size=2, seq_len=128, precision="amp-bf16")
    fp8 = accelscope.profile("gpt2-small", task="train", batch_size=2, seq_len=128, precision="amp-fp8")
    assert fp8.spec.precision == "amp-fp8" and fp8.flops == bf16.flops
    changed = 0
    for a, b in zip(bf16.ops, fp8.ops):
        if is_linear_product(a):
            changed += a.count
            assert b.dtype == FP8_DTYPE and b.bytes_read == a.bytes_read // 2 and b.bytes_written == a.bytes_written
            assert b.flops == a.flops
        else:
            assert b == a  # attention, norms, element-wise, optimizer: as amp-bf16
    # 12 blocks x 4 linears (qkv, proj, fc, fc2) x 3 products + the LM head's 3
    assert changed >= 12 * 4 * 3
    assert any(o.category == "attention" and o.dtype == "bfloat16" for o in fp8.ops)


def test_amp_fp8_runs_at_the_fp8_peak_where_there_is_one_and_is_refused_elsewhere():
    kw = dict(task="train", batch_size=16, seq_len=1024, mode="compile", calibrations={})
    bf16 = predict("gpt2-small", hardware="gaudi2,h100-sxm", precision="amp-bf16", **kw)
    fp8 = predict("gpt2-small", hardware="gaudi2,h100-sxm,a100-sxm4-80gb", precision="amp-fp8", **kw)
    t16 = {r.estimate.hardware: r.estimate for r in bf16.results}
    t8 = {r.estimate.hardware: r.estimate for r in fp8.results}
    for hw in ("gaudi2", "h100-sxm"):
        mm16, mm8 = t16[hw].time_by_category_s["matmul"], t8[hw].time_by_category_s["matmul"]
        assert mm8 < 0.75 * mm16  # FP8 matrix units at about twice the bf16 rate
        assert t8[hw].time_by_category_s["attention"] == pytest.approx(t16[hw].time_by_category_s["attention"])
        assert t8[hw].step_time_s < t16[hw].step_time_s
        assert t8[hw].peak_flops_per_s > t16[hw].peak_flops_per_s  # MFU against the FP8 peak
    assert [u.hardware for u in fp8.unavailable] == ["a100-sxm4-80gb"]
    assert "no fp8 peak" in fp8.unavailable[0].reason


def test_amp_fp8_is_predicted_not_measured():
    from accelscope.measure.bench import bench

    with pytest.raises(ConfigError, match="predicted, not measured"):
        bench("mlp", devices="cpu", precisions="amp-fp8", batch_sizes=[1])


def test_bf16_fp8_keeps_sixteen_bit_weights_where_amp_fp8_keeps_fp32_ones():
    amp = accelscope.profile("gpt2-small", task="train", batch_size=2, seq_len=128, precision="amp-fp8")
    b16 = accelscope.profile("gpt2-small", task="train", batch_size=2, seq_len=128, precision="bf16-fp8")
    base = accelscope.profile("gpt2-small", task="train", batch_size=2, seq_len=128, precision="bf16")
    assert b16.spec.precision == "bf16-fp8" and b16.flops == amp.flops == base.flops
    assert b16.param_bytes == base.param_bytes == amp.param_bytes // 2  # bf16 vs fp32 weights
    fp8_ops = [o for o in b16.ops if o.dtype == FP8_DTYPE]
    assert fp8_ops and all(o.category == "matmul" for o in fp8_ops)
    assert not any(o.name.startswith("aten._to_copy") for o in b16.ops if o.phase == "forward") or \
        sum(o.count for o in b16.ops if o.name.startswith("aten._to_copy")) < \
        sum(o.count for o in amp.ops if o.name.startswith("aten._to_copy"))  # no autocast weight casts
    e = predict("gpt2-small", hardware="h100-sxm", task="train", batch_size=16, seq_len=1024, mode="compile",
                precision="bf16-fp8", calibrations={}).results[0].estimate
    assert e.precision == "bf16-fp8" and e.peak_flops_per_s == pytest.approx(1.979e15, rel=0.01)


def test_w8a8_quantised_inference_runs_convolutions_and_linears_at_the_int8_peak():
    fp32 = accelscope.profile("resnet50", task="infer", batch_size=2, precision="fp32")
    q = accelscope.profile("resnet50", task="infer", batch_size=2, precision="w8a8")
    assert q.flops == fp32.flops and q.spec.precision == "w8a8"
    conv_outputs = {a.output_shapes[0] for a in fp32.ops if a.name == "aten.convolution.default"}
    shrunk = 0
    for a, b in zip(fp32.ops, q.ops):
        if a.category in ("conv", "matmul") and a.name.split(".")[1] in ("convolution", "addmm"):
            assert b.dtype == "int8" and b.bytes_read == a.bytes_read // 4 and b.bytes_written == a.bytes_written // 4
        elif a.category in ("elementwise", "reduction") and a.input_shapes and a.input_shapes[0] in conv_outputs:
            # ReLU, the residual add, max and average pooling on quantised activations: int8 bytes
            assert b.dtype == a.dtype and (b.bytes_read, b.bytes_written) == (a.bytes_read // 4, a.bytes_written // 4)
            shrunk += 1
        else:
            assert b == a  # batch norms (folded when compiled), the classifier's flatten
    assert shrunk >= 4  # relu_, add_, max_pool2d, mean
    names = {b.name for a, b in zip(fp32.ops, q.ops) if b.bytes_read < a.bytes_read and b.category != "conv"}
    assert {"aten.relu_.default", "aten.add_.Tensor", "aten.max_pool2d_with_indices.default"} <= names
    kw = dict(task="infer", batch_size=16, mode="compile", calibrations={})
    r = predict("resnet50", hardware="xeon-8480plus,v100-pcie-16gb", precision="w8a8", **kw)
    e = r.results[0].estimate
    assert e.peak_flops_per_s == pytest.approx(229.376e12)  # AMX int8 (the catalog's int8 column)
    f = predict("resnet50", hardware="xeon-8480plus", precision="fp32", **kw).results[0].estimate
    assert e.step_time_s < f.step_time_s / 3
    # a device without a sourced int8 rate is refused, not priced at another precision's
    assert [u.hardware for u in r.unavailable] == ["v100-pcie-16gb"] and "int8 peak" in r.unavailable[0].reason
    with pytest.raises(ConfigError, match="quantised inference"):
        accelscope.profile("resnet50", task="train", batch_size=2, precision="w8a8")

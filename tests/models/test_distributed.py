"""The multi-device model: layouts, collectives, the sharded decoder pieces, the iteration's
terms and memory per device, and the search."""

from __future__ import annotations

import pytest

from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.systems import Fabric, fabric, load_system
from accelscope.models.distributed import collectives as coll
from accelscope.models.distributed.layout import Layout, complete, parse_parallel, parse_schedule
from accelscope.models.distributed.model import predict_parallel
from accelscope.models.distributed.search import layouts
from accelscope.models.predict import predict
from accelscope.workload import WorkloadSpec, profile
from accelscope.workload.shard import decoder_pieces, decoder_shape

SMALL = "gpt:layers=4,hidden=256,heads=8,vocab=1000,seq=128"
FAB = Fabric(devices_per_node=8, intra_bandwidth_bytes_per_s=200e9, intra_latency_s=3e-6,
             inter_bandwidth_bytes_per_s=20e9, inter_latency_s=10e-6, base_latency_s=8e-6)


def _spec(model=SMALL, batch=2, **kw):
    return WorkloadSpec(model=model, task="train", batch_size=batch, seq_len=kw.pop("seq_len", 128),
                        precision=kw.pop("precision", "bf16"), **kw).resolved()


# -- layouts --------------------------------------------------------------------------------

def test_parse_and_complete_fill_in_data_parallel():
    assert parse_parallel("tp=8, pp=2") == {"tp": 8, "pp": 2}
    assert complete(64, {"tp": 8, "pp": 2}) == {"dp": 4, "tp": 8, "pp": 2, "cp": 1}
    assert parse_schedule("interleaved:3") == ("interleaved", 3)


@pytest.mark.parametrize("text", ["tp=8,xp=2", "tp=0", "tp=a", "tp=2,tp=4"])
def test_bad_parallel_text_is_refused(text):
    with pytest.raises(ConfigError):
        parse_parallel(text)


def test_a_layout_whose_product_is_not_the_devices_is_refused():
    with pytest.raises(ConfigError, match="is not the 64 devices"):
        complete(64, {"dp": 2, "tp": 8, "pp": 2})
    with pytest.raises(ConfigError, match="does not divide"):
        complete(12, {"tp": 8})


def test_layout_micro_batches_and_strides():
    lay = Layout(dp=4, tp=8, pp=2, micro_batch=2, global_batch=64)
    assert lay.devices == 64 and lay.microbatches == 8
    assert lay.strides() == {"tp": 1, "cp": 8, "dp": 8, "pp": 32}
    assert lay.sp  # on by default with tensor parallelism
    with pytest.raises(ConfigError, match="multiple"):
        Layout(dp=4, micro_batch=2, global_batch=12)


# -- collectives ---------------------------------------------------------------------------

def test_span_of_groups_on_nodes():
    assert coll.span(8, 1, 8) == coll.Span(size=8, per_node=8, nodes=1)
    assert coll.span(16, 1, 8) == coll.Span(size=16, per_node=8, nodes=2)
    assert coll.span(4, 8, 8) == coll.Span(size=4, per_node=1, nodes=4)
    assert coll.span(8, 2, 8) == coll.Span(size=8, per_node=4, nodes=2)


def test_ring_all_reduce_inside_a_node_is_the_textbook_cost():
    s = 1e9
    got = coll.all_reduce_s(s, coll.span(8, 1, 8), FAB)
    want = 8e-6 + 2 * (7 / 8 * s / 200e9 + 7 * 3e-6)
    assert got == pytest.approx(want, rel=1e-12)
    assert coll.all_gather_s(s, coll.span(8, 1, 8), FAB) == pytest.approx(8e-6 + 7 / 8 * s / 200e9 + 7 * 3e-6)


def test_a_ring_across_nodes_runs_at_its_slowest_hop():
    s = 1e9
    # 16 ranks, 8 per node: the node's 8 NIC shares (8 x 20e9 = 160e9) bind, not NVLink's 200e9
    got = coll.all_reduce_s(s, coll.span(16, 1, 8), FAB)
    assert got == pytest.approx(8e-6 + 2 * (15 / 16 * s / 160e9 + 15 * 10e-6))
    # one rank per node: each device's own share
    one = coll.all_reduce_s(s, coll.span(4, 8, 8), FAB)
    assert one == pytest.approx(8e-6 + 2 * (3 / 4 * s / 20e9 + 3 * 10e-6))


def test_a_system_without_a_network_refuses_to_span_nodes():
    single = Fabric(devices_per_node=8, intra_bandwidth_bytes_per_s=24e9, intra_latency_s=5.7e-6,
                    inter_bandwidth_bytes_per_s=None, inter_latency_s=None)
    from accelscope.errors import PredictionError

    with pytest.raises(PredictionError, match="no network"):
        coll.all_reduce_s(1e6, coll.span(16, 1, 8), single)


def test_catalog_fabrics_use_measured_bandwidth_and_nic_shares():
    f = fabric(load_system("dgx-a100"))
    assert f.devices_per_node == 8
    assert f.intra_bandwidth_bytes_per_s == 232e9  # nccl-tests busbw, not NVLink 3's nominal 300e9
    assert f.inter_bandwidth_bytes_per_s == 24e9  # one HDR port per GPU, as measured
    assert f.intra_latency_s == 3.4e-6 and f.base_latency_s == 8.4e-6
    p4d = fabric(load_system("aws-p4d"))
    assert p4d.inter_bandwidth_bytes_per_s == pytest.approx(4 * 12.5e9 / 8)  # 4 EFA cards for 8 GPUs


# -- sharded pieces ------------------------------------------------------------------------

def test_shape_of_presets_and_parameter_count():
    shape = decoder_shape(_spec("gpt3-175b", seq_len=2048))
    assert (shape.layers, shape.hidden, shape.heads) == (96, 12288, 96)
    assert shape.params == pytest.approx(174.6e9, rel=0.01)
    assert decoder_shape(_spec("resnet50", seq_len=None, image_size=32)) is None
    assert decoder_shape(_spec("llama3-8b", seq_len=128)).params == pytest.approx(8.03e9, rel=0.01)


def test_pieces_add_up_to_the_whole_model():
    spec = _spec()
    whole = profile(spec, cache=False)
    pc = decoder_pieces(spec, cache=False)
    # GPT ties its head to the embedding; the pieces pad the vocabulary (1000 -> 1024) as Megatron does
    head_norm = 2 * 256
    assert pc.block.params * 4 + pc.embed.params + head_norm == whole.params + (1024 - 1000) * 256
    # matmul/attention FLOPs of the whole step, the loss's and tied head's bookkeeping aside
    assert 4 * pc.block.flops + pc.embed.flops + pc.head.flops == pytest.approx(whole.flops, rel=0.03)


def test_tensor_parallel_splits_the_block_and_context_parallel_the_sequence():
    spec = _spec()
    one, two = decoder_pieces(spec, cache=False), decoder_pieces(spec, tp=2, cache=False)
    h = 256
    replicated = 2 * 2 * h + h + h  # two LayerNorms, the two row-split biases
    assert two.block.params == (one.block.params - replicated) // 2 + replicated
    assert two.block.flops == pytest.approx(one.block.flops / 2, rel=0.01)
    cp2 = decoder_pieces(spec, cp=2, cache=False)
    assert cp2.tokens == one.tokens // 2
    assert cp2.block.flops == pytest.approx(one.block.flops / 2, rel=0.01)  # queries halved, keys whole
    with pytest.raises(ConfigError, match="does not divide the attention heads"):
        decoder_pieces(spec, tp=3, cache=False)
    with pytest.raises(ConfigError, match="sequence length"):
        decoder_pieces(spec, cp=3, cache=False)


# -- the iteration -------------------------------------------------------------------------

H100 = load_hardware("h100-sxm")


def _predict(spec, layout, fab=FAB):
    return predict_parallel(spec, H100, layout, fab, estimate=lambda p: predict(p, H100),
                            pieces=lambda tp, cp: decoder_pieces(spec, tp=tp, cp=cp, cache=False))


def test_pipeline_time_is_slowest_stage_times_microbatches_plus_the_bubble():
    spec = _spec()
    e = _predict(spec, Layout(pp=2, micro_batch=2, global_batch=16))
    times = e.parameters["parallel"]["stage_times_s"]
    m = 8
    assert e.bubble_s == pytest.approx(sum(times) - max(times))
    assert e.step_time_s >= m * max(times) + e.bubble_s
    inter = _predict(spec, Layout(pp=2, micro_batch=2, global_batch=16, schedule="interleaved", virtual_stages=2))
    assert inter.bubble_s == pytest.approx(e.bubble_s / 2, rel=1e-6)


def test_zero_stages_shard_state_gradients_and_weights():
    spec = _spec()
    mem = {z: _predict(spec, Layout(dp=8, zero=z, micro_batch=2)).parameters["parallel"]["memory_bytes_by_kind"]
           for z in (0, 1, 2, 3)}
    assert mem[1]["optimizer_state"] == pytest.approx(mem[0]["optimizer_state"] / 8)
    assert mem[1]["gradients"] == mem[0]["gradients"]
    assert mem[2]["gradients"] == pytest.approx(mem[0]["gradients"] / 8)
    assert mem[3]["weights"] == pytest.approx(mem[0]["weights"] / 8)
    assert mem[3]["gathered_weights"] > 0
    assert mem[0]["total"] > mem[1]["total"] > mem[2]["total"] > mem[3]["total"]


def test_data_parallel_scales_the_global_batch_and_exposes_little_communication():
    spec = _spec()
    one = _predict(spec, Layout(dp=1, micro_batch=2))
    eight = _predict(spec, Layout(dp=8, micro_batch=2))
    assert eight.samples_per_step == 16 and eight.devices == 8
    assert eight.step_time_s > one.step_time_s
    assert 0.5 < eight.scaling_efficiency < 1.0
    assert eight.tokens_per_s == pytest.approx(16 * 128 / eight.step_time_s)
    assert eight.mfu == pytest.approx(eight.flops / eight.step_time_s / eight.peak_flops_per_s / 8)


def test_tensor_parallel_adds_its_all_reduces_and_full_recompute_repeats_the_forward():
    spec = _spec()
    base = _predict(spec, Layout(tp=2, micro_batch=2))
    full = _predict(spec, Layout(tp=2, micro_batch=2, recompute="full"))
    p, q = base.parameters["parallel"], full.parameters["parallel"]
    assert p["tensor_parallel_s"] > 0
    assert q["tensor_parallel_s"] == pytest.approx(p["tensor_parallel_s"] * 6 / 4)
    assert full.compute_s > base.compute_s
    assert q["memory_bytes_by_kind"]["activations"] < p["memory_bytes_by_kind"]["activations"]


def test_non_decoders_are_data_parallel_only():
    spec = WorkloadSpec(model="mlp", task="train", batch_size=32, precision="fp32").resolved()
    whole = profile(spec)
    e = predict_parallel(spec, H100, Layout(dp=4, micro_batch=32), FAB, estimate=lambda p: predict(p, H100),
                         whole=whole)
    assert e.devices == 4 and e.samples_per_step == 128
    assert e.parameters["parallel"]["ddp_bucket_copies_s"] > 0  # PyTorch DDP's per-tensor copies
    with pytest.raises(ConfigError, match="only data parallelism"):
        predict_parallel(spec, H100, Layout(tp=2, micro_batch=32), FAB, estimate=lambda p: predict(p, H100),
                         whole=whole)


def test_pipeline_stages_that_do_not_divide_the_layers_hold_uneven_layers():
    from accelscope.models.distributed.model import stage_layers

    # BLOOM's 70 layers over 12 stages: 10 stages of 6, the two ends (embedding, head) of 5
    assert stage_layers(70, 12) == [5] + [6] * 10 + [5]
    assert stage_layers(4, 3) == [1, 2, 1] and stage_layers(5, 3) == [1, 2, 2] and stage_layers(8, 4) == [2] * 4
    assert sum(stage_layers(126, 16)) == 126 and max(stage_layers(126, 16)) == 8
    e = _predict(_spec(), Layout(pp=3, micro_batch=2))
    assert any(n.startswith("uneven pipeline: 4 layers over 3 stages of 1 or 2") for n in e.notes)
    with pytest.raises(ConfigError, match="more stages than the 4 layers"):
        _predict(_spec(), Layout(pp=5, micro_batch=2))
    with pytest.raises(ConfigError, match="do not divide the 4 layers"):
        _predict(_spec(), Layout(pp=2, micro_batch=1, global_batch=8, schedule="interleaved", virtual_stages=4))


# -- search --------------------------------------------------------------------------------

def test_layouts_enumerate_only_valid_degrees():
    shape = decoder_shape(_spec())
    found = list(layouts(16, devices_per_node=8, global_batch=32, shape=shape, seq_len=128,
                         zero=(0,), recompute=("none",), micro_batches=(1, 2)))
    assert found and all(x.devices == 16 for x in found)
    assert all(x.tp <= 8 and 8 % x.tp == 0 and 4 % x.pp == 0 for x in found)
    assert all(x.cp == 1 for x in found)  # 128 tokens: no chunk of 1024
    assert any(x.schedule == "interleaved" for x in found)


def test_causal_attention_executes_half_its_counted_product():
    causal = predict(profile(_spec(batch=1)), H100)
    full = predict(profile(WorkloadSpec(model="bert-base", task="infer", batch_size=1, seq_len=128,
                                        precision="bf16")), H100)
    c = [o for o in causal.ops if o.category == "attention"]
    b = [o for o in full.ops if o.category == "attention"]
    assert c and all(o.algorithm_speedup == 2.0 for o in c)
    assert b and all(o.algorithm_speedup == 1.0 for o in b)
    assert causal.executed_flops < causal.flops


def test_unfused_attention_stores_the_scores():
    fused = decoder_pieces(_spec(), cache=False)
    unfused = decoder_pieces(_spec(SMALL + ",flash=0"), cache=False)
    scores = 2 * 8 * 128 * 128 * 2  # the softmax's output: batch x heads x T x T, bf16
    assert unfused.block.activation_bytes - fused.block.activation_bytes == pytest.approx(scores, rel=0.05)
    assert not any(o.category == "attention" for o in unfused.block.ops)  # batched products instead


def test_time_by_category_counts_the_optimizer_once_per_step_and_sharded():
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import predict as job_predict

    model = "llama:layers=4,hidden=1024,heads=16,ffn=4096,seq=1024"
    by_zero = {}
    for zero in (0, 1):
        par = Parallel(devices=8, system="gaudi2-hls2", parallel="tp=2,pp=1", zero=zero, micro_batch=1,
                       global_batch=64)  # 16 micro-batches per step on each of 4 replicas
        e = job_predict(model, hardware="gaudi2", task="train", seq_len=1024, precision="amp-bf16", parallel=par,
                        calibrations={}).results[0].estimate
        assert sum(e.time_by_category_s.values()) == pytest.approx(e.compute_s, rel=0.02)
        assert e.time_by_category_s["optimizer"] == pytest.approx(e.time_by_phase_s["optimizer"], rel=0.02)
        by_zero[zero] = e.time_by_category_s["optimizer"]
    assert by_zero[1] == pytest.approx(by_zero[0] / 4, rel=0.02)  # ZeRO-1 over 4 replicas

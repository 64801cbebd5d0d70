"""Serving: the KV cache, the prefill and decode pieces, the serving model, the latency-target
search, the measured generate loop, and bad input."""

from __future__ import annotations

import json

import pytest
import torch

from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.systems import fabric, load_system
from accelscope.jobs.serving import Serving, serve_on
from accelscope.models.predict import predict
from accelscope.models.serving import predict_serving
from accelscope.workload import WorkloadSpec, nets
from accelscope.workload.serving import kv_bytes_per_token, mean_decode_context, serving_pieces
from accelscope.workload.zoo import parametric_config
from tests.helpers import run_cli

SMALL = "llama:layers=4,hidden=256,heads=8,kv_heads=2,vocab=1000,seq=512"
H100 = load_hardware("h100-sxm")


def _serve(batch=8, inp=128, out=64, **kw):
    return WorkloadSpec(model=SMALL, task="serve", batch_size=batch, input_tokens=inp, output_tokens=out,
                        precision=kw.pop("precision", "bf16"), mode=kw.pop("mode", "cuda-graphs"), **kw).resolved()


def _predict(spec, tp=1, hw=H100):
    f = fabric(load_system("dgx-h100")) if tp > 1 else None
    return predict_serving(spec, hw, tp=tp, fabric=f, estimate=lambda p: predict(p, hw),
                           pieces=lambda b: serving_pieces(spec, batch=b, tp=tp, cache=False))


@pytest.mark.parametrize("family, extra", [("gpt", ""), ("llama", ",kv_heads=2"),
                                           ("gpt", ",kv_heads=2,parallel=1,rotary=1")])  # Falcon's block
def test_generation_with_the_kv_cache_reproduces_the_full_forward_pass(family, extra):
    c = nets.TransformerConfig(**parametric_config(f"{family}:layers=2,hidden=64,heads=4,vocab=100,seq=64{extra}"))
    torch.manual_seed(0)
    m = (nets.GPT2 if family == "gpt" else nets.Llama)(c).eval()
    tokens = torch.randint(0, 100, (2, 10))
    with torch.no_grad():
        full = m(tokens)
        caches = nets.new_caches(c, 2, 12)
        first = m(tokens[:, :7], caches, last_only=True)
        steps = [m(tokens[:, i:i + 1], caches, last_only=True) for i in range(7, 10)]
    assert torch.allclose(first[:, 0], full[:, 6], atol=1e-5)
    for i, s in zip(range(7, 10), steps):
        assert torch.allclose(s[:, 0], full[:, i], atol=1e-5)
    assert caches[0].length == 10
    with pytest.raises(ValueError, match="one token at a time"):
        m(torch.zeros(2, 2, dtype=torch.long), caches)
    m(torch.zeros(2, 1, dtype=torch.long), caches)
    m(torch.zeros(2, 1, dtype=torch.long), caches)
    with pytest.raises(ValueError, match="holds 12 positions"):
        m(torch.zeros(2, 1, dtype=torch.long), caches)


def test_the_decode_step_reads_every_weight_and_the_whole_cache():
    spec = _serve()
    pc = serving_pieces(spec, batch=8, cache=False)
    ctx = mean_decode_context(128, 64)
    assert pc.decode_context == ctx == 160
    cache_read = 2 * 8 * 2 * ctx * 32 * 2  # k and v: batch x kv_heads x positions x head_dim x bf16
    attn = [o for o in pc.decode_block.ops if o.category == "attention"]
    assert attn and sum(o.total_bytes_read for o in attn) >= cache_read
    assert pc.decode_block.bytes_read >= pc.decode_block.param_bytes + cache_read
    assert pc.prefill_block.flops == pytest.approx(128 * pc.decode_block.flops, rel=0.1)
    assert kv_bytes_per_token(pc.shape, 1, 2) == 2 * 4 * 2 * 32 * 2


def test_a_static_batch_composes_ttft_tpot_and_throughput():
    e = _predict(_serve())
    sv = e.parameters["serving"]
    assert e.ttft_s == pytest.approx(sv["prefill_s"]) and e.tpot_s == pytest.approx(sv["decode_step_s"])
    assert e.e2e_latency_s == pytest.approx(e.ttft_s + 63 * e.tpot_s)
    assert e.step_time_s == pytest.approx(e.e2e_latency_s)
    assert e.tokens_per_s == pytest.approx(8 * 64 / e.e2e_latency_s)
    assert e.throughput_samples_per_s == pytest.approx(8 / e.e2e_latency_s)
    assert e.time_by_phase_s["decode_weights"] > 0 and e.time_by_phase_s["decode_kv_cache"] > 0
    # memory: weights + the batch's cache + the prefill's working set; the largest batch fits, one more does not
    assert sv["kv_cache_bytes"] == 8 * (128 + 64) * sv["kv_bytes_per_token"]
    big = _predict(_serve(batch=2048, inp=256, out=256))
    most = big.parameters["serving"]["max_batch_that_fits"]
    assert big.fits_in_memory is (2048 <= most)
    assert _predict(_serve(batch=most, inp=256, out=256)).fits_in_memory is True
    assert _predict(_serve(batch=int(most * 1.05) + 1, inp=256, out=256)).fits_in_memory is False


def test_tensor_parallel_shards_weights_and_adds_latency_bound_all_reduces():
    one, two = _predict(_serve()), _predict(_serve(), tp=2)
    s1, s2 = one.parameters["serving"], two.parameters["serving"]
    assert s2["weight_bytes"] < 0.6 * s1["weight_bytes"]
    assert s2["kv_bytes_per_token"] == s1["kv_bytes_per_token"] // 2
    assert s2["decode_tensor_parallel_s"] > 0 and s1["decode_tensor_parallel_s"] == 0
    assert two.devices == 2


def test_continuous_batching_shares_the_cycle_with_the_prefills():
    spec = WorkloadSpec(model=SMALL, task="serve", concurrency=16, input_tokens=128, output_tokens=64,
                        precision="bf16", mode="cuda-graphs").resolved()
    e = _predict(spec)
    sv = e.parameters["serving"]
    prefill_one = _predict(_serve(batch=1)).ttft_s
    assert e.ttft_s == pytest.approx(prefill_one, rel=1e-6)
    assert e.step_time_s == pytest.approx(64 * sv["decode_step_s"] + 16 * prefill_one, rel=1e-6)
    assert e.tokens_per_s == pytest.approx(16 * 64 / e.step_time_s)
    assert e.tpot_s == pytest.approx(e.step_time_s / 64)


def test_latency_targets_pick_the_fastest_configuration_that_meets_them():
    limit = _predict(_serve(batch=4)).tpot_s * 1.0001  # batch 4 meets it, a much larger batch does not
    best = serve_on(Serving(tpot_slo_s=limit, devices=1), _serve(batch=1), H100, cache=False)
    assert best.tpot_s <= limit and best.spec.batch_size >= 4
    assert best.parameters["slo"]["binding"] == "tpot"
    assert best.tokens_per_s >= _predict(_serve(batch=4)).tokens_per_s
    with pytest.raises(Exception, match="meets the targets"):
        serve_on(Serving(ttft_slo_s=1e-9), _serve(batch=1), H100, cache=False)


def test_serving_json_keys_and_prices_per_output_token(capsys):
    code, out, err = run_cli(["predict", SMALL, "--task", "serve", "--input-tokens", "128", "--output-tokens", "64",
                              "--batch", "8", "--hardware", "h100-sxm", "--precision", "bf16", "--json"], capsys)
    assert code == 0, err
    e = json.loads(out)["estimates"][0]
    for key in ("ttft_s", "tpot_s", "e2e_latency_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
                "requests_per_s", "max_batch_that_fits", "j_per_output_token", "usd_per_million_output_tokens"):
        assert e[key] is not None, key
    assert e["usd_per_million_output_tokens"] == pytest.approx(e["usd_per_hour"] / 3600 * e["e2e_latency_s"] / (8 * 64)
                                                               * 1e6)
    assert e["j_per_output_token"] == pytest.approx(e["energy_j_per_step"] / (8 * 64))


@pytest.mark.parametrize("args, message", [
    (["--output-tokens", "0"], "output tokens must be a positive"),
    (["--input-tokens", "500", "--output-tokens", "100"], "do not fit"),
    (["--batch", "4", "--concurrency", "8"], "not both"),
    (["--devices", "3"], "does not divide"),
    (["--parallel", "tp=2", "--devices", "2"], "do not apply"),
])
def test_bad_serving_input_exits_2(capsys, args, message):
    code, _, err = run_cli(["predict", SMALL, "--task", "serve", "--hardware", "h100-sxm", *args], capsys)
    assert code == 2 and message in err


def test_serving_options_need_the_serve_task(capsys):
    code, _, err = run_cli(["predict", SMALL, "--task", "infer", "--hardware", "h100-sxm", "--ttft-slo", "100"], capsys)
    assert code == 2 and "add --task serve" in err
    code, _, err = run_cli(["predict", "resnet50", "--task", "serve", "--hardware", "h100-sxm"], capsys)
    assert code == 2 and "serving (--task serve) runs decoders" in err


def test_a_cache_too_big_for_any_device_is_an_explicit_row(capsys):
    code, out, err = run_cli(["predict", "llama-70b", "--task", "serve", "--batch", "4096", "--input-tokens", "2048",
                              "--output-tokens", "2048", "--hardware", "h100-sxm", "--json"], capsys)
    assert code == 0, err
    e = json.loads(out)["estimates"][0]
    assert e["fits_in_memory"] is False and e["max_batch_that_fits"] == 0


@pytest.mark.slow
def test_measured_ttft_and_tpot_add_up_to_the_generate_time(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    code, out, err = run_cli(["bench", "gpt:layers=2,hidden=128,heads=4,vocab=500,seq=256", "--task", "serve",
                              "--batch", "2", "--input-tokens", "32", "--output-tokens", "16", "--max-time", "1",
                              "--store", str(db), "--json"], capsys)
    assert code == 0, err
    m = json.loads(out)
    assert m["runs"] >= 3 and m["ttft_s"] > 0 and m["tpot_s"] > 0
    assert m["consistency"] == pytest.approx(1.0, abs=0.10)
    assert m["e2e_s"] == pytest.approx(m["ttft_s"] + 15 * m["tpot_s"], rel=0.10)
    assert m["output_tokens_per_s"] == pytest.approx(2 * 16 / m["e2e_s"])
    from accelscope.store import Store

    with Store(db) as s:
        run = s.get_run(m["run_id"])
        assert run.kind == "serve" and run.n_ok == 1


def test_bench_serve_refuses_continuous_batching(capsys):
    code, _, err = run_cli(["bench", SMALL, "--task", "serve", "--concurrency", "4", "--no-store"], capsys)
    assert code == 2 and "predicted only" in err
    with pytest.raises(ConfigError):
        WorkloadSpec(model=SMALL, task="infer", output_tokens=4)


def test_weight_formats_read_narrower_weights_and_fp8_runs_on_the_fp8_units():
    base = serving_pieces(_serve(), batch=8, cache=False)
    fp8 = serving_pieces(_serve(weights="fp8"), batch=8, cache=False)
    int4 = serving_pieces(_serve(weights="int4"), batch=8, cache=False)
    assert fp8.decode_block.param_bytes == base.decode_block.param_bytes // 2
    assert int4.decode_block.param_bytes == base.decode_block.param_bytes // 4
    mm = [o for o in fp8.decode_block.ops if o.category == "matmul"]
    assert mm and all(o.dtype == "float8_e4m3fn" for o in mm)
    assert all(o.dtype != "float8_e4m3fn" for o in int4.decode_block.ops)
    assert int4.decode_block.bytes_read < fp8.decode_block.bytes_read < base.decode_block.bytes_read
    e16, e8 = _predict(_serve()), _predict(_serve(weights="fp8"))
    assert e8.parameters["serving"]["kv_bytes_per_token"] == e16.parameters["serving"]["kv_bytes_per_token"] // 2
    assert e8.tpot_s < e16.tpot_s
    from accelscope.errors import PredictionError

    with pytest.raises(PredictionError, match="no FP8 matrix peak"):
        _predict(_serve(weights="fp8"), hw=load_hardware("a100-sxm4-80gb"))
    with pytest.raises(ConfigError, match="weight format"):
        _serve(weights="int3")


def test_mixture_of_experts_routes_for_real_and_traces_a_balanced_router():
    moe = "llama:layers=2,hidden=64,heads=4,kv_heads=2,vocab=100,seq=64,experts=4,top_k=2"
    c = nets.TransformerConfig(**parametric_config(moe))
    torch.manual_seed(0)
    m = nets.Llama(c).eval()
    tokens = torch.randint(0, 100, (2, 10))
    with torch.no_grad():
        full = m(tokens)
        caches = nets.new_caches(c, 2, 10)
        first = m(tokens[:, :9], caches, last_only=True)
        step = m(tokens[:, 9:], caches, last_only=True)
    assert torch.allclose(first[:, 0], full[:, 8], atol=1e-5) and torch.allclose(step[:, 0], full[:, 9], atol=1e-5)
    assert [nets.active_experts(8, 2, t) for t in (1, 2, 4, 16)] == [2, 4, 6, 8]
    from accelscope.workload.shard import decoder_shape

    mixtral = decoder_shape(WorkloadSpec(model="mixtral-8x7b", task="serve").resolved())
    assert mixtral.params == pytest.approx(46.7e9, rel=0.01)  # Mixtral's published 46.7B
    # decode reads only the experts its tokens reach: one sequence reads 2 of the 4, sixteen all 4
    spec1 = WorkloadSpec(model=moe, task="serve", batch_size=1, input_tokens=16, output_tokens=8,
                         precision="bf16").resolved()
    one = serving_pieces(spec1, batch=1, cache=False).decode_block
    many = serving_pieces(spec1, batch=16, cache=False).decode_block
    expert = 3 * 64 * c.d_ff * 2  # gate, up, down of one expert, bf16
    assert many.bytes_read - one.bytes_read >= 2 * expert
    with pytest.raises(ConfigError, match="give experts=E"):
        parametric_config("llama:layers=2,hidden=64,heads=4,top_k=2")


def test_explore_serve_ranks_devices_by_cost_per_million_output_tokens(tmp_path, capsys):
    code, out, err = run_cli(["explore", "gpt:layers=2,hidden=128,heads=4,vocab=500,seq=256", "--task", "serve",
                              "--batch", "2", "--input-tokens", "32", "--output-tokens", "8", "--kind", "gpu",
                              "--device", "cpu", "--max-time", "0.3", "--store", str(tmp_path / "s.sqlite"),
                              "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)["workloads"][0]["rows"]
    measured = [r for r in rows if r["source"] == "measured"]
    priced = [r["usd_per_million_samples"] for r in rows if r["source"] == "predicted" and r["usd_per_million_samples"]]
    assert measured and measured[0]["device"] == "cpu" and measured[0]["throughput_samples_per_s"] > 0
    assert priced and priced == sorted(priced)


def test_calibrate_fits_the_cpu_from_serving_measurements(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    for batch, inp in ((1, 32), (4, 64), (2, 128)):
        code, _, err = run_cli(["bench", "gpt:layers=2,hidden=128,heads=4,vocab=500,seq=256", "--task", "serve",
                                "--batch", str(batch), "--input-tokens", str(inp), "--output-tokens", "8",
                                "--max-time", "0.3", "--store", db], capsys)
        assert code == 0, err
    code, out, err = run_cli(["calibrate", "--device", "cpu", "--store", db, "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    labels = [p["workload"] for p in res["points"]]
    assert sum("prefill" in w for w in labels) == 3 and sum("decode" in w for w in labels) == 3
    assert all(p["measured_s"] > 0 and p["predicted_s"] > 0 for p in res["points"])
    assert res["median_abs_error"] < 1.0


def test_parallel_rotary_gpt_variants_count_their_parameters():
    from accelscope.workload import profile
    from accelscope.workload.shard import decoder_shape

    variant = "gpt:layers=2,hidden=64,heads=4,kv_heads=2,vocab=100,seq=64,parallel=1,rotary=1"
    p = profile(variant, task="train", batch_size=2, seq_len=32, cache=False)
    assert decoder_shape(WorkloadSpec(model=variant, task="train").resolved()).params == p.params
    falcon = decoder_shape(WorkloadSpec(model="falcon-180b", task="serve").resolved())
    assert (falcon.heads, falcon.kv_heads, falcon.parallel, falcon.rotary) == (232, 8, True, True)
    assert falcon.params == pytest.approx(179e9, rel=0.01)


def test_a_decoder_of_your_own_is_served_through_its_cache_protocol(capsys):
    from tests.helpers import user_decoder

    ref = "tests.helpers:user_decoder"
    code, out, err = run_cli(["predict", ref, "--task", "serve", "--batch", "4", "--input-tokens", "64",
                              "--output-tokens", "32", "--hardware", "h100-sxm", "--json"], capsys)
    assert code == 0, err
    e = json.loads(out)["estimates"][0]
    params = sum(p.numel() for p in user_decoder().parameters())
    assert e["serving"]["weight_bytes"] == 2 * params  # bf16 on an H100
    assert e["serving"]["kv_bytes_per_token"] == 2 * 2 * 2 * 16 * 2  # layers x (k, v) x kv heads x dim x bf16
    assert e["ttft_s"] > 0 and e["tpot_s"] > 0
    code, _, err = run_cli(["predict", "tests.helpers:not_a_decoder", "--task", "serve", "--hardware", "h100-sxm"],
                           capsys)
    assert code == 2 and "must provide" in err
    code, _, err = run_cli(["predict", ref, "--task", "serve", "--devices", "2", "--hardware", "h100-sxm"], capsys)
    assert code == 2 and "one device" in err
    code, out, err = run_cli(["bench", ref, "--task", "serve", "--batch", "2", "--input-tokens", "16",
                              "--output-tokens", "4", "--max-time", "0.3", "--no-store", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["tpot_s"] > 0


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_heads_may_be_narrower_or_wider_than_hidden_over_heads(family):
    from accelscope.workload import profile
    from accelscope.workload.shard import decoder_shape

    # maxtext's 16B: 32 heads of 256 (8192 wide) on a 5120 model; here 4 heads of 32 on 64
    model = f"{family}:layers=2,hidden=64,heads=4,head_dim=32,ffn=128,vocab=100,seq=64"
    p = profile(model, task="train", batch_size=2, seq_len=32, cache=False)
    shape = decoder_shape(WorkloadSpec(model=model, task="train").resolved())
    assert shape.head_width == 32 and shape.params == p.params
    plain = profile(f"{family}:layers=2,hidden=64,heads=4,ffn=128,vocab=100,seq=64", task="train", batch_size=2,
                    seq_len=32, cache=False)
    # q, k, v and the output product each twice as wide: two layers of 4 x 64 x 64 more weights (GPT: and
    # 3 x 64 more biases)
    assert p.params - plain.params == 2 * 4 * 64 * 64 + (2 * 3 * 64 if family == "gpt" else 0)

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from accelscope.workload import TENSOR_CATEGORIES, load_workload, model_names, profile
from accelscope.workload.trace import _onednn_disabled, _skip_weight_init
from accelscope.workload.workload import Workload

# Small but representative sizes so that every zoo model traces in a few seconds.
SMALL = {"bert-base": dict(seq_len=32), "bert-large": dict(seq_len=32), "gpt2-small": dict(seq_len=32),
         "llama-7b": dict(seq_len=32), "llama-70b": dict(seq_len=16), "lstm-lm": dict(seq_len=8),
         "vit_b_16": dict(image_size=224), "resnet50": dict(image_size=64), "resnet18": dict(image_size=64),
         "mobilenet_v2": dict(image_size=64), "efficientnet_b0": dict(image_size=64)}


def _flop_counter_total(w: Workload) -> int:
    """FLOPs that torch.utils.flop_counter.FlopCounterMode counts for the same step."""
    with FakeTensorMode(allow_non_fake_inputs=True), torch.device("cpu"), _onednn_disabled():
        with _skip_weight_init():
            model = w.build_model()
        inputs = w.make_inputs(w.batch_size)
        with FlopCounterMode(display=False) as counter:
            if w.task == "infer":
                model.eval()
                with torch.no_grad():
                    model(*inputs)
            else:
                model.train()
                w.loss_fn(model(*inputs), w.make_targets(w.batch_size) if w.make_targets else None).backward()
    return counter.get_total_flops()


def _counted_by_torch(p) -> int:
    return sum(op.total_flops for op in p.ops
               if getattr(torch.ops.aten, op.name.split(".")[1])  in flop_registry)


@pytest.mark.parametrize("name", model_names())
def test_inference_flops_equal_flop_counter(name):
    w = load_workload(name, task="infer", batch_size=2, **SMALL.get(name, {}))
    p = profile(w)
    expected = _flop_counter_total(w)
    assert expected > 0
    assert _counted_by_torch(p) == expected
    assert p.flops >= expected  # plus attention kernels that torch has no CPU rule for
    assert p.uncovered_ops == []


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet18", "gpt2-small", "lstm-lm"])
def test_training_flops_equal_flop_counter(name):
    w = load_workload(name, task="train", batch_size=2, **SMALL.get(name, {}))
    p = profile(w)
    fwd_bwd = sum(op.total_flops for op in p.ops
                  if op.phase != "optimizer" and getattr(torch.ops.aten, op.name.split(".")[1]) in flop_registry)
    assert fwd_bwd == _flop_counter_total(w)


@pytest.mark.parametrize("name,opts", [("gpt2-small", dict(seq_len=64)),
                                       ("bert-base", dict(seq_len=64)), ("llama-7b", dict(seq_len=64)),
                                       ("vit_b_16", {})])
def test_training_matmul_flops_are_three_times_forward(name, opts):
    p = profile(name, task="train", batch_size=2, **opts)
    by = p.flops_by_phase
    assert (by["forward"] + by["backward"]) / by["forward"] == pytest.approx(3.0, rel=0.05)
    assert by["optimizer"] == 0 and p.total_flops_by_phase["optimizer"] > 0


def test_resnet50_inference_flops_match_published():
    p = profile("resnet50", task="infer", batch_size=1)
    assert p.flops == pytest.approx(8.18e9, rel=0.01)  # 4.09 GMACs
    assert p.params == 25_557_032
    assert set(p.flops_by_category) >= {"conv", "matmul", "norm"}


def test_linear_bytes_and_flops_by_hand(tmp_path, monkeypatch):
    (tmp_path / "lin.py").write_text("import torch\ndef lin():\n    return torch.nn.Linear(32, 16)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    p = profile("lin:lin", input_shape="32", batch_size=8)
    [addmm] = [op for op in p.ops if op.name == "aten.addmm.default"]
    assert addmm.flops == 2 * 8 * 32 * 16
    # bias (16, broadcast: read once), input (8x32), weight^T (32x16), output (8x16), float32
    assert addmm.bytes_read == 4 * (16 + 8 * 32 + 32 * 16)
    assert addmm.bytes_written == 4 * 8 * 16
    assert addmm.category == "matmul" and addmm.phase == "forward" and addmm.dtype == "float32"
    views = [op for op in p.ops if op.is_view]
    assert views and all(op.bytes_read == op.bytes_written == 0 for op in views)


def test_autocast_runs_matmuls_in_low_precision_and_counts_casts():
    p = profile("gpt2-small", task="train", batch_size=1, seq_len=32, precision="amp-bf16")
    mm = [op for op in p.ops if op.category == "matmul"]
    assert mm and all(op.dtype == "bfloat16" for op in mm)
    casts = [op for op in p.ops if op.name == "aten._to_copy.default"]
    assert casts  # weights cast to bf16, gradients back to fp32
    fp32 = profile("gpt2-small", task="train", batch_size=1, seq_len=32, precision="fp32")
    mm32 = sum(op.total_bytes for op in fp32.ops if op.category == "matmul")
    mm16 = sum(op.total_bytes for op in mm)
    assert mm16 == pytest.approx(mm32 / 2, rel=0.01)
    assert p.flops == fp32.flops


def test_pure_half_precision_halves_weight_bytes():
    p32 = profile("mlp", task="train", precision="fp32")
    p16 = profile("mlp", task="train", precision="fp16")
    assert p16.param_bytes * 2 == p32.param_bytes
    assert p16.flops == p32.flops


def test_amp_fp16_adds_grad_scaler_kernels():
    p = profile("mlp", task="train", precision="amp-fp16")
    names = {op.name for op in p.ops}
    assert "aten._amp_foreach_non_finite_check_and_unscale_.default" in names
    assert "aten._amp_update_scale_.default" in names


def test_memory_accounting_for_adamw_and_sgd():
    adamw = profile("mlp", task="train", optimizer="adamw")
    sgd = profile("mlp", task="train", optimizer="sgd")
    n = adamw.params
    assert adamw.param_bytes == adamw.grad_bytes == 4 * n
    assert adamw.optimizer_state_bytes == 2 * 4 * n  # exp_avg and exp_avg_sq
    assert sgd.optimizer_state_bytes == 4 * n  # momentum buffer
    assert adamw.activation_bytes > 0
    assert adamw.memory_bytes > adamw.param_bytes * 4
    infer = profile("mlp", task="infer")
    assert infer.grad_bytes == infer.optimizer_state_bytes == 0
    assert infer.phases == ("forward",)


def test_training_has_three_phases_with_optimizer_ops():
    p = profile("cnn", task="train", batch_size=4)
    assert p.phases == ("forward", "backward", "optimizer")
    assert {op.category for op in p.phase("optimizer") if not op.is_view} == {"optimizer"}
    assert any(op.category == "conv" for op in p.phase("backward"))


def test_ops_without_a_rule_are_listed_not_zero(tmp_path, monkeypatch):
    (tmp_path / "sorter.py").write_text(
        "import torch\nclass S(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__(); self.l = torch.nn.Linear(8, 8)\n"
        "    def forward(self, x):\n        return torch.sort(self.l(x), dim=-1).values\n"
        "def make():\n    return S()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    p = profile("sorter:make", input_shape="8", batch_size=2)
    assert p.uncovered_ops == ["aten.sort.default"]
    [sort] = [op for op in p.ops if op.name == "aten.sort.default"]
    assert sort.flops is None and sort.bytes_read == 2 * 8 * 4


def test_identical_ops_are_aggregated():
    p = profile("gpt2-small", task="infer", batch_size=1, seq_len=16)
    c_fc = [op for op in p.ops if op.name == "aten.addmm.default" and op.input_shapes[0] == (3072,)]
    assert len(c_fc) == 1 and c_fc[0].count == 12
    assert p.to_dict()["ops"][0]["count"] >= 1


def test_embedding_reads_the_rows_it_returns_not_the_table():
    p = profile("gpt2-small", batch_size=1, seq_len=64)
    [wte] = [op for op in p.ops if op.name == "aten.embedding.default" and op.input_shapes[0] == (50257, 768)]
    # 64 looked-up rows of 768 float32 values plus 64 int64 token ids, not the 154 MB table
    assert wte.bytes_written == 64 * 768 * 4
    assert wte.bytes_read == 64 * 768 * 4 + 64 * 8


def test_recurrent_layers_are_one_fused_dispatch_per_layer():
    infer = profile("lstm-lm", batch_size=4, seq_len=8)
    calls = [op for op in infer.ops if op.attrs.get("fused_call")]
    assert [(op.name, op.phase, op.count) for op in calls] == [("aten.lstm.fused_layer", "forward", 2)]
    # every per-time-step op of the two layers is tagged; the decoder and embedding are not
    step_mms = [op for op in infer.ops if op.name == "aten.addmm.default" and op.input_shapes[1] == (4, 650)]
    assert step_mms and all(op.attrs.get("fused_in") == "LSTM" for op in step_mms)
    assert sum(op.count for op in step_mms) == 2 * 8
    [decoder] = [op for op in infer.ops if op.name == "aten.addmm.default" and op.input_shapes[2] == (650, 10000)]
    assert not decoder.attrs.get("fused_in") and decoder.input_shapes[1] == (4 * 8, 650)  # an mm, not a bmm
    train = profile("lstm-lm", task="train", batch_size=4, seq_len=8)
    bwd = [op for op in train.ops if op.phase == "backward" and not op.is_view]
    tagged = sum(op.count for op in bwd if op.attrs.get("fused_in"))
    untagged = [op.name for op in bwd if not op.attrs.get("fused_in") and not op.attrs.get("fused_call")]
    assert tagged > 100 and len(untagged) < 12  # loss, decoder and embedding gradients only
    assert {op.attrs["fused_in"] for op in bwd if op.attrs.get("fused_in")} == {"LSTM"}
    assert sum(op.count for op in train.ops if op.attrs.get("fused_call")) == 4


def test_training_dropout_is_one_fused_kernel_each_way():
    """F.dropout in training is traced as native_dropout (what CUDA runs), not CPU's
    empty_like / bernoulli_ / div_ / mul decomposition."""
    p = profile("bert-base", task="train", batch_size=2, seq_len=16)
    names = {op.name for op in p.ops}
    assert "aten.bernoulli_.float" not in names and "aten.empty_like.default" not in names
    fwd = [op for op in p.ops if op.name == "aten.native_dropout.default"]
    bwd = [op for op in p.ops if op.name == "aten.native_dropout_backward.default"]
    assert fwd and {op.phase for op in fwd} == {"forward"} and {op.phase for op in bwd} == {"backward"}
    assert sum(op.count for op in fwd) == sum(op.count for op in bwd) == 1 + 12 * 2  # embeddings + 2 per layer
    [hidden] = [op for op in fwd if op.input_shapes[0] == (2, 16, 768)]
    n = 2 * 16 * 768
    assert hidden.bytes_read == 4 * n and hidden.bytes_written == 4 * n + n  # output + boolean mask
    infer = profile("bert-base", batch_size=2, seq_len=16)
    assert not any("dropout" in op.name for op in infer.ops)


def test_allocations_move_no_bytes():
    class Scratch(torch.nn.Module):
        def forward(self, x):
            return torch.empty_like(x).copy_(x) * 2

    w = Workload(name="scratch", build_model=Scratch, make_inputs=lambda b: (torch.randn(b, 1000),),
                 loss_fn=lambda out, t: out.sum(), batch_size=4)
    p = profile(w)
    [empty] = [op for op in p.ops if op.name == "aten.empty_like.default"]
    [copy] = [op for op in p.ops if op.name == "aten.copy_.default"]
    assert empty.bytes_read == empty.bytes_written == 0 and not empty.is_view  # a dispatch, no kernel
    assert copy.bytes_written == 4 * 4000


@pytest.mark.parametrize("task", ["infer", "train"])
def test_channels_last_inputs_keep_every_convolution_channels_last(task):
    for cl in (False, True):
        p = profile("resnet18", task=task, batch_size=2, image_size=64, channels_last=cl)
        convs = [op for op in p.ops if op.name.startswith(("aten.convolution.", "aten.convolution_backward."))]
        assert len({op.name for op in convs}) == (2 if task == "train" else 1)
        assert all(op.attrs["channels_last"] is cl for op in convs)
        assert p.channels_last is cl and p.to_dict()["channels_last"] is cl


def test_eager_bert_attention_is_unfused_with_the_same_flops():
    fused = profile("bert-base", batch_size=2, seq_len=16)
    eager = profile("bert-base-eager", batch_size=2, seq_len=16)
    assert any(op.category == "attention" for op in fused.ops)
    assert not any(op.category == "attention" for op in eager.ops)
    [softmax] = [op for op in eager.ops if op.name == "aten._softmax.default"]
    assert softmax.output_shapes == ((2, 12, 16, 16),) and softmax.count == 12
    assert eager.flops == fused.flops  # QK^T and PV as two batched products: 4 B H T^2 d either way
    train = profile("bert-base-eager", task="train", batch_size=2, seq_len=16)
    probs = [op for op in train.ops if op.name == "aten.native_dropout.default" and op.input_shapes[0] == (2, 12, 16, 16)]
    assert sum(op.count for op in probs) == 12  # attention-probability dropout, one per layer


@pytest.mark.parametrize("groups", [1, 4, 32])
def test_convolution_backward_costs_twice_the_forward_grouped_or_not(groups):
    """torch's conv_backward_flop counts a grouped convolution's weight gradient ``groups``
    times over; both gradients cost what the forward pass costs."""
    conv = lambda: torch.nn.Conv2d(32, 64, 3, padding=1, groups=groups, bias=False)
    w = Workload(name="conv", build_model=conv, make_inputs=lambda b: (torch.randn(b, 32, 16, 16),),
                 loss_fn=lambda out, t: out.sum(), task="train", batch_size=2, optimizer="sgd")
    p = profile(w)
    [fwd] = [op for op in p.ops if op.name.startswith("aten.convolution.")]
    [bwd] = [op for op in p.ops if op.name.startswith("aten.convolution_backward.")]
    assert fwd.flops == 2 * 2 * 64 * (32 // groups) * 9 * 16 * 16
    # the input is a leaf without grad: only the weight gradient is computed
    assert bwd.attrs["output_mask"] == (False, True, False) and bwd.flops == fwd.flops
    mid = profile(w.with_(build_model=lambda: torch.nn.Sequential(torch.nn.Conv2d(32, 32, 1), conv())))
    [bwd2] = [op for op in mid.ops if op.name.startswith("aten.convolution_backward.")
              and op.input_shapes[2] == (64, 32 // groups, 3, 3)]
    assert bwd2.attrs["output_mask"][:2] == (True, True) and bwd2.flops == 2 * fwd.flops

import pytest
import torch

from accelscope.errors import ConfigError, UnknownNameError, WorkloadError
from accelscope.workload import load_workload, model_names, profile

# Published parameter counts (see accelscope.workload.nets and torchvision's model docs).
PUBLISHED_PARAMS = {
    "resnet50": (25_557_032, 0),          # torchvision: 25,557,032
    "resnet18": (11_689_512, 0),
    "mobilenet_v2": (3_504_872, 0),
    "efficientnet_b0": (5_288_548, 0),
    "vit_b_16": (86_567_656, 0),
    "gpt2-small": (124_439_808, 0),       # 124.44M with tied LM head
    "llama-7b": (6_738_415_616, 0),       # 6.74B
    "llama-70b": (68_976_648_192, 0),     # LLaMA-2-70B: 68.98B
    "bert-base": (110_000_000, 0.01),     # "110M" (encoder 109.5M + MLM head)
    "bert-large": (340_000_000, 0.015),   # "340M"
}


def _count(name: str) -> int:
    w = load_workload(name)
    with torch.device("meta"):
        return sum(p.numel() for p in w.build_model().parameters())


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_parameter_counts_match_published(name):
    expected, rel = PUBLISHED_PARAMS[name]
    assert _count(name) == pytest.approx(expected, rel=rel, abs=0)


def test_zoo_has_the_required_presets():
    required = {"mlp", "cnn", "resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b_16",
                "bert-base", "bert-large", "gpt2-small", "llama-7b", "llama-70b", "lstm-lm"}
    assert required <= set(model_names())


def test_llama70b_uses_grouped_query_attention():
    w = load_workload("llama-70b")
    with torch.device("meta"):
        m = w.build_model()
    assert m.layers[0].k_proj.weight.shape == (1024, 8192)  # 8 KV heads x 128
    assert m.layers[0].q_proj.weight.shape == (8192, 8192)


def test_unknown_name_lists_valid_names_and_close_matches():
    with pytest.raises(UnknownNameError) as e:
        load_workload("resnet5")
    msg = str(e.value)
    assert "resnet50" in msg and "Did you mean" in msg and "gpt2-small" in msg


def test_torchvision_names_resolve_and_unknown_ones_fail():
    w = load_workload("torchvision:squeezenet1_0", batch_size=2)
    assert w.batch_size == 2 and w.image_size == 224
    with pytest.raises(UnknownNameError, match="squeezenet1_0"):
        load_workload("torchvision:squeezenet_1")


def test_sequence_length_is_a_parameter_and_is_validated():
    assert load_workload("bert-large", seq_len=384).seq_len == 384
    with pytest.raises(ConfigError, match="512 learned positions"):
        load_workload("bert-base", seq_len=1024)
    with pytest.raises(ConfigError, match="--image-size"):
        load_workload("resnet50", seq_len=128)
    with pytest.raises(ConfigError, match="precision"):
        load_workload("mlp", precision="fp8")
    with pytest.raises(ConfigError, match="batch"):
        load_workload("mlp", batch_size=0)


def test_user_factory_with_input_shape(tmp_path, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        "import torch\n"
        "def tiny():\n    return torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))\n"
        "def broken():\n    raise RuntimeError('no weights here')\n"
        "def not_a_module():\n    return 42\n"
        "def make_inputs(b):\n    return torch.randn(b, 16)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    p = profile("mymodels:tiny", input_shape="16", batch_size=4)
    assert p.params == 16 * 8 + 8 + 8 * 4 + 4
    assert p.flops == 2 * 4 * (16 * 8 + 8 * 4)
    assert profile("mymodels:tiny", inputs="mymodels:make_inputs", batch_size=4).flops == p.flops
    with pytest.raises(WorkloadError, match="no weights here"):
        profile("mymodels:broken", input_shape="16")
    with pytest.raises(WorkloadError, match="not a torch.nn.Module"):
        profile("mymodels:not_a_module", input_shape="16")
    with pytest.raises(WorkloadError, match="inputs of shape"):
        profile("mymodels:tiny", input_shape="3,32")
    with pytest.raises(WorkloadError, match="cannot import module"):
        load_workload("nosuchpackage.models:thing", input_shape="16")
    with pytest.raises(WorkloadError, match="no attribute"):
        load_workload("mymodels:nothing", input_shape="16")
    with pytest.raises(ConfigError, match="--input-shape"):
        load_workload("mymodels:tiny")


# -- ResNeXt-101 32x4d and SE-ResNeXt-101 32x4d (NVIDIA DeepLearningExamples ConvNets) ---------
# DLE (PyTorch/Classification/ConvNets/image_classification/models/resnet.py, common.py):
# layers [3, 4, 23, 3], 3x3 widths [128, 256, 512, 1024] in 32 groups, expansion 2, stride in the
# 3x3 conv, 1x1 conv + BN shortcuts; SE: Linear(C, 16), ReLU, Linear(16, C), sigmoid. The READMEs
# publish no parameter or FLOP counts, so the figures below are derived from that definition.
DLE_RESNEXT = {"resnext101-32x4d": (44_177_704, 0), "se-resnext101-32x4d": (45_251_128, 16)}


def _resnext101_32x4d_macs(size: int = 224, se_hidden: int = 0) -> int:
    """Multiply-accumulates of one image's forward pass (convolutions and Linear layers)."""
    s = (size + 2 * 3 - 7) // 2 + 1
    macs = s * s * 64 * 3 * 7 * 7
    s = (s + 2 - 3) // 2 + 1
    cin = 64
    for i, (depth, width) in enumerate(zip((3, 4, 23, 3), (128, 256, 512, 1024))):
        cout = 2 * width
        for j in range(depth):
            stride = 2 if i and not j else 1
            so = (s - 1) // stride + 1
            macs += s * s * cin * width + so * so * width * (width // 32) * 9 + so * so * width * cout
            if j == 0:
                macs += so * so * cin * cout
            macs += 2 * cout * se_hidden
            cin, s = cout, so
    return macs + 2048 * 1000


def _se_params(hidden: int) -> int:
    blocks = ((3, 256), (4, 512), (23, 1024), (3, 2048))
    return sum(n * (2 * c * hidden + hidden + c) for n, c in blocks) if hidden else 0


@pytest.mark.parametrize("name", sorted(DLE_RESNEXT))
def test_dle_resnext_parameter_counts(name):
    expected, se_hidden = DLE_RESNEXT[name]
    assert expected == DLE_RESNEXT["resnext101-32x4d"][0] + _se_params(se_hidden)
    assert _count(name) == expected
    w = load_workload(name)
    assert (w.batch_size, w.image_size) == (128, 224)  # DLE configs.yml, AMP, DGX A100


def test_dle_resnext_matches_torchvision_resnext_and_dle_structure():
    from torchvision.models.resnet import Bottleneck, ResNet

    with torch.device("meta"):
        tv = ResNet(Bottleneck, [3, 4, 23, 3], groups=32, width_per_group=4)
        plain = load_workload("resnext101-32x4d").build_model()
        se = load_workload("se-resnext101-32x4d").build_model()
    assert sum(p.numel() for p in tv.parameters()) == DLE_RESNEXT["resnext101-32x4d"][0]
    first = se.stages[1][0]  # first block of stage 2: 256 -> 512 channels, stride 2
    assert first.reduce[0].stride == (1, 1) and first.grouped[0].stride == (2, 2)
    assert first.grouped[0].groups == 32 and first.grouped[0].weight.shape == (256, 8, 3, 3)
    assert first.expand[0].out_channels == 512 and first.shortcut[0].stride == (2, 2)
    assert isinstance(first.se.squeeze, torch.nn.Linear) and first.se.squeeze.weight.shape == (16, 512)
    assert all(b.se is None for stage in plain.stages for b in stage)
    assert [len(s) for s in se.stages] == [3, 4, 23, 3]


def test_dle_resnext_profiles():
    plain = profile("resnext101-32x4d", task="infer", batch_size=2)
    se = profile("se-resnext101-32x4d", task="infer", batch_size=2)
    assert plain.flops == pytest.approx(2 * 2 * _resnext101_32x4d_macs(), rel=0.02)
    assert se.flops == pytest.approx(2 * 2 * _resnext101_32x4d_macs(se_hidden=16), rel=0.02)
    assert plain.flops / 2 / 2 == pytest.approx(7.97e9, rel=0.01)  # GMACs per 224x224 image
    assert se.params > plain.params and se.flops > plain.flops and se.total_flops > plain.total_flops
    assert se.op_count > plain.op_count
    se_names, plain_names = {op.name for op in se.ops}, {op.name for op in plain.ops}
    assert {"aten.sigmoid.default", "aten.mul.Tensor"} <= se_names
    assert "aten.sigmoid.default" not in plain_names and "aten.mul.Tensor" not in plain_names
    [sig] = [op for op in se.ops if op.name == "aten.sigmoid.default" and op.output_shapes[0] == (2, 1024)]
    assert sig.count == 23  # one SE gate per block of the 23-block stage


def test_parametric_decoders_match_the_presets_they_spell():
    """``llama:``/``gpt:`` configurations give exactly the zoo presets' models."""
    from accelscope.workload.zoo import llama_ffn

    assert llama_ffn(4096) == 11008 and llama_ffn(8192) == 22016
    pairs = [("llama:layers=32,hidden=4096,heads=32", "llama-7b"),
             ("llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672", "llama-70b"),
             ("gpt:layers=12,hidden=768,heads=12,seq=1024", "gpt2-small")]
    for spelled, preset in pairs:
        a = profile(spelled, task="infer", batch_size=1, seq_len=64)
        b = profile(preset, task="infer", batch_size=1, seq_len=64)
        assert a.params == b.params and a.flops == b.flops, spelled
    # GPT-3 175B (Brown et al. 2020: 96 layers, d_model 12288, 96 heads, 2048 tokens)
    gpt3 = profile("gpt:layers=96,hidden=12288,heads=96", task="infer", batch_size=1, seq_len=16)
    assert gpt3.params == 96 * (12 * 12288**2 + 13 * 12288) + 50257 * 12288 + 2048 * 12288 + 2 * 12288


@pytest.mark.parametrize("model, message", [
    ("llama:layers=32,hidden=4096", "give heads"),
    ("llama:layers=32,hidden=4096,heads=30", "not divisible by heads"),
    ("llama:layers=2,hidden=64,heads=8,kv_heads=3", "not divisible by kv_heads"),
    ("gpt:layers=2,hidden=64,heads=4,width=3", "is not key=value with a key of"),
    ("gpt:layers=two,hidden=64,heads=4", "is not an integer"),
    ("gpt:layers=0,hidden=64,heads=4", "positive integer"),
])
def test_parametric_decoders_refuse_bad_configurations(model, message):
    from accelscope.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        profile(model, task="infer", batch_size=1, seq_len=8)

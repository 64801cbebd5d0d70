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

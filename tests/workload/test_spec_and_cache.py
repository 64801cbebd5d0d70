"""WorkloadSpec (validation, defaults, round trips) and the on-disk profile cache."""

import json

import pytest

import accelscope
from accelscope.errors import ConfigError
from accelscope.workload import WorkloadSpec, cache
from accelscope.workload.profile import Profile


def test_spec_validates_and_fills_the_presets_defaults():
    s = WorkloadSpec(model="resnet50", input_shape=None)
    r = s.resolved()
    assert (r.batch_size, r.image_size, r.seq_len) == (32, 224, None)
    assert WorkloadSpec(model="gpt2-small", seq_len=64).resolved().batch_size == 8
    assert WorkloadSpec(model="torchvision:convnext_tiny").resolved().image_size == 224
    assert WorkloadSpec(model="pkg.mod:f", input_shape="3,32,32").input_shape == (3, 32, 32)
    for bad, match in (({"task": "fit"}, "task"), ({"precision": "fp8"}, "precision"), ({"batch_size": 0}, "batch"),
                       ({"seq_len": -1}, "sequence length"), ({"optimizer": "lamb"}, "optimizer"),
                       ({"input_shape": "3,a"}, "input shape"), ({"seq_len": 8, "image_size": 8}, "not both")):
        with pytest.raises(ConfigError, match=match):
            WorkloadSpec(model="mlp", **bad)
    with pytest.raises(ConfigError, match="--image-size"):
        WorkloadSpec(model="resnet50", seq_len=128).resolved()
    with pytest.raises(ConfigError, match="--input-shape"):
        WorkloadSpec(model="pkg.mod:f").resolved()


def test_spec_round_trips_and_tolerates_other_versions():
    s = WorkloadSpec(model="pkg.mod:f", task="train", batch_size=4, precision="amp-bf16", input_shape=(3, 8, 8),
                     channels_last=True, inputs="pkg.mod:make")
    d = json.loads(json.dumps(s.to_dict()))
    assert WorkloadSpec.from_dict(d) == s
    assert WorkloadSpec.from_dict(d | {"devices": 8, "layout": "tp=2"}) == s  # a newer version's fields
    assert WorkloadSpec.from_dict({"model": "mlp"}) == WorkloadSpec(model="mlp")  # an older version's record


def test_profile_rejects_auto_and_profiles_carry_the_resolved_spec():
    with pytest.raises(ConfigError, match="auto"):
        accelscope.profile("mlp", precision="auto")
    p = accelscope.profile("mlp")
    assert p.spec == WorkloadSpec(model="mlp", batch_size=64, image_size=28)
    assert (p.model, p.batch_size, p.image_size, p.optimizer) == ("mlp", 64, 28, None)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_cached_profile_equals_the_traced_one_and_is_keyed_by_the_spec(cache_dir):
    traced = accelscope.profile("resnet18", task="train", batch_size=2, image_size=64, cache=False)
    assert not cache_dir.exists()  # cache=False neither reads nor writes
    first = accelscope.profile("resnet18", task="train", batch_size=2, image_size=64)
    [entry] = list(cache_dir.glob("*.json"))
    second = accelscope.profile("resnet18", task="train", batch_size=2, image_size=64)
    assert first == traced and second == traced
    assert Profile.from_dict(json.loads(entry.read_text())["profile"]) == traced
    # another spec, another entry; the same workload spelled with defaults, the same entry
    accelscope.profile("resnet18", task="train", batch_size=2, image_size=64, precision="amp-bf16")
    assert len(list(cache_dir.glob("*.json"))) == 2
    accelscope.profile(WorkloadSpec(model="mlp"))
    accelscope.profile("mlp", batch_size=64, image_size=28)
    assert len(list(cache_dir.glob("*.json"))) == 3


def test_a_corrupt_or_tampered_entry_is_rebuilt_not_trusted(cache_dir):
    good = accelscope.profile("mlp", batch_size=4)
    [entry] = list(cache_dir.glob("*.json"))
    entry.write_text(entry.read_text()[:200])  # truncated
    assert accelscope.profile("mlp", batch_size=4) == good
    data = json.loads(entry.read_text())
    data["profile"]["ops"][0]["flops"] += 1  # a changed count no longer matches its checksum
    entry.write_text(json.dumps(data))
    assert accelscope.profile("mlp", batch_size=4) == good
    data = json.loads(entry.read_text())
    data["key"]["torch"] = "0.0"  # written by another torch
    entry.write_text(json.dumps(data))
    assert cache.load(good.spec) is None and not entry.exists()


def test_user_factories_are_not_cached_and_the_cache_is_capped(cache_dir, tmp_path, monkeypatch):
    (tmp_path / "usermod.py").write_text("import torch\ndef f():\n    return torch.nn.Linear(8, 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    accelscope.profile("usermod:f", input_shape="8")
    assert not list(cache_dir.glob("*.json")) if cache_dir.exists() else True
    for b in (1, 2, 3):
        accelscope.profile("mlp", batch_size=b)
    sizes = sorted(p.stat().st_size for p in cache_dir.glob("*.json"))
    cache.prune(sizes[-1] + sizes[-2])  # room for two: the least recently used goes
    assert len(list(cache_dir.glob("*.json"))) == 2
    assert cache.load(WorkloadSpec(model="mlp", batch_size=1).resolved()) is None

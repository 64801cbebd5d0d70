"""Names -> Workloads: zoo presets, ``torchvision:NAME`` and ``package.module:callable``.

Three resolvers, found through a :class:`~accelscope.registry.Registry` and tried in order:

* ``zoo``: a preset of :data:`ZOO` (``accelscope models``);
* ``torchvision``: ``torchvision:NAME``, any ``torchvision.models`` classifier builder;
* ``factory``: ``package.module:callable``, the user's own ``nn.Module`` factory, with the
  per-sample ``input_shape`` (``input_dtype='int64'`` makes token ids) or ``inputs``, a
  ``package.module:callable`` taking the batch size and returning the model's inputs: a
  tensor, a tuple of positional inputs, or a dict of keyword inputs.

Each resolver fills a spec's defaults (:meth:`Resolver.defaults`, torch-free: the zoo's
metadata is plain data, its builders import the networks only when called) and builds the
:class:`~accelscope.workload.workload.Workload` (:meth:`Resolver.load`, which imports torch).
Every preset builds with random weights and never downloads anything.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from accelscope.errors import ConfigError, UnknownNameError, WorkloadError
from accelscope.registry import Registry
from accelscope.workload.spec import WorkloadSpec, as_spec


@dataclass(frozen=True, slots=True, kw_only=True)
class ZooEntry:
    """A named preset. ``modality`` is ``'image'`` (sized by ``image_size``) or ``'tokens'``."""

    name: str
    description: str
    build: Callable[..., Any]  # -> nn.Module; image presets take image_size=
    modality: str
    default_batch: int
    default_size: int
    channels: int = 3
    classes: int = 1000
    vocab: int = 0
    max_seq_len: int | None = None
    source: str = ""


ZOO: Registry[ZooEntry] = Registry("model")


def _preset(**kw) -> None:
    ZOO.add(kw["name"], ZooEntry(**kw))


def _net(cls: str, config: str | None = None, /, **kwargs):
    """Build ``accelscope.workload.nets.<cls>(nets.<config>, **kwargs)`` (imports torch)."""
    from accelscope.workload import nets

    args = (getattr(nets, config),) if config else ()
    return getattr(nets, cls)(*args, **kwargs)


def _mlp(image_size: int = 28):
    return _net("MLP", None, in_features=image_size * image_size)


def _cnn(image_size: int = 32):
    return _net("SmallCNN", None, image_size=image_size)


def _tv(name: str, **kwargs) -> Callable[..., Any]:
    def build(image_size: int | None = None):
        import torchvision

        extra = dict(kwargs)
        if name.startswith("vit") and image_size is not None:
            extra["image_size"] = image_size
        return torchvision.models.get_model(name, weights=None, **extra)

    return build


_preset(name="mlp", description="MLP 784-512-256-10 on 28x28 MNIST digits", build=_mlp,
        modality="image", channels=1, classes=10, default_batch=64, default_size=28, source="accelscope")
_preset(name="cnn", description="small CNN (2 conv blocks + 2 dense) on 32x32 CIFAR-10", build=_cnn,
        modality="image", classes=10, default_batch=64, default_size=32, source="accelscope")
for _n, _d in (("resnet18", "ResNet-18 (He et al. 2016), 11.69M params"),
               ("resnet50", "ResNet-50 (He et al. 2016), 25.56M params"),
               ("mobilenet_v2", "MobileNetV2 (Sandler et al. 2018), 3.50M params"),
               ("efficientnet_b0", "EfficientNet-B0 (Tan & Le 2019), 5.29M params"),
               ("vit_b_16", "ViT-B/16 (Dosovitskiy et al. 2021), 86.57M params")):
    _preset(name=_n, description=_d, build=_tv(_n), modality="image", default_batch=32,
            default_size=224, source=f"torchvision.models.{_n}")
_DLE_CONVNETS = "NVIDIA/DeepLearningExamples PyTorch/Classification/ConvNets"


def _resnext(config: str) -> Callable[..., Any]:
    def build(image_size: int | None = None):  # global average pool: any image size
        return _net("ResNeXt", config)

    return build


# default_batch: the per-GPU AMP batch of DeepLearningExamples' ConvNets/configs.yml (DGX A100)
_preset(name="resnext101-32x4d",
        description="ResNeXt-101 32x4d (Xie et al. 2017) as in NVIDIA DeepLearningExamples: 32 groups "
        "of 4 channels, stride in the 3x3 conv (v1.5), 44.18M params",
        build=_resnext("RESNEXT101_32X4D"), modality="image", default_batch=128, default_size=224,
        source=f"{_DLE_CONVNETS}/image_classification/models/resnet.py (resnext101-32x4d)")
_preset(name="se-resnext101-32x4d",
        description="SE-ResNeXt-101 32x4d as in NVIDIA DeepLearningExamples: ResNeXt-101 32x4d with a "
        "squeeze-and-excitation gate (16 hidden units, ReLU, sigmoid) in every block, 45.25M params",
        build=_resnext("SE_RESNEXT101_32X4D"), modality="image", default_batch=128, default_size=224,
        source=f"{_DLE_CONVNETS}/image_classification/models/resnet.py (se-resnext101-32x4d)")
for _n, _c, _d in (("bert-base", "BERT_BASE", "BERT-base encoder + masked-LM head (Devlin et al. 2019), ~110M params"),
                   ("bert-large", "BERT_LARGE", "BERT-large encoder + masked-LM head (Devlin et al. 2019), ~336M params")):
    _preset(name=_n, description=_d, build=partial(_net, "Bert", _c), modality="tokens", vocab=30522,
            default_batch=8, default_size=128, max_seq_len=512, source="accelscope.workload.nets.Bert")
for _n, _c, _d in (("bert-base-eager", "BERT_BASE", "BERT-base"), ("bert-large-eager", "BERT_LARGE", "BERT-large")):
    _preset(name=_n, description=f"{_d} with unfused attention (score product, scale, mask, softmax, dropout, "
            "product: the original BERT and NVIDIA DeepLearningExamples implementations)",
            build=partial(_net, "Bert", _c, attention="eager"), modality="tokens", vocab=30522, default_batch=8,
            default_size=128, max_seq_len=512, source="accelscope.workload.nets.Bert(attention='eager')")
_preset(name="gpt2-small", description="GPT-2 small decoder (Radford et al. 2019), 124.4M params",
        build=partial(_net, "GPT2", "GPT2_SMALL"), modality="tokens", vocab=50257, default_batch=8,
        default_size=1024, max_seq_len=1024, source="accelscope.workload.nets.GPT2")
_preset(name="llama-7b", description="LLaMA-7B decoder (Touvron et al. 2023), 6.74B params",
        build=partial(_net, "Llama", "LLAMA_7B"), modality="tokens", vocab=32000, default_batch=1,
        default_size=2048, source="accelscope.workload.nets.Llama")
_preset(name="llama-70b", description="LLaMA-2-70B decoder with grouped-query attention (Touvron et al. 2023), 68.98B params",
        build=partial(_net, "Llama", "LLAMA2_70B"), modality="tokens", vocab=32000, default_batch=1,
        default_size=4096, source="accelscope.workload.nets.Llama")
_preset(name="lstm-lm", description="2-layer LSTM language model, 650 units (Zaremba et al. 2014), 19.8M params",
        build=partial(_net, "LSTMLanguageModel"), modality="tokens", vocab=10000, default_batch=20,
        default_size=35, source="accelscope.workload.nets.LSTMLanguageModel")


def model_names() -> list[str]:
    return ZOO.names()


# -- input factories (called under the trace's fake-tensor mode, or on a real device) --------

def _image_inputs(batch: int, channels: int, size: int) -> tuple:
    import torch

    return (torch.randn(batch, channels, size, size),)


def _class_targets(batch: int, classes: int):
    import torch

    return torch.randint(0, classes, (batch,))


def _token_inputs(batch: int, vocab: int, seq_len: int) -> tuple:
    import torch

    return (torch.randint(0, vocab, (batch, seq_len)),)


def _token_targets(batch: int, vocab: int, seq_len: int):
    import torch

    return torch.randint(0, vocab, (batch, seq_len))


def _shaped_inputs(batch: int, shape: tuple[int, ...], dtype: str) -> tuple:
    import torch

    if dtype == "int64":
        return (torch.randint(0, 2, (batch, *shape)),)
    return (torch.randn(batch, *shape),)


def _import_callable(ref: str, what: str) -> Callable:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise WorkloadError(f"{what} {ref!r} is not of the form package.module:callable")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise WorkloadError(
            f"{what} {ref!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}). "
            "Check the module path and that its package is installed or on PYTHONPATH."
        ) from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise WorkloadError(f"{what} {ref!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise WorkloadError(f"{what} {ref!r} is not callable")
    return obj


def _checked_factory(name: str, factory: Callable[[], Any]) -> Callable[[], Any]:
    def build():
        from torch import nn

        try:
            model = factory()
        except Exception as exc:
            raise WorkloadError(
                f"model {name!r}: building it raised {type(exc).__name__}: {exc}. "
                "Fix the factory, or run with --debug for the traceback."
            ) from exc
        if not isinstance(model, nn.Module):
            raise WorkloadError(f"model {name!r}: the factory returned {type(model).__name__}, not a torch.nn.Module")
        return model

    return build


def _user_inputs(name: str, factory: Callable[[int], Any]) -> Callable[[int], Any]:
    def make_inputs(batch: int):
        try:
            return factory(batch)
        except Exception as exc:
            raise WorkloadError(f"input factory for {name!r} raised {type(exc).__name__}: {exc}") from exc

    return make_inputs


# -- the resolvers ------------------------------------------------------------------------------

class Resolver:
    """Turns the specs it recognises into Workloads (see the module docstring)."""

    def matches(self, spec: WorkloadSpec) -> bool:
        raise NotImplementedError

    def defaults(self, spec: WorkloadSpec) -> WorkloadSpec:
        """The spec with this kind of model's defaults filled in, validated (torch-free)."""
        raise NotImplementedError

    def load(self, spec: WorkloadSpec):
        """The :class:`~accelscope.workload.workload.Workload` of a resolved spec."""
        raise NotImplementedError


def _no_inputs_options(spec: WorkloadSpec, what: str) -> None:
    if spec.input_shape is not None or spec.inputs is not None:
        raise ConfigError(f"model {spec.model!r} is {what} with its own inputs: --input-shape and "
                          "--inputs are for torchvision: and package.module:callable models")


class ZooResolver(Resolver):
    def matches(self, spec):
        return spec.model in ZOO

    def defaults(self, spec):
        e = ZOO.get(spec.model)
        _no_inputs_options(spec, "a zoo preset")
        batch = e.default_batch if spec.batch_size is None else spec.batch_size
        if e.modality == "image":
            if spec.seq_len is not None:
                raise ConfigError(f"model {spec.model!r} takes images: use --image-size, not --seq-len")
            return spec.with_(batch_size=batch, image_size=spec.image_size or e.default_size)
        if spec.image_size is not None:
            raise ConfigError(f"model {spec.model!r} takes token sequences: use --seq-len, not --image-size")
        length = spec.seq_len or e.default_size
        if e.max_seq_len is not None and length > e.max_seq_len:
            raise ConfigError(f"model {spec.model!r} has {e.max_seq_len} learned positions; "
                              f"--seq-len {length} is too long")
        return spec.with_(batch_size=batch, seq_len=length)

    def load(self, spec):
        from accelscope.workload.workload import Workload, classification_loss

        e = ZOO.get(spec.model)
        if e.modality == "image":
            size = spec.image_size
            build = partial(e.build, image_size=size) if size != e.default_size else e.build
            make_inputs = partial(_image_inputs, channels=e.channels, size=size)
            make_targets = partial(_class_targets, classes=e.classes)
        else:
            build = e.build
            make_inputs = partial(_token_inputs, vocab=e.vocab, seq_len=spec.seq_len)
            make_targets = partial(_token_targets, vocab=e.vocab, seq_len=spec.seq_len)
        return Workload.from_spec(spec, description=e.description, build_model=_checked_factory(spec.model, build),
                                  make_inputs=make_inputs, make_targets=make_targets, loss_fn=classification_loss)


_DETECTION = ("fasterrcnn", "maskrcnn", "keypointrcnn", "retinanet", "fcos", "ssd")


class TorchvisionResolver(Resolver):
    def matches(self, spec):
        return spec.model.startswith("torchvision:")

    def defaults(self, spec):
        name = spec.model.split(":", 1)[1]
        if spec.seq_len is not None:
            raise ConfigError(f"model {spec.model!r} takes images: use --image-size, not --seq-len")
        if spec.inputs is not None:
            raise ConfigError(f"model {spec.model!r}: --inputs is for package.module:callable models; "
                              "wrap the torchvision model in your own factory to give it other inputs")
        if spec.input_shape is None and name.startswith(_DETECTION):
            raise ConfigError(f"{spec.model} is a detection model that takes a list of images and targets; "
                              "use a package.module:callable wrapper with --inputs")
        batch = 32 if spec.batch_size is None else spec.batch_size
        if spec.input_shape is not None:
            if spec.image_size is not None:
                raise ConfigError("give --input-shape or --image-size, not both")
            return spec.with_(batch_size=batch)
        return spec.with_(batch_size=batch, image_size=spec.image_size or (299 if name == "inception_v3" else 224))

    def load(self, spec):
        import torchvision

        from accelscope.workload.workload import Workload, generic_loss

        name = spec.model.split(":", 1)[1]
        valid = torchvision.models.list_models()
        if name not in valid:
            raise UnknownNameError("torchvision model", name, valid)
        if spec.input_shape is not None:
            make_inputs = partial(_shaped_inputs, shape=spec.input_shape, dtype=spec.input_dtype)
        else:
            make_inputs = partial(_image_inputs, channels=3, size=spec.image_size)
        kwargs = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
        return Workload.from_spec(spec, description=f"torchvision.models.{name}",
                                  build_model=_checked_factory(spec.model, _tv(name, **kwargs)),
                                  make_inputs=make_inputs, make_targets=None, loss_fn=generic_loss)


class FactoryResolver(Resolver):
    def matches(self, spec):
        return ":" in spec.model

    def defaults(self, spec):
        if spec.inputs is None and spec.input_shape is None:
            raise ConfigError(
                f"model {spec.model!r} is a user factory: give the per-sample input shape "
                "(--input-shape 3,224,224) or an input factory (--inputs package.module:make_inputs)")
        return spec.with_(batch_size=1 if spec.batch_size is None else spec.batch_size)

    def load(self, spec):
        from accelscope.workload.workload import Workload, generic_loss

        factory = _import_callable(spec.model, "model factory")
        if spec.inputs is not None:
            inputs = spec.inputs
            in_factory = _import_callable(inputs, "input factory") if isinstance(inputs, str) else inputs
            make_inputs = _user_inputs(spec.model, in_factory)
        else:
            make_inputs = partial(_shaped_inputs, shape=spec.input_shape, dtype=spec.input_dtype)
        return Workload.from_spec(spec, description=f"user model {spec.model}",
                                  build_model=_checked_factory(spec.model, factory), make_inputs=make_inputs,
                                  make_targets=None, loss_fn=generic_loss)


#: Parametric decoders: ``gpt:layers=96,hidden=12288,heads=96`` (GPT-2/3 style: learned
#: positions, LayerNorm, GELU MLP of ``ffn`` = 4 x hidden unless given, the LM head tied to the
#: embedding) and ``llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672`` (RoPE, RMSNorm,
#: SwiGLU MLP, grouped-query attention). key -> (TransformerConfig field, default or None).
PARAMETRIC = {
    "gpt": {"layers": "n_layers", "hidden": "d_model", "heads": "n_heads", "ffn": "d_ff", "vocab": "vocab_size",
            "seq": "max_positions", "flash": "flash_attention", "kv_heads": "n_kv_heads",
            "parallel": "parallel_block", "rotary": "rotary", "head_dim": "d_head"},
    "llama": {"layers": "n_layers", "hidden": "d_model", "heads": "n_heads", "kv_heads": "n_kv_heads",
              "ffn": "d_ff", "vocab": "vocab_size", "seq": "max_positions", "flash": "flash_attention",
              "experts": "n_experts", "top_k": "experts_per_token", "head_dim": "d_head"},
}
#: ``flash=0``: attention unfused (score product, masked softmax, product), as Megatron-LM and
#: the original GPT-2 code computed it before FlashAttention; ``flash=1`` (the default): fused.
PARAMETRIC_DEFAULTS = {"gpt": {"vocab": 50257, "seq": 2048}, "llama": {"vocab": 32000, "seq": 4096}}


#: Named decoders of published training and serving runs, as parametric decoders (``accelscope
#: models``): the Megatron-LM models of Korthikanti et al. 2022 Table 3 (configurations as held
#: in calculon-ai/calculon models/*.json; GPT-2's vocabulary), GPT-3 175B (Brown et al. 2020
#: Table 2.1), Llama 3 (Llama Team, "The Llama 3 Herd of Models" 2024, Table 3; vocabulary
#: 128,256 and 131,072 positions as in the released Llama 3.1 configs), Llama 2 (4,096
#: positions) and Mistral 7B.
DECODER_PRESETS = {
    "gpt3-175b": ("GPT-3 175B (Brown et al. 2020)", "gpt:layers=96,hidden=12288,heads=96,seq=2048"),
    "megatron-22b": ("Megatron-LM 22B (Korthikanti et al. 2022)", "gpt:layers=48,hidden=6144,heads=64,seq=2048"),
    "megatron-175b": ("Megatron-LM 175B (Korthikanti et al. 2022; GPT-3's shape)",
                      "gpt:layers=96,hidden=12288,heads=96,seq=2048"),
    "megatron-530b": ("Megatron-Turing NLG 530B (Korthikanti et al. 2022)",
                      "gpt:layers=105,hidden=20480,heads=128,seq=2048"),
    "megatron-1t": ("Megatron-LM 1T (Korthikanti et al. 2022)", "gpt:layers=128,hidden=25600,heads=160,seq=2048"),
    "llama3-8b": ("Llama 3 8B", "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=128256,seq=131072"),
    "llama3-70b": ("Llama 3 70B",
                   "llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672,vocab=128256,seq=131072"),
    "llama3-405b": ("Llama 3 405B",
                    "llama:layers=126,hidden=16384,heads=128,kv_heads=8,ffn=53248,vocab=128256,seq=131072"),
    "llama2-7b": ("Llama 2 7B (Touvron et al. 2023b)",
                  "llama:layers=32,hidden=4096,heads=32,ffn=11008,vocab=32000,seq=4096"),
    "llama2-70b": ("Llama 2 70B (Touvron et al. 2023b), grouped-query attention",
                   "llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672,vocab=32000,seq=4096"),
    "gpt-j-6b": ("GPT-J 6B (EleutherAI, Wang & Komatsuzaki 2021): parallel attention and MLP, rotary positions "
                 "(on all of each head here; GPT-J rotates 64 of its 256 dimensions)",
                 "gpt:layers=28,hidden=4096,heads=16,vocab=50400,seq=2048,parallel=1,rotary=1"),
    "falcon-180b": ("Falcon 180B (Almazrouei et al. 2023): parallel attention and MLP, 8 K/V groups, rotary positions",
                    "gpt:layers=80,hidden=14848,heads=232,kv_heads=8,vocab=65024,seq=2048,parallel=1,rotary=1"),
    "mixtral-8x7b": ("Mixtral 8x7B (Jiang et al. 2024): 8 SwiGLU experts per layer, 2 per token",
                     "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=32000,seq=32768,experts=8,top_k=2"),
    "mistral-7b": ("Mistral 7B (Jiang et al. 2023, Table 1; its 4,096-token sliding window is not modelled: "
                   "attention covers the whole context)",
                   "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=32000,seq=8192"),
}
#: zoo presets that are decoders of these families (so they can be sharded too)
_ZOO_DECODERS = {
    "gpt2-small": "gpt:layers=12,hidden=768,heads=12,seq=1024",
    "llama-7b": "llama:layers=32,hidden=4096,heads=32,ffn=11008,vocab=32000,seq=2048",
    "llama-70b": "llama:layers=80,hidden=8192,heads=64,kv_heads=8,ffn=28672,vocab=32000,seq=4096",
}


def decoder_config(model: str) -> tuple[str, dict[str, int]] | None:
    """(family, TransformerConfig fields) of a decoder that can be sharded, or None."""
    text = DECODER_PRESETS[model][1] if model in DECODER_PRESETS else _ZOO_DECODERS.get(model, model)
    family = text.split(":", 1)[0]
    if family not in PARAMETRIC or ":" not in text:
        return None
    return family, parametric_config(text)


def llama_ffn(hidden: int, multiple: int = 256) -> int:
    """LLaMA's MLP width for a model width: 2/3 x 4 x hidden rounded up to a multiple of 256
    (the LLaMA reference code's ``multiple_of``): 11008 for hidden 4096."""
    return multiple * math.ceil(int(2 * 4 * hidden / 3) / multiple)


def parametric_config(model: str) -> dict[str, int]:
    """The TransformerConfig fields of ``gpt:...`` / ``llama:...`` (ConfigError on bad input)."""
    if model in DECODER_PRESETS:
        model = DECODER_PRESETS[model][1]
    family, _, text = model.partition(":")
    keys = PARAMETRIC[family]
    given: dict[str, int] = {}
    for item in (x.strip() for x in text.split(",") if x.strip()):
        key, eq, value = item.partition("=")
        if not eq or key not in keys:
            raise ConfigError(f"model {model!r}: {item!r} is not key=value with a key of {', '.join(keys)} "
                              f"(e.g. {family}:layers=32,hidden=4096,heads=32)")
        try:
            n = int(value)
        except ValueError:
            raise ConfigError(f"model {model!r}: {key}={value!r} is not an integer") from None
        if key in ("flash", "parallel", "rotary"):
            if n not in (0, 1):
                raise ConfigError(f"model {model!r}: {key} must be 0 or 1, got {n}")
        elif n < 1:
            raise ConfigError(f"model {model!r}: {key} must be a positive integer, got {n}")
        given[key] = n
    missing = [k for k in ("layers", "hidden", "heads") if k not in given]
    if missing:
        raise ConfigError(f"model {model!r}: give {', '.join(missing)} (e.g. {family}:layers=32,hidden=4096,heads=32)")
    vals = {**PARAMETRIC_DEFAULTS[family], **given}
    if "head_dim" not in vals and vals["hidden"] % vals["heads"]:
        raise ConfigError(f"model {model!r}: hidden {vals['hidden']} is not divisible by heads {vals['heads']}")
    if "top_k" in vals and not vals.get("experts"):
        raise ConfigError(f"model {model!r}: top_k routes tokens among experts; give experts=E too")
    if vals.get("experts") and vals.setdefault("top_k", 2) > vals["experts"]:
        raise ConfigError(f"model {model!r}: top_k {vals['top_k']} is more than the {vals['experts']} experts")
    kv = vals.setdefault("kv_heads", vals["heads"])
    if vals["heads"] % kv:
        raise ConfigError(f"model {model!r}: heads {vals['heads']} is not divisible by kv_heads {kv}")
    if family == "llama":
        vals.setdefault("ffn", llama_ffn(vals["hidden"]))
    else:
        vals.setdefault("ffn", 4 * vals["hidden"])
    out = {keys[k]: v for k, v in vals.items()}
    for flag in ("flash_attention", "parallel_block", "rotary"):
        if flag in out:
            out[flag] = bool(out[flag])
    return out


class ParametricResolver(Resolver):
    def matches(self, spec):
        return spec.model in DECODER_PRESETS or (spec.model.split(":", 1)[0] in PARAMETRIC and ":" in spec.model)

    def defaults(self, spec):
        cfg = parametric_config(spec.model)
        _no_inputs_options(spec, "a parametric decoder")
        if spec.image_size is not None:
            raise ConfigError(f"model {spec.model!r} takes token sequences: use --seq-len, not --image-size")
        length = spec.seq_len or min(cfg["max_positions"], 2048)
        if length > cfg["max_positions"]:
            raise ConfigError(f"model {spec.model!r} has {cfg['max_positions']} positions; --seq-len {length} is "
                              "too long (raise seq=)")
        return spec.with_(batch_size=1 if spec.batch_size is None else spec.batch_size, seq_len=length)

    def load(self, spec):
        from accelscope.workload import nets
        from accelscope.workload.workload import Workload, classification_loss

        family = (DECODER_PRESETS[spec.model][1] if spec.model in DECODER_PRESETS else spec.model).split(":", 1)[0]
        cfg = nets.TransformerConfig(**parametric_config(spec.model))
        cls = nets.GPT2 if family == "gpt" else nets.Llama
        vocab, seq = cfg.vocab_size, spec.seq_len
        return Workload.from_spec(spec, description=f"parametric {family} decoder", build_model=_checked_factory(
            spec.model, partial(cls, cfg)), make_inputs=partial(_token_inputs, vocab=vocab, seq_len=seq),
            make_targets=partial(_token_targets, vocab=vocab, seq_len=seq), loss_fn=classification_loss)


class OnnxResolver(Resolver):
    """An ``.onnx`` file: profiled by the ONNX frontend, measured through ONNX Runtime."""

    def matches(self, spec):
        return spec.is_onnx

    def defaults(self, spec):
        from accelscope.workload import onnx

        return onnx.defaults(spec)

    def load(self, spec):
        raise ConfigError(f"{spec.model} is an ONNX graph: it is profiled from the file and measured through ONNX "
                          "Runtime (`accelscope bench MODEL.onnx`); a PyTorch step needs the PyTorch model")


RESOLVERS: Registry[Resolver] = Registry("model resolver")
RESOLVERS.add("onnx", OnnxResolver())
RESOLVERS.add("zoo", ZooResolver())
RESOLVERS.add("torchvision", TorchvisionResolver())
RESOLVERS.add("parametric", ParametricResolver())
RESOLVERS.add("factory", FactoryResolver())


def resolver_for(spec: WorkloadSpec) -> Resolver:
    for _, r in RESOLVERS.items():
        if r.matches(spec):
            return r
    raise UnknownNameError("model", spec.model, ZOO.names() + list(DECODER_PRESETS) + ["torchvision:NAME", "gpt:layers=..,hidden=..,heads=..",
                                                            "llama:layers=..,hidden=..,heads=..",
                                                            "package.module:callable"])


#: a serving workload's prompt and answer when not given
SERVE_DEFAULT_TOKENS = 128


def resolve_defaults(spec: WorkloadSpec) -> WorkloadSpec:
    """``spec`` with its model's defaults (batch, image size or sequence length) filled in."""
    if spec.task == "serve":
        return _serving_defaults(spec)
    return resolver_for(spec).defaults(spec)


def _serving_defaults(spec: WorkloadSpec) -> WorkloadSpec:
    """A serving workload: a decoder, a prompt and an answer that fit its positions."""
    found = decoder_config(spec.model)
    if found is None and not spec.is_user_model:
        raise ConfigError(f"serving (--task serve) runs decoders: gpt:..., llama:..., a decoder preset ("
                          f"{', '.join(DECODER_PRESETS)}), {', '.join(_ZOO_DECODERS)}, or your own decoder "
                          f"(package.module:callable, see `workload.serving.UserDecoder`); {spec.model!r} is not one")
    if spec.seq_len is not None or spec.image_size is not None:
        raise ConfigError("serving sizes requests with --input-tokens and --output-tokens, not --seq-len")
    _no_inputs_options(spec, "a decoder")
    inp = spec.input_tokens or SERVE_DEFAULT_TOKENS
    out = spec.output_tokens or SERVE_DEFAULT_TOKENS
    positions = found[1]["max_positions"] if found else None
    if positions is not None and inp + out > positions:
        raise ConfigError(f"model {spec.model!r} has {positions} positions; {inp} input + {out} output tokens do not "
                          "fit (shorten them, or raise seq= for a parametric decoder)")
    batch = spec.batch_size if spec.concurrency is not None or spec.batch_size is not None else 1
    return spec.with_(input_tokens=inp, output_tokens=out, batch_size=None if spec.concurrency else batch)


def load_workload(model: "str | WorkloadSpec", **options: Any):
    """Resolve a spec (or a model name and workload options) to a runnable
    :class:`~accelscope.workload.workload.Workload`; see the module docstring for the names."""
    spec = as_spec(model, **options).concrete()
    if spec.task == "serve":
        raise ConfigError("a serving workload runs as a prefill and decode steps, not one pass: predict it "
                          "(`accelscope predict MODEL --task serve`) or measure it (`accelscope bench MODEL --task serve`)")
    resolver = resolver_for(spec)
    return resolver.load(resolver.defaults(spec))

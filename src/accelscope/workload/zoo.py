"""Names -> Workloads: zoo presets, ``torchvision:NAME`` and ``package.module:callable``.

Every preset builds with random weights and never downloads anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from accelscope.errors import ConfigError, UnknownNameError, WorkloadError
from accelscope.registry import Registry
from accelscope.workload import nets
from accelscope.workload.workload import Workload, classification_loss, generic_loss


@dataclass(frozen=True, slots=True, kw_only=True)
class ZooEntry:
    """A named preset. ``modality`` is ``'image'`` (sized by ``image_size``) or ``'tokens'``."""

    name: str
    description: str
    build: Callable[..., nn.Module]
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


def _tv(name: str, **kwargs) -> Callable[..., nn.Module]:
    def build(image_size: int | None = None) -> nn.Module:
        import torchvision

        extra = dict(kwargs)
        if name.startswith("vit") and image_size is not None:
            extra["image_size"] = image_size
        return torchvision.models.get_model(name, weights=None, **extra)

    return build


_preset(name="mlp", description="MLP 784-512-256-10 on 28x28 MNIST digits", build=lambda image_size=28: nets.MLP(image_size * image_size),
        modality="image", channels=1, classes=10, default_batch=64, default_size=28, source="accelscope")
_preset(name="cnn", description="small CNN (2 conv blocks + 2 dense) on 32x32 CIFAR-10", build=lambda image_size=32: nets.SmallCNN(image_size=image_size),
        modality="image", classes=10, default_batch=64, default_size=32, source="accelscope")
for _n, _d in (("resnet18", "ResNet-18 (He et al. 2016), 11.69M params"),
               ("resnet50", "ResNet-50 (He et al. 2016), 25.56M params"),
               ("mobilenet_v2", "MobileNetV2 (Sandler et al. 2018), 3.50M params"),
               ("efficientnet_b0", "EfficientNet-B0 (Tan & Le 2019), 5.29M params"),
               ("vit_b_16", "ViT-B/16 (Dosovitskiy et al. 2021), 86.57M params")):
    _preset(name=_n, description=_d, build=_tv(_n), modality="image", default_batch=32,
            default_size=224, source=f"torchvision.models.{_n}")
_preset(name="bert-base", description="BERT-base encoder + masked-LM head (Devlin et al. 2019), ~110M params",
        build=lambda: nets.Bert(nets.BERT_BASE), modality="tokens", vocab=30522, default_batch=8,
        default_size=128, max_seq_len=512, source="accelscope.workload.nets.Bert")
_preset(name="bert-large", description="BERT-large encoder + masked-LM head (Devlin et al. 2019), ~336M params",
        build=lambda: nets.Bert(nets.BERT_LARGE), modality="tokens", vocab=30522, default_batch=8,
        default_size=128, max_seq_len=512, source="accelscope.workload.nets.Bert")
for _n, _c, _d in (("bert-base-eager", nets.BERT_BASE, "BERT-base"), ("bert-large-eager", nets.BERT_LARGE, "BERT-large")):
    _preset(name=_n, description=f"{_d} with unfused attention (score product, scale, mask, softmax, dropout, "
            "product: the original BERT and NVIDIA DeepLearningExamples implementations)",
            build=partial(nets.Bert, _c, attention="eager"), modality="tokens", vocab=30522, default_batch=8,
            default_size=128, max_seq_len=512, source="accelscope.workload.nets.Bert(attention='eager')")
_preset(name="gpt2-small", description="GPT-2 small decoder (Radford et al. 2019), 124.4M params",
        build=lambda: nets.GPT2(nets.GPT2_SMALL), modality="tokens", vocab=50257, default_batch=8,
        default_size=1024, max_seq_len=1024, source="accelscope.workload.nets.GPT2")
_preset(name="llama-7b", description="LLaMA-7B decoder (Touvron et al. 2023), 6.74B params",
        build=lambda: nets.Llama(nets.LLAMA_7B), modality="tokens", vocab=32000, default_batch=1,
        default_size=2048, source="accelscope.workload.nets.Llama")
_preset(name="llama-70b", description="LLaMA-2-70B decoder with grouped-query attention (Touvron et al. 2023), 68.98B params",
        build=lambda: nets.Llama(nets.LLAMA2_70B), modality="tokens", vocab=32000, default_batch=1,
        default_size=4096, source="accelscope.workload.nets.Llama")
_preset(name="lstm-lm", description="2-layer LSTM language model, 650 units (Zaremba et al. 2014), 19.8M params",
        build=lambda: nets.LSTMLanguageModel(), modality="tokens", vocab=10000, default_batch=20,
        default_size=35, source="accelscope.workload.nets.LSTMLanguageModel")


def _image_inputs(batch: int, channels: int, size: int) -> tuple:
    return (torch.randn(batch, channels, size, size),)


def _class_targets(batch: int, classes: int) -> torch.Tensor:
    return torch.randint(0, classes, (batch,))


def _token_inputs(batch: int, vocab: int, seq_len: int) -> tuple:
    return (torch.randint(0, vocab, (batch, seq_len)),)


def _token_targets(batch: int, vocab: int, seq_len: int) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, seq_len))


def model_names() -> list[str]:
    return ZOO.names()


def _shape_arg(input_shape: tuple[int, ...] | str) -> tuple[int, ...]:
    if isinstance(input_shape, str):
        try:
            input_shape = tuple(int(s) for s in input_shape.replace("x", ",").split(",") if s.strip())
        except ValueError:
            raise ConfigError(f"input shape {input_shape!r} is not a list of integers like 3,224,224") from None
    if not input_shape or any(d < 1 for d in input_shape):
        raise ConfigError(f"input shape {input_shape!r} must be positive integers, e.g. 3,224,224")
    return tuple(input_shape)


def _import_callable(spec: str, what: str) -> Callable:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise WorkloadError(f"{what} {spec!r} is not of the form package.module:callable")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise WorkloadError(
            f"{what} {spec!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}). "
            "Check the module path and that its package is installed or on PYTHONPATH."
        ) from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise WorkloadError(f"{what} {spec!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise WorkloadError(f"{what} {spec!r} is not callable")
    return obj


def _checked_factory(name: str, factory: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
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


def load_workload(
    name: str,
    *,
    task: str = "infer",
    batch_size: int | None = None,
    seq_len: int | None = None,
    image_size: int | None = None,
    precision: str = "fp32",
    optimizer: str = "adamw",
    input_shape: tuple[int, ...] | str | None = None,
    input_dtype: str = "float32",
    inputs: str | Callable[[int], tuple] | None = None,
) -> Workload:
    """Resolve a model name to a :class:`Workload`.

    ``name`` is a zoo preset (``accelscope models``), ``torchvision:NAME`` for any
    ``torchvision.models`` builder, or ``package.module:callable`` returning an ``nn.Module``.
    For the last two, the per-sample input shape comes from ``input_shape`` (e.g. ``3,224,224``;
    ``input_dtype='int64'`` makes token ids) or from ``inputs``, a ``package.module:callable``
    taking the batch size and returning the model's positional inputs.
    """
    for value, label in ((seq_len, "sequence length"), (image_size, "image size")):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{label} must be a positive integer, got {value!r}")
    common = dict(task=task, precision=precision, optimizer=optimizer)

    if name in ZOO:
        e = ZOO.get(name)
        if e.modality == "image":
            if seq_len is not None:
                raise ConfigError(f"model {name!r} takes images: use --image-size, not --seq-len")
            size = image_size or e.default_size
            build = partial(e.build, image_size=size) if image_size is not None else e.build
            return Workload(
                name=name, description=e.description, build_model=_checked_factory(name, build),
                make_inputs=partial(_image_inputs, channels=e.channels, size=size),
                make_targets=partial(_class_targets, classes=e.classes), loss_fn=classification_loss,
                batch_size=e.default_batch if batch_size is None else batch_size, image_size=size, **common,
            )
        if image_size is not None:
            raise ConfigError(f"model {name!r} takes token sequences: use --seq-len, not --image-size")
        length = seq_len or e.default_size
        if e.max_seq_len is not None and length > e.max_seq_len:
            raise ConfigError(
                f"model {name!r} has {e.max_seq_len} learned positions; --seq-len {length} is too long"
            )
        return Workload(
            name=name, description=e.description, build_model=_checked_factory(name, e.build),
            make_inputs=partial(_token_inputs, vocab=e.vocab, seq_len=length),
            make_targets=partial(_token_targets, vocab=e.vocab, seq_len=length),
            loss_fn=classification_loss, batch_size=e.default_batch if batch_size is None else batch_size, seq_len=length,
            **common,
        )

    if name.startswith("torchvision:"):
        import torchvision

        tv_name = name.split(":", 1)[1]
        valid = torchvision.models.list_models()
        if tv_name not in valid:
            raise UnknownNameError("torchvision model", tv_name, valid)
        if seq_len is not None:
            raise ConfigError(f"model {name!r} takes images: use --image-size, not --seq-len")
        size = image_size or (299 if tv_name == "inception_v3" else 224)
        if input_shape is None and tv_name.startswith(("fasterrcnn", "maskrcnn", "keypointrcnn", "retinanet", "fcos", "ssd")):
            raise ConfigError(f"{name} is a detection model that takes a list of images and targets; "
                              "use a package.module:callable wrapper with --inputs")
        if input_shape is not None:
            shape = _shape_arg(input_shape)
            make_inputs = lambda b, shape=shape: (torch.randn(b, *shape),)
        else:
            make_inputs = partial(_image_inputs, channels=3, size=size)
        kwargs = {"aux_logits": False, "init_weights": False} if tv_name in ("inception_v3", "googlenet") else {}
        return Workload(
            name=name, description=f"torchvision.models.{tv_name}",
            build_model=_checked_factory(name, _tv(tv_name, **kwargs)), make_inputs=make_inputs,
            make_targets=None, loss_fn=generic_loss, batch_size=32 if batch_size is None else batch_size,
            image_size=size if input_shape is None else None, **common,
        )

    if ":" in name:
        factory = _import_callable(name, "model factory")
        if inputs is not None:
            in_factory = _import_callable(inputs, "input factory") if isinstance(inputs, str) else inputs

            def make_inputs(b: int, f=in_factory) -> tuple:
                try:
                    x = f(b)
                except Exception as exc:
                    raise WorkloadError(f"input factory for {name!r} raised {type(exc).__name__}: {exc}") from exc
                return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)
        elif input_shape is not None:
            shape = _shape_arg(input_shape)
            if input_dtype in ("int64", "long", "tokens"):
                vocab = 2
                make_inputs = lambda b, shape=shape: (torch.randint(0, vocab, (b, *shape)),)
            elif input_dtype in ("float32", "float"):
                make_inputs = lambda b, shape=shape: (torch.randn(b, *shape),)
            else:
                raise ConfigError(f"input dtype {input_dtype!r} is not one of float32, int64")
        else:
            raise ConfigError(
                f"model {name!r} is a user factory: give the per-sample input shape "
                "(--input-shape 3,224,224) or an input factory (--inputs package.module:make_inputs)"
            )
        return Workload(
            name=name, description=f"user model {name}", build_model=_checked_factory(name, factory),
            make_inputs=make_inputs, make_targets=None, loss_fn=generic_loss,
            batch_size=1 if batch_size is None else batch_size, seq_len=seq_len, image_size=image_size, **common,
        )

    raise UnknownNameError("model", name, ZOO.names() + ["torchvision:NAME", "package.module:callable"])

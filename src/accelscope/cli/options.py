"""Options shared by the commands: the workload options (one declaration, added to every
command that takes a workload by :func:`workload_options`), ``--json``, ``--wide``, the
results store and user hardware directories.

A command decorated with ``@workload_options(...)`` receives ``workload``, a
:class:`WorkloadOptions`; ``workload.spec(model)`` builds the
:class:`~accelscope.workload.spec.WorkloadSpec` (``bench`` also sweeps comma-separated
``--task``, ``--batch`` and ``--precision`` lists: ``workload.sweep()``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from accelscope.errors import ConfigError

Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line.")]
Wide = Annotated[bool, typer.Option("--wide", help="Show every column, however wide the table gets.")]
StoreOpt = Annotated[Optional[str], typer.Option("--store", help="Results database: an SQLite file or a postgresql:// URL (default: $ACCELSCOPE_STORE or the user data dir).")]
HardwarePath = Annotated[Optional[list[Path]], typer.Option(
    "--hardware-path", help="Directory of your own hardware *.toml files (repeatable; also $ACCELSCOPE_HARDWARE_PATH).")]
HostCpu = Annotated[Optional[str], typer.Option(
    "--host-cpu", help="Drive every GPU from this system or host CPU (see `accelscope hardware hosts`) "
                       "instead of the one its catalog file names.")]
Model = Annotated[str, typer.Argument(help="Zoo name (see `accelscope models`), torchvision:NAME, package.module:callable, or an .onnx file.")]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadOptions:
    """The workload options as given on the command line (``None``: not given)."""

    task: str | None = None
    batch: str | None = None
    seq_len: int | None = None
    image_size: int | None = None
    precision: str | None = None
    optimizer: str | None = None
    channels_last: bool = False
    input_shape: str | None = None
    input_dtype: str | None = None
    inputs: str | None = None
    mode: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    concurrency: int | None = None
    weights: str | None = None
    dim: list[str] | None = None
    no_cache: bool = False

    @property
    def cache(self) -> bool:
        return not self.no_cache

    def _single(self, name: str, value: str | None) -> str | None:
        if value is not None and "," in value:
            raise ConfigError(f"--{name.replace('_', '-')} takes one value here; only `accelscope bench` "
                              f"sweeps comma-separated lists (got {value!r})")
        return value

    def _fields(self) -> dict[str, Any]:
        batch = self._single("batch", self.batch)
        return dict(task=self._single("task", self.task), batch_size=_int(batch, "--batch") if batch else None,
                    seq_len=self.seq_len, image_size=self.image_size,
                    precision=self._single("precision", self.precision), optimizer=self.optimizer,
                    channels_last=self.channels_last or None, input_shape=self.input_shape,
                    input_dtype=self.input_dtype, inputs=self.inputs, mode=self.mode,
                    input_tokens=self.input_tokens, output_tokens=self.output_tokens, concurrency=self.concurrency,
                    weights=self.weights, dims=self.dim or None)

    def spec(self, model: str):
        """The WorkloadSpec of ``model`` with these options."""
        from accelscope.workload.spec import as_spec

        return as_spec(model, **self._fields())

    def fixed(self) -> dict[str, Any]:
        """The options ``bench`` does not sweep, as workload keyword arguments (those given only)."""
        d = dict(seq_len=self.seq_len, image_size=self.image_size, optimizer=self.optimizer,
                 channels_last=self.channels_last or None, input_shape=self.input_shape,
                 input_dtype=self.input_dtype, inputs=self.inputs, mode=self.mode,
                 input_tokens=self.input_tokens, output_tokens=self.output_tokens, concurrency=self.concurrency,
                 weights=self.weights, dims=self.dim or None)
        return {k: v for k, v in d.items() if v is not None}

    def sweep(self) -> tuple[list[str] | None, list[int] | None, list[str] | None]:
        """(tasks, batch sizes, precisions) lists for ``bench`` (None where not given)."""
        split = (lambda v: [s.strip() for s in v.split(",") if s.strip()] if v else None)
        batches = split(self.batch)
        return split(self.task), [_int(b, "--batch") for b in batches] if batches else None, split(self.precision)


def _int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not an integer (e.g. {what} 8; bench takes 1,8,64)") from None
    if value < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value}")
    return value


def _option_params(defaults: dict[str, Any], sweep: bool) -> list[inspect.Parameter]:
    lists = " Comma-separated to sweep (e.g. 1,8,64)." if sweep else ""
    spec = {
        "task": (Optional[str], "--task", "train (forward, loss, backward, optimizer step), infer, or serve (an LLM's "
                 "prefill and decode steps with a KV cache: predict and bench)."
                 + (" Comma-separated to sweep: train,infer." if sweep else "")),
        "batch": (Optional[str], "--batch", "Batch size (default: the preset's)." + lists),
        "seq_len": (Optional[int], "--seq-len", "Sequence length for token models."),
        "image_size": (Optional[int], "--image-size", "Image side in pixels for image models."),
        "precision": (Optional[str], "--precision", "fp32, tf32, bf16, fp16, amp-fp16, amp-bf16"
                      + (", or auto (each device in the precision a practitioner would use there)."
                         if defaults.get("precision") == "auto" else ".")
                      + (" Comma-separated to sweep." if sweep else "")),
        "optimizer": (Optional[str], "--optimizer", "adamw or sgd (training steps)."),
        "channels_last": (bool, "--channels-last", "Image inputs (and weights, when measured) in channels-last (NHWC) memory format."),
        "input_shape": (Optional[str], "--input-shape", "Per-sample input shape for torchvision:/user models, e.g. 3,224,224."),
        "input_dtype": (Optional[str], "--input-dtype", "float32, or int64 for token ids (with --input-shape)."),
        "inputs": (Optional[str], "--inputs", "package.module:callable(batch_size) returning the model's inputs "
                   "(a tensor, a tuple, or a dict of keyword inputs)."),
        "mode": (Optional[str], "--mode", "How the step runs: eager (default), cuda-graphs (replayed CUDA graph) or "
                 "compile (torch.compile; TPUs and graph-compiled ASICs always run compiled)."),
        "input_tokens": (Optional[int], "--input-tokens", "--task serve: prompt tokens per request (default 128)."),
        "output_tokens": (Optional[int], "--output-tokens", "--task serve: generated tokens per request (default 128)."),
        "concurrency": (Optional[int], "--concurrency", "--task serve: requests decoded together under continuous "
                        "batching (instead of a static --batch)."),
        "weights": (Optional[str], "--weights", "--task serve: weight format: fp8 (FP8 products and KV cache, on devices "
                    "with FP8 tensor cores), int8 or int4 (weight-only)."),
        "dim": (Optional[list[str]], "--dim", "An ONNX graph's symbolic input dimension, NAME=VALUE (repeatable), "
                "e.g. --dim sequence_length=128."),
        "no_cache": (bool, "--no-cache", "Trace the profile anew instead of reading the profile cache."),
    }
    out = []
    for name, (typ, flag, help_) in spec.items():
        default = defaults.get(name, False if typ is bool else None)
        shown = f" [default: {default}]" if default not in (None, False) else ""
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                     default=default if typ is bool else None,
                                     annotation=Annotated[typ, typer.Option(flag, help=help_ + shown,
                                                                            show_default=False)]))
    return out


def option_group(fn, *, arg: str, params: list[inspect.Parameter], build):
    """``fn`` with ``params`` as its command-line options in place of its ``arg`` argument,
    which receives ``build(the given values of params)``."""
    sig = inspect.signature(fn, eval_str=True)  # typer reads a given __signature__ as it is
    keep = [p for p in sig.parameters.values() if p.name != arg]
    names = [p.name for p in params]

    @functools.wraps(fn)
    def wrapper(**kwargs):
        given = {k: kwargs.pop(k) for k in names if k in kwargs}
        return fn(**{arg: build(given)}, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=keep + params)
    # typer resolves the command's own (string) annotations through these; ``arg`` is ours
    wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != arg}
    return wrapper


def workload_options(*, sweep: bool = False, **defaults: Any):
    """Add every workload option to a command (see the module docstring). ``defaults`` are
    the command's own defaults for options not given (e.g. ``precision="auto"``)."""

    def build(given: dict[str, Any]) -> WorkloadOptions:
        for k, v in defaults.items():
            if given.get(k) is None:
                given[k] = v
        return WorkloadOptions(**given)

    return lambda fn: option_group(fn, arg="workload", params=_option_params(defaults, sweep), build=build)


def hardware_paths(paths: list[Path] | None) -> list[Path] | None:
    return list(paths) if paths else None

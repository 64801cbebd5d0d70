"""Typer option types shared by the commands that take a workload (profile, predict, ...)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

Model = Annotated[str, typer.Argument(help="Zoo name (see `accelscope models`), torchvision:NAME, or package.module:callable.")]
Task = Annotated[str, typer.Option("--task", help="train (forward, loss, backward, optimizer step) or infer.")]
Batch = Annotated[Optional[int], typer.Option("--batch", help="Batch size (default: the preset's).")]
SeqLen = Annotated[Optional[int], typer.Option("--seq-len", help="Sequence length for token models.")]
ImageSize = Annotated[Optional[int], typer.Option("--image-size", help="Image side in pixels for image models.")]
Precision = Annotated[str, typer.Option("--precision", help="fp32, tf32, bf16, fp16, amp-fp16 or amp-bf16.")]
Optimizer = Annotated[str, typer.Option("--optimizer", help="adamw or sgd (training only).")]
InputShape = Annotated[Optional[str], typer.Option("--input-shape", help="Per-sample input shape for user/torchvision models, e.g. 3,224,224.")]
InputDtype = Annotated[str, typer.Option("--input-dtype", help="float32, or int64 for token ids (user models).")]
Inputs = Annotated[Optional[str], typer.Option("--inputs", help="package.module:callable(batch_size) -> inputs, for user models.")]
ChannelsLast = Annotated[bool, typer.Option("--channels-last", help="Image inputs in channels-last (NHWC) memory format, as `bench --channels-last` runs them.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]

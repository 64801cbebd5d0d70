"""``accelscope profile`` and ``accelscope models``."""

from __future__ import annotations

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app


@app.command("models")
def models_cmd(json_out: o.Json = False, wide: o.Wide = False) -> None:
    """List the model zoo (any torchvision:NAME and package.module:callable also work)."""
    from accelscope.report import json_text, text
    from accelscope.workload.zoo import ZOO

    from accelscope.workload.zoo import DECODER_PRESETS, parametric_config

    entries = [e for _, e in ZOO.items()]
    presets = [{"name": name, "modality": "tokens", "default_batch": 1,
                "default_seq_len": min(parametric_config(name)["max_positions"], 2048), "description": what,
                "source": spec} for name, (what, spec) in DECODER_PRESETS.items()]
    if json_out:
        typer.echo(json_text([
            {"name": e.name, "modality": e.modality, "default_batch": e.default_batch,
             ("default_image_size" if e.modality == "image" else "default_seq_len"): e.default_size,
             "description": e.description, "source": e.source} for e in entries] + presets))
        return
    text.models(entries, text.console(), wide=wide, presets=presets)


@app.command("profile")
@o.workload_options(precision="fp32")
def profile_cmd(
    model: o.Model,
    workload: o.WorkloadOptions,
    top: int = typer.Option(10, "--top", help="How many top ops to list."),
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Count the FLOPs and bytes of every op of one inference pass or training step."""
    from accelscope.api import profile
    from accelscope.report import json_text, text

    p = profile(workload.spec(model), cache=workload.cache)
    if json_out:
        typer.echo(json_text(p.to_dict()))
    else:
        text.profile(p, text.console(), top=top, wide=wide)

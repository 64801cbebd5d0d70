"""Running a module on several processes through torch.distributed's elastic launcher.

``python -m torch.distributed.run`` (what ``torchrun`` runs): ``--standalone`` on one node, a
c10d rendezvous at ``rdzv_endpoint`` across nodes. The launched module writes its result as
JSON to the path given as its ``--out`` (rank 0 of node 0 only); :func:`launch` reads it back,
or says which rank failed and why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from accelscope.errors import ConfigError


def check_world(nnodes: int, node_rank: int, rdzv_endpoint: str | None) -> None:
    """ConfigError for a node layout the launcher cannot start."""
    if nnodes < 1 or not 0 <= node_rank < nnodes:
        raise ConfigError(f"--node-rank must be in 0..{nnodes - 1} for --nnodes {nnodes}, got {node_rank}")
    if nnodes > 1 and not rdzv_endpoint:
        raise ConfigError("several nodes need --rdzv-endpoint HOST:PORT (the same on every node)")


def launch(module: str, args: list[str], *, nproc_per_node: int, nnodes: int = 1, node_rank: int = 0,
           rdzv_endpoint: str | None = None, env: dict[str, str] | None = None,
           timeout_s: float = 600.0) -> tuple[Any, str | None]:
    """Run ``python -m module args --out FILE`` on ``nnodes x nproc_per_node`` ranks:
    (the JSON rank 0 wrote, None), or (None, why there is none: the timeout, or the launcher's
    exit code with the failing ranks and the last error they printed)."""
    with tempfile.TemporaryDirectory(prefix="accelscope-launch-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc_per_node}",
               f"--nnodes={nnodes}", f"--node-rank={node_rank}"]
        cmd += ["--standalone"] if nnodes == 1 else ["--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}"]
        cmd += ["-m", module, *args, "--out", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None, f"the ranks did not finish within {timeout_s:g} s"
        if not out.exists():
            lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
            errors = [ln for ln in lines if "Error" in ln and "ChildFailedError" not in ln and "elastic" not in ln]
            failed = sorted({ln.split("]")[0].strip() + "]" for ln in errors if ln.startswith("[rank")})
            why = errors[-1].strip() if errors else (lines[-1] if lines else "")
            why = why.split("]:", 1)[1].strip() if why.startswith("[rank") and "]:" in why else why
            return None, (f"the launcher exited {proc.returncode}" + (f"; failed: {', '.join(failed)}" if failed else "")
                          + (f": {why[-300:]}" if why else ""))
        return json.loads(out.read_text()), None

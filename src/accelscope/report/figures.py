"""Static images of the report's charts (PNG or SVG) for papers, drawn with matplotlib: no
browser needed, nothing downloaded. The same :class:`~accelscope.report.charts.Chart` as the
HTML report: measured bars solid, predicted ones hatched; predicted markers open.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from accelscope.errors import ConfigError
from accelscope.report.charts import Chart

FORMATS = ("png", "svg")


def _draw(chart: Chart, ax) -> None:
    bars = [t for t in chart.traces if t.kind == "bar"]
    if bars:
        cats = list(dict.fromkeys(c for t in bars for c in (t.y if chart.horizontal else t.x)))
        pos = {c: i for i, c in enumerate(cats)}
        width = 0.8 / (1 if chart.stacked else len(bars))
        base = [0.0] * len(cats)
        draw = ax.barh if chart.horizontal else ax.bar  # (positions, lengths, thickness, ...)
        for j, t in enumerate(bars):
            keys, vals = (t.y, t.x) if chart.horizontal else (t.x, t.y)
            at = [pos[k] + (0 if chart.stacked else (j - (len(bars) - 1) / 2) * width) for k in keys]
            stack = {("left" if chart.horizontal else "bottom"): [base[pos[k]] for k in keys]} if chart.stacked else {}
            style = {"hatch": "//", "edgecolor": "white"} if t.source == "predicted" else {}
            draw(at, vals, width, label=t.name, color=t.color, **stack, **style)
            if chart.stacked:
                for k, v in zip(keys, vals):
                    base[pos[k]] += v
        ticks = list(range(len(cats)))
        if chart.horizontal:
            ax.set_yticks(ticks, cats, fontsize=7)
        else:
            ax.set_xticks(ticks, cats, rotation=45, ha="right", fontsize=7)
    for t in chart.traces:
        if t.kind in ("lines", "lines+markers"):
            ax.plot(t.x, t.y, "o-" if t.kind == "lines+markers" else "-", label=t.name, color=t.color)
        elif t.kind == "markers":
            open_ = t.source == "predicted" and not t.size
            ax.scatter(t.x, t.y, s=[(s / 2) ** 2 for s in t.size] if t.size else 36, label=t.name, alpha=0.75,
                       facecolors="none" if open_ else None, edgecolors="C0" if open_ else None)
    if chart.x_log:
        ax.set_xscale("log")
    if chart.y_log:
        ax.set_yscale("log")
    ax.set_xlabel(chart.x_title)
    ax.set_ylabel(chart.y_title)
    ax.set_title(chart.title, fontsize=9)
    ax.legend(fontsize=7)


def save(charts: Sequence[Chart], directory: str | Path, fmt: str = "png") -> list[Path]:
    """One ``<chart id>.<fmt>`` per chart in ``directory`` (created); the paths written."""
    if fmt not in FORMATS:
        raise ConfigError(f"image format {fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("static images need matplotlib: pip install 'accelscope[figures]'") from exc
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts:
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        try:
            _draw(chart, ax)
            path = out / f"{chart.id}.{fmt}"
            fig.savefig(path, dpi=120)
            written.append(path)
        finally:
            plt.close(fig)
    return written

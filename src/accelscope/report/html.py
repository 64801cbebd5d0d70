"""The interactive HTML report: one self-contained file (plotly.js embedded once, no network
needed to view it), each chart followed by its data as a table.

``render(title, sections, generated=...)`` returns the page as text; ``report.charts`` says
what each chart shows. Measured bars are solid, predicted ones hatched.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from accelscope.report.charts import Chart, Section, Trace

#: how every page begins (how ``report --out`` tells a page of ours from a file it must not replace)
HEAD = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="accelscope">'
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-bottom: .2rem; }
.chart { margin: 1.2rem 0 2rem; } .note { color: #555; font-size: .9rem; margin: .2rem 0; }
table { border-collapse: collapse; font-size: .82rem; margin: .4rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .15rem .45rem; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
details > summary { cursor: pointer; color: #1f4e99; font-size: .9rem; }
.meta { color: #555; font-size: .9rem; }
"""


def _trace(t: Trace, i: int, chart: Chart) -> dict:
    color = t.color or _PALETTE[i % len(_PALETTE)]
    hover = list(t.hover) if t.hover else None
    if t.kind == "bar":
        d = {"type": "bar", "name": t.name, "x": list(t.x), "y": list(t.y), "orientation": "h" if chart.horizontal else "v",
             "marker": {"color": color, "line": {"color": color, "width": 1},
                        "pattern": {"shape": "/" if t.source == "predicted" else "", "fillmode": "overlay",
                                    "fgcolor": "white"}}}
    else:
        d = {"type": "scatter", "mode": t.kind, "name": t.name, "x": list(t.x), "y": list(t.y),
             "line": {"color": color}, "marker": {"color": color}}
        if t.size:
            d["marker"]["size"] = list(t.size)
        if t.kind == "markers" and t.source == "predicted" and not t.size:
            d["marker"].update(symbol="circle-open", size=10, line={"width": 2})
    if hover:
        d["hovertext"], d["hovertemplate"] = hover, "%{hovertext}<extra></extra>"
    return d


def figure_json(chart: Chart) -> dict:
    """The plotly figure of a chart, as plain data."""
    layout = {"title": {"text": html.escape(chart.title)}, "template": "plotly_white",
              "xaxis": {"title": {"text": chart.x_title}, "type": "log" if chart.x_log else "-"},
              "yaxis": {"title": {"text": chart.y_title}, "type": "log" if chart.y_log else "-",
                        "automargin": True},
              "barmode": "stack" if chart.stacked else "group", "legend": {"orientation": "h", "y": -0.2},
              "margin": {"l": 60, "r": 20, "t": 60, "b": 60}}
    if chart.horizontal:
        n = max((len(t.y) for t in chart.traces), default=1)
        layout["height"] = max(360, 26 * n + 160)
    return {"data": [_trace(t, i, chart) for i, t in enumerate(chart.traces)], "layout": layout}


def _cell(v) -> str:
    num = isinstance(v, (int, float)) and not isinstance(v, bool)
    return f'<td class="num">{v}</td>' if num else f"<td>{html.escape(str(v))}</td>"


def table_html(columns: Sequence[str], rows: Sequence[Sequence], *, table_id: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "\n".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _chart_html(chart: Chart) -> str:
    import plotly.graph_objects as go

    fig = go.Figure(figure_json(chart))  # validated: a wrong property fails here, not in the browser
    div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=chart.id,
                      config={"displaylogo": False, "responsive": True})
    note = f'<p class="note">{html.escape(chart.note)}</p>' if chart.note else ""
    return (f'<div class="chart" data-chart="{chart.id}">{div}{note}<details><summary>data ({len(chart.rows)} '
            f'rows)</summary>{table_html(chart.columns, chart.rows, table_id=f"{chart.id}-data")}</details></div>')


def render(title: str, sections: Sequence[Section], *, generated: str = "", source: str = "") -> str:
    """The whole report as one HTML page, plotly.js included once."""
    from plotly.offline import get_plotlyjs

    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="meta">{html.escape(generated)}{" — " if generated and source else ""}'
             f"{html.escape(source)}</p>"]
    toc = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections))
    parts.append(f"<ul>{toc}</ul>")
    for i, s in enumerate(sections):
        parts.append(f'<h2 id="s{i}">{html.escape(s.title)}</h2>')
        parts += [f'<p class="note">{html.escape(t)}</p>' for t in s.text]
        parts += [_chart_html(c) for c in s.charts]
        for caption, columns, rows in s.tables:
            parts.append(f"<h3>{html.escape(caption)}</h3>{table_html(columns, rows)}")
    body = "\n".join(parts)
    return (f'{HEAD}<title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style>'
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>\n<body>\n{body}\n</body></html>\n')

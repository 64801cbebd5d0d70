"""The report's charts are built from stored records: their numbers are the records' (a speedup is
a ratio of stored throughputs; a roofline point is min(peak, bandwidth x intensity))."""

import re

import pytest

from accelscope.report import charts as ch
from accelscope.report import html


def _est(hw, tput, *, peak=None, bw=None, precision="amp-bf16", usd=None, energy=None, cats=None):
    return {"hardware": hw, "precision": precision, "throughput_samples_per_s": tput, "step_time_s": 64 / tput,
            "peak_flops_per_s": peak, "parameters": {"bandwidth_bytes_per_s": bw} if bw else {},
            "usd_per_million_samples": usd, "energy_j_per_sample": energy, "energy_method": "model",
            "offering": "cloud x" if usd else None, "price_date": "2026-10-01" if usd else None,
            "model": "roofline", "time_by_category_s": cats or {}, "time_by_phase_s": {"forward": 64 / tput}}


def _workload():
    cpu = {"device": "cpu", "device_model": "EPYC", "status": "ok", "precision": "fp32",
           "throughput_samples_per_s": 1000.0, "step_time_s": {"median": 0.064}, "energy_j_per_sample": None}
    profile = {"ops": [{"name": "aten::mm", "category": "matmul", "phase": "forward", "flops": 2_000_000,
                        "bytes": 10_000, "count": 3},
                       {"name": "aten::relu", "category": "elementwise", "phase": "forward", "flops": 1000,
                        "bytes": 8000, "count": 2},
                       {"name": "aten::view", "category": "elementwise", "phase": "forward", "flops": 0,
                        "bytes": 0, "count": 1}]}
    return ch.Workload(label="mlp infer batch 64", measured=(cpu,), predicted=(
        _est("gpu-a", 50_000.0, peak=1e15, bw=2e12, usd=0.5, energy=0.01, cats={"matmul": 1e-3, "elementwise": 2e-4}),
        _est("gpu-b", 20_000.0, peak=1e14, bw=1e12, usd=0.3, energy=0.02, cats={"matmul": 2e-3}),
        _est("fpga-c", 5_000.0)), profiles={"amp-bf16": profile})


def test_speedups_are_ratios_of_stored_throughputs_and_keep_the_measured_row():
    c = ch.speedup_chart(_workload(), top=2)
    got = {(t.source, y): x for t in c.traces for x, y in zip(t.x, t.y)}
    assert got == {("predicted", "gpu-a"): 50.0, ("predicted", "gpu-b"): 20.0, ("measured", "cpu (EPYC)"): 1.0}
    assert [r[1] for r in c.rows] == ["gpu-a", "gpu-b", "fpga-c", "cpu (EPYC)"]  # the table ranks every row
    assert c.rows[2][6] == 5.0 and c.rows[0][5] == 50_000.0 and c.rows[0][8] == 0.5
    assert "2 fastest predicted" in c.title
    # no local CPU measured: no speedups, a note says why
    none = ch.speedup_chart(ch.Workload(label="w", predicted=_workload().predicted))
    assert none.traces == () and "not measured" in none.note


def test_roofline_places_each_op_on_its_devices_roof():
    w = _workload()
    c = ch.roofline_chart(w, w.predicted[0])
    roof, *ops = c.traces
    assert max(roof.y) == 1e15 and min(roof.y) == pytest.approx(2e12 * roof.x[0])
    pts = {t.name: list(zip(t.x, t.y)) for t in ops}
    assert set(pts) == {"matmul", "elementwise"}  # the view (no FLOPs, no bytes) is left out
    (ai_mm, y_mm), = pts["matmul"]
    (ai_relu, y_relu), = pts["elementwise"]
    assert ai_mm == 200.0 and y_mm == pytest.approx(min(1e15, 2e12 * 200))  # memory bound below the ridge (500)
    assert ai_relu == 0.125 and y_relu == pytest.approx(2.5e11)
    assert [r[-1] for r in c.rows] == ["memory", "memory"] and "ridge point 500" in c.note
    on_b = ch.roofline_chart(w, w.predicted[1])  # ridge 100: the matmul is compute bound there
    assert on_b.rows[0][-1] == "compute" and on_b.rows[0][7] == 100.0
    assert ch.roofline_chart(w, w.predicted[2]) is None  # no peak or bandwidth stated: no roofline


def test_time_energy_and_section():
    w = _workload()
    cat = ch.category_chart(w)
    assert cat.stacked and [t.name for t in cat.traces] == ["matmul", "elementwise"]
    assert cat.traces[0].y == pytest.approx((1.0, 2.0)) and cat.traces[1].y == pytest.approx((0.2, 0.0))
    e = ch.energy_cost_chart(w)
    assert list(zip(e.traces[0].x, e.traces[0].y)) == [(0.01, 0.5), (0.02, 0.3)]
    section = ch.workload_section(w)
    assert [c.id.split("-")[0] for c in section.charts] == ["speedup", "roofline", "roofline", "op", "phase", "energy"]


def test_calibration_chart_plots_prediction_against_measurement():
    rec = {"device": "cpu", "hardware": None, "median_abs_error": 0.1, "held_out_median_abs_error": 0.2,
           "accepted": True, "points": [
               {"workload": "mlp b1", "measured_s": 0.001, "predicted_s": 0.0011, "error": 0.1,
                "held_out_error": 0.2, "uncalibrated_error": 0.5},
               {"workload": "mlp b8", "measured_s": 0.004, "predicted_s": 0.0036, "error": -0.1,
                "held_out_error": None, "uncalibrated_error": None}]}
    c = ch.calibration_chart(7, rec)
    assert "median |error| 10.0%, held out 20.0%" in c.title
    by = {t.name: t for t in c.traces}
    assert by["calibrated"].x == (1.0, 4.0) and by["calibrated"].y == pytest.approx((1.1, 3.6))
    assert by["uncalibrated"].y == pytest.approx((1.5,))
    assert ch.calibration_chart(8, {"points": []}) is None


def test_page_is_self_contained_with_every_chart_and_its_table():
    section = ch.workload_section(_workload())
    page = html.render("accelscope report", [section])
    assert page.count("Plotly.newPlot") == len(section.charts) == 6
    # plotly.js is embedded once, nothing is loaded from elsewhere
    assert len(re.findall(r"<script[^>]*\bsrc=", page)) == 0 and page.count("plotly.js v") >= 1
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()) == 1
    assert not re.search(r"""(src|href)=["']?https?://""", page.replace(get_plotlyjs(), ""))
    for c in section.charts:
        assert f'id="{c.id}-data"' in page
    assert "<td>gpu-a</td>" in page and '<td class="num">50000.0</td>' in page


def test_static_images_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib", reason="static images need the figures extra (matplotlib)")
    from accelscope.report import figures

    section = ch.workload_section(_workload())
    pngs = figures.save(section.charts, tmp_path / "png", "png")
    svgs = figures.save(section.charts, tmp_path / "svg", "svg")
    assert len(pngs) == len(svgs) == 6
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in pngs)
    assert all(b"<svg" in p.read_bytes()[:2000] for p in svgs)
    with pytest.raises(Exception, match="not one of"):
        figures.save(section.charts, tmp_path, "gif")


def test_scaling_and_serving_curves_come_from_the_measured_runs():
    spec = {"model": "mlp", "task": "train", "batch_size": 32}
    runs = [(i + 3, {"spec": spec, "world": {"world_size": n, "nnodes": 1, "strategy": "ddp", "backend": "gloo"},
                     "step_time_s": 0.1, "throughput_samples_per_s": t, "scaling_efficiency": t / (n * 100)})
            for i, (n, t) in enumerate([(2, 180.0), (1, 100.0), (4, 300.0)])]
    c = ch.scaling_chart(runs)
    measured, ideal = c.traces
    assert measured.x == (1, 2, 4) and measured.y == (100.0, 180.0, 300.0) and ideal.y == (100.0, 200.0, 400.0)
    assert [r[2] for r in c.rows] == [1, 2, 4] and c.rows[2][-1] == 0.75
    serve = [(9, {"spec": {"model": "gpt2-small", "batch_size": k, "input_tokens": 64, "output_tokens": 32},
                  "device": "cpu", "ttft_s": 0.05 * k, "tpot_s": 0.01 * k, "output_tokens_per_s": 100.0 * k ** 0.5})
             for k in (4, 1)]
    s = ch.serving_chart(serve)
    assert s.traces[0].x == (100.0, 200.0) and s.traces[0].y == pytest.approx((10.0, 40.0))
    assert [r[2] for r in s.rows] == [1, 4]
    assert ch.scaling_chart([]) is None and ch.serving_chart([(1, {"output_tokens_per_s": None})]) is None


def test_a_report_with_its_own_title_is_still_ours(tmp_path):
    from accelscope.jobs.report import check_output

    page = tmp_path / "r.html"
    page.write_text(html.render("Team results, week 48", [ch.workload_section(_workload())]))
    check_output(page)  # replaced without --force: it is an accelscope page
    other = tmp_path / "other.html"
    other.write_text("<!DOCTYPE html>\n<html><head><title>mine</title>")
    with pytest.raises(Exception, match="not an accelscope report"):
        check_output(other)
    check_output(other, force=True)


def test_job_costs_rank_every_priced_option_and_keep_the_unpriced_in_the_table():
    def opt(option, kind, usd, devices=8, fails=None):
        o = {"option": option, "kind": kind, "hardware": "gpu-a", "devices": devices, "wall_time_s": 86400.0 * devices,
             "device_hours": 24.0 * devices ** 2, "energy_kwh": 10.0, "tco2e": None, "usd": usd,
             "price": {"date": "2026-10-01"}}
        return o | ({"fails": fails} if fails else {})

    options = [opt("rent a", "cloud", 300.0), opt("buy", "buy", 120.0), opt("rent b", "cloud", 200.0, fails=["deadline"]),
               opt("no price", "unpriced", None), opt("rent c", "cloud", 900.0, devices=64)]
    c = ch.job_chart(7, "mlp train job on gpu-a", options, top=3)
    drawn = {y: x for t in c.traces for x, y in zip(t.x, t.y)}
    assert drawn == {"8x gpu-a: buy": 120.0, "8x gpu-a: rent b": 200.0, "8x gpu-a: rent a": 300.0}
    assert [t.name for t in c.traces] == ["buy", "cloud"] and c.horizontal and c.x_log
    assert [r[0] for r in c.rows] == ["buy", "rent b", "rent a", "rent c", "no price"]
    assert c.rows[1][-1] == "deadline" and c.rows[3][4] == 64.0 and c.rows[4][8] == ""
    assert "cheapest 3 of 4" in c.note
    assert ch.job_chart(1, "x", [opt("no price", "unpriced", None)]) is None

"""The HTML report in a real browser (headless Chromium, driven by selenium): made by the real
commands on this machine's CPU, it renders every chart, logs no console error, loads nothing
from the network, and shows the numbers the store holds.

Chromium and its driver come from Debian (``apt-get install chromium chromium-driver``; ``.ci/run``
installs them). Without them the test is skipped, unless ``ACCELSCOPE_REQUIRE_BROWSER=1`` (CI),
where a missing browser fails. The screenshot goes to ``$ACCELSCOPE_ARTIFACTS`` (CI keeps it)
or the test's temporary directory.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accelscope.store import Store

pytestmark = pytest.mark.slow


def _find(*names: str) -> str | None:
    return next((p for n in names if (p := shutil.which(n))), None)


@pytest.fixture(scope="module")
def browser():
    chromium = os.environ.get("ACCELSCOPE_CHROMIUM") or _find("chromium", "chromium-browser", "google-chrome")
    driver = os.environ.get("ACCELSCOPE_CHROMEDRIVER") or _find("chromedriver")
    if not (chromium and driver):
        if os.environ.get("ACCELSCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail("ACCELSCOPE_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed")
        pytest.skip("no headless browser: apt-get install chromium chromium-driver to run the report's browser test")
    webdriver = pytest.importorskip("selenium.webdriver", reason="the test extra installs selenium")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    # no first-run, sync or component downloads: the browser itself asks the network for nothing
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1200,820", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    yield drv
    drv.quit()


def _cli(*args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "accelscope", *args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A store filled by the real commands on this CPU: explore (with --report), a bench sweep,
    a calibration, a dse, an FPGA design, two serving measurements and an advice; then `accelscope report`."""
    d = tmp_path_factory.mktemp("report")
    env = dict(os.environ, ACCELSCOPE_STORE=str(d / "results.sqlite"), COLUMNS="120")
    explore = _cli("explore", "mlp", "--device", "cpu", "--max-time", "0.5", "--report", "explore.html", cwd=d, env=env)
    _cli("bench", "mlp", "--device", "cpu", "--batch", "1,4,16,64,256", "--max-time", "0.3", cwd=d, env=env)
    _cli("calibrate", "--device", "cpu", cwd=d, env=env)
    _cli("dse", "mlp", "--rows", "8,32,128", "--cols", "8,32,128", cwd=d, env=env)
    _cli("fpga", "mlp", "--device", "zcu104", cwd=d, env=env)
    for batch in ("1", "4"):
        _cli("bench", "gpt:layers=2,hidden=64,heads=2", "--task", "serve", "--input-tokens", "16", "--output-tokens",
             "8", "--batch", batch, "--max-time", "0.5", cwd=d, env=env)
    _cli("advise", "mlp", "--hardware", "h100-sxm,a100-sxm4-80gb", "--train-samples", "1e9", "--devices", "1,8",
         cwd=d, env=env)
    r = _cli("report", "--out", "report.html", "--json", cwd=d, env=env)
    return d, explore, json.loads(r.stdout)


def test_explore_writes_its_report(made):
    d, explore, _ = made
    page = (d / "explore.html").read_text()
    assert "report: " in explore.stdout and page.startswith("<!DOCTYPE html>") and page.count("Plotly.newPlot") >= 5


def _shot(browser, name: str, tmp: Path) -> Path:
    out = Path(os.environ.get("ACCELSCOPE_ARTIFACTS") or tmp)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    # the first workload's charts, as a reader sees them after the list of runs
    browser.execute_script("document.querySelector('[data-chart^=\"speedup\"]').scrollIntoView()")
    browser.save_screenshot(str(path))
    return path


def test_report_renders_offline_with_the_stores_numbers(browser, made, tmp_path):
    d, _, result = made
    browser.get((d / "report.html").as_uri())
    browser.execute_script("return document.readyState")
    charts = browser.execute_script("""
        return Array.from(document.querySelectorAll('[data-chart]')).map(el => ({
            id: el.dataset.chart,
            svg: el.querySelectorAll('.main-svg').length,
            marks: Array.from(el.querySelectorAll('.trace path')).filter(p => (p.getAttribute('d') || '').length > 4).length
        }));""")
    assert len(charts) == result["charts"] >= 7
    assert {c["id"].split("-")[0] for c in charts} >= {"speedup", "roofline", "op", "phase", "energy", "calibration",
                                                       "dse", "fpga", "serving", "job"}
    empty = [c["id"] for c in charts if not (c["svg"] and c["marks"])]
    assert not empty, f"charts drawn with nothing in them: {empty}"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    urls = {json.loads(e["message"])["message"]["params"]["request"]["url"] for e in browser.get_log("performance")
            if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"}
    assert urls and all(u.startswith(("file://", "data:", "blob:")) for u in urls), urls

    def table(prefix: str) -> list[dict]:
        return browser.execute_script("""
            const t = document.querySelector(`table[id^="${arguments[0]}"]`);
            const head = Array.from(t.querySelectorAll('thead th')).map(th => th.textContent);
            return Array.from(t.querySelectorAll('tbody tr')).map(tr => Object.fromEntries(
                Array.from(tr.children).map((td, i) => [head[i], td.textContent])));""", prefix)

    def shown(v: float) -> float:  # the report shows 4 significant digits
        return float(f"{v:.4g}")

    with Store(d / "results.sqlite") as s:
        estimate = next(r for r in s.list_runs(kind="estimate"))
        stored = {p["hardware"]: p for p in s.points(estimate.id)}
        cpu = next(p for r in s.list_runs(kind="measurement") if r.config.get("part_of") == estimate.id
                   for p in s.points(r.id))
        calibration = s.points(s.list_runs(kind="calibration")[0].id)[0]
        front = s.points(s.list_runs(kind="dse")[0].id)[0]["pareto_front"]
        served = [s.points(r.id)[0] for r in reversed(s.list_runs(kind="serve"))]
        advice = s.points(s.list_runs(kind="job")[0].id)[0]
    rows = table("speedup-")
    assert len(rows) == len(stored) + 1
    base = cpu["throughput_samples_per_s"]
    for row in rows:
        if row["source"] == "measured":
            assert float(row["samples/s"]) == shown(base) and float(row["speedup vs local CPU"]) == 1.0
            continue
        p = stored[row["device"]]
        assert float(row["samples/s"]) == shown(p["throughput_samples_per_s"]), row
        assert float(row["speedup vs local CPU"]) == float(f"{p['throughput_samples_per_s'] / base:.3g}"), row
        if p["usd_per_million_samples"] is not None:
            assert float(row["$/M samples"]) == shown(p["usd_per_million_samples"]), row
    cal = table("calibration-")
    assert [float(r["measured (ms)"]) for r in cal] == [shown(p["measured_s"] * 1e3) for p in calibration["points"]]
    assert [float(r["predicted (ms)"]) for r in cal] == [shown(p["predicted_s"] * 1e3) for p in calibration["points"]]
    serving = table("serving")
    assert sorted(float(r["output tokens/s"]) for r in serving) == sorted(shown(p["output_tokens_per_s"]) for p in served)
    dse = table("dse-")
    assert [float(r["latency (ms)"]) for r in dse] == [shown(p["latency_s"] * 1e3) for p in front]
    job = table("job-")
    options = advice["ranked"] + advice["excluded"]
    assert len(job) == len(options) > 2
    assert sorted(float(r["USD"]) for r in job if r["USD"]) == sorted(shown(o["usd"]) for o in options
                                                                     if o["usd"] is not None)
    assert _shot(browser, "report.png", tmp_path).stat().st_size > 10_000

"""Interconnects and systems as data: every figure sourced, every reference resolved."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accelscope.errors import UnknownNameError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.systems import fabric, links, load_system, systems


def test_every_link_figure_is_sourced_or_unknown_with_a_reason():
    assert len(links()) >= 25
    for link in links().values():
        for fig in (link.bandwidth_bytes_per_s, link.latency_s, link.achievable_bandwidth_bytes_per_s):
            assert (fig.value is None) or fig.source, (link.name, fig)
        assert link.scope in ("intra-node", "inter-node")
        measured = link.achievable_bandwidth_bytes_per_s.number
        if measured:  # a measurement never beats the wire
            assert measured <= link.bandwidth_bytes_per_s.number


def test_systems_name_catalog_devices_and_known_links():
    assert {"dgx-1", "dgx-a100", "dgx-h100", "aws-p5", "tpu-v5p-slice"} <= set(systems())
    for s in systems().values():
        if s.device:
            load_hardware(s.device)  # raises if the catalog lacks it
        assert s.intra_node.scope == "intra-node"
        assert s.network is None or s.network.scope == "inter-node"
        assert s.devices_per_node.number and s.devices_per_node.source


def test_published_figures_are_the_ones_filed():
    h100 = load_system("dgx-h100")
    assert h100.intra_node.bandwidth_bytes_per_s.number == 450e9  # 900 GB/s bidirectional / 2
    assert h100.network.bandwidth_bytes_per_s.number == 50e9  # NDR 400 Gb/s
    assert h100.nics_per_node.number == 8
    assert load_system("hgx-h200").name == "dgx-h200"  # aliases
    f = fabric(load_system("aws-p5"))
    assert f.inter_bandwidth_bytes_per_s == pytest.approx(32 * 11.15e9 / 8)


def test_unknown_latency_is_said_not_guessed():
    f = fabric(load_system("tpu-v4-pod"))
    assert f.intra_latency_s == 0.0
    assert any("latency unknown" in n for n in f.notes)


def test_an_unknown_system_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="dgx-a100"):
        load_system("dgx-a1000")


def test_hardware_systems_answers_without_torch():
    code = ("import sys, json\nfrom accelscope.cli.main import run\n"
            "try:\n    run(['hardware', 'systems', '--json'])\nexcept SystemExit as e:\n    assert not e.code\n"
            "assert 'torch' not in sys.modules")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert len(d["systems"]) == len(systems()) and len(d["links"]) == len(links())

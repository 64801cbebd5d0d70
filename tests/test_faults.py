"""The fault suite (tests/fault_cases.py): every case ends in one line, the right exit code,
and the store intact with every completed point kept."""

import pytest

from tests.fault_cases import CASES, run_case


def test_the_suite_covers_every_group_and_at_least_40_cases():
    assert len(CASES) >= 40
    assert {c.group for c in CASES} == {"values", "files", "outputs", "stores", "signals", "concurrency"}
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case, tmp_path):
    run_case(case, tmp_path)

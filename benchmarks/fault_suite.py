"""The fault suite, counted: every case of tests/fault_cases.py, run and tallied by group.

    python benchmarks/fault_suite.py

Each case runs the real command in a fresh interpreter with a scratch results store and must
end with one line on stderr (no traceback), exit code 2 (130 for an interrupt), and the store
intact (PRAGMA integrity_check) with every completed point kept. Prints one line per failed
case with what went wrong, then the count of cases and of those that passed, per group.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fault_cases import CASES, run_case  # noqa: E402


def main() -> None:
    start = time.perf_counter()
    passed: dict[str, list[bool]] = {}
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run_case(case, Path(tmp))
                ok = True
            except AssertionError as exc:
                ok = False
                print(f"FAILED {case.group}: {case.name}: {str(exc).splitlines()[0][:300]}")
        passed.setdefault(case.group, []).append(ok)
    print(f"{'group':<14}{'cases':>6}{'passed':>8}")
    for group, oks in passed.items():
        print(f"{group:<14}{len(oks):>6}{sum(oks):>8}")
    total, good = sum(len(v) for v in passed.values()), sum(sum(v) for v in passed.values())
    print(f"{'all':<14}{total:>6}{good:>8}   ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

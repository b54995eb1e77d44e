"""The benchmark's measurement of one command (scripts/bench_measure.py): its own peak memory and
exit status, never those of an earlier, bigger command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from bench_measure import measure


def _allocate(mib: int, exit_code: int = 0) -> list[str]:
    return [sys.executable, "-c", f"import sys; x = bytearray({mib} * 2**20); sys.exit({exit_code})"]


def test_each_command_reports_its_own_peak_and_exit_status(tmp_path: Path) -> None:
    env = dict(os.environ)
    big = measure(_allocate(1200), env, tmp_path)
    small = measure(_allocate(50, exit_code=3), env, tmp_path)
    assert big.returncode == 0 and small.returncode == 3
    assert big.peak_rss_mib >= 1200
    # getrusage(RUSAGE_CHILDREN) would carry the 1,200 MiB of the first command into the second.
    # Each figure also includes the launcher's resident set at fork (Linux keeps a process's
    # high-water mark across exec): a few hundred MiB under pytest, so compare the two.
    assert small.peak_rss_mib < big.peak_rss_mib - 500
    assert small.cpu_seconds >= 0

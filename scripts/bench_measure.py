"""Measure one command: wall seconds and peak resident memory of its whole process tree.

The peak is sampled from /proc every 0.1 s as the sum of the resident sets of the command and
all its descendants (dbt's threads share one process; a Python model or a spawned tool adds
its own), and is never below getrusage's largest single child (which a short spike between two
samples cannot escape). CPU seconds and that largest child come from wait4 on the command
itself: getrusage(RUSAGE_CHILDREN) keeps the largest child of the whole benchmark, so every step
after a big one would report its peak. That largest child also counts the launcher's resident
set at the fork (Linux keeps the high-water mark across exec), which the benchmark's small
launcher keeps to about a hundred MiB.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    wall_seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    returncode: int


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_rss_bytes(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(pid)
    return total


def measure(cmd: list[str], env: dict[str, str], cwd: Path, log: Path | None = None) -> Measurement:
    """Run ``cmd`` (output to ``log`` or discarded) and measure it; never raises on failure."""
    peak = 0
    out = log.open("w") if log is not None else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if log is not None and not isinstance(out, int):
        out.close()
    # The command's own rusage: its CPU (with the descendants it waited for) and the largest
    # resident set of it or of one of those descendants (KiB on Linux).
    cpu = usage.ru_utime + usage.ru_stime
    largest_child = usage.ru_maxrss * 1024
    return Measurement(round(wall, 1), round(max(peak, largest_child) / 2**20), round(cpu, 1), rc)

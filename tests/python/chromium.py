"""Debian's headless ``chromium`` for browser tests: found, or installed with apt-get when the tests
run as root; otherwise the test is skipped with the reason."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import pytest
from debian import apt_install

from lifecycle import paths
from lifecycle.browser import find_chromium

SCREENSHOTS = paths.PROJECT_ROOT / "reports" / "screenshots"


def chromium() -> str:
    """The chromium executable; installs Debian's package if missing (root only) or skips."""
    found = find_chromium()
    if found:
        return found
    problem = apt_install("chromium")
    if problem:
        pytest.skip(f"chromium: {problem}")
    found = find_chromium()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium executable is on PATH")
    return found


def _headless(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def dump_dom(url: str, profile: Path, wait_ms: int = 0) -> str:
    """The DOM chromium renders for ``url``, after its scripts ran for ``wait_ms`` of virtual time."""
    budget = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    result = _headless(chromium(), profile, *budget, "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(url: str, png: Path, profile: Path, size: str = "1280,1600", wait_ms: int = 0) -> Path:
    """A PNG of ``url`` as chromium renders it (after ``wait_ms`` of virtual time)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    budget = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    result = _headless(chromium(), profile, *budget, f"--screenshot={png}", f"--window-size={size}", url)
    assert result.returncode == 0 and png.is_file(), result.stderr[-2000:]
    return png


def distinct_pixel_bytes(png: Path) -> int:
    """How many distinct byte values the PNG's decoded scanlines hold: a blank (one-colour) page
    has a handful (its colour and the filter bytes), a page with text and tables has many."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))

"""Installing a Debian package for the tests that need a system program (chromium, postgresql)."""

from __future__ import annotations

import os
import shutil
import subprocess

INSTALL_TIMEOUT_SECONDS = 900


def apt_install(package: str) -> str | None:
    """``apt-get update && apt-get install -y package``; None when done, else why it could not be
    (not root, no apt-get, a command failed or timed out). The caller skips or fails with it."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{package} is not installed and cannot be installed here (needs root and apt-get)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        try:
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return f"{' '.join(cmd)} timed out"
        if result.returncode != 0:
            return f"{' '.join(cmd)} failed: {result.stderr.strip()[-300:]}"
    return None

"""Start the dashboard: ``streamlit run lifecycle/dashboard/app.py`` on the chosen serving copy,
headless and offline (no usage statistics, no file watcher, no browser opened)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lifecycle.dashboard.data import SERVING_URL_ENV, serving_file

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"


def streamlit_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line of the app (Streamlit of this Python environment)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
    ]  # fmt: skip


def dashboard_env(serving: str) -> dict[str, str]:
    """The app's environment: the serving copy it reads (checked now, so a wrong path is one line)."""
    env = dict(os.environ)
    env[SERVING_URL_ENV] = str(serving_file(serving))
    return env


def run(serving: str, port: int | None = None, address: str | None = None) -> int:
    """Run the dashboard in the foreground until interrupted; return Streamlit's exit code."""
    env = dashboard_env(serving)
    port = port or DEFAULT_PORT
    address = address or DEFAULT_ADDRESS
    print(f"Lifecycle dashboard on http://{address}:{port} reading {env[SERVING_URL_ENV]} (Ctrl+C stops it)")
    try:
        return subprocess.call(streamlit_command(port, address), env=env)
    except KeyboardInterrupt:
        return 0

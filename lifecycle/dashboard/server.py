"""Start the dashboard: ``streamlit run lifecycle/dashboard/app.py`` on the chosen serving copy,
headless and offline (no usage statistics, no file watcher, no browser opened)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecycle.dashboard.data import SERVING_URL_ENV, open_serving, serving_file
from lifecycle.publish.postgres import is_postgres_url, redacted

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
    if is_postgres_url(serving):
        with open_serving(serving):  # reachable and a serving schema, or a one-line DataError
            pass
        env[SERVING_URL_ENV] = serving
    else:
        env[SERVING_URL_ENV] = str(serving_file(serving))
    return env


def run(serving: str, port: int | None = None, address: str | None = None) -> int:
    """Replace this process with Streamlit serving the app (so Ctrl+C and signals reach it directly)."""
    env = dashboard_env(serving)
    cmd = streamlit_command(port or DEFAULT_PORT, address or DEFAULT_ADDRESS)
    print(f"Lifecycle dashboard on http://{address or DEFAULT_ADDRESS}:{port or DEFAULT_PORT} reading "
          f"{redacted(env[SERVING_URL_ENV])} (Ctrl+C stops it)", flush=True)  # fmt: skip
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(serving: str, log: Path, port: int | None = None, timeout: float = 90) -> Iterator[str]:
    """``lifecycle dashboard`` in the background on ``port`` (default: a free one) until the block
    ends; yields its base URL once Streamlit answers its health check. Output goes to ``log``."""
    port = port or free_port()
    exe = Path(sys.executable).with_name("lifecycle")
    url = f"http://{DEFAULT_ADDRESS}:{port}"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(exe), "dashboard", "--serving", serving, "--port", str(port)],
            stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start on {url}: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the dashboard and anything it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False

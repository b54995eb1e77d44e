"""A headless Chromium driven over the DevTools protocol (CDP), for tests and benchmarks that must
see a page as a person does: open a URL, wait until a JavaScript condition holds, read values,
take a PNG, and list every URL the page requested (to prove nothing left the machine).

Only Debian's ``chromium`` and the ``websockets`` package (a dependency of Streamlit) are needed:
no Selenium, no Playwright, no browser download.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class BrowserError(Exception):
    """Chromium could not be started, or a page did not reach the awaited state in time."""


def find_chromium() -> str | None:
    """The path of a Chromium on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Page:
    """One tab: CDP commands over its websocket, and the requests it made."""

    ws: ClientConnection
    requests: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are recorded)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer to {method} in {timeout:.0f}s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(str(message["params"]["request"]["url"]))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript error in {expression[:80]!r}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def navigate(self, url: str) -> None:
        self.requests.clear()
        self.send("Page.navigate", {"url": url})

    def wait_for(self, expression: str, timeout: float = 60, settle: float = 0.5) -> float:
        """Wait until ``expression`` is truthy, and still is ``settle`` seconds later; return the
        seconds waited until it first held for good."""
        start = time.monotonic()
        held_since: float | None = None
        while time.monotonic() - start < timeout:
            if self.evaluate(expression):
                held_since = held_since or time.monotonic()
                if time.monotonic() - held_since >= settle:
                    return held_since - start
            else:
                held_since = None
            time.sleep(0.1)
        raise BrowserError(f"the page did not reach {expression[:120]!r} in {timeout:.0f}s")

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole scrollable page by default)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    """A headless Chromium process with one tab, closed on exit (``with Chromium() as page:``)."""

    def __init__(self, executable: str | None = None, width: int = 1400, height: int = 1000) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise BrowserError("no Chromium found (apt-get install chromium)")
        self._profile = Path(tempfile.mkdtemp(prefix="lifecycle-chromium-"))
        self._proc = subprocess.Popen(
            [
                exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--metrics-recording-only",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--remote-allow-origins=*", f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.page: Page | None = None
        self._stack = contextlib.ExitStack()

    def _devtools_port(self, timeout: float = 30) -> int:
        marker = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrowserError(f"chromium exited with code {self._proc.returncode} at start")
            if marker.is_file():
                lines = marker.read_text().splitlines()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.1)
        raise BrowserError(f"chromium did not open its DevTools port in {timeout:.0f}s")

    def __enter__(self) -> Page:
        try:
            port = self._devtools_port()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                targets = json.load(resp)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
            self.page = Page(self._stack.enter_context(connect(url, max_size=None, open_timeout=10)))
            for domain in ("Page", "Runtime", "Network"):
                self.page.send(f"{domain}.enable")
        except BaseException:
            self.close()
            raise
        return self.page

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        self.page = None
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

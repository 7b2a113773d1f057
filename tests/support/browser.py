"""Open a page in real headless Chromium and drive it over the DevTools protocol.

The protocol runs over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-separated JSON),
so no websocket library and no port are needed. Collected: uncaught exceptions, console
errors and warnings (Plotly's included), error log entries and every request the page made;
then the DOM is queried (after the page's own scripts ran) and a full-page screenshot is
taken.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
    "--window-size=1280,900",
)


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (``None``: they can)."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing: install it with scripts/bootstrap.sh (Debian chromium)"
    return None


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    value: Any = None
    screenshot: Path | None = None


class _Pipe:
    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.proc = proc
        self.out = to_browser
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        threading.Thread(target=self._read, args=(from_browser,), daemon=True).start()

    def _read(self, fd: int) -> None:
        buffer = b""
        with os.fdopen(fd, "rb", buffering=0) as handle:
            while chunk := handle.read(65536):
                buffer += chunk
                while b"\0" in buffer:
                    message, buffer = buffer.split(b"\0", 1)
                    self.messages.put(json.loads(message))

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(f"exception: {details.get('exception', {}).get('description') or details}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(f"console.{params['type']}: {[a.get('value') for a in params['args']]}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("warning", "trace"):
            # Plotly's own warnings (Lib.warn: console.trace("WARN:", ...)), e.g. "Invalid
            # color specifier": a figure it had to repair
            args = [a.get("value") for a in params.get("args", [])]
            if params["type"] == "warning" or (args and str(args[0]).startswith("WARN")):
                found.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(f"log: {params['entry'].get('text')}")
    return found


def _high(*fds: int) -> tuple[int, ...]:
    """The same pipe ends moved above fd 9, so they cannot collide with fds 3 and 4."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved


def open_page(
    page: Path,
    expression: str,
    screenshot: Path,
    ready: str,
    timeout: float = 60.0,
    clip: tuple[float, float] | None = None,
) -> PageResult:
    """Load ``page``, wait until ``ready`` (a JS expression) is truthy, evaluate
    ``expression`` (returned by value) and save a full-page PNG to ``screenshot``
    (``clip``: only the band from y=top, this high)."""
    profile = tempfile.mkdtemp(prefix="perfinvest-chromium-")
    to_r, to_w = _high(*os.pipe())
    from_r, from_w = _high(*os.pipe())

    # bash (dash reads one-digit fds only) puts our pipe ends on fd 3 (commands) and fd 4
    # (answers), then becomes chromium: no Python runs in the child between fork and exec
    wiring = f'exec "$0" "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
    proc = subprocess.Popen(
        ["/bin/bash", "-c", wiring, CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(to_r, from_w),
    )
    os.close(to_r)
    os.close(from_w)
    pipe = _Pipe(proc, to_w, from_r)
    result = PageResult()
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page", "Network"):
            pipe.call(f"{domain}.enable", session=session)
        pipe.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        deadline = time.monotonic() + timeout
        while True:
            done = pipe.call(
                "Runtime.evaluate", {"expression": ready, "returnByValue": True}, session=session
            )
            if done.get("result", {}).get("value"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never became ready ({ready}) in {timeout} s")
            time.sleep(0.1)
        value = pipe.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
        result.value = value.get("result", {}).get("value")
        metrics = pipe.call("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = pipe.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": clip[0] if clip else 0,
                    "width": size["width"],
                    "height": clip[1] if clip else min(size["height"], 12000),
                    "scale": 1,
                },
            },
            session=session,
            timeout=60,
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        result.screenshot = screenshot
        with contextlib.suppress(Exception):
            pipe.call("Browser.close", timeout=5)
    finally:
        with contextlib.suppress(OSError):
            os.close(to_w)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    while not pipe.messages.empty():
        pipe.events.append(pipe.messages.get())
    result.errors = _errors(pipe.events)
    result.requests = [
        e["params"]["request"]["url"]
        for e in pipe.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    return result


#: Everything the tests assert from the DOM, read after Plotly drew the figures.
DOM_QUERY = """(() => {
  const plots = [...document.querySelectorAll("div.plot[data-plot]")];
  return {
    sections: [...document.querySelectorAll("section[data-section]")].map(
      s => s.getAttribute("data-section")),
    plots: plots.map(p => ({
      key: p.getAttribute("data-plot"),
      section: p.closest("section").getAttribute("data-section"),
      rendered: p.classList.contains("js-plotly-plot") && !!p.querySelector(".main-svg"),
      traces: p.querySelectorAll(".main-svg .trace, .main-svg .violin, .main-svg .boxes").length,
    })),
    images: [...document.querySelectorAll("figure[data-image] img")].map(
      i => ({key: i.closest("figure").getAttribute("data-image"), loaded: i.complete && i.naturalWidth > 0})),
    nonCompliant: document.querySelectorAll(".badge-non-compliant").length,
    superseded: document.querySelectorAll(".badge-superseded").length,
    provenance: [...document.querySelectorAll("[data-provenance]")].map(p => ({
      section: p.closest("section").getAttribute("data-section"), text: p.textContent})),
    banner: (document.querySelector("[data-banner]") || {}).textContent || null,
    empty: [...document.querySelectorAll("section p.empty")].map(
      p => p.closest("section").getAttribute("data-section")),
    rendered: document.body.getAttribute("data-plots-rendered"),
    scripts: document.querySelectorAll("script[src], link[href]").length,
    summaryLinks: [...document.querySelectorAll("#summary a[href]")].map(a => ({
      href: a.getAttribute("href"),
      target: !!document.getElementById(a.getAttribute("href").slice(1))})),
    downloads: [...document.querySelectorAll("a[download]")].map(
      a => [a.getAttribute("download"), a.getAttribute("href").slice(0, 26)]),
    folded: [...document.querySelectorAll("details[data-details]:not([open])")].map(
      d => d.getAttribute("data-details")),
    claims: Object.fromEntries([...document.querySelectorAll("#summary [data-claim]")].map(
      d => [d.getAttribute("data-claim"), d.textContent])),
  };
})()"""

READY = "document.body && document.body.getAttribute('data-plots-rendered') !== null"

"""Headless Chromium driven over the DevTools protocol: open a page, run JS, take a screenshot.

Debian's `chromium` package is the browser (`.ci/run` installs it); `websocket-client`
carries the protocol. Each launch gets a fresh profile folder and the flags this machine
needs to run headless as root with no network: no sandbox, GPU, QUIC, first-run, sync,
background or component-update traffic.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-file-access-from-files",  # the report's own video may be drawn to a canvas
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless browser with one page; `evaluate` runs JS there and returns its value."""

    def __init__(self, executable: str, width: int = 1200, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="astseg-chromium-")
        self.log = open(Path(self.profile) / "stderr.log", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )  # fmt: skip
        self.port = self._wait_for_port(timeout_s=60)
        self.ws = websocket.create_connection(self._page_socket(), timeout=60, suppress_origin=True)
        self.next_id = 0

    def _wait_for_port(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.log.seek(0)
            found = re.search(rb"DevTools listening on ws://[^:]+:(\d+)/", self.log.read())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"chromium did not start: {self.log.read().decode(errors='replace')}")

    def _page_socket(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.load(r)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def version(self) -> str:
        return str(self.send("Browser.getVersion")["product"])

    def open(self, url: str, timeout_s: float = 30) -> None:
        self.send("Page.enable")
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout_s
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading in {timeout_s} s")
            time.sleep(0.1)

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        """The whole page (not just the window) as a PNG."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        width = int(self.evaluate("document.documentElement.scrollWidth"))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=False,
        )  # fmt: skip
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


# Everything the test asserts, measured in the page: the video element, a frame drawn to a
# canvas, and every image.
PAGE_CHECKS = """
(async () => {
  const v = document.querySelector('video');
  const until = (events, ms) => new Promise(done => {
    const t = setTimeout(done, ms);
    for (const e of events) v.addEventListener(e, () => { clearTimeout(t); done(); }, {once: true});
  });
  if (v.readyState < 2 && !v.error) await until(['loadeddata', 'error'], 20000);
  const out = {readyState: v.readyState, duration: v.duration, error: v.error && v.error.code,
               width: v.videoWidth, height: v.videoHeight,
               h264: v.canPlayType('video/mp4; codecs="avc1.42E01E"')};
  if (v.readyState >= 2) {
    v.currentTime = v.duration / 2;
    await until(['seeked'], 10000);
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0, sum = 0, sq = 0;
    for (let i = 0; i < px.length; i += 4) {
      const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      n++; sum += y; sq += y * y;
    }
    out.frameMean = sum / n;
    out.frameVariance = sq / n - (sum / n) ** 2;
    out.seekedTo = v.currentTime;
  }
  await Promise.all([...document.images].map(i => i.complete ? null : new Promise(
    done => { i.addEventListener('load', done); i.addEventListener('error', done); })));
  out.images = [...document.images].map(i => ({src: i.getAttribute('src'), w: i.naturalWidth}));
  out.externalRefs = [...document.querySelectorAll('[src],[href]')]
    .map(e => e.getAttribute('src') || e.getAttribute('href'))
    .filter(u => /^[a-z]+:/i.test(u) || u.startsWith('/'));
  return out;
})()
"""


def check_report(executable: str, report: Path, screenshot: Path) -> tuple[str, dict[str, Any]]:
    """(browser version, the page's measurements) for a report; writes the screenshot."""
    browser = Chromium(executable)
    try:
        version = browser.version()
        browser.open(report.resolve().as_uri())
        checks = browser.evaluate(PAGE_CHECKS)
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(screenshot)
    finally:
        browser.close()
    return version, checks


if __name__ == "__main__":  # python tests/browser/chromium.py DEMO/index.html OUT.png
    import sys

    exe = os.environ.get("CHROMIUM") or find_chromium()
    if exe is None:
        sys.exit("chromium is not installed")
    print(check_report(exe, Path(sys.argv[1]), Path(sys.argv[2])))

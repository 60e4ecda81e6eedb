"""`make demo` as a new user meets it: everything starts, the printed URLs work, stopping it stops all."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

from tests.live import free_port, wait_until


def test_demo_starts_the_site_prints_working_urls_and_stops_cleanly(tmp_path):
    data = tmp_path / "demo"
    ports = {"--port": free_port(), "--mqtt-port": free_port(), "--printer-port": free_port()}
    argv = [sys.executable, "-m", "madoguchi.server.cli.main", "demo", "--data-dir", str(data)]
    for flag, port in ports.items():
        argv += [flag, str(port)]
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        summary_file = data / "demo.txt"
        wait_until(summary_file.exists, 90, "the demo summary")
        summary = summary_file.read_text(encoding="utf-8")
        docs = re.search(r"(http://127\.0\.0\.1:\d+/api/v1/docs)", summary).group(1)
        status_page = re.search(r"(http://127\.0\.0\.1:\d+/t/\S+)", summary).group(1)
        assert httpx.get(docs).status_code == 200
        page = httpx.get(status_page)
        assert page.status_code == 200 and "受付番号" in page.text
        png = re.search(r"its printed ticket: (\S+\.png)", summary).group(1)
        assert (data / "printed").exists() and png.endswith(".png")
        with open(png, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        token = re.search(r"display-demo  (\S+)", summary).group(1)
        state = httpx.get(f"http://127.0.0.1:{ports['--port']}/api/v1/state",
                          headers={"Authorization": f"Bearer {token}"}).json()
        assert state["site"] == "chuo" and any(b["waiting"] == 1 for b in state["bands"])
    finally:
        demo.send_signal(signal.SIGTERM)  # as a supervisor or `kill` would; Ctrl-C takes the same path
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    for port in ports.values():
        with_port_closed = httpx.Client(timeout=0.5)
        try:
            with_port_closed.get(f"http://127.0.0.1:{port}/")
            raise AssertionError(f"port {port} still answers after the demo stopped")
        except httpx.TransportError:
            pass
        finally:
            with_port_closed.close()

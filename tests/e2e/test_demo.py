"""`make demo` as a new user meets it: everything starts, the printed URLs work, stopping it stops all;
it works again on the same folder, refuses a second copy beside a running one, and can serve the LAN."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import zxingcpp
from PIL import Image

from madoguchi.server.cli.demo_runtime import lan_address
from tests.live import free_port, wait_until

CLI = [sys.executable, "-m", "madoguchi.server.cli.main"]
DEMO = [*CLI, "demo"]


def demo_argv(data: Path, *extra: str) -> tuple[list[str], dict[str, int]]:
    ports = {"--port": free_port(), "--mqtt-port": free_port(), "--printer-port": free_port()}
    argv = [*DEMO, "--data-dir", str(data), *extra]
    for flag, port in ports.items():
        argv += [flag, str(port)]
    return argv, ports


def run_once(data: Path, *extra: str) -> str:
    argv, _ = demo_argv(data, "--once", *extra)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def printed_ticket(summary: str, data: Path) -> Path:
    png = Path(re.search(r"its printed ticket: (\S+\.png)", summary).group(1))
    assert png.parent == (data / "printed").resolve()
    with Image.open(png) as image:
        image.load()  # the whole PNG decodes, not just its header
        assert image.width == 576 and image.height > 600, "a whole 80 mm ticket"
    return png


def ticket_qr(png: Path) -> list[str]:
    with Image.open(png) as image:
        return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]


def test_demo_starts_the_site_prints_working_urls_and_stops_cleanly(tmp_path):
    data = tmp_path / "demo"
    argv, ports = demo_argv(data)
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        summary_file = data / "demo.txt"
        wait_until(summary_file.exists, 180, "the demo summary")
        summary = summary_file.read_text(encoding="utf-8")
        docs = re.search(r"(http://127\.0\.0\.1:\d+/api/v1/docs)", summary).group(1)
        status_page = re.search(r"(http://127\.0\.0\.1:\d+/t/\S+)", summary).group(1)
        assert httpx.get(docs).status_code == 200
        page = httpx.get(status_page)
        assert page.status_code == 200 and "受付番号" in page.text
        assert ticket_qr(printed_ticket(summary, data)) == [status_page]
        token = re.search(r"display-demo  (\S+)", summary).group(1)
        state = httpx.get(f"http://127.0.0.1:{ports['--port']}/api/v1/state",
                          headers={"Authorization": f"Bearer {token}"}).json()
        assert state["site"] == "chuo" and any(b["waiting"] == 1 for b in state["bands"])

        # a second demo on the same folder is refused and changes nothing of the first
        second = subprocess.run(demo_argv(data, "--once")[0], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert "a demo is already running on the data folder" in second.stderr
        assert f"pid {demo.pid}" in second.stderr, "the message names the running demo"
        assert summary_file.read_text(encoding="utf-8") == summary, "the first demo's summary is intact"
        kiosk = re.search(r"kiosk-demo    (\S+)", summary).group(1)
        issued = httpx.post(f"http://127.0.0.1:{ports['--port']}/api/v1/tickets", json={"procedures": ["juminhyo"]},
                            headers={"Authorization": f"Bearer {kiosk}"})
        assert issued.status_code == 201, "the first demo's kiosk token still works"
        staff = httpx.post(f"http://127.0.0.1:{ports['--port']}/api/v1/auth/token",
                           data={"username": "demo-counter", "password": "madoguchi-demo", "counter": "c1"})
        assert staff.status_code == 200, "the first demo's staff password still works"
    finally:
        demo.send_signal(signal.SIGTERM)  # as a supervisor or `kill` would; Ctrl-C takes the same path
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    broker_log = (data / "logs" / "mosquitto.log").read_text(encoding="utf-8").split("\n")
    ended = next(n for n, line in enumerate(broker_log) if "terminating" in line)
    goodbye = re.compile(r"Client (madoguchi-)?server-chuo (closed its connection|disconnected)")
    assert any(goodbye.search(line) for line in broker_log[:ended]), "the server left before the broker stopped"
    for port in ports.values():
        with httpx.Client(timeout=0.5) as client:
            try:
                client.get(f"http://127.0.0.1:{port}/")
                raise AssertionError(f"port {port} still answers after the demo stopped")
            except httpx.TransportError:
                pass
    # the stopped demo released its folder: the next one starts there
    printed_ticket(run_once(data), data)


def test_a_second_run_on_the_same_folder_prints_a_new_ticket_and_keeps_the_first(tmp_path):
    data = tmp_path / "demo"
    first = printed_ticket(run_once(data), data)
    first_bytes = first.read_bytes()
    second_summary = run_once(data)
    second = printed_ticket(second_summary, data)
    assert second != first and first.read_bytes() == first_bytes, "the first run's ticket is kept as it was"
    numbers = re.findall(r"Sample visit: number (\d+)", second_summary)
    assert numbers and numbers[0] != re.search(r"(\d+)", first.name).group(1)


def test_demo_on_every_interface_prints_and_encodes_the_lan_address(tmp_path):
    address = lan_address()
    assert address and not address.startswith("127."), "this machine needs a LAN interface for the test"
    data = tmp_path / "demo"
    argv, ports = demo_argv(data, "--host", "0.0.0.0")
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until((data / "demo.txt").exists, 180, "the demo summary")
        summary = (data / "demo.txt").read_text(encoding="utf-8")
        base = f"http://{address}:{ports['--port']}"
        assert f"{base}/api/v1/docs" in summary and "127.0.0.1:" + str(ports["--port"]) not in summary
        status_url = re.search(r"the sample visit's page\s+(\S+)", summary).group(1)
        assert status_url.startswith(f"{base}/t/"), "the ticket's QR code points at the LAN address"
        page = httpx.get(status_url)  # reached through the LAN interface, not loopback
        assert page.status_code == 200 and "受付番号" in page.text
        assert httpx.get(f"{base}/api/v1/docs").status_code == 200, "the demo's API docs open from the LAN too"
        token = re.search(r"kiosk-demo    (\S+)", summary).group(1)
        ticket = httpx.post(f"{base}/api/v1/tickets", json={"procedures": ["juminhyo"]},
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert ticket["status_url"].startswith(f"{base}/t/")
        assert ticket_qr(printed_ticket(summary, data)) == [status_url], "a phone scanning the ticket opens it"
    finally:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output


def test_serve_on_every_interface_without_a_public_url_puts_the_lan_address_in_tickets(tmp_path):
    address = lan_address()
    assert address and not address.startswith("127."), "this machine needs a LAN interface for the test"
    data, port = tmp_path / "site", free_port()
    token = subprocess.run([*CLI, "device", "add", "kiosk-1", "--kind", "kiosk", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    server = subprocess.Popen([*CLI, "serve", "--data-dir", str(data), "--host", "0.0.0.0", "--port", str(port),
                               "--ignore-hours", "--no-mqtt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://{address}:{port}"
        wait_until(lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200, 60, "the server on the LAN")
        ticket = httpx.post(f"{base}/api/v1/tickets", json={"procedures": ["juminhyo"]},
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert ticket["status_url"].startswith(f"{base}/t/"), "not http://0.0.0.0:… in the QR code"
        assert httpx.get(f"{base}/api/v1/docs").status_code == 404, "a site server keeps its docs off the LAN"
    finally:
        server.terminate()
        server.wait(30)

"""`madoguchi demo`: one whole site on this machine, from embedded defaults.

Starts a private mosquitto (with the site's ACL), the virtual ticket printer, the virtual My Number
card reader (when pcscd can be started here), and the site server; creates demo staff accounts and
device tokens; issues one sample visit and prints its ticket; then prints where everything is.
Every process is a child of this one and stops with it (Ctrl-C), or right away with ``--once``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from madoguchi.common.cli import CommandError
from madoguchi.server.cli.demo_runtime import DemoLock, is_wildcard, local_host, public_host

DEMO_PASSWORD = "madoguchi-demo"
DEMO_PIN = "1234"
SAMPLE_VISIT = {
    "life_event": "tennyu",
    "answers": {"household": [{"age": 38, "relation": "self"}, {"age": 8, "relation": "child"},
                              {"age": 72, "relation": "parent"}], "kokuho": True},
    "language": "ja",
}


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(wanted: int, host: str = "127.0.0.1") -> int:
    if wanted and port_free(wanted, host):
        return wanted
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise CommandError(f"{what} did not start within {timeout_s:.0f} s")


def listening(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    return check


@dataclass
class Supervisor:
    logs: Path
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                   start_new_session=True)
        log.close()
        self.children.append((name, process))
        return process

    def check_alive(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise CommandError(f"{name} stopped (exit {process.returncode}); see {self.logs / (name + '.log')}")

    def stop_all(self) -> None:
        """One at a time, the last started first: the screens and the server go before the broker
        they publish to, so the server's last messages still reach it."""
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def prepare_accounts(args: argparse.Namespace, data: Path) -> dict[str, str]:
    from madoguchi.server.composition import Settings, build
    from madoguchi.server.storage.accounts import DeviceKind, Role

    settings = Settings(site=args.site, data_dir=data, **({"config_dir": args.config_dir} if args.config_dir else {}))
    services = build(settings)
    try:
        now = services.clock.now()
        tokens = {}
        with services.lock:
            for role in Role:
                services.accounts.add_user(f"demo-{role.value}", role, DEMO_PASSWORD, now)
            for kind in DeviceKind:
                tokens[kind.value] = services.accounts.add_device(f"{kind.value}-demo", kind, now)
    finally:
        services.close()
    return tokens


def start_broker(supervisor: Supervisor, args: argparse.Namespace, data: Path) -> tuple[int, str, str]:
    from madoguchi.server.mqtt.mosquitto import BrokerAccount, render_site_broker

    if shutil.which("mosquitto") is None:
        raise CommandError("mosquitto is not installed (make demo installs it: run `make demo`)")
    port = pick_port(args.mqtt_port)
    accounts = [BrokerAccount.server(f"server-{args.site}"), BrokerAccount.device("display-demo", "display"),
                BrokerAccount.device("kiosk-demo", "kiosk")]
    rendered = render_site_broker(args.site, data / "mosquitto", accounts, port=port,
                                  run_as="root" if os.geteuid() == 0 else None)
    supervisor.start("mosquitto", rendered.command())
    wait_for(listening(port), f"mosquitto on port {port}")
    display = rendered.account("display-demo")
    return port, rendered.account(f"server-{args.site}").password, display.password


def start_card_reader(supervisor: Supervisor) -> str:
    """pcscd with a virtual reader and card; only where no other pcscd runs (never on a real kiosk)."""
    if shutil.which("pcscd") is None:
        return "not started: pcscd is not installed"
    if Path("/run/pcscd/pcscd.comm").exists():
        return "not started: a pcscd is already running on this machine"
    process = supervisor.start("card-reader", [sys.executable, "-m", "madoguchi.hardware.virtual_reader",
                                               "--pin", DEMO_PIN])
    deadline = time.monotonic() + 20
    log = supervisor.logs / "card-reader.log"
    while time.monotonic() < deadline:
        if "has a virtual My Number card" in log.read_text(encoding="utf-8", errors="replace"):
            return f"virtual My Number card in reader 'Virtual PCD 00 00', PIN {DEMO_PIN} (fictional holder)"
        if process.poll() is not None:
            supervisor.children.remove(("card-reader", process))
            return f"not started (see {log})"
        time.sleep(0.2)
    return f"starting (see {log})"


def print_sample(url: str, token: str, printer_uri: str, site_name: str, printed: Path) -> tuple[dict, str]:
    import httpx

    from madoguchi.hardware.printer import EscposTicketPrinter
    from madoguchi.kiosk.printing import ticket_content

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        # a key of its own per run: the same key would replay the first run's ticket
        response = client.post("/api/v1/tickets", json=SAMPLE_VISIT,
                               headers={"Idempotency-Key": f"demo-sample-{time.time_ns()}"})
        response.raise_for_status()
        ticket = response.json()
        catalog = client.get("/api/v1/catalog").json()
    content = ticket_content(ticket, catalog, SAMPLE_VISIT["language"])  # the kiosk's own mapping
    before = printed_files(printed)
    receipt = EscposTicketPrinter(printer_uri).print_ticket(content)
    wait_for(lambda: bool(new_files(printed, before)), "the printed ticket's PNG", 10)
    png = max(new_files(printed, before))
    return ticket, f"{png} ({receipt.bytes_sent:,} bytes of ESC/POS in {receipt.seconds:.2f} s)"


def printed_files(printed: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in printed.glob("ticket-*.png")}


def new_files(printed: Path, before: dict[Path, int]) -> list[Path]:
    """Tickets written since ``before``: new names, or old names written again (a printer restarted on
    the same folder may count from 1 again)."""
    return [path for path, mtime in printed_files(printed).items() if before.get(path) != mtime]


def demo(args: argparse.Namespace) -> int:
    import httpx

    from madoguchi.server.config.loading import check_config
    from madoguchi.server.config.schema import default_config_dir, load_site

    config_dir = args.config_dir or default_config_dir()
    problems = check_config(config_dir)
    if problems:
        raise CommandError("configuration has problems:\n  " + "\n  ".join(problems))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)  # the steps and the summary say what happens; -v for more
    data = args.data_dir.resolve()
    # the demo's own card keys, beside (never inside) its data folder; its server inherits the setting
    os.environ.setdefault("MADOGUCHI_KEY_DIR", str(data.parent / f"{data.name}-keys"))
    logs, printed = data / "logs", data / "printed"
    for folder in (logs, printed):
        folder.mkdir(parents=True, exist_ok=True)
    site = load_site(config_dir, args.site)
    host = public_host(args.host)
    lock = DemoLock(data).acquire()  # before anything rewrites the folder's accounts and tokens
    supervisor = Supervisor(logs)
    # Ctrl-C and a plain `kill` both stop every child: a shell starting the demo in the background
    # leaves SIGINT ignored, and SIGTERM would otherwise end this process and orphan the children.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        step("accounts")
        tokens = prepare_accounts(args, data)
        step("mosquitto")
        mqtt_port, server_password, display_password = start_broker(supervisor, args, data)
        step("virtual printer")
        printer_port = pick_port(args.printer_port)
        supervisor.start("virtual-printer", [sys.executable, "-m", "madoguchi.server.cli.main", "virtual-printer",
                                             "--port", str(printer_port), "--control-port", "0",
                                             "--out", str(printed)])
        wait_for(listening(printer_port), f"virtual printer on port {printer_port}")
        step("card reader")
        card_reader = start_card_reader(supervisor)
        step("server")
        port = pick_port(args.port, args.host or "0.0.0.0")
        url, local = f"http://{host}:{port}", f"http://{local_host(args.host)}:{port}"
        supervisor.start("server", [sys.executable, "-m", "madoguchi.server.cli.main", "serve", "--site", args.site,
                                    "--data-dir", str(data), "--host", args.host, "--port", str(port),
                                    "--public-url", url, "--ignore-hours",
                                    *(["--public-ops"] if is_wildcard(args.host) else []),
                                    "--mqtt-host", "127.0.0.1", "--mqtt-port", str(mqtt_port),
                                    *(["--config-dir", str(args.config_dir)] if args.config_dir else [])],
                         env={"MADOGUCHI_MQTT_PASSWORD": server_password})
        wait_for(lambda: httpx.get(f"{local}/healthz", timeout=1).status_code == 200, f"the server on port {port}")
        step("sample visit")
        ticket, receipt = print_sample(local, tokens["kiosk"], f"tcp://127.0.0.1:{printer_port}", site.name["ja"],
                                       printed)
        summary = render_summary(args, url, tokens, ticket, receipt, mqtt_port, display_password, printed,
                                 logs, card_reader, data)
        (data / "demo.txt").write_text(summary, encoding="utf-8")
        os.chmod(data / "demo.txt", 0o600)
        print(summary, flush=True)
        print(start_display(supervisor, args, data, mqtt_port, display_password, local), flush=True)
        print(start_kiosk(supervisor, args, data, local, tokens["kiosk"], printer_port, card_reader), flush=True)
        lock.describe(f"serving {url} since {dt.datetime.now():%H:%M:%S}")
        if args.once:
            return 0
        while True:
            supervisor.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping the demo…", file=sys.stderr)
        return 0
    finally:
        supervisor.stop_all()
        lock.release()


def start_display(supervisor: Supervisor, args: argparse.Namespace, data: Path, mqtt_port: int,
                  display_password: str, server_url: str) -> str:
    """The waiting-room display (its own part, madoguchi.display), under Xvfb when there is no screen."""
    try:
        from madoguchi.display.demo import start_demo_display
    except ModuleNotFoundError:
        return "Waiting-room display: not installed (pip install 'madoguchi[display]')\n"
    return start_demo_display(supervisor.start, args.site, data, mqtt_port, display_password, server_url,
                              DEMO_PASSWORD, args.config_dir)


def start_kiosk(supervisor: Supervisor, args: argparse.Namespace, data: Path, server_url: str, token: str,
                printer_port: int, card_reader: str) -> str:
    """The touch kiosk (its own part, madoguchi.kiosk), under Xvfb when there is no screen."""
    try:
        from madoguchi.kiosk.demo import start_demo_kiosk
    except ModuleNotFoundError:
        return "Touch kiosk: not installed (pip install 'madoguchi[kiosk]')\n"
    return start_demo_kiosk(supervisor.start, args.site, data, server_url, token, f"tcp://127.0.0.1:{printer_port}",
                            card_reader)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def step(name: str) -> None:
    print(f"demo: starting {name}…", file=sys.stderr, flush=True)


def render_summary(args: argparse.Namespace, url: str, tokens: dict[str, str], ticket: dict, receipt: str,
                   mqtt_port: int, display_password: str, printed: Path, logs: Path, card_reader: str,
                   data: Path) -> str:
    lines = [
        "",
        f"madoguchi demo — site {args.site}, running (Ctrl-C stops everything)",
        "",
        "Open in a browser:",
        f"  API and its documentation   {url}/api/v1/docs",
        f"  the sample visit's page     {ticket['status_url']}",
        f"  staff pages (sign in)       {url}/staff/login",
        f"    counter console           {url}/staff/counter   (demo-counter, choose a counter)",
        f"    floor-guide board         {url}/staff/guide     (demo-guide; a tablet is fine)",
        f"    manager dashboard         {url}/staff/manager   (demo-manager: KPIs, CSV and XLSX)",
        f"    admin                     {url}/staff/admin     (demo-admin: users, devices, device health)",
        f"  health / metrics            {url}/healthz   {url}/metrics",
        "",
        f"Staff accounts (password {DEMO_PASSWORD}): demo-counter, demo-guide, demo-manager, demo-admin",
        f"  sign in:  curl -s -d 'username=demo-counter&password={DEMO_PASSWORD}&counter=c1' {url}/api/v1/auth/token",
        "  a whole visit, request by request: docs/walkthrough.md",
        "Device tokens:",
        f"  kiosk-demo    {tokens['kiosk']}",
        f"  display-demo  {tokens['display']}",
        f"  try:  curl -s -H 'Authorization: Bearer {tokens['display']}' {url}/api/v1/state",
        "",
        f"Sample visit: number {ticket['display_number']} ({ticket['band']}), "
        f"{len(ticket['plan'])} procedures: {', '.join(s['label'] for s in ticket['plan'])}",
        f"  its printed ticket: {receipt}",
        f"  every printed ticket lands in {printed} as PNG",
        "",
        f"MQTT broker (mosquitto) on 127.0.0.1:{mqtt_port}; watch the calls a display would show:",
        f"  mosquitto_sub -h 127.0.0.1 -p {mqtt_port} -u display-demo -P '{display_password}' "
        f"-t 'madoguchi/{args.site}/#' -v",
        f"Card reader: {card_reader}",
        "",
        *([f"Listening on every interface ({args.host}): phones and PCs on the LAN open the URLs above (the API "
           "docs and /metrics too, which a site server keeps to this machine and to managers); the broker, the "
           "printer and the card reader stay on this machine."] if is_wildcard(args.host) else []),
        f"Logs: {logs}    Data: {data}    This summary: {data / 'demo.txt'}",
    ]
    return "\n".join(lines) + "\n"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo", help="run a whole site here with virtual devices and print the URLs",
        description="Run one whole site on this machine: broker, virtual printer and card reader, the server, "
                    "demo accounts and a sample visit with its printed ticket. One demo per data folder; "
                    "Ctrl-C stops everything.")
    p.add_argument("--site", default="chuo", help="site id (a file config/sites/SITE.toml)")
    p.add_argument("--data-dir", type=Path, default=Path("var/demo"),
                   help="folder for the demo's database, logs, printed tickets and demo.txt (kept between runs)")
    p.add_argument("--config-dir", type=Path, default=None,
                   help="a city's own copy of config/ (default: the configuration built in)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address the server listens on; 0.0.0.0 makes it reachable from the LAN, with the "
                        "URLs and ticket QR codes on this machine's LAN address")
    p.add_argument("--port", type=int, default=8000, help="server port (another free one if taken)")
    p.add_argument("--mqtt-port", type=int, default=18830, help="demo broker port (another free one if taken)")
    p.add_argument("--printer-port", type=int, default=9100, help="virtual printer port (another if taken)")
    p.add_argument("--once", action="store_true", help="start everything, print the summary, stop (for checks)")
    p.set_defaults(handler=demo)


"""`madoguchi kiosk`: the touch kiosk against a site server (DESIGN §5 CLI contract).

Kivy, the printer and the card reader are imported inside the handler, so the dispatcher works on a
machine without the kiosk's extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import tempfile
from pathlib import Path

from madoguchi.common.cli import CommandError

log = logging.getLogger(__name__)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: a size between 320x240 and 7680x4320")
    return width, height


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("kiosk", help="run the touch kiosk (Kivy) against a site server")
    p.add_argument("--site", required=True, help="site id, e.g. chuo")
    p.add_argument("--server", required=True, help="the site server's base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--token-file", type=Path, required=True,
                   help="file with this kiosk's device token (madoguchi device add NAME --kind kiosk)")
    p.add_argument("--printer", default=None, help="ticket printer URI: tcp://HOST:PORT, usb://VID:PID, "
                                                   "serial:///dev/ttyS0?baudrate=115200")
    p.add_argument("--reader", default=None, help="PC/SC card reader name (default: the first one)")
    screen = p.add_mutually_exclusive_group()
    screen.add_argument("--size", type=_size, default=None, help="window size WxH, e.g. 800x480")
    screen.add_argument("--fullscreen", action="store_true", help="full screen; only the staff PIN leaves it")
    p.add_argument("--screenshot-dir", type=Path, default=None, help="write a PNG of every screen shown here")
    p.add_argument("--dpi", type=float, default=96.0, help="pixels per inch of the touch screen")
    p.add_argument("--staff-pin-file", type=Path, default=None,
                   help="file with the staff PIN that leaves full screen (else MADOGUCHI_STAFF_PIN)")
    p.add_argument("--status-file", type=Path, default=None, help="write the device status here as JSON")
    p.add_argument("--device", default="kiosk", help="this kiosk's device name in its status")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from madoguchi.kiosk.client import read_token
    from madoguchi.kiosk.settings import KioskSettings

    settings = KioskSettings(site=args.site, server=args.server, token_file=args.token_file, printer=args.printer,
                             reader=args.reader, size=args.size, fullscreen=args.fullscreen,
                             screenshot_dir=args.screenshot_dir, dpi=args.dpi, staff_pin_file=args.staff_pin_file,
                             status_file=args.status_file, device=args.device)
    try:
        token = read_token(settings.token_file)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the kiosk token: {exc}") from None
    prepare_kivy(settings.size, settings.fullscreen)
    return run_app(settings, token)


def prepare_kivy(size: tuple[int, int] | None, fullscreen: bool) -> None:
    """Kivy reads its environment and config at import: set them first (no argv parsing, own home)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", os.path.join(tempfile.gettempdir(), f"madoguchi-kivy-{os.getuid()}"))
    from kivy.config import Config

    width, height = size or (1920, 1080)
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def build_devices(settings):  # type: ignore[no-untyped-def]
    printer = reader = None
    if settings.printer:
        from madoguchi.hardware.printer import EscposTicketPrinter

        printer = EscposTicketPrinter(settings.printer)
    try:
        import smartcard  # noqa: F401
    except ImportError:
        log.warning("kiosk: pyscard is not installed; the My Number card cannot be used")
    else:
        from madoguchi.hardware.cardreader import PcscCardReader

        reader = PcscCardReader(settings.reader)
    return printer, reader


def run_app(settings, token: str) -> int:  # type: ignore[no-untyped-def]
    from kivy.clock import Clock

    from madoguchi.kiosk.app import KioskApp, KioskController
    from madoguchi.kiosk.client import KioskClient
    from madoguchi.kiosk.settings import staff_pin_checker
    from madoguchi.kiosk.status import StatusReporter, StatusSender

    client = KioskClient(settings.server, token, timeout_s=settings.request_timeout_s)
    printer, reader = build_devices(settings)
    status = StatusReporter(settings.device, settings.site, settings.status_file,
                            sender=StatusSender(client.report_status))
    if printer is not None:
        status.update(printer=printer.health().status.value)

    def factory(on_exit):  # type: ignore[no-untyped-def]
        return KioskController(client=client, printer=printer, reader=reader, status=status,
                               staff_pin_ok=staff_pin_checker(settings), dpi=settings.dpi,
                               default_language=settings.default_language,
                               screenshot_dir=settings.screenshot_dir, on_exit=on_exit)

    app = KioskApp(factory, fullscreen=settings.fullscreen)
    # systemd and the demo stop the kiosk with SIGTERM: leave cleanly (status offline, threads joined).
    signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: app.leave(), 0))
    try:
        app.run()
    finally:
        client.close()
        if reader is not None:
            reader.close()
    return 0

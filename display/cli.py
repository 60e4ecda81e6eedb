"""``madoguchi display``: the waiting-room board of one site (DESIGN §5 CLI contract).

pygame and paho are imported inside the handler, so ``madoguchi --help`` works on any box.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from pathlib import Path

from madoguchi.common.cli import CommandError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("display", help="waiting-room display: live board, chime and speech over MQTT",
                              description="Shows a site's calls and waits from its MQTT broker, full screen, "
                                          "and announces each new call (chime, then speech).")
    p.add_argument("--site", required=True, help="site id (chuo, higashi, …)")
    p.add_argument("--config-dir", type=Path, default=None, help="a city's own configuration folder")
    p.add_argument("--broker-host", default=None, help="MQTT broker (default: the site file's [broker] host)")
    p.add_argument("--broker-port", type=int, default=None, help="its port (default: the site file's)")
    p.add_argument("--username", default=os.environ.get("MADOGUCHI_DISPLAY_USER", "display-1"),
                   help="this display's own broker user, also its device id (default display-1)")
    p.add_argument("--tls-ca-file", type=Path, default=None,
                   help="CA certificate that signed the broker's: connect over TLS (default: the site file's "
                        "[broker] tls_ca_file; none: plain MQTT, for a broker on this machine)")
    p.add_argument("--tls-cert-file", type=Path, default=None,
                   help="this display's client certificate, if the broker requires one (default: none)")
    p.add_argument("--tls-key-file", type=Path, default=None, help="its private key (default: none)")
    p.add_argument("--password-file", type=Path, default=None,
                   help="file holding the broker password (else MADOGUCHI_MQTT_PASSWORD)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--size", default=None, help="window size WIDTHxHEIGHT, e.g. 1920x1080 or 1080x1920")
    size.add_argument("--fullscreen", action="store_true", help="use the whole screen")
    p.add_argument("--screenshot-dir", type=Path, default=None,
                   help="write screen.png (and screen.json) after each change, at most once a second")
    p.add_argument("--no-audio", action="store_true", help="no chime and no speech")
    p.add_argument("--mute", action="store_true", help="announce silently (WAVs are still written)")
    p.add_argument("--audio-dir", type=Path, default=None, help="also write each announcement as WAV files")
    p.add_argument("--run-for", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--frame-log", type=Path, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        try:
            return args.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(f"--password-file {args.password_file}: {exc.strerror}") from None
    return os.environ.get("MADOGUCHI_MQTT_PASSWORD")


def _tls(args: argparse.Namespace, site_ca_file: str | None) -> dict[str, str | None]:
    """The TLS files, each checked readable now (a typo is a clear error, not a silent retry loop)."""
    files = {"tls_ca_file": args.tls_ca_file or (Path(site_ca_file) if site_ca_file else None),
             "tls_cert_file": args.tls_cert_file, "tls_key_file": args.tls_key_file}
    if files["tls_cert_file"] is not None and files["tls_ca_file"] is None:
        raise CommandError("--tls-cert-file needs --tls-ca-file (the CA that signed the broker's certificate)")
    for name, path in files.items():
        if path is not None and not path.is_file():
            raise CommandError(f"--{name.replace('_', '-')} {path}: file not found")
    return {name: str(path) if path is not None else None for name, path in files.items()}


def run(args: argparse.Namespace) -> int:
    from madoguchi.display.layout import parse_size
    from madoguchi.display.settings import load_settings, load_site

    site = load_site(args.config_dir, args.site)
    settings = load_settings(args.config_dir, args.site)
    try:
        size = parse_size(args.size) if args.size else None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.audio_dir is not None:
        args.audio_dir.mkdir(parents=True, exist_ok=True)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("SDL_VIDEODRIVER")):
        log.warning("no screen (DISPLAY unset): drawing off-screen; run under Xvfb or on the display's X session")
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

    from madoguchi.display.app import DisplayApp, Options
    from madoguchi.display.audio import Announcer
    from madoguchi.display.subscriber import BrokerSettings, Subscriber

    broker = BrokerSettings(host=args.broker_host or site.broker_host, port=args.broker_port or site.broker_port,
                            username=args.username, password=_password(args), **_tls(args, site.broker_tls_ca_file))
    announcer = Announcer(settings.spoken_languages, settings.volume, enabled=not args.no_audio, muted=args.mute,
                          audio_dir=args.audio_dir)
    app = DisplayApp(Options(args.site, size, args.fullscreen, args.screenshot_dir, site.timezone, args.run_for,
                             args.frame_log),
                     settings, Subscriber(args.site, broker), announcer)
    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    log.info("display for %s: broker %s:%d as %s%s", args.site, broker.host, broker.port, broker.username,
             f", screenshots in {args.screenshot_dir}" if args.screenshot_dir else "")
    app.run()
    return 0

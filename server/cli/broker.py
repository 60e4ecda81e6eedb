"""`madoguchi broker`: render a site's mosquitto configuration, password file and ACL (DESIGN §5, §6).

The accounts are the site server's broker user and one per display and kiosk registered with
`madoguchi device add` in the site's data folder (revoked devices get none). Each account's password
is written to OUT/credentials/USER.password (0600) for the installer to hand to that device; an
account whose file exists keeps its password, so rendering again after adding a device changes
nobody else's.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from madoguchi.common.cli import CommandError

DEFAULT_DATA_DIR = Path("/var/lib/madoguchi")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "broker", help="write a site's mosquitto config, password file and ACL from its devices",
        description="Render the site broker's mosquitto.conf, passwd (hashed) and acl into --out, with one "
                    "broker user per display and kiosk of the site (madoguchi device add) and one for the "
                    "server. Beyond localhost the broker listens with TLS only (--certfile, --keyfile, "
                    "--cafile; see docs/mqtt.md).")
    p.add_argument("--site", required=True, help="site id (a file config/sites/SITE.toml)")
    p.add_argument("--out", type=Path, required=True, help="folder to write mosquitto.conf, passwd, acl and "
                                                          "credentials/ into")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="the site server's data folder, whose devices get broker users")
    p.add_argument("--config-dir", type=Path, default=None,
                   help="a city's own copy of config/ (default: the configuration built in)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="address displays and kiosks connect to; anything beyond localhost needs TLS")
    p.add_argument("--port", type=int, default=1883, help="plain MQTT port (on this machine only)")
    p.add_argument("--tls-port", type=int, default=8883, help="TLS port on the --bind address")
    p.add_argument("--certfile", type=Path, help="the broker's certificate (PEM)")
    p.add_argument("--keyfile", type=Path, help="its private key (PEM)")
    p.add_argument("--cafile", type=Path, help="the CA certificate that signed it (PEM)")
    p.add_argument("--require-certificate", action="store_true",
                   help="also require a client certificate signed by --cafile from every client")
    p.add_argument("--persistence-dir", type=Path, default=Path("/var/lib/mosquitto"),
                   help="where mosquitto keeps retained messages and sessions")
    p.add_argument("--log-file", type=Path, help="mosquitto's log file (default: stderr, i.e. the journal)")
    p.add_argument("--run-as", help="user mosquitto switches to when started as root (default: mosquitto)")
    p.set_defaults(handler=broker_command)


def broker_command(args: argparse.Namespace) -> int:
    from madoguchi.server.config.schema import ConfigError, default_config_dir, load_site
    from madoguchi.server.mqtt.mosquitto import BrokerAccount, BrokerTls, is_local, render_site_broker

    config_dir = args.config_dir or default_config_dir()
    try:
        site = load_site(config_dir, args.site)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    tls = _tls(args, BrokerTls)
    if tls is None and not is_local(args.bind):
        raise CommandError(f"--bind {args.bind} is beyond localhost: give --certfile, --keyfile and --cafile "
                           "for its TLS listener (docs/mqtt.md, certificates)")
    devices = _devices(args.data_dir, args.site)
    credentials = args.out / "credentials"
    server_user = site.broker.username or f"server-{args.site}"
    accounts = [BrokerAccount.server(server_user, _password(credentials, server_user))]
    for name, kind in devices:
        accounts.append(BrokerAccount.device(name, kind, _password(credentials, name)))  # type: ignore[arg-type]
    try:
        rendered = render_site_broker(args.site, args.out, accounts, port=args.port, bind_address=args.bind,
                                      persistence_dir=args.persistence_dir, log_file=args.log_file,
                                      run_as=args.run_as, config_dir=config_dir, tls=tls)
    except (ValueError, RuntimeError) as exc:
        raise CommandError(str(exc)) from None
    for account in accounts:
        _write_secret(credentials / f"{account.username}.password", account.password)
    print(f"site {args.site}: {len(accounts)} broker users (server {server_user}, "
          f"{len(devices)} devices) written to {args.out}", file=sys.stderr)
    print(f"  mosquitto -c {rendered.config_path}", file=sys.stderr)
    print(f"  passwords for each device in {credentials}/ (the server's goes to MADOGUCHI_MQTT_PASSWORD)",
          file=sys.stderr)
    return 0


def _tls(args: argparse.Namespace, tls_type: type) -> object | None:
    given = [args.certfile, args.keyfile, args.cafile]
    if not any(given):
        return None
    if not all(given):
        raise CommandError("TLS needs all three of --certfile, --keyfile and --cafile")
    for path in given:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
    return tls_type(certfile=args.certfile.resolve(), keyfile=args.keyfile.resolve(), cafile=args.cafile.resolve(),
                    port=args.tls_port, require_certificate=args.require_certificate)


def _devices(data_dir: Path, site: str) -> list[tuple[str, str]]:
    """(name, kind) of the site's displays and kiosks that are not revoked; opens nothing for writing."""
    from madoguchi.server.storage.accounts import Accounts
    from madoguchi.server.storage.database import database_path

    path = database_path(data_dir.resolve(), site)
    if not path.is_file():
        raise CommandError(f"no database of site {site!r} in the data folder {data_dir.resolve()} (nothing was "
                           "created): give the server's folder with --data-dir; devices come from "
                           "`madoguchi device add`")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(name, kind) for name, kind, revoked in Accounts(conn).devices()
                if not revoked and kind in ("display", "kiosk")]
    finally:
        conn.close()


def _password(credentials: Path, username: str) -> str | None:
    path = credentials / f"{username}.password"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")

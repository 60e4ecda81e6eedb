"""Server subcommands: serve, check-config, user, device, export, backup, demo."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from madoguchi.common.cli import CommandError
from madoguchi.server.storage.roles import Role

if TYPE_CHECKING:
    from madoguchi.server.storage.accounts import Accounts

T = TypeVar("T")

DEFAULT_DATA_DIR = Path("/var/lib/madoguchi")




def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default="chuo", help="site id (a file config/sites/SITE.toml)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="where the site database lives (`make demo` uses var/demo)")
    _config_option(parser)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-dir", type=Path, default=None,
                        help="a city's own copy of config/ (default: the configuration built in)")


def _existing_database(args: argparse.Namespace) -> Path:
    """The site database a reading command opens; refuses, creating nothing, when there is none."""
    from madoguchi.server.storage.database import database_path

    path = database_path(args.data_dir.resolve(), args.site)
    if not path.is_file():
        raise CommandError(f"no database of site {args.site!r} in the data folder {args.data_dir.resolve()} "
                           f"(looked for {path.name}; nothing was created). Give the server's folder with "
                           f"--data-dir, e.g. --data-dir var/demo for `make demo`.")
    return path


def _settings(args: argparse.Namespace, **extra: object):
    from madoguchi.server.composition import Settings
    from madoguchi.server.config.loading import check_config
    from madoguchi.server.config.schema import ConfigError, default_config_dir

    config_dir = args.config_dir or default_config_dir()
    problems = check_config(config_dir)
    if problems:
        raise CommandError("configuration has problems:\n  " + "\n  ".join(problems))
    try:
        return Settings(site=args.site, data_dir=args.data_dir, config_dir=config_dir, **extra)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _services(args: argparse.Namespace, **extra: object):
    from madoguchi.server.composition import build
    from madoguchi.server.config.schema import ConfigError

    settings = _settings(args, **extra)
    try:
        return build(settings)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def serve(args: argparse.Namespace) -> int:
    import datetime as dt

    import uvicorn

    from madoguchi.server.api.app import create_app
    from madoguchi.server.composition import build
    from madoguchi.server.config.schema import ConfigError
    from madoguchi.server.mqtt.paho_publisher import site_publisher

    public_url = args.public_url or f"http://{url_host(args.host)}:{args.port}"
    if not args.device_stale_s > 0:
        raise CommandError(f"--device-stale-s {args.device_stale_s:g}: must be more than 0 seconds")
    settings = _settings(args, ignore_hours=args.ignore_hours, public_url=public_url, public_ops=args.public_ops,
                         device_stale=dt.timedelta(seconds=args.device_stale_s))
    try:
        publisher = site_publisher(settings, host=args.mqtt_host, port=args.mqtt_port) if args.mqtt else None
        services = build(settings, publisher=publisher)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    services.start_day_keeper()
    if publisher is not None:
        # connects in the background; requests never wait for the broker
        publisher.start(services.state, services.clock.now, services.devices.report)  # displays' health too
    calm_garbage_collector()
    try:
        uvicorn.run(create_app(services), host=args.host, port=args.port, log_level="warning",
                    access_log=False, timeout_graceful_shutdown=5)
    finally:
        services.close()
    return 0


def url_host(host: str) -> str:
    """The host for the URLs a server listening on ``host`` hands out: its LAN address for 0.0.0.0."""
    from madoguchi.server.cli.demo_runtime import is_wildcard, lan_address

    return (lan_address() or "127.0.0.1") if is_wildcard(host) else host


def calm_garbage_collector() -> None:
    """A day's tickets are tens of thousands of long-lived objects: move what start-up made out of the
    collector's sight and collect the young generation less often, so no request waits on a full
    collection of a big heap (seen as 50–60 ms p99 spikes under load)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def check_config_command(args: argparse.Namespace) -> int:
    from madoguchi.server.config.loading import check_config
    from madoguchi.server.config.schema import default_config_dir, site_ids

    config_dir = args.config_dir or default_config_dir()
    problems = check_config(config_dir)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {config_dir}", file=sys.stderr)
        return 1
    print(f"configuration OK: catalog and {len(site_ids(config_dir))} sites in {config_dir}")
    return 0


def _read_accounts(args: argparse.Namespace, read: Callable[[Accounts], T]) -> tuple[T, Path]:
    """What ``read`` finds in the accounts of an existing database, opened read-only (nothing is created)."""
    from madoguchi.server.storage.accounts import Accounts
    from madoguchi.server.storage.database import connect_read_only

    path = _existing_database(args)
    conn = connect_read_only(path)
    try:
        return read(Accounts(conn)), path
    finally:
        conn.close()


def user(args: argparse.Namespace) -> int:
    from madoguchi.server.storage.accounts import Accounts, Role

    if args.user_command == "list":
        users, path = _read_accounts(args, Accounts.users)
        print(f"{len(users)} user(s) of site {args.site} in {path}", file=sys.stderr)
        for name, role, disabled in users:
            print(f"{name}\t{role}\t{'disabled' if disabled else 'active'}")
        return 0
    if args.user_command in ("disable", "unlock"):
        _existing_database(args)
    services = _services(args)
    try:
        now = services.clock.now()
        if args.user_command == "add":
            password = os.environ.get("MADOGUCHI_PASSWORD") or getpass.getpass(f"password for {args.name}: ")
            if len(password) < 8:
                raise CommandError("the password must have at least 8 characters")
            with services.lock:
                services.accounts.add_user(args.name, Role(args.role), password, now)
            print(f"user {args.name} ({args.role}) saved in {services.settings.database_path.resolve()}",
                  file=sys.stderr)
        elif args.user_command == "disable":
            with services.lock:
                if not services.accounts.disable_user(args.name):
                    raise CommandError(f"no user {args.name!r} in {services.settings.database_path}")
            print(f"user {args.name} disabled; their sessions are closed", file=sys.stderr)
        elif args.user_command == "unlock":
            with services.lock:
                if not services.accounts.unlock_user(args.name):
                    raise CommandError(f"no user {args.name!r} in {services.settings.database_path}")
            print(f"user {args.name} unlocked: they may sign in again", file=sys.stderr)
    finally:
        services.close()
    return 0


def device(args: argparse.Namespace) -> int:
    from madoguchi.server.storage.accounts import Accounts, DeviceKind

    if args.device_command == "list":
        devices, path = _read_accounts(args, Accounts.devices)
        print(f"{len(devices)} device(s) of site {args.site} in {path}", file=sys.stderr)
        for name, kind, revoked in devices:
            print(f"{name}\t{kind}\t{'revoked' if revoked else 'active'}")
        return 0
    if args.device_command == "revoke":
        _existing_database(args)
    services = _services(args)
    try:
        with services.lock:
            if args.device_command == "add":
                print(services.accounts.add_device(args.name, DeviceKind(args.kind), services.clock.now()))
            elif args.device_command == "revoke":
                if not services.accounts.revoke_device(args.name):
                    raise CommandError(f"no device {args.name!r} in {services.settings.database_path}")
                print(f"device {args.name} revoked", file=sys.stderr)
    finally:
        services.close()
    return 0


def export(args: argparse.Namespace) -> int:
    from madoguchi.server import reports
    from madoguchi.server.core.errors import DomainError

    _existing_database(args)
    services = _services(args)
    try:
        with services.lock:
            first, last = reports.date_range(args.date_from, args.date_to, services.clock.now().date())
            rows = reports.visits(services.store.conn, args.site, first, last)
        names = reports.Names.of(services.office.catalog, services.office.bands)
    except DomainError as exc:
        raise CommandError(f"{exc.params.get('detail', exc.code)}") from None
    finally:
        services.close()
    data = (reports.to_csv if args.format == "csv" else reports.to_xlsx)(rows, names, args.lang)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{len(rows)} visits from {first} to {last} written to {args.out}", file=sys.stderr)
    return 0


def backup_command(args: argparse.Namespace) -> int:
    from madoguchi.server.storage.database import backup

    source = _existing_database(args)
    target = args.out or args.data_dir / "backups" / f"{args.site}-{_stamp()}.sqlite3"

    def progress(done: int, total: int) -> None:
        print(f"\rbackup: {done}/{total} pages", end="", file=sys.stderr, flush=True)

    backup(source, target, progress)
    print(f"\nbackup written to {target}", file=sys.stderr)
    return 0


def _stamp() -> str:
    import datetime as dt
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("serve", help="run the site server (REST API, status pages)",
                              description="Run one site's server: the REST API under /api/v1 (documented at "
                                          "/api/v1/docs), the residents' status pages, /healthz and /metrics.")
    _site_options(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (0.0.0.0 for every interface of the machine)")
    p.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    p.add_argument("--public-url", help="base URL printed in ticket QR codes (default http://HOST:PORT, with "
                                        "this machine's LAN address for HOST 0.0.0.0)")
    p.add_argument("--ignore-hours", action="store_true", help="issue tickets outside reception hours (demos, tests)")
    p.add_argument("--public-ops", action="store_true",
                   help="serve /metrics and the API docs to every caller (default: only to this machine and to "
                        "manager and admin tokens)")
    p.add_argument("--mqtt", action=argparse.BooleanOptionalAction, default=True,
                   help="publish state, calls and events to the site's MQTT broker (default: on; password from "
                        "MADOGUCHI_MQTT_PASSWORD)")
    p.add_argument("--mqtt-host", help="broker host (default: broker.host of the site file)")
    p.add_argument("--mqtt-port", type=int, help="broker port (default: broker.port of the site file)")
    p.add_argument("--device-stale-s", type=float, default=180, metavar="S",
                   help="seconds of silence after which a kiosk or display is shown offline (default 180; "
                        "they report every minute)")
    p.set_defaults(handler=serve)

    p = subparsers.add_parser("check-config", help="validate the catalog and every site file",
                              description="Check the catalog and every site file; print one line per problem.")
    _config_option(p)
    p.set_defaults(handler=check_config_command)

    p = subparsers.add_parser("user", help="staff users: add, list, disable, unlock",
                              description="Staff accounts of one site (roles: counter, guide, manager, admin).")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = users.add_parser("add", help="add or update a user (password from MADOGUCHI_PASSWORD or a prompt)",
                           description="Add a staff user, or set a new password and role for an existing one. "
                                       "Creates the site database if there is none yet.")
    add.add_argument("name", help="the user name staff sign in with")
    add.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the user may do")
    _site_options(add)
    listing = users.add_parser("list", help="list users, their role and whether they are active",
                               description="List the site's staff users (reads the database, creates nothing).")
    _site_options(listing)
    disable = users.add_parser("disable", help="disable a user and close their sessions")
    disable.add_argument("name", help="the user to disable")
    _site_options(disable)
    unlock = users.add_parser("unlock", help="lift the lock-out after too many wrong passwords",
                              description="Let a user locked after repeated wrong passwords sign in again.")
    unlock.add_argument("name", help="the user to unlock")
    _site_options(unlock)
    p.set_defaults(handler=user)

    p = subparsers.add_parser("device", help="kiosk and display tokens: add (prints the token), revoke, list",
                              description="Device tokens of one site: each kiosk and display has its own.")
    devices = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    add = devices.add_parser("add", help="add a device and print its token (only its hash is stored)",
                             description="Add a device; only the token is printed on stdout, to put on the device. "
                                         "Creates the site database if there is none yet.")
    add.add_argument("name", help="device name, e.g. kiosk-1")
    add.add_argument("--kind", required=True, choices=["kiosk", "display"], help="what the device is")
    _site_options(add)
    revoke = devices.add_parser("revoke", help="revoke a device's token")
    revoke.add_argument("name", help="the device to revoke")
    _site_options(revoke)
    listing = devices.add_parser("list", help="list devices, their kind and whether they are revoked",
                                 description="List the site's devices (reads the database, creates nothing).")
    _site_options(listing)
    p.set_defaults(handler=device)

    p = subparsers.add_parser("export", help="per-visit rows as CSV (UTF-8 with BOM) or XLSX",
                              description="Write one row per visit of the given days (reads the database).")
    _site_options(p)
    p.add_argument("--from", dest="date_from", help="first service day, YYYY-MM-DD (default: today)")
    p.add_argument("--to", dest="date_to", help="last service day, YYYY-MM-DD (default: --from)")
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="file format")
    p.add_argument("--lang", choices=["ja", "en"], default="ja", help="language of the column headers and names")
    p.add_argument("--out", type=Path, required=True, help="file to write")
    p.set_defaults(handler=export)

    p = subparsers.add_parser("backup", help="online backup of the site database",
                              description="Copy the site database while the server runs (SQLite backup API).")
    p.add_argument("--site", default="chuo", help="site id")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where the site database lives")
    p.add_argument("--out", type=Path, help="backup file (default DATA_DIR/backups/SITE-TIMESTAMP.sqlite3)")
    p.set_defaults(handler=backup_command)

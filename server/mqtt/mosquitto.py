"""Render a site's mosquitto configuration: config file, ACL and hashed password file (DESIGN §6).

Used by the MQTT tests, the demo and an installer. Every client has its own broker user:

- the **server** writes its site's ``state``, ``calls``, ``events``, its own status and its kiosks' (which
  speak REST only), and reads the devices' statuses (the floor guide's alerts), nothing else;
- a **display** reads ``madoguchi/{site}/#`` and writes only its own ``devices/{device}/status``;
- a **kiosk** writes only its own ``devices/{device}/status``.

Passwords are hashed with ``mosquitto_passwd -U`` (PBKDF2-SHA512); no plain password is left on disk
except a bridge's ``remote_password``, which mosquitto needs in clear (the file is made 0600).

Client ids are bound to user names (``use_username_as_clientid``). The plain listener is on this
machine only; a broker that binds beyond localhost gets a TLS listener (``BrokerTls``) and cannot be
rendered without one.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Literal

from madoguchi.common.protocol import (
    ROOT,
    SERVER_DEVICE,
    calls_topic,
    device_status_topic,
    events_topic,
    site_filter,
    state_topic,
)
from madoguchi.server.config.schema import default_config_dir

Role = Literal["server", "display", "kiosk"]
CITY_VIEW_USER = "city-view"


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class BrokerAccount:
    username: str
    role: Role
    device: str
    """The device id in ``madoguchi/{site}/devices/{device}/status``; the server's is ``server``."""
    password: str = field(default_factory=new_password, repr=False)

    @classmethod
    def server(cls, username: str, password: str | None = None) -> BrokerAccount:
        return cls(username, "server", SERVER_DEVICE, password or new_password())

    @classmethod
    def device(cls, name: str, role: Literal["display", "kiosk"], password: str | None = None) -> BrokerAccount:
        """A display or kiosk: its broker user and its device id are the same name."""
        return cls(name, role, name, password or new_password())


@dataclass(frozen=True)
class BridgeTarget:
    """The city's central broker, as seen from a site broker."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    cafile: Path | None = None
    """CA of the central broker's certificate; None only for a test bridge on the same machine."""


@dataclass(frozen=True)
class BrokerTls:
    """The site broker's TLS listener: its certificate and key, and the CA that signed it (which
    displays, kiosks and the server trust)."""

    certfile: Path
    keyfile: Path
    cafile: Path
    port: int = 8883
    require_certificate: bool = False
    """Also ask every client for a certificate signed by ``cafile`` (mutual TLS)."""


def is_local(address: str) -> bool:
    """A bind address on this machine only (127.0.0.0/8, ::1, localhost)."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from the network


@dataclass(frozen=True)
class RenderedBroker:
    directory: Path
    port: int
    config_path: Path
    acl_path: Path
    password_path: Path
    accounts: dict[str, BrokerAccount]
    tls_port: int | None = None
    """The TLS listener's port (on the bind address), if there is one."""

    def command(self) -> list[str]:
        return ["mosquitto", "-c", str(self.config_path)]

    def account(self, username: str) -> BrokerAccount:
        return self.accounts[username]


def site_acl(site: str, accounts: Iterable[BrokerAccount]) -> str:
    """ACL lines for one site broker: what each account may read and write."""
    lines = [f"# madoguchi site {site}: one block per broker user (rendered by madoguchi.server.mqtt.mosquitto)", ""]
    accounts = list(accounts)
    # kiosks talk REST only: the server republishes their status on their own topic
    kiosk_status = [f"topic write {device_status_topic(site, a.device)}" for a in accounts if a.role == "kiosk"]
    for account in accounts:
        own_status = device_status_topic(site, account.device)
        lines.append(f"user {account.username}")
        if account.role == "server":
            lines += [f"topic write {state_topic(site)}", f"topic write {calls_topic(site)}",
                      f"topic write {events_topic(site)}", f"topic write {own_status}", *kiosk_status,
                      f"topic read {ROOT}/{site}/devices/+/status"]
        elif account.role == "display":
            lines += [f"topic read {site_filter(site)}", f"topic write {own_status}"]
        else:
            lines.append(f"topic write {own_status}")
        lines.append("")
    return "\n".join(lines)


def example_accounts() -> list[BrokerAccount]:
    """The accounts of config/mosquitto/chuo.acl.example (two displays, two kiosks)."""
    return [BrokerAccount.server("server-chuo", "-"), BrokerAccount.device("display-1", "display", "-"),
            BrokerAccount.device("display-2", "display", "-"), BrokerAccount.device("kiosk-1", "kiosk", "-"),
            BrokerAccount.device("kiosk-2", "kiosk", "-")]


def central_acl(sites: Iterable[str]) -> str:
    """ACL of the city's central broker: each site's bridge writes its state and events; the city view reads."""
    lines = ["# madoguchi central broker (rendered by madoguchi.server.mqtt.mosquitto)",
             "pattern write $SYS/broker/connection/%c/state", ""]
    for site in sites:
        lines += [f"user {bridge_user(site)}", f"topic write {state_topic(site)}",
                  f"topic write {events_topic(site)}", ""]
    lines += [f"user {CITY_VIEW_USER}", f"topic read {ROOT}/+/state", f"topic read {ROOT}/+/events", ""]
    return "\n".join(lines)


def bridge_user(site: str) -> str:
    return f"bridge-{site}"


def render_site_broker(site: str, directory: Path, accounts: Sequence[BrokerAccount], *, port: int = 1883,
                       bind_address: str = "127.0.0.1", persistence_dir: Path | None = None,
                       log_file: Path | None = None, run_as: str | None = None, bridge: BridgeTarget | None = None,
                       config_dir: Path | None = None, tls: BrokerTls | None = None) -> RenderedBroker:
    """Write ``mosquitto.conf``, ``acl`` and ``passwd`` for ``site`` into ``directory``.

    The plain listener (``port``) is on ``bind_address`` when that is this machine, else on 127.0.0.1
    (for the server on the same machine); beyond localhost, clients connect to the TLS listener on
    ``bind_address`` (``tls`` is then required).

    ``run_as``: the user mosquitto switches to when started as root (default: its own ``mosquitto``
    user, which must be able to read the files). A private broker started by root for tests or the demo
    passes ``"root"``, because it cannot read files under a private temporary directory otherwise.
    """
    if tls is None and not is_local(bind_address):
        raise ValueError(f"a broker bound to {bind_address} (beyond localhost) needs TLS: give its certificate, "
                         "key and CA (docs/mqtt.md, certificates)")
    usernames = [a.username for a in accounts]
    if len(set(usernames)) != len(usernames):
        raise ValueError(f"duplicate broker users: {sorted(u for u in usernames if usernames.count(u) > 1)}")
    if [a for a in accounts if a.role != "server" and a.device == SERVER_DEVICE]:
        raise ValueError(f"device id {SERVER_DEVICE!r} is the site server's")
    for account in accounts:
        device_status_topic(site, account.device)  # validates both segments
    templates = (config_dir or default_config_dir()) / "mosquitto"
    directory.mkdir(parents=True, exist_ok=True)
    acl_path, password_path, config_path = directory / "acl", directory / "passwd", directory / "mosquitto.conf"
    acl_path.write_text(site_acl(site, accounts), encoding="utf-8")
    write_password_file(password_path, [(a.username, a.password) for a in accounts])
    bridge_section = ""
    if bridge is not None:
        bridge_section = "\n" + _bridge_section(templates, site, bridge)
    text = Template((templates / "site.conf.template").read_text(encoding="utf-8")).substitute(
        site=site, port=port, local_address=bind_address if is_local(bind_address) else "127.0.0.1",
        tls_listener=_tls_listener(tls, bind_address), password_file=password_path, acl_file=acl_path,
        run_as=f"user {run_as}" if run_as else "",
        persistence=(f"persistence true\npersistence_location {persistence_dir}/" if persistence_dir
                     else "persistence false"),
        log_dest=f"file {log_file}" if log_file else "stderr",
        bridge=bridge_section,
    )
    _write_private(config_path, text)
    return RenderedBroker(directory, port, config_path, acl_path, password_path,
                          {a.username: a for a in accounts}, tls.port if tls else None)


def _tls_listener(tls: BrokerTls | None, bind_address: str) -> str:
    if tls is None:
        return "# no TLS listener: this broker is reachable from this machine only"
    for path in (tls.certfile, tls.keyfile, tls.cafile):
        if not path.is_file():
            raise ValueError(f"TLS file {path} does not exist")
    lines = [f"listener {tls.port} {bind_address}", f"cafile {tls.cafile}", f"certfile {tls.certfile}",
             f"keyfile {tls.keyfile}", "tls_version tlsv1.2", "use_username_as_clientid true"]
    if tls.require_certificate:
        lines.append("require_certificate true")
    return "\n".join(lines)


def render_central_broker(directory: Path, bridge_passwords: dict[str, str], city_view_password: str, *,
                          port: int, bind_address: str = "127.0.0.1", run_as: str | None = None) -> RenderedBroker:
    """A city broker that accepts the given sites' bridges (for tests of the bridge example)."""
    directory.mkdir(parents=True, exist_ok=True)
    acl_path, password_path, config_path = directory / "acl", directory / "passwd", directory / "mosquitto.conf"
    acl_path.write_text(central_acl(bridge_passwords), encoding="utf-8")
    users = [(bridge_user(site), password) for site, password in bridge_passwords.items()]
    write_password_file(password_path, [*users, (CITY_VIEW_USER, city_view_password)])
    lines = ["per_listener_settings false", "allow_anonymous false", f"password_file {password_path}",
             f"acl_file {acl_path}", f"listener {port} {bind_address}", "use_username_as_clientid true",
             "persistence false", "log_dest stderr"]
    if run_as:
        lines.append(f"user {run_as}")
    _write_private(config_path, "\n".join(lines) + "\n")
    return RenderedBroker(directory, port, config_path, acl_path, password_path, {})


def write_password_file(path: Path, users: Sequence[tuple[str, str]]) -> None:
    """A mosquitto password file: written 0600 in clear, then hashed in place by ``mosquitto_passwd -U``."""
    for name, password in users:
        if ":" in name or "\n" in name + password:
            raise ValueError(f"broker user {name!r}: no ':' in names and no line breaks")
    _write_private(path, "".join(f"{name}:{password}\n" for name, password in users))
    result = subprocess.run(["mosquitto_passwd", "-U", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        path.unlink()
        raise RuntimeError(f"mosquitto_passwd -U failed ({result.returncode}): {result.stderr.strip()}")


def _bridge_section(templates: Path, site: str, target: BridgeTarget) -> str:
    tls = f"bridge_cafile {target.cafile}" if target.cafile else "# no TLS: a test bridge on this machine only"
    return Template((templates / "bridge.conf.template").read_text(encoding="utf-8")).substitute(
        site=site, connection=f"city-{site}", address=f"{target.host}:{target.port}",
        remote_username=target.username, remote_password=target.password, tls=tls)


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_text(text, encoding="utf-8")

"""Fixtures for the display: a real mosquitto with the site's ACL, a live server publishing to it, and
``madoguchi display`` as a real process (SDL off-screen video, dummy audio) writing screenshots and WAVs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from madoguchi.server.mqtt.paho_publisher import PASSWORD_ENV
from tests.live import LiveServer, stop_process, wait_until
from tests.mqtt.broker import SERVER_USER, Mosquitto, start_site_broker

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots" / "display"



def display_config(tmp: Path, **display: object) -> Path:
    """A copy of config/ whose display.toml sets ``display`` (e.g. spoken_languages=["ja"])."""
    target = tmp / "config"
    shutil.copytree(ROOT / "config", target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    if display:
        lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in display.items()]
        text = (target / "display.toml").read_text(encoding="utf-8")
        # top-level keys must come before the first table
        head, sep, tables = text.partition("\n[")
        kept = [line for line in head.splitlines() if line.split("=")[0].strip() not in display]
        (target / "display.toml").write_text("\n".join([*kept, *lines]) + "\n" + sep.lstrip("\n") + tables,
                                             encoding="utf-8")
    return target


@dataclass
class DisplayProcess:
    """``madoguchi display`` run for real; its screen.json / announcements.jsonl are what it showed and said."""

    broker: Mosquitto
    directory: Path
    config_dir: Path
    size: str = "1920x1080"
    username: str = "display-1"
    extra: tuple[str, ...] = ()
    password: str | None = None  # default: the account's own
    process: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def screens(self) -> Path:
        return self.directory / "screens"

    @property
    def audio(self) -> Path:
        return self.directory / "audio"

    def start(self) -> DisplayProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        password = self.directory / "password"
        password.write_text(self.password or self.broker.rendered.account(self.username).password)
        log = (self.directory / "display.log").open("ab")
        env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "PYTHONUNBUFFERED": "1",
               **self.env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "madoguchi.server.cli.main", "-v", "display", "--site", "chuo",
             "--config-dir", str(self.config_dir), "--broker-host", "127.0.0.1",
             "--broker-port", str(self.broker.port), "--username", self.username, "--password-file", str(password),
             "--size", self.size, "--screenshot-dir", str(self.screens), "--audio-dir", str(self.audio),
             *self.extra], stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        return self

    def log(self) -> str:
        path = self.directory / "display.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def screen(self) -> dict | None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"display exited with {self.process.returncode}: {self.log()[-2000:]}")
        path = self.screens / "screen.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def wait_screen(self, predicate, timeout_s: float = 10, what: str = "") -> dict:
        def check():
            info = self.screen()
            return info if info is not None and predicate(info) else None
        return wait_until(check, timeout_s, what or "a display screen", interval_s=0.1)

    def announcements(self) -> list[dict]:
        path = self.audio / "announcements.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def broker(tmp_path) -> Iterator[Mosquitto]:
    started = start_site_broker(tmp_path / "broker", persistence_dir=tmp_path / "broker-data")
    yield started
    started.stop()


@pytest.fixture
def server(tmp_path, broker, monkeypatch) -> Iterator[LiveServer]:
    monkeypatch.setenv(PASSWORD_ENV, broker.rendered.account(SERVER_USER).password)
    live = LiveServer(tmp_path / "data")
    live.prepare_accounts()
    live.start("--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker.port))
    yield live
    live.stop()


@pytest.fixture
def displays(tmp_path, broker) -> Iterator[list[DisplayProcess]]:
    started: list[DisplayProcess] = []
    yield started
    for display in started:
        display.stop()

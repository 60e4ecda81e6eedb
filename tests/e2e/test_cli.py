"""The installer's and manager's commands: user, device, export, backup — as run from a shell."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys

import openpyxl

from madoguchi.server.composition import Settings, build
from madoguchi.server.core.issuing import IssueRequest


def madoguchi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_user_and_device_commands(tmp_path):
    data = ["--data-dir", str(tmp_path)]
    added = madoguchi("user", "add", "tanaka", "--role", "counter", *data, env={"MADOGUCHI_PASSWORD": "long-enough-1"})
    assert added.returncode == 0, added.stderr
    short = madoguchi("user", "add", "sato", "--role", "guide", *data, env={"MADOGUCHI_PASSWORD": "short"})
    assert short.returncode == 2 and "at least 8 characters" in short.stderr and "Traceback" not in short.stderr
    assert madoguchi("user", "list", *data).stdout.split() == ["tanaka", "counter", "active"]
    device = madoguchi("device", "add", "kiosk-1", "--kind", "kiosk", *data)
    token = device.stdout.strip()
    assert device.returncode == 0 and len(token) >= 40 and "\n" not in token, "only the token on stdout"
    assert madoguchi("device", "revoke", "kiosk-1", *data).returncode == 0
    assert madoguchi("device", "list", *data).stdout.split() == ["kiosk-1", "kiosk", "revoked"]
    missing = madoguchi("device", "revoke", "nope", *data)
    assert missing.returncode == 2 and "no device 'nope'" in missing.stderr
    assert madoguchi("user", "disable", "tanaka", *data).returncode == 0
    assert madoguchi("user", "list", *data).stdout.split() == ["tanaka", "counter", "disabled"]


def test_export_and_backup_of_a_day(tmp_path):
    services = build(Settings(site="chuo", data_dir=tmp_path, ignore_hours=True))
    day = services.clock.now().date().isoformat()
    for request in (IssueRequest(procedures=("juminhyo",)), IssueRequest(life_event="okuyami")):
        services.execute(lambda office, now, tx, r=request: office.issue(r, now))
    services.close()
    data = ["--data-dir", str(tmp_path)]

    out = tmp_path / "out" / "visits.csv"
    done = madoguchi("export", "--from", day, "--to", day, "--format", "csv", "--out", str(out), *data)
    assert done.returncode == 0 and "2 visits" in done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r["番号帯ID"] for r in rows] == ["simple", "okuyami"] and rows[0]["手続き"] == "住民票の写し"
    xlsx = tmp_path / "visits.xlsx"
    assert madoguchi("export", "--format", "xlsx", "--lang", "en", "--out", str(xlsx), *data).returncode == 0
    sheet = openpyxl.load_workbook(xlsx)["visits"]
    assert sheet.max_row == 3 and sheet["A1"].value == "Visit ID"
    bad = madoguchi("export", "--from", "2026-12-31", "--to", "2026-01-01", "--out", str(out), *data)
    assert bad.returncode == 2 and "before" in bad.stderr and "Traceback" not in bad.stderr

    backup = tmp_path / "backup.sqlite3"
    assert madoguchi("backup", "--out", str(backup), *data).returncode == 0
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT count(*) FROM tickets").fetchone()[0] == 2
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert madoguchi("backup", "--site", "kita", *data).returncode == 2

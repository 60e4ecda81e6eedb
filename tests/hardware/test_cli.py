"""The installer commands, run as a person would: `hardware print-test`, `hardware card-test`,
`virtual-printer`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from madoguchi.hardware import mynumber as mn
from madoguchi.hardware.virtual_printer_control import FaultControlServer
from madoguchi.hardware.virtual_reader import free_port_pair
from madoguchi.server.cli.main import main
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME, TEST_PIN


def test_print_test_exits_0_once_the_printer_confirms_and_leaves_a_png(virtual_printer, capsys):
    assert main(["hardware", "print-test", "--printer", virtual_printer.uri]) == 0
    [ticket] = virtual_printer.wait_for_tickets(1)
    assert ticket.complete and ticket.path is not None and ticket.path.exists()
    assert "printed" in capsys.readouterr().out


def test_print_test_fails_with_one_line_when_the_printer_is_out_of_paper(virtual_printer, capsys):
    virtual_printer.set_fault("paper_end")
    assert main(["hardware", "print-test", "--printer", virtual_printer.uri, "--width-dots", "384"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "paper_end" in err and "用紙" in err


def test_print_test_rejects_a_malformed_uri(capsys):
    assert main(["hardware", "print-test", "--printer", "lpt://1"]) == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err


def test_faults_are_set_by_name_on_the_control_port(virtual_printer):
    control = FaultControlServer(virtual_printer).start()
    try:
        with socket.create_connection(("127.0.0.1", control.port), timeout=2) as conn, \
                conn.makefile("r", encoding="utf-8") as reader:
            exchanges = (("set paper_end", "ok faults: paper_end"), ("set jam", "error: unknown fault"),
                         ("clear", "ok faults: none"))
            for line, expected in exchanges:
                conn.sendall(f"{line}\n".encode())
                assert reader.readline().startswith(expected)
    finally:
        control.stop()


def _wait_for_port(port: int, process: subprocess.Popen[str], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def test_the_virtual_printer_command_prints_takes_faults_and_stops_cleanly(tmp_path: Path):
    port = free_port_pair()
    out = tmp_path / "tickets"
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi.server.cli.main", "virtual-printer", "--port", str(port),
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_port(port + 1, process)
        assert main(["hardware", "print-test", "--printer", f"tcp://127.0.0.1:{port}"]) == 0
        with socket.create_connection(("127.0.0.1", port + 1), timeout=2) as conn:
            conn.sendall(b"set cover_open\n")
            assert conn.makefile("r").readline().startswith("ok faults: cover_open")
        assert main(["hardware", "print-test", "--printer", f"tcp://127.0.0.1:{port}"]) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["ticket-0001.png"]
    assert "stopped after 1 tickets" in stdout


def test_card_test_prints_type_tries_and_the_four_items_to_the_terminal_only(
        pcscd, card, monkeypatch, capsys):
    monkeypatch.setenv("MADOGUCHI_PIN", TEST_PIN)
    assert main(["hardware", "card-test", "--reader", pcscd.reader_name, "--timeout-s", "5"]) == 0
    out = capsys.readouterr().out
    assert "My Number card" in out and "PIN tries left: 3" in out
    assert TEST_HOLDER_NAME in out and TEST_HOLDER_ADDRESS in out and "1958-04-12" in out and "female" in out
    assert TEST_PIN not in out


def test_card_test_with_a_wrong_pin_says_how_many_tries_are_left(pcscd, card, monkeypatch, capsys):
    monkeypatch.setenv("MADOGUCHI_PIN", "0000")
    assert main(["hardware", "card-test", "--reader", pcscd.reader_name, "--timeout-s", "5"]) == 2
    err = capsys.readouterr().err
    assert "2 tries left" in err and "0000" not in err
    card.tries_left = 3  # leave the card as the fixture expects


def test_card_test_refuses_the_last_try_without_confirmation(pcscd, card, monkeypatch, capsys):
    card.tries_left = 1
    monkeypatch.setenv("MADOGUCHI_PIN", TEST_PIN)
    with open(os.devnull) as not_a_terminal:  # nobody to ask for confirmation
        monkeypatch.setattr(sys, "stdin", not_a_terminal)
        assert main(["hardware", "card-test", "--reader", pcscd.reader_name, "--timeout-s", "5"]) == 2
    assert "--confirm-last-try" in capsys.readouterr().err
    assert not [c for c in card.commands() if c[:4] == mn.VERIFY_TRIES_LEFT and len(c) > 4], "a PIN was sent"
    assert card.tries_left == 1


@pytest.mark.parametrize("width", ["600"])
def test_print_test_only_accepts_real_printer_widths(width):
    with pytest.raises(SystemExit):
        main(["hardware", "print-test", "--printer", "tcp://127.0.0.1:9", "--width-dots", width])

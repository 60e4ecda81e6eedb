"""Subcommands for installers: `hardware print-test`, `hardware card-test`, and `virtual-printer`.

Heavy imports (python-escpos, pyscard, Pillow) happen inside the handlers. Card data is printed to
this terminal only: it is never logged, and the PIN is neither echoed nor kept.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

SEX_LABELS = {"1": "男性 / male", "2": "女性 / female", "9": "適用不能 / not applicable"}


def register(subparsers: Any) -> None:
    hardware = subparsers.add_parser("hardware", help="test the ticket printer and the card reader")
    commands = hardware.add_subparsers(dest="hardware_command", metavar="TEST", required=True)

    print_test = commands.add_parser(
        "print-test", help="print a sample Japanese ticket (number, QR, cut) and wait for the printer")
    print_test.add_argument("--printer", required=True,
                            help="tcp://HOST:PORT, usb://VID:PID or serial:///dev/ttyS0?baudrate=115200")
    print_test.add_argument("--width-dots", type=int, default=576, choices=(576, 512, 384),
                            help="printable width: 576 or 512 for 80 mm paper, 384 for 58 mm (default 576)")
    print_test.add_argument("--timeout-s", type=float, default=20.0,
                            help="how long to wait for the printer to confirm (default 20)")
    print_test.set_defaults(handler=print_test_command)

    card_test = commands.add_parser(
        "card-test",
        help="read the four basic items from a My Number card (PIN from MADOGUCHI_PIN or a prompt)")
    card_test.add_argument("--reader", help="reader name (default: the first reader)")
    card_test.add_argument("--timeout-s", type=float, default=60.0, help="how long to wait for a card, in seconds")
    card_test.add_argument("--confirm-last-try", action="store_true",
                           help="send the PIN even with one try left (the card blocks if it is wrong)")
    card_test.set_defaults(handler=card_test_command)

    virtual = subparsers.add_parser("virtual-printer",
                                    help="run a virtual ESC/POS printer that saves tickets as PNG")
    virtual.add_argument("--port", type=int, default=9100, help="TCP port to listen on (127.0.0.1)")
    virtual.add_argument("--out", required=True, type=Path, help="folder for ticket-NNNN.png")
    virtual.add_argument("--width-dots", type=int, default=576, choices=(576, 512, 384),
                         help="printable width of the paper it simulates")
    virtual.add_argument("--control-port", type=int, default=None,
                         help="fault control port on 127.0.0.1 (default: --port + 1; 0 picks a free one)")
    virtual.set_defaults(handler=virtual_printer_command)


def _command_error(message: str) -> Exception:
    from madoguchi.common.cli import CommandError

    return CommandError(message)


def print_test_command(args: argparse.Namespace) -> int:
    from madoguchi.hardware.printer import EscposTicketPrinter
    from madoguchi.hardware.printer_status import PrinterError
    from madoguchi.hardware.ticket import sample_ticket

    try:
        printer = EscposTicketPrinter(args.printer, width_dots=args.width_dots,
                                      print_timeout_s=args.timeout_s)
    except ValueError as exc:
        raise _command_error(str(exc)) from None
    health = printer.health()
    print(f"プリンター状態 / printer status: {health.status.value}"
          + (f" ({health.detail})" if health.detail else ""))
    try:
        receipt = printer.print_ticket(sample_ticket())
    except PrinterError as exc:
        raise _command_error(f"{exc} / {exc.message_ja}") from None
    print(f"印刷しました / printed: {receipt.bytes_sent} bytes, confirmed by the printer in "
          f"{receipt.seconds:.2f} s; status after: {receipt.health_after.status.value}")
    return 0


def card_test_command(args: argparse.Namespace) -> int:
    from madoguchi.hardware.card_errors import CardReaderError, LastTryNotConfirmedError
    from madoguchi.hardware.cardreader import PcscCardReader, list_readers

    reader = PcscCardReader(args.reader)
    try:
        readers = list_readers()
        print("カードリーダー / readers: " + (", ".join(readers) or "なし / none"))
        print("カードをリーダーに置いてください / Place the card on the reader …", flush=True)
        reader.wait_for_card(args.timeout_s)
        card_type = reader.card_type()
        print(f"カードの種類 / card type: マイナンバーカード / My Number card ({card_type.value})")
        tries = reader.pin_tries_left()
        print(f"暗証番号の残り回数 / PIN tries left: {tries}")
        confirm = args.confirm_last_try
        if tries == 1 and not confirm:
            confirm = _confirm_last_try()
        info = reader.read_basic_four(_pin(), confirm_last_try=confirm)
    except LastTryNotConfirmedError as exc:
        raise _command_error(f"{exc} (use --confirm-last-try) / {exc.message_ja}") from None
    except CardReaderError as exc:
        raise _command_error(f"{exc} / {exc.message_ja}") from None
    finally:
        reader.close()
    print(f"氏名 / name: {info.name}")
    print(f"住所 / address: {info.address}")
    print(f"生年月日 / birth date: {info.birth_date}")
    print(f"性別 / sex: {SEX_LABELS.get(info.sex, info.sex)}")
    return 0


def _pin() -> str:
    pin = os.environ.get("MADOGUCHI_PIN")
    if pin is None:
        if not sys.stdin.isatty():
            raise _command_error("no PIN: set MADOGUCHI_PIN or run in a terminal / 暗証番号がありません")
        pin = getpass.getpass("暗証番号 (数字4桁) / PIN (4 digits): ")
    return pin.strip()


def _confirm_last_try() -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input("あと1回間違えるとカードがロックされます。続けますか / One try left: the card blocks if "
                   "the PIN is wrong. Continue? [y/N] ")
    return answer.strip().lower() in {"y", "yes", "はい"}


def virtual_printer_command(args: argparse.Namespace) -> int:
    from madoguchi.hardware.lifecycle import wait_until_stopped
    from madoguchi.hardware.virtual_printer import VirtualPrinter
    from madoguchi.hardware.virtual_printer_control import FaultControlServer

    control_port = args.port + 1 if args.control_port is None else args.control_port
    printer = VirtualPrinter(args.out, port=args.port, width_dots=args.width_dots)
    try:
        printer.start()
        control = FaultControlServer(printer, port=control_port).start()
    except OSError as exc:
        printer.stop()
        raise _command_error(f"cannot listen on 127.0.0.1:{args.port} or :{control_port}: {exc}") from None
    print(f"virtual printer on {printer.uri}, tickets saved to {args.out}. Faults by name on control port "
          f"{control.port}: exec 3<>/dev/tcp/127.0.0.1/{control.port}; echo 'set paper_end' >&3; head -1 <&3 "
          f"(also: clear NAME, clear, next-ticket NAME, status). Ctrl-C stops.", flush=True)
    try:
        wait_until_stopped()
    finally:
        control.stop()
        printer.stop()
    print(f"virtual printer stopped after {len(printer.tickets)} tickets")
    return 0

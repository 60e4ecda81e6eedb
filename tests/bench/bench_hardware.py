"""Hardware bench for `make bench`: ticket rendering, bytes on the wire, print time, card read time.

Everything runs against the real virtual devices (TCP virtual printer; pcscd + vpcd + virtual card when
pcscd can be started here). Returns a markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from madoguchi.hardware.printer import EscposTicketPrinter, build_job
from madoguchi.hardware.ticket_render import render_ticket
from tests.hardware.regenerate_golden import CASES

RENDER_ROUNDS = 20
PRINT_ROUNDS = 10
CARD_ROUNDS = 5


def _timed(action: Callable[[], object], rounds: int) -> list[float]:
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(values) * 1000:.1f} | {p95 * 1000:.1f}"


def _printing_rows() -> list[str]:
    from madoguchi.hardware.virtual_printer import VirtualPrinter

    content, _ = CASES["ticket-ja-576"]
    rows = []
    for width in (576, 512, 384):
        render_ticket(content, width)  # warm the font cache: the kiosk renders many tickets per process
        renders = _timed(lambda w=width: render_ticket(content, w), RENDER_ROUNDS)
        job = build_job(render_ticket(content, width))
        with tempfile.TemporaryDirectory() as out, VirtualPrinter(Path(out), width_dots=width) as virtual:
            printer = EscposTicketPrinter(virtual.uri, width_dots=width)
            prints = _timed(lambda p=printer: p.print_ticket(content), PRINT_ROUNDS)
            virtual.wait_for_tickets(PRINT_ROUNDS)
        rows.append(f"| {width} | {_ms(renders)} | {len(job):,} | {_ms(prints)} |")
    return rows


def _card_rows() -> list[str]:
    from madoguchi.hardware.cardreader import PcscCardReader
    from madoguchi.hardware.virtual_card import CardHolder, VirtualMyNumberCard
    from madoguchi.hardware.virtual_reader import PcscdBusyError, PcscdWithVirtualReader

    holder = CardHolder("熊本　太郎", "熊本県熊本市中央区手取本町１番１号", "19800101", "1")  # fictional
    try:
        service = PcscdWithVirtualReader().start()
    except (PcscdBusyError, FileNotFoundError, TimeoutError, RuntimeError) as exc:
        return [f"| card reader | not measured: {exc} | |"]
    card = VirtualMyNumberCard(holder, "1234", port=service.port)
    reader = PcscCardReader(service.reader_name)
    try:
        card.insert()
        reader.wait_for_card(5)
        types = _timed(reader.card_type, CARD_ROUNDS)
        tries = _timed(reader.pin_tries_left, CARD_ROUNDS)
        before = len(card.apdu_log)
        reads = _timed(lambda: reader.read_basic_four("1234"), CARD_ROUNDS)
        apdus_per_read = (len(card.apdu_log) - before) // CARD_ROUNDS
    finally:
        card.remove()
        reader.close()
        service.stop()
    return [f"| card type (JPKI token, no PIN) | {_ms(types)} |",
            f"| PIN tries left | {_ms(tries)} |",
            f"| PIN verify + basic-4 read ({apdus_per_read} APDUs) | {_ms(reads)} |"]


def run() -> str:
    lines = [
        "## Hardware: ticket printer and card reader",
        "",
        "Command: `make bench` (or `.venv/bin/python -m tests.bench.run bench_hardware`). Ticket: the "
        "Japanese golden case (5 procedures, 2 notes); printing goes through python-escpos over TCP to "
        "the virtual printer on 127.0.0.1, from connect to the printer's GS r confirmation (status checked "
        f"before and after). Render: {RENDER_ROUNDS} rounds, print: {PRINT_ROUNDS} rounds per width.",
        "",
        "| width (dots) | render median ms | render p95 ms | bytes sent | print median ms | print p95 ms |",
        "|---|---|---|---|---|---|",
        *_printing_rows(),
        "",
        "Card reader through real pcscd + vsmartcard vpcd + the virtual My Number card "
        f"({CARD_ROUNDS} rounds each; DESIGN.md §7 expects ~50 ms per APDU, ~0.3 s per basic-4 read):",
        "",
        "| operation | median ms | p95 ms |",
        "|---|---|---|",
        *_card_rows(),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

"""Kiosk bench for `make bench`: touch on "issue" → ticket fully printed, PIN entered → four items shown,
and the time `madoguchi kiosk` takes to show its first screen.

The real Kivy app runs under Xvfb against a live server, the TCP virtual printer and (when pcscd can be
started here) the virtual My Number card behind pcscd + vpcd. Returns a markdown section.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="madoguchi-bench-kivy-"))

ISSUE_ROUNDS = 10
CARD_ROUNDS = 5
START_ROUNDS = 3


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _row(what: str, values: list[float], aim_s: float | None) -> str:
    aim = f"≤ {aim_s:g} s" if aim_s else "< 10 s"
    return (f"| {what} | {len(values)} | {statistics.median(values):.2f} | {_p95(values):.2f} | "
            f"{max(values):.2f} | {aim} |")


def _to_card_offer(driver) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.kiosk.flow import State

    driver.wait_state(State.ATTRACT)
    driver.tap("start")
    driver.tap("lang:ja")
    driver.tap("purpose:simple")
    driver.tap("procedure:juminhyo")
    driver.wait_state(State.PLAN)
    driver.tap("confirm_plan")
    driver.wait_state(State.CARD_OFFER)


def _issue_and_card(server, work: Path) -> tuple[list[float], list[float], str]:  # type: ignore[no-untyped-def]
    from madoguchi.hardware.printer import EscposTicketPrinter
    from madoguchi.hardware.virtual_printer import VirtualPrinter
    from madoguchi.kiosk.flow import State
    from tests.kiosk.driver import kiosk_window
    from tests.kiosk.kiosk_setup import running_kiosk

    issue, card = [], []
    card_note = ""
    with kiosk_window((1280, 800)), VirtualPrinter(work / "printed") as virtual:
        with running_kiosk(server.url, server.tokens["kiosk"], printer=EscposTicketPrinter(virtual.uri),
                           size=(1280, 800)) as driver:
            for n in range(1, ISSUE_ROUNDS + 1):
                _to_card_offer(driver)
                started = time.perf_counter()
                driver.tap("skip_card")
                driver.wait_for(lambda n=n: len(virtual.tickets) >= n and virtual.tickets[-1].complete,
                                "the printed ticket", 20)
                issue.append(time.perf_counter() - started)
                driver.wait_state(State.TICKET)
                driver.tap("done")
        card_note = _card_rounds(server, card)
    return issue, card, card_note


def _card_rounds(server, card: list[float]) -> str:  # type: ignore[no-untyped-def]
    from madoguchi.hardware.cardreader import PcscCardReader
    from madoguchi.hardware.virtual_card import CardHolder, VirtualMyNumberCard
    from madoguchi.hardware.virtual_reader import PcscdBusyError, PcscdWithVirtualReader
    from madoguchi.kiosk.flow import State
    from tests.kiosk.kiosk_setup import running_kiosk

    try:
        pcscd = PcscdWithVirtualReader().start()
    except (PcscdBusyError, FileNotFoundError) as exc:
        return f"card rounds not run: {exc}"
    reader = PcscCardReader(pcscd.reader_name, transmit_timeout_s=2.0)
    try:
        with running_kiosk(server.url, server.tokens["kiosk"], reader=reader, size=(1280, 800)) as driver:
            for _ in range(CARD_ROUNDS):
                virtual_card = VirtualMyNumberCard(CardHolder("熊本　太郎", "熊本市中央区", "19500101", "1"), "2580",
                                                   port=pcscd.port)
                _to_card_offer(driver)
                driver.tap("use_card")
                virtual_card.insert()
                driver.wait_state(State.PIN, 10)
                for digit in "258":
                    driver.tap(f"pin:{digit}")
                driver.tap("pin:0")
                started = time.perf_counter()
                driver.tap("pin:ok")
                driver.wait_state(State.CARD_CONFIRM, 10)
                card.append(time.perf_counter() - started)
                driver.tap("refuse_card")
                driver.wait_state(State.TICKET, 20)
                driver.tap("done")
                virtual_card.remove()
                reader.wait_for_removal(5)
    finally:
        reader.close()
        pcscd.stop()
    return ""


def _start_times(server, work: Path) -> list[float]:  # type: ignore[no-untyped-def]
    token = work / "token"
    token.write_text(server.tokens["kiosk"], encoding="utf-8")
    times = []
    for n in range(START_ROUNDS):
        shots = work / f"start-{n}"
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "madoguchi.server.cli.main", "kiosk", "--site", "chuo",
                                    "--server", server.url, "--token-file", str(token), "--size", "1280x800",
                                    "--screenshot-dir", str(shots)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not list(shots.glob("*-attract-*.png")):
                if process.poll() is not None:
                    raise RuntimeError(f"madoguchi kiosk exited with {process.returncode}")
                time.sleep(0.02)
            times.append(time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(15)
    return times


def run() -> str:
    from tests.kiosk.driver import ensure_display, stop_display
    from tests.live import LiveServer

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = LiveServer(work / "server")
        server.prepare_accounts()
        server.start()
        try:
            ensure_display()
            issue, card, card_note = _issue_and_card(server, work)
            starts = _start_times(server, work)
        finally:
            server.stop()
            stop_display()
    rows = [_row('touch on "issue" → ticket fully printed (virtual printer)', issue, 3.0)]
    if card:
        rows.append(_row("PIN entered → four items shown (virtual card, pcscd + vpcd)", card, 1.0))
    rows.append(_row("`madoguchi kiosk` started → first screen drawn", starts, None))
    lines = [
        "## Kiosk",
        "",
        "`python -m tests.bench.run bench_kiosk`: the real Kivy app under Xvfb (1280×800), driven by touch",
        "events, against a live `madoguchi serve`, the TCP virtual printer and the virtual My Number card.",
        "Times from the touch (its up event) to the ticket's last line received by the printer, and to the",
        "confirmation screen drawn; start time from process start to the first screenshot written.",
        "",
        "| measure | n | median s | p95 s | max s | aim |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    if card_note:
        lines += ["", card_note]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())

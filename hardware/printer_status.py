"""Printer states, the status bytes that report them, and the typed errors the kiosk acts on.

ESC/POS real-time status (DLE EOT n) answers one byte per query, even while the printer is offline:
  n=1 printer:        bit 3 offline
  n=2 offline cause:  bit 2 cover open, bit 5 stopped by paper end, bit 6 error
  n=4 roll paper:     bits 2-3 near end, bits 5-6 paper end
Bits 1 and 4 are always 1 and bits 0 and 7 always 0 in these answers (0x12 when all is well), which
is how an answer is told apart from a stray byte. GS r 1 (paper sensor status) is not real-time:
the printer answers it only after printing everything received before it, so its answer is the
"printed" confirmation; its bit 4 is always 0 (bits 0-1 near end, bits 2-3 paper end).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
DLE_EOT_ERROR = b"\x10\x04\x03"
DLE_EOT_PAPER = b"\x10\x04\x04"
GS_R_PAPER = b"\x1dr\x01"  # transmit paper sensor status, processed in order with the print data

STATUS_FIXED_MASK = 0x93  # bits 0, 1, 4, 7
STATUS_FIXED_VALUE = 0x12  # bits 1 and 4 set, 0 and 7 clear

OFFLINE_BIT = 0x08
COVER_OPEN_BIT = 0x04
PAPER_END_STOP_BIT = 0x20
ERROR_BIT = 0x40
PAPER_NEAR_END_BITS = 0x0C
PAPER_END_BITS = 0x60
GS_R_NEAR_END_BITS = 0x03
GS_R_PAPER_END_BITS = 0x0C


class PrinterStatus(enum.Enum):
    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_END = "paper_end"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    NO_ANSWER = "no_answer"


# The kiosk asks ``status in BLOCKING`` before offering to print; the floor guide is told about WARNING.
BLOCKING = frozenset({PrinterStatus.PAPER_END, PrinterStatus.COVER_OPEN, PrinterStatus.OFFLINE,
                      PrinterStatus.NO_ANSWER})
WARNING = frozenset({PrinterStatus.PAPER_NEAR_END})
READY = frozenset({PrinterStatus.ONLINE, PrinterStatus.PAPER_NEAR_END})

# Most severe first: the one the health report names when several hold at once.
_SEVERITY = (PrinterStatus.NO_ANSWER, PrinterStatus.COVER_OPEN, PrinterStatus.PAPER_END,
             PrinterStatus.OFFLINE, PrinterStatus.PAPER_NEAR_END, PrinterStatus.ONLINE)


@dataclass(frozen=True)
class PrinterHealth:
    """What the printer reported: every condition that holds, and the most severe one as ``status``."""

    conditions: frozenset[PrinterStatus]
    raw: bytes = b""  # the DLE EOT 1, 2, 4 answers, for the device status report
    detail: str = field(default="", compare=False)

    @property
    def status(self) -> PrinterStatus:
        return next(s for s in _SEVERITY if s in self.conditions)

    @property
    def blocking(self) -> bool:
        return bool(self.conditions & BLOCKING)


def is_status_answer(byte: int) -> bool:
    """True for a DLE EOT answer (fixed bits in place)."""
    return byte & STATUS_FIXED_MASK == STATUS_FIXED_VALUE


def decode_realtime_status(printer: int, offline_cause: int, paper: int) -> PrinterHealth:
    """The health the three DLE EOT answers (n = 1, 2, 4) describe."""
    conditions: set[PrinterStatus] = set()
    if paper & PAPER_END_BITS or offline_cause & PAPER_END_STOP_BIT:
        conditions.add(PrinterStatus.PAPER_END)
    elif paper & PAPER_NEAR_END_BITS:
        conditions.add(PrinterStatus.PAPER_NEAR_END)
    if offline_cause & COVER_OPEN_BIT:
        conditions.add(PrinterStatus.COVER_OPEN)
    if printer & OFFLINE_BIT and not conditions & {PrinterStatus.PAPER_END, PrinterStatus.COVER_OPEN}:
        conditions.add(PrinterStatus.OFFLINE)
    if not conditions & BLOCKING:
        conditions.add(PrinterStatus.ONLINE)
    return PrinterHealth(frozenset(conditions), bytes((printer, offline_cause, paper)))


NO_ANSWER_HEALTH = PrinterHealth(frozenset({PrinterStatus.NO_ANSWER}))


# ---- errors -------------------------------------------------------------------------------------

class PrinterError(Exception):
    """Base of every printer failure. ``message_ja`` is for the floor guide's screen."""

    status: PrinterStatus = PrinterStatus.OFFLINE
    message_ja: str = "プリンターが使えません"

    def __init__(self, message: str, *, health: PrinterHealth | None = None, phase: str = "before") -> None:
        super().__init__(message)
        self.health = health
        self.phase = phase  # "before" printing, "after" (a fault arose while printing), or "connect"


class PrinterNotFoundError(PrinterError):
    """The printer could not be reached at all (connection refused, no such USB/serial device)."""

    status = PrinterStatus.NO_ANSWER
    message_ja = "プリンターに接続できません"


class PrinterNoAnswerError(PrinterError):
    status = PrinterStatus.NO_ANSWER
    message_ja = "プリンターが応答しません"


class PaperEndError(PrinterError):
    status = PrinterStatus.PAPER_END
    message_ja = "用紙がありません。ロール紙を補充してください"


class CoverOpenError(PrinterError):
    status = PrinterStatus.COVER_OPEN
    message_ja = "プリンターのカバーが開いています"


class PrinterOfflineError(PrinterError):
    status = PrinterStatus.OFFLINE
    message_ja = "プリンターがオフラインです"


class PrintNotConfirmedError(PrinterError):
    """The job was sent but the printer never confirmed it printed, while reporting no fault."""

    status = PrinterStatus.NO_ANSWER
    message_ja = "印刷を確認できませんでした"


ERROR_FOR_STATUS: dict[PrinterStatus, type[PrinterError]] = {
    PrinterStatus.NO_ANSWER: PrinterNoAnswerError,
    PrinterStatus.COVER_OPEN: CoverOpenError,
    PrinterStatus.PAPER_END: PaperEndError,
    PrinterStatus.OFFLINE: PrinterOfflineError,
}


def error_for(health: PrinterHealth, phase: str) -> PrinterError:
    """The typed error for a blocking health report."""
    status = health.status
    cls = ERROR_FOR_STATUS[status]
    when = {"before": "before printing", "after": "while printing"}.get(phase, phase)
    return cls(f"printer reports {status.value} {when}", health=health, phase=phase)

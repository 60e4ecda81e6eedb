"""An incremental ESC/POS parser: bytes in (in any chunking), whole commands out.

It knows the length of every command python-escpos emits and of the common setting commands, so an
unknown one costs at most its two prefix bytes and the stream stays in step. Printable bytes come out
as TEXT. The virtual printer decides what each command does.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# ESC x / GS x / FS x followed by a fixed number of parameter bytes.
_ESC_FIXED = {
    ord("@"): 0, ord("a"): 1, ord("d"): 1, ord("J"): 1, ord("2"): 0, ord("3"): 1, ord("!"): 1,
    ord("E"): 1, ord("-"): 1, ord("G"): 1, ord("M"): 1, ord("t"): 1, ord("R"): 1, ord("V"): 1,
    ord("{"): 1, ord("r"): 1, ord("p"): 3, ord("i"): 0, ord("m"): 0, ord("c"): 2, ord("e"): 1,
    ord("U"): 1, ord(" "): 1, ord("$"): 2, ord("\\"): 2,
}
_GS_FIXED = {
    ord("!"): 1, ord("B"): 1, ord("H"): 1, ord("h"): 1, ord("w"): 1, ord("f"): 1, ord("b"): 1,
    ord("L"): 2, ord("W"): 2, ord("P"): 2, ord("a"): 1, ord("r"): 1, ord("I"): 1, ord("$"): 2,
}
_FS_FIXED = {ord("&"): 0, ord("."): 0, ord("C"): 1, ord("S"): 2, ord("!"): 1, ord("-"): 1, ord("W"): 1}


@dataclass(frozen=True)
class Command:
    """One decoded command. ``name`` is stable (used by the virtual printer and tests)."""

    name: str
    args: tuple[int, ...] = ()
    data: bytes = b""


class EscposDecoder:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self.unknown_count = 0

    def feed(self, chunk: bytes) -> list[Command]:
        """Appends ``chunk`` and returns every command now complete, in order."""
        self._buffer += chunk
        commands: list[Command] = []
        while self._buffer:
            parsed = self._parse_one()
            if parsed is None:
                break  # incomplete: wait for more bytes
            command, used = parsed
            del self._buffer[:used]
            if command is not None:
                commands.append(command)
        return commands

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def _parse_one(self) -> tuple[Command | None, int] | None:
        b = self._buffer
        first = b[0]
        if first == 0x0A:
            return Command("LF"), 1
        if first in (0x0D, 0x00):
            return None, 1
        if first == DLE:
            return self._dle()
        if first == ESC:
            return self._esc()
        if first == GS:
            return self._gs()
        if first == FS:
            return self._prefixed(_FS_FIXED, "FS")
        # Printable text up to the next control byte. A run that reaches the end of what arrived may go
        # on in the next chunk: wait for its end, so the same bytes decode alike however they are split.
        end = 1
        while end < len(b) and b[end] >= 0x20 and b[end] != 0x7F:
            end += 1
        if end == len(b):
            return None
        return Command("TEXT", data=bytes(b[:end])), end

    def _need(self, n: int) -> bool:
        return len(self._buffer) >= n

    def _dle(self) -> tuple[Command | None, int] | None:
        b = self._buffer
        if not self._need(2):
            return None
        if b[1] in (0x04, 0x05):  # DLE EOT n (status), DLE ENQ n (recovery)
            if not self._need(3):
                return None
            return Command("DLE_EOT" if b[1] == 0x04 else "DLE_ENQ", (b[2],)), 3
        if b[1] == 0x14:  # DLE DC4 fn ...: pulse (2 params), power off (2), clear buffers (7)
            if not self._need(3):
                return None
            extra = {1: 2, 2: 2, 8: 7}.get(b[2], 2)
            if not self._need(3 + extra):
                return None
            return Command("DLE_DC4", (b[2],)), 3 + extra
        return None, 1  # a lone DLE is data noise

    def _esc(self) -> tuple[Command | None, int] | None:
        b = self._buffer
        if not self._need(2):
            return None
        op = b[1]
        if op == ord("*"):  # ESC * m nL nH d1..dk: column bit image (python-escpos bitImageColumn)
            if not self._need(5):
                return None
            width = b[3] | b[4] << 8
            size = 5 + width * (3 if b[2] in (32, 33) else 1)
            if not self._need(size):
                return None
            return Command("ESC_STAR", (b[2], width), bytes(b[5:size])), size
        if op == ord("D"):  # ESC D n1..nk NUL: tab positions
            end = b.find(0, 2)
            return None if end < 0 else (Command("SETTING", (op,)), end + 1)
        fixed = _ESC_FIXED.get(op)
        if fixed is None:
            self.unknown_count += 1
            return Command("UNKNOWN", (ESC, op)), 2
        if not self._need(2 + fixed):
            return None
        args = tuple(b[2:2 + fixed])
        name = {ord("@"): "INIT", ord("a"): "JUSTIFY", ord("d"): "FEED_LINES", ord("J"): "FEED_DOTS",
                ord("2"): "LINE_SPACING_DEFAULT", ord("3"): "LINE_SPACING", ord("i"): "CUT",
                ord("m"): "CUT"}.get(op, "SETTING")
        return Command(name, args if name != "SETTING" else (op, *args)), 2 + fixed

    def _gs(self) -> tuple[Command | None, int] | None:
        b = self._buffer
        if not self._need(2):
            return None
        op = b[1]
        if op == ord("v"):  # GS v 0 m xL xH yL yH d1..dk: raster bit image
            if not self._need(8):
                return None
            width_bytes, height = b[4] | b[5] << 8, b[6] | b[7] << 8
            size = 8 + width_bytes * height
            if not self._need(size):
                return None
            return Command("RASTER", (b[3], width_bytes, height), bytes(b[8:size])), size
        if op == ord("("):  # GS ( X pL pH ...: function with a 2-byte length
            if not self._need(5):
                return None
            length = b[3] | b[4] << 8
            if not self._need(5 + length):
                return None
            body = bytes(b[5:5 + length])
            kind = {ord("k"): "CODE2D", ord("L"): "GRAPHICS"}.get(b[2], "GS_PAREN")
            return Command(kind, (b[2],), body), 5 + length
        if op == ord("8") and self._need(3) and b[2] == ord("L"):  # GS 8 L p1..p4: 4-byte length
            if not self._need(7):
                return None
            length = b[3] | b[4] << 8 | b[5] << 16 | b[6] << 24
            if not self._need(7 + length):
                return None
            return Command("GRAPHICS", (ord("L"),), bytes(b[7:7 + length])), 7 + length
        if op == ord("V"):  # GS V m [n]: cut
            if not self._need(3):
                return None
            with_feed = b[2] in (65, 66, 97, 98, 103, 104)
            if with_feed and not self._need(4):
                return None
            return Command("CUT", (b[2], b[3] if with_feed else 0)), 4 if with_feed else 3
        if op == ord("k"):  # GS k m ...: 1D barcode (ignored by the virtual printer)
            if not self._need(4):
                return None
            if b[2] <= 6:
                end = b.find(0, 3)
                return None if end < 0 else (Command("BARCODE", (b[2],)), end + 1)
            size = 4 + b[3]
            return None if not self._need(size) else (Command("BARCODE", (b[2],)), size)
        if op == ord("r"):
            if not self._need(3):
                return None
            return Command("TRANSMIT_STATUS", (b[2],)), 3
        return self._prefixed(_GS_FIXED, "GS")

    def _prefixed(self, table: dict[int, int], prefix: str) -> tuple[Command | None, int] | None:
        b = self._buffer
        if not self._need(2):
            return None
        fixed = table.get(b[1])
        if fixed is None:
            self.unknown_count += 1
            return Command("UNKNOWN", (b[0], b[1])), 2
        if not self._need(2 + fixed):
            return None
        return Command("SETTING", (b[1], *b[2:2 + fixed])), 2 + fixed

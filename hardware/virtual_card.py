"""A virtual My Number card that plugs into vsmartcard's vpcd reader driver (for tests and the demo).

vpcd (loaded by pcscd) listens on a TCP port; a card "is inserted" by connecting to it and "removed"
by closing the connection. Every message is a 2-byte big-endian length and a payload; a 1-byte
payload is a control code (00 power off, 01 power on, 02 reset, 04 send the ATR; only 04 is
answered), anything longer is a command APDU answered with a response APDU. pcscd asks for the ATR
every few hundred milliseconds to see whether the card is still there.

The card implements the text AP (PIN EF with a tries counter and blocking, the basic-4 EF), the JPKI
AP's token EF, and faults the tests set by name: ``removed_mid_read`` (the connection drops when the
basic-4 EF is read), a response delay (for the driver's watchdog), ``pin_blocked``. It logs every
command APDU with PIN digits masked, and never logs the holder's data.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from madoguchi.hardware import mynumber as mn

log = logging.getLogger(__name__)

DEFAULT_VPCD_PORT = 35963
# A T=1 ATR with no interface parameters beyond the protocol: 3B 80 80 01 + TCK.
DEFAULT_ATR = bytes.fromhex("3B80800101")
MAX_TRIES = 3


@dataclass(frozen=True, repr=False)
class CardHolder:
    name: str
    address: str
    birth_date: str  # YYYYMMDD, as the card stores it
    sex: str

    def __repr__(self) -> str:
        return "CardHolder(<personal data hidden>)"


@dataclass(frozen=True)
class ApduRecord:
    """One command APDU as received (VERIFY's PIN digits replaced by '*') and the status word sent."""

    command: bytes
    sw: int | None  # None when the card gave no answer (removed mid-command)


@dataclass
class _CardState:
    df: str = "mf"
    ef: int | None = None
    verified: bool = False
    ef_data: dict[int, bytes] = field(default_factory=dict)


class VirtualMyNumberCard:
    def __init__(self, holder: CardHolder, pin: str, *, tries_left: int = MAX_TRIES,
                 host: str = "127.0.0.1", port: int = DEFAULT_VPCD_PORT, my_number_card: bool = True,
                 atr: bytes = DEFAULT_ATR) -> None:
        if len(pin) != 4 or not pin.isdigit():
            raise ValueError("the virtual card's PIN must be 4 digits")
        self._pin = pin.encode("ascii")
        self._basic_four = mn.build_basic_four(holder.name, holder.address, holder.birth_date, holder.sex)
        self.tries_left = tries_left
        self.host, self.port = host, port
        self.my_number_card = my_number_card
        self.atr = atr
        self.removed_mid_read = False
        self.response_delay_s = 0.0
        self.apdu_log: list[ApduRecord] = []
        self._state = _CardState()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- what a test sets -----------------------------------------------------------------------

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0

    def block(self) -> None:
        """The ``pin_blocked`` fault: three wrong PINs happened before this card reached us."""
        self.tries_left = 0

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout_s: float = 5.0) -> None:
        """Connects to vpcd (retrying while pcscd is still loading it)."""
        if self.inserted:
            return
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise ConnectionError(
                        f"vpcd does not accept a card on {self.host}:{self.port}: {exc}") from None
                time.sleep(0.05)
        sock.settimeout(0.1)
        self._sock, self._state = sock, _CardState()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="madoguchi-virtual-card", daemon=True)
        self._thread.start()
        log.info("virtual card inserted into vpcd port %d", self.port)

    def remove(self) -> None:
        """Pulls the card out: closes the connection and stops the card's thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_socket()

    def commands(self) -> list[bytes]:
        return [record.command for record in self.apdu_log]

    # -- the protocol ---------------------------------------------------------------------------

    def _close_socket(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _recv_exact(self, size: int) -> bytes | None:
        assert self._sock is not None
        data = b""
        while len(data) < size:
            if self._stop.is_set():
                return None
            try:
                chunk = self._sock.recv(size - len(data))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _send(self, payload: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                header = self._recv_exact(2)
                if header is None:
                    break
                payload = self._recv_exact(int.from_bytes(header, "big"))
                if payload is None:
                    break
                if len(payload) == 1:
                    self._control(payload[0])
                    continue
                response = self._respond(payload)
                if response is None:
                    break  # removed mid-command: the reader sees the card vanish
                if self.response_delay_s:
                    self._stop.wait(self.response_delay_s)
                self._send(response)
        except OSError as exc:
            log.debug("virtual card link closed: %s", exc)
        finally:
            self._close_socket()
            log.info("virtual card removed from vpcd port %d", self.port)

    def _control(self, code: int) -> None:
        if code == 0x04:
            self._send(self.atr)
        elif code in (0x00, 0x01, 0x02):
            self._state = _CardState()  # power cycle or reset clears selection and PIN state

    def _respond(self, apdu: bytes) -> bytes | None:
        ins = apdu[1]
        logged = apdu[:5] + b"*" * (len(apdu) - 5) if ins == 0x20 else apdu
        if ins == 0xB0 and self.removed_mid_read and self._state.ef == mn.EF_BASIC_FOUR:
            self.apdu_log.append(ApduRecord(logged, None))
            return None
        data, sw = self._execute(apdu)
        self.apdu_log.append(ApduRecord(logged, sw))
        log.debug("virtual card: %s -> %04X", logged[:5].hex(" "), sw)
        return data + sw.to_bytes(2, "big")

    def _execute(self, apdu: bytes) -> tuple[bytes, int]:
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[5:5 + apdu[4]] if len(apdu) > 5 else b""
        if cla != 0x00:
            return b"", 0x6E00
        if ins == 0xA4:
            return b"", self._select(p1, body)
        if ins == 0x20 and (p1, p2) == (0x00, 0x80):
            return b"", self._verify(body)
        if ins == 0xB0:
            return self._read_binary(p1 << 8 | p2, apdu[4] if len(apdu) == 5 else 0)
        return b"", 0x6D00

    def _select(self, p1: int, body: bytes) -> int:
        state = self._state
        if p1 == 0x04:
            if not self.my_number_card:
                return mn.SW_FILE_NOT_FOUND
            if body == mn.TEXT_AP_AID:
                self._state = _CardState(df="text")
            elif body == mn.JPKI_AP_AID:
                self._state = _CardState(df="jpki")
            else:
                return mn.SW_FILE_NOT_FOUND
            return mn.SW_OK
        if p1 == 0x02 and len(body) == 2:
            file_id = int.from_bytes(body, "big")
            known = {"text": {mn.EF_PIN, mn.EF_BASIC_FOUR, 0x0001}, "jpki": {mn.EF_JPKI_TOKEN}}
            if file_id not in known.get(state.df, set()):
                return mn.SW_FILE_NOT_FOUND
            state.ef = file_id
            return mn.SW_OK
        return 0x6A86

    def _verify(self, pin: bytes) -> int:
        state = self._state
        if state.df != "text" or state.ef != mn.EF_PIN:
            return 0x6986
        if self.tries_left == 0:
            return mn.SW_AUTH_BLOCKED
        if not pin:
            return 0x63C0 | self.tries_left
        if pin == self._pin:
            self.tries_left = MAX_TRIES
            state.verified = True
            return mn.SW_OK
        self.tries_left -= 1
        state.verified = False
        return 0x63C0 | self.tries_left

    def _read_binary(self, offset: int, length: int) -> tuple[bytes, int]:
        state = self._state
        if state.df == "jpki" and state.ef == mn.EF_JPKI_TOKEN:
            content = mn.JPKI_TOKEN_MY_NUMBER + b"\x00" * 17
        elif state.df == "text" and state.ef == mn.EF_BASIC_FOUR:
            if not state.verified:
                return b"", mn.SW_SECURITY_NOT_SATISFIED
            content = self._basic_four
        elif state.ef is None:
            return b"", 0x6986
        else:
            return b"", mn.SW_SECURITY_NOT_SATISFIED
        length = length or 256
        if offset >= len(content):
            return b"", 0x6B00
        chunk = content[offset:offset + length]
        return chunk, mn.SW_OK if len(chunk) == length else mn.SW_END_OF_FILE

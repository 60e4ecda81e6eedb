"""My Number card reader driver over PC/SC (pyscard's ``smartcard.scard`` layer on pcscd).

The low-level layer is used on purpose: it returns PC/SC result codes that map one-to-one to our
typed errors, lets a wait be cancelled from another thread (SCardCancel), and is where pyscard's
transmit has no timeout — so every APDU runs in a short-lived thread under a watchdog. pyscard's
high-level exceptions do not cover this (EstablishContextException is not even a SmartcardException).

PIN rules (DESIGN.md §7): the tries left are read without spending one; a wrong PIN is reported with
the tries left and never retried here; with one try left nothing is sent unless the caller confirms;
a blocked card is refused before any PIN goes out. The PIN is only held in a local variable for the
VERIFY APDU and never logged. EF 0001 (individual number) is never selected: ``_transmit`` refuses it.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from madoguchi.hardware import card_errors as errors
from madoguchi.hardware import mynumber as mn

log = logging.getLogger(__name__)

_FORBIDDEN_SELECT = mn.select_ef(0x0001)  # the individual number EF (番号法)
_SCARD_PRESENT = 0x0004  # pcsclite.h card state bit for SCardStatus; pyscard does not export it


class CardType(enum.Enum):
    MY_NUMBER = "my_number_card"


class CardReader(Protocol):
    """The port the kiosk uses; kiosk tests get a fake of this."""

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> None: ...

    def card_type(self) -> CardType: ...

    def pin_tries_left(self) -> int: ...

    def read_basic_four(self, pin: str, *, confirm_last_try: bool = False) -> mn.BasicFour: ...

    def cancel(self) -> None: ...


def _scard() -> Any:
    from smartcard import scard

    return scard


def _service_error(hresult: int) -> errors.CardReaderError | None:
    s = _scard()
    if hresult in (s.SCARD_E_NO_SERVICE, s.SCARD_E_SERVICE_STOPPED):
        return errors.ReaderServiceDownError("the PC/SC service (pcscd) is not running")
    if hresult in (s.SCARD_E_NO_READERS_AVAILABLE, s.SCARD_E_UNKNOWN_READER, s.SCARD_E_READER_UNAVAILABLE):
        return errors.NoReaderError("no card reader is connected")
    return None


def list_readers() -> list[str]:
    """The readers pcscd sees now (empty when none); ReaderServiceDownError when pcscd is down."""
    s = _scard()
    hresult, context = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    if hresult != s.SCARD_S_SUCCESS:
        raise _service_error(hresult) or errors.ReaderServiceDownError(s.SCardGetErrorMessage(hresult))
    try:
        hresult, readers = s.SCardListReaders(context, [])
    finally:
        s.SCardReleaseContext(context)
    if hresult == s.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hresult != s.SCARD_S_SUCCESS:
        raise _service_error(hresult) or errors.CardReaderError(s.SCardGetErrorMessage(hresult))
    return list(readers)


def wait_for_reader_change(known: list[str], timeout_s: float,
                           cancel: threading.Event | None = None) -> list[str]:
    """Hot-plug: returns the reader list as soon as it differs from ``known`` (or on timeout)."""
    cancel = cancel or threading.Event()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            readers = list_readers()
        except errors.ReaderServiceDownError:
            readers = []
        if readers != known or time.monotonic() >= deadline:
            return readers
        if cancel.wait(min(0.25, max(0.0, deadline - time.monotonic()))):
            raise errors.CardWaitCancelledError("waiting for a reader was cancelled")


class PcscCardReader:
    def __init__(self, reader_name: str | None = None, *, transmit_timeout_s: float = 3.0) -> None:
        self.reader_name = reader_name
        self.transmit_timeout_s = transmit_timeout_s
        self._context: int | None = None
        self._lock = threading.Lock()
        self._busy: threading.Event | None = None

    # -- context and reader -------------------------------------------------------------------

    def _ensure_context(self) -> int:
        s = _scard()
        if self._context is not None and s.SCardIsValidContext(self._context) == s.SCARD_S_SUCCESS:
            return self._context
        hresult, context = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        if hresult != s.SCARD_S_SUCCESS:
            raise _service_error(hresult) or errors.ReaderServiceDownError(s.SCardGetErrorMessage(hresult))
        self._context = context
        return context

    def _reader(self) -> str:
        readers = list_readers()
        if self.reader_name is None:
            if not readers:
                raise errors.NoReaderError("no card reader is connected")
            return readers[0]
        if self.reader_name not in readers:
            raise errors.NoReaderError(f"card reader {self.reader_name!r} is not connected")
        return self.reader_name

    def close(self) -> None:
        if self._context is not None:
            _scard().SCardReleaseContext(self._context)
            self._context = None

    def cancel(self) -> None:
        """Makes a ``wait_for_card`` in another thread return at once with CardWaitCancelledError."""
        if self._context is not None:
            _scard().SCardCancel(self._context)

    # -- waiting for a card -------------------------------------------------------------------

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> None:
        """Returns once a card is in the reader; NoCardError on timeout, CardWaitCancelledError on cancel."""
        s = _scard()
        cancel = cancel or threading.Event()
        context, reader = self._ensure_context(), self._reader()
        state = s.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout_s
        while True:
            if cancel.is_set():
                raise errors.CardWaitCancelledError("waiting for a card was cancelled")
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                raise errors.NoCardError(f"no card was placed within {timeout_s:g} s")
            hresult, states = s.SCardGetStatusChange(context, min(250, remaining_ms), [(reader, state)])
            if hresult == s.SCARD_E_TIMEOUT:
                continue
            if hresult == s.SCARD_E_CANCELLED:
                raise errors.CardWaitCancelledError("waiting for a card was cancelled")
            if hresult != s.SCARD_S_SUCCESS:
                raise _service_error(hresult) or errors.CardReaderError(s.SCardGetErrorMessage(hresult))
            _, event_state, _ = states[0]
            if event_state & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_UNAVAILABLE):
                raise errors.NoReaderError(f"card reader {reader!r} went away")
            if event_state & s.SCARD_STATE_PRESENT and not event_state & s.SCARD_STATE_MUTE:
                return
            state = event_state & ~s.SCARD_STATE_CHANGED

    def wait_for_removal(self, timeout_s: float) -> bool:
        """Waits (bounded) until the reader is empty, e.g. after "please take your card"; True if it is."""
        s = _scard()
        context, reader = self._ensure_context(), self._reader()
        deadline = time.monotonic() + timeout_s
        state = s.SCARD_STATE_UNAWARE
        while (remaining_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            hresult, states = s.SCardGetStatusChange(context, min(250, remaining_ms), [(reader, state)])
            if hresult == s.SCARD_E_TIMEOUT:
                continue
            if hresult != s.SCARD_S_SUCCESS:
                raise _service_error(hresult) or errors.CardReaderError(s.SCardGetErrorMessage(hresult))
            _, event_state, _ = states[0]
            if event_state & s.SCARD_STATE_EMPTY:
                return True
            state = event_state & ~s.SCARD_STATE_CHANGED
        return False

    # -- card operations ----------------------------------------------------------------------

    def card_type(self) -> CardType:
        """Tells a My Number card by its JPKI token, without a PIN."""
        with self._session(reset_after=False) as session:
            if session.exchange(mn.select_df(mn.JPKI_AP_AID))[1] != mn.SW_OK:
                raise errors.NotMyNumberCardError("this card has no JPKI application")
            session.expect_ok(mn.select_ef(mn.EF_JPKI_TOKEN), "SELECT token EF")
            data, sw = session.exchange(mn.read_binary(0, 0x20))
            token = data.rstrip(b"\x00 ")
            if sw not in (mn.SW_OK, mn.SW_END_OF_FILE) or token != mn.JPKI_TOKEN_MY_NUMBER:
                shown = token.decode("ascii", "replace") if token.isascii() else "?"
                raise errors.NotMyNumberCardError(f"card token is {shown!r}, not a My Number card")
            return CardType.MY_NUMBER

    def pin_tries_left(self) -> int:
        """PIN tries left (0 when blocked), read without spending one."""
        with self._session(reset_after=False) as session:
            self._select_pin_ef(session)
            return self._tries_left(session)

    def read_basic_four(self, pin: str, *, confirm_last_try: bool = False) -> mn.BasicFour:
        """Verifies the PIN once and reads name, address, birth date and sex."""
        if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
            raise errors.InvalidPinFormatError("the PIN must be exactly 4 digits")
        with self._session(reset_after=True) as session:
            self._select_pin_ef(session)
            tries = self._tries_left(session)
            if tries == 0:
                raise errors.CardBlockedError(
                    "the PIN is blocked; the card must be unblocked at the city office")
            if tries == 1 and not confirm_last_try:
                raise errors.LastTryNotConfirmedError("one PIN try left: confirm before sending a PIN")
            sw = session.exchange(mn.verify(pin.encode("ascii")))[1]
            if sw != mn.SW_OK:
                left = mn.tries_left_from_sw(sw)
                if left == 0 or sw in mn.BLOCKED_SWS:
                    raise errors.CardBlockedError("wrong PIN: the card is now blocked")
                if left is not None:
                    raise errors.WrongPinError(left)
                raise errors.CardCommunicationError(f"VERIFY answered {sw:04X}")
            session.expect_ok(mn.select_ef(mn.EF_BASIC_FOUR), "SELECT basic-4 EF")
            ef = self._read_tlv_file(session)
        try:
            return mn.parse_basic_four(ef)
        except ValueError as exc:
            raise errors.CardCommunicationError(f"basic-4 EF is malformed: {exc}") from None

    def _select_pin_ef(self, session: _Session) -> None:
        if session.exchange(mn.select_df(mn.TEXT_AP_AID))[1] != mn.SW_OK:
            raise errors.NotMyNumberCardError("this card has no 券面事項入力補助 application")
        session.expect_ok(mn.select_ef(mn.EF_PIN), "SELECT PIN EF")

    @staticmethod
    def _tries_left(session: _Session) -> int:
        sw = session.exchange(mn.VERIFY_TRIES_LEFT)[1]
        if sw in mn.BLOCKED_SWS:
            return 0
        left = mn.tries_left_from_sw(sw)
        if left is None:
            raise errors.CardCommunicationError(f"tries-left query answered {sw:04X}")
        return left

    @staticmethod
    def _read_tlv_file(session: _Session) -> bytes:
        head, sw = session.exchange(mn.read_binary(0, 5))
        if sw not in (mn.SW_OK, mn.SW_END_OF_FILE):
            raise errors.CardCommunicationError(f"READ BINARY answered {sw:04X}")
        try:
            _, length, header = mn.tlv_header(head)
        except ValueError as exc:
            raise errors.CardCommunicationError(f"basic-4 EF is malformed: {exc}") from None
        data = bytearray(head)
        total = header + length
        while len(data) < total:
            chunk, sw = session.exchange(mn.read_binary(len(data), min(0xFF, total - len(data))))
            if sw not in (mn.SW_OK, mn.SW_END_OF_FILE) or not chunk:
                raise errors.CardCommunicationError(f"READ BINARY answered {sw:04X}")
            data += chunk
        return bytes(data[:total])

    @contextmanager
    def _session(self, *, reset_after: bool) -> Iterator[_Session]:
        s = _scard()
        with self._lock:
            # A command abandoned by the watchdog still owns the card until pcscd returns it.
            if self._busy is not None and not self._busy.wait(self.transmit_timeout_s):
                raise errors.CardTimeoutError("the reader is still waiting for the card's last answer")
            self._busy = None
            context, reader = self._ensure_context(), self._reader()
            hresult, hcard, protocol = s.SCardConnect(context, reader, s.SCARD_SHARE_SHARED,
                                                      s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
            if hresult != s.SCARD_S_SUCCESS:
                if hresult in (s.SCARD_E_NO_SMARTCARD, s.SCARD_W_REMOVED_CARD):
                    raise errors.NoCardError("no card in the reader")
                raise _service_error(hresult) or errors.CardCommunicationError(
                    s.SCardGetErrorMessage(hresult))
            session = _Session(hcard, protocol, self.transmit_timeout_s)
            try:
                yield session
            finally:
                # Reset after a PIN was used, so no verified state outlives the read.
                session.finish(s.SCARD_RESET_CARD if reset_after else s.SCARD_LEAVE_CARD)
                self._busy = session.pending


class _Session:
    """One SCardConnect: transmits APDUs under a watchdog and maps failures to typed errors."""

    def __init__(self, hcard: int, protocol: int, timeout_s: float) -> None:
        self.hcard = hcard
        self.protocol = protocol
        self.timeout_s = timeout_s
        self._abandoned = False
        self._finished = False
        self.pending: threading.Event | None = None  # set when an abandoned transmit finally returns

    def expect_ok(self, apdu: bytes, what: str) -> bytes:
        data, sw = self.exchange(apdu)
        if sw != mn.SW_OK:
            raise errors.CardCommunicationError(f"{what} answered {sw:04X}")
        return data

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        if apdu == _FORBIDDEN_SELECT:
            raise RuntimeError("selecting EF 0001 (individual number) is forbidden")
        if self._abandoned:
            raise errors.CardTimeoutError("the card stopped answering")
        s = _scard()
        pci = s.SCARD_PCI_T1 if self.protocol == s.SCARD_PROTOCOL_T1 else s.SCARD_PCI_T0
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def transmit() -> None:
            try:
                outcome["result"] = s.SCardTransmit(self.hcard, pci, list(apdu))
            finally:
                done.set()
                if self._abandoned:
                    self._disconnect(s.SCARD_RESET_CARD)

        worker = threading.Thread(target=transmit, name="madoguchi-card-transmit", daemon=True)
        worker.start()
        if not done.wait(self.timeout_s):
            self._abandoned = True  # the worker disconnects when (if) the transmit returns
            self.pending = done
            if done.is_set():
                self._disconnect(s.SCARD_RESET_CARD)
            raise errors.CardTimeoutError(
                f"no answer to INS {apdu[1]:02X} within {self.timeout_s:g} s (watchdog)")
        hresult, response = outcome["result"]
        if hresult != s.SCARD_S_SUCCESS:
            raise self._transmit_error(hresult)
        if len(response) < 2:
            raise self._transmit_error(s.SCARD_W_REMOVED_CARD if not self._card_present()
                                       else s.SCARD_F_COMM_ERROR)
        return bytes(response[:-2]), response[-2] << 8 | response[-1]

    def _card_present(self, settle_s: float = 1.0) -> bool:
        """Whether the card is still there. pcscd polls presence every 0.4 s, so a card pulled out
        mid-command may still look present for a moment: watch it for ``settle_s`` first."""
        s = _scard()
        deadline = time.monotonic() + settle_s
        while True:
            hresult, _reader, state, _protocol, _atr = s.SCardStatus(self.hcard)
            if hresult in (s.SCARD_W_REMOVED_CARD, s.SCARD_E_NO_SMARTCARD):
                return False
            if hresult == s.SCARD_S_SUCCESS and not state & _SCARD_PRESENT:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.05)

    def _transmit_error(self, hresult: int) -> errors.CardReaderError:
        s = _scard()
        gone = (s.SCARD_W_REMOVED_CARD, s.SCARD_E_NO_SMARTCARD)
        maybe_gone = (s.SCARD_E_NOT_TRANSACTED, s.SCARD_E_COMM_DATA_LOST, s.SCARD_F_COMM_ERROR,
                      s.SCARD_W_RESET_CARD)
        if hresult in gone or (hresult in maybe_gone and not self._card_present()):
            return errors.CardRemovedError("the card was removed during the read")
        service = _service_error(hresult)
        if service is not None:
            return service
        return errors.CardCommunicationError(s.SCardGetErrorMessage(hresult))

    def _disconnect(self, disposition: int) -> None:
        if not self._finished:
            self._finished = True
            _scard().SCardDisconnect(self.hcard, disposition)

    def finish(self, disposition: int) -> None:
        if not self._abandoned:
            self._disconnect(disposition)

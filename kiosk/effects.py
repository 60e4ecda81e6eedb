"""Runs the flow's effects on worker threads and posts what happened back as flow events.

Nothing here knows Kivy: the app passes ``post`` (deliver an event on the UI thread) and ``later``
(call something after a delay). Every device and server failure becomes a typed flow event, so the
flow — tested without devices — decides what the resident sees.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from madoguchi.hardware import card_errors as ce
from madoguchi.kiosk.client import KioskClient, RequestRefusedError, ServerUnreachableError
from madoguchi.kiosk.flow import FlowCatalog, LifeEventInfo, QuestionInfo
from madoguchi.kiosk.flow import states as s
from madoguchi.kiosk.models import Catalog, GuidanceRequest, TicketRequest
from madoguchi.kiosk.printing import ticket_content
from madoguchi.kiosk.status import StatusReporter

log = logging.getLogger(__name__)

CARD_WAIT_S = 60.0


def flow_catalog(catalog: Catalog) -> FlowCatalog:
    return FlowCatalog(
        languages=tuple(catalog.languages),
        life_events=tuple(LifeEventInfo(e.id, tuple(e.questions)) for e in catalog.life_events),
        questions={q.id: QuestionInfo(q.id, q.type, tuple(o.id for o in q.options)) for q in catalog.questions},
        simple_procedures=tuple(p.id for p in catalog.procedures if p.simple),
    )


def card_problem(exc: ce.CardReaderError) -> s.Event:
    if isinstance(exc, ce.CardBlockedError):
        return s.CardBlocked()
    if isinstance(exc, ce.WrongPinError):
        return s.CardFailed(s.CardProblem.WRONG_PIN, exc.tries_left)
    if isinstance(exc, ce.LastTryNotConfirmedError):
        return s.CardFailed(s.CardProblem.WRONG_PIN, 1)
    if isinstance(exc, ce.NotMyNumberCardError):
        return s.CardFailed(s.CardProblem.NOT_MY_NUMBER)
    if isinstance(exc, ce.CardRemovedError | ce.NoCardError | ce.CardTimeoutError | ce.CardCommunicationError):
        return s.CardFailed(s.CardProblem.REMOVED)
    return s.CardFailed(s.CardProblem.READER_BROKEN)


class EffectRunner:
    def __init__(self, client: KioskClient, printer: Any, reader: Any, status: StatusReporter,
                 post: Callable[[s.Event], None], later: Callable[[float, Callable[[], None]], None]) -> None:
        self.client, self.printer, self.reader, self.status = client, printer, reader, status
        self.post, self.later = post, later
        self.catalog: Catalog | None = None
        self.last_print_error: str | None = None
        self._card_cancel = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run(self, effects: list[s.Effect]) -> None:
        for effect in effects:
            handler = getattr(self, "_" + type(effect).__name__, None)
            if handler is not None:
                handler(effect)

    def close(self) -> None:
        self._card_cancel.set()
        if self.reader is not None:
            self.reader.cancel()
        for thread in list(self._threads):
            thread.join(timeout=10)

    def _spawn(self, name: str, work: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                work()
            finally:
                with self._lock:
                    self._threads.remove(threading.current_thread())

        thread = threading.Thread(target=guarded, name=f"madoguchi-kiosk-{name}", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _server(self, work: Callable[[], s.Event]) -> Callable[[], None]:
        def call() -> None:
            try:
                event = work()
            except ServerUnreachableError:
                self.status.update(server="unreachable")
                self.post(s.ServerUnreachable())
                return
            except RequestRefusedError as exc:
                self.status.update(server="reachable")
                self.post(s.RequestRefused(exc.code))
                return
            self.status.update(server="reachable")
            self.post(event)
        return call

    # -- server -------------------------------------------------------------------------------

    def _LoadCatalog(self, effect: s.LoadCatalog) -> None:
        def load() -> s.Event:
            self.catalog = self.client.catalog()
            return s.CatalogLoaded(flow_catalog(self.catalog))
        self._spawn("catalog", self._server(load))

    def _RequestPlan(self, effect: s.RequestPlan) -> None:
        request = GuidanceRequest(life_event=effect.life_event, answers=effect.answers, language=effect.language)
        self._spawn("plan", self._server(lambda: s.PlanReady(self.client.plan(request))))

    def _IssueTicket(self, effect: s.IssueTicket) -> None:
        request = TicketRequest.model_validate(effect.body)
        key = effect.idempotency_key
        self._spawn("issue", self._server(lambda: s.TicketIssued(self.client.issue(request, key))))

    def _ScheduleRetry(self, effect: s.ScheduleRetry) -> None:
        self.later(effect.delay_s, lambda: self.post(s.RetryDue()))

    # -- printer ------------------------------------------------------------------------------

    def _PrintTicket(self, effect: s.PrintTicket) -> None:
        from madoguchi.hardware.printer_status import PrinterError

        assert self.catalog is not None
        content = ticket_content(effect.ticket, self.catalog, effect.language)  # type: ignore[arg-type]

        def print_it() -> None:
            if self.printer is None:
                self.last_print_error = "no_printer"
                self.post(s.PrintFailed("no_answer"))
                return
            try:
                self.printer.print_ticket(content)
            except PrinterError as exc:
                log.warning("kiosk: the ticket did not print: %s (%s)", exc.status.value, exc)
                self.last_print_error = exc.status.value
                self.post(s.PrintFailed(exc.status.value))
                return
            self.last_print_error = None
            self.post(s.Printed())
        self._spawn("print", print_it)

    def _ReportStatus(self, effect: s.ReportStatus) -> None:
        self.status.update(call_staff=effect.call_staff, printer=effect.printer)

    # -- card reader --------------------------------------------------------------------------

    def _card(self, name: str, work: Callable[[], s.Event]) -> None:
        def run() -> None:
            if self.reader is None:
                self.status.update(card_reader="none")
                self.post(s.CardFailed(s.CardProblem.READER_BROKEN))
                return
            try:
                event = work()
            except ce.CardWaitCancelledError:
                return
            except ce.CardReaderError as exc:
                if isinstance(exc, ce.ReaderServiceDownError | ce.NoReaderError):
                    self.status.update(card_reader="broken")
                log.info("kiosk: card %s: %s", name, type(exc).__name__)
                self.post(card_problem(exc))
                return
            self.status.update(card_reader="ok")
            if not self._card_cancel.is_set():
                self.post(event)
        self._spawn(f"card-{name}", run)

    def _WaitForCard(self, effect: s.WaitForCard) -> None:
        self._card_cancel = cancel = threading.Event()

        def wait() -> s.Event:
            self.reader.wait_for_card(CARD_WAIT_S, cancel)
            return s.CardInserted()
        self._card("wait", wait)

    def _CancelCard(self, effect: s.CancelCard) -> None:
        self._card_cancel.set()
        if self.reader is not None:
            self.reader.cancel()

    def _CheckCard(self, effect: s.CheckCard) -> None:
        self._card_cancel = threading.Event()

        def check() -> s.Event:
            self.reader.card_type()
            return s.CardChecked(self.reader.pin_tries_left())
        self._card("check", check)

    def _ReadCard(self, effect: s.ReadCard) -> None:
        pin, confirm = effect.pin, effect.confirm_last_try
        self._card_cancel = threading.Event()

        def read() -> s.Event:
            four = self.reader.read_basic_four(pin, confirm_last_try=confirm)
            return s.CardRead({"name": four.name, "address": four.address, "birth_date": four.birth_date,
                               "sex": four.sex})
        self._card("read", read)

"""Counter endpoints: call, recall, start, finish, no-show, hold, call out of order, and the card read.

Each action needs a session signed in at that counter (``AtCounter``); reading the lists is for all staff."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from fastapi import APIRouter, Response

from madoguchi.server.api import links, present, schemas
from madoguchi.server.api.responses import model_response
from madoguchi.server.api.security import AtCounter, ServicesDep, Staff
from madoguchi.server.core.errors import not_found
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Ticket, TicketStatus
from madoguchi.server.service.container import Services
from madoguchi.server.storage.audit import CardRead, record_card_read
from madoguchi.server.storage.office_store import Transaction

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(prefix="/counters", tags=["counter"])

Action = Callable[[Office, dt.datetime], Ticket | None]


async def act(services: Services, counter_id: str, action: Action) -> Response:
    """Run a counter action; the answer never carries card data (read it with ``GET …/card``)."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> schemas.CounterAction:
        office.counter(counter_id)  # 404 before anything else
        ticket = action(office, now)
        return schemas.CounterAction(
            ticket=present.staff_ticket(office, ticket) if ticket else None,
            counter=present.counter_out(office, office.counter(counter_id)),
        )

    return model_response(await services.execute_async(command))


@router.get("/{counter_id}/card", response_model=schemas.CardRead, responses={
    403: {"description": "Not signed in at this counter"},
    404: {"description": "No visit at this counter, or it has no card data"}})
def card(counter_id: str, services: ServicesDep, who: AtCounter) -> Response:
    """The card data of the visit this counter is serving now (called or serving), for the session signed
    in at this counter only. Every read is audit-logged (who, which visit, when; never the data)."""
    def query(office: Office, now: dt.datetime) -> tuple[Ticket, dict[str, str]]:
        ticket = office.ticket_at(office.counter(counter_id))
        data = services.vault.read(services.store.conn, ticket.id) if present.served_here(ticket, counter_id) else None
        if ticket is None or data is None:
            raise not_found("card_not_here", counter=counter_id)
        record_card_read(services.store.conn, CardRead(now, who.name, counter_id, ticket.id))
        return ticket, data

    ticket, data = services.read(query)
    log.info("card data of visit %s read by %s at counter %s", ticket.id, who.name, counter_id)
    answer = schemas.CardRead(ticket_id=ticket.id, display_number=ticket.display_number, card=schemas.Card(**data))
    return model_response(answer, headers=NO_STORE)


@router.get("", response_model=list[schemas.CounterOut])
def list_counters(services: ServicesDep, _: Staff) -> list[schemas.CounterOut]:
    """Every counter with its state, skills and the number it serves."""
    return services.read(lambda office, now: [present.counter_out(office, c) for c in office.counters.values()])


@router.post("/{counter_id}/call-next", response_model=schemas.CounterAction, operation_id=links.CALL_NEXT,
             responses={200: {"description": "Whom this counter calls now", "links": links.after_call()}})
async def call_next(counter_id: str, services: ServicesDep, _: AtCounter) -> Response:
    """Call whom the balancing policy chooses; ``ticket`` is null when nobody waits for this counter."""
    return await act(services, counter_id, lambda office, now: office.call_next(counter_id, now))


@router.post("/{counter_id}/recall", response_model=schemas.CounterAction)
async def recall(counter_id: str, services: ServicesDep, _: AtCounter) -> Response:
    return await act(services, counter_id, lambda office, now: office.recall(counter_id, now))


@router.post("/{counter_id}/start", response_model=schemas.CounterAction, operation_id=links.START,
             responses={200: {"description": "Serving started", "links": links.after_start()}})
async def start(counter_id: str, services: ServicesDep, _: AtCounter) -> Response:
    return await act(services, counter_id, lambda office, now: office.start(counter_id, now))


@router.post("/{counter_id}/finish", response_model=schemas.CounterAction, operation_id=links.FINISH,
             responses={200: {"description": "The step finished", "links": links.after_finish()}})
async def finish(counter_id: str, services: ServicesDep, _: AtCounter,
           body: schemas.FinishIn | None = None) -> Response:
    """Finish the current step: it continues here, waits for its next counter, or the visit ends;
    or send it on to a chosen procedure and/or counter."""
    form = body or schemas.FinishIn()
    return await act(services, counter_id, lambda office, now: office.finish(
        counter_id, form.outcome, now, next_procedure=form.next_procedure, to_counter=form.to_counter))


@router.post("/{counter_id}/no-show", response_model=schemas.CounterAction)
async def no_show(counter_id: str, services: ServicesDep, _: AtCounter) -> Response:
    return await act(services, counter_id, lambda office, now: office.no_show(counter_id, now))


@router.post("/{counter_id}/hold", response_model=schemas.CounterAction)
async def hold(counter_id: str, services: ServicesDep, _: AtCounter) -> Response:
    return await act(services, counter_id, lambda office, now: office.hold(counter_id, now))


@router.post("/{counter_id}/call", response_model=schemas.CounterAction, operation_id=links.CALL_TICKET,
             responses={200: {"description": "The visit called", "links": links.after_call()}})
async def call(counter_id: str, body: schemas.CallIn, services: ServicesDep, _: AtCounter) -> Response:
    """Call a given visit out of order (or back from hold); the reason is logged."""
    return await act(services, counter_id,
                     lambda office, now: office.call(counter_id, body.ticket_id, body.reason, now))


@router.get("/{counter_id}/queue", response_model=list[schemas.StaffTicket])
def queue(counter_id: str, services: ServicesDep, _: Staff) -> list[schemas.StaffTicket]:
    """Visits this counter could serve now, in the order the policy sees them (no card data)."""
    def query(office: Office, now: dt.datetime) -> list[schemas.StaffTicket]:
        counter = office.counter(counter_id)
        waiting = [t for t in office.waiting()
                   if t.sent_to in (None, counter.id) and counter.can_serve(t.band, t.procedure)]
        held = [t for t in office.tickets.values() if t.status is TicketStatus.HELD]
        ordered = sorted(waiting, key=lambda t: office.policy_key(office.candidate(t)))
        return [present.staff_ticket(office, t) for t in ordered + held]
    return services.read(query)

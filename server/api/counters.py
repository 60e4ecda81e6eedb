"""Counter endpoints: call, recall, start, finish, no-show, hold, call out of order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Response

from madoguchi.server.api import present, schemas
from madoguchi.server.api.responses import model_response
from madoguchi.server.api.security import ServicesDep, Staff
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Ticket, TicketStatus
from madoguchi.server.service.container import Services
from madoguchi.server.storage.office_store import Transaction

router = APIRouter(prefix="/counters", tags=["counter"])

Action = Callable[[Office, dt.datetime], Ticket | None]


async def act(services: Services, counter_id: str, action: Action) -> Response:
    """Run a counter action; the answer carries the visit's card data only to the counter serving it."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> tuple[schemas.CounterAction, str | None]:
        office.counter(counter_id)  # 404 before anything else
        ticket = action(office, now)
        answer = schemas.CounterAction(
            ticket=present.staff_ticket(office, ticket) if ticket else None,
            counter=present.counter_out(office, office.counter(counter_id)),
        )
        return answer, ticket.id if ticket and present.served_here(ticket, counter_id) else None

    answer, card_of = await services.execute_async(command)
    if card_of is not None and answer.ticket is not None:  # read once committed: the card row is on disk
        with services.lock:
            card = services.vault.read(services.store.conn, card_of)
        if card:
            answer.ticket.card = schemas.Card(**card)
    return model_response(answer)


@router.get("", response_model=list[schemas.CounterOut])
def list_counters(services: ServicesDep, _: Staff) -> list[schemas.CounterOut]:
    """Every counter with its state, skills and the number it serves."""
    return services.read(lambda office, now: [present.counter_out(office, c) for c in office.counters.values()])


@router.post("/{counter_id}/call-next", response_model=schemas.CounterAction)
async def call_next(counter_id: str, services: ServicesDep, _: Staff) -> Response:
    """Call whom the balancing policy chooses; ``ticket`` is null when nobody waits for this counter."""
    return await act(services, counter_id, lambda office, now: office.call_next(counter_id, now))


@router.post("/{counter_id}/recall", response_model=schemas.CounterAction)
async def recall(counter_id: str, services: ServicesDep, _: Staff) -> Response:
    return await act(services, counter_id, lambda office, now: office.recall(counter_id, now))


@router.post("/{counter_id}/start", response_model=schemas.CounterAction)
async def start(counter_id: str, services: ServicesDep, _: Staff) -> Response:
    return await act(services, counter_id, lambda office, now: office.start(counter_id, now))


@router.post("/{counter_id}/finish", response_model=schemas.CounterAction)
async def finish(counter_id: str, services: ServicesDep, _: Staff,
           body: schemas.FinishIn | None = None) -> Response:
    """Finish the current step: it continues here, waits for its next counter, or the visit ends."""
    outcome = (body or schemas.FinishIn()).outcome
    return await act(services, counter_id, lambda office, now: office.finish(counter_id, outcome, now))


@router.post("/{counter_id}/no-show", response_model=schemas.CounterAction)
async def no_show(counter_id: str, services: ServicesDep, _: Staff) -> Response:
    return await act(services, counter_id, lambda office, now: office.no_show(counter_id, now))


@router.post("/{counter_id}/hold", response_model=schemas.CounterAction)
async def hold(counter_id: str, services: ServicesDep, _: Staff) -> Response:
    return await act(services, counter_id, lambda office, now: office.hold(counter_id, now))


@router.post("/{counter_id}/call", response_model=schemas.CounterAction)
async def call(counter_id: str, body: schemas.CallIn, services: ServicesDep, _: Staff) -> Response:
    """Call a given visit out of order (or back from hold); the reason is logged."""
    return await act(services, counter_id,
                     lambda office, now: office.call(counter_id, body.ticket_id, body.reason, now))


@router.get("/{counter_id}/queue", response_model=list[schemas.StaffTicket])
def queue(counter_id: str, services: ServicesDep, _: Staff) -> list[schemas.StaffTicket]:
    """Visits this counter could serve now, in the order the policy sees them (no card data)."""
    def query(office: Office, now: dt.datetime) -> list[schemas.StaffTicket]:
        counter = office.counter(counter_id)
        waiting = [t for t in office.waiting() if counter.can_serve(t.band, t.procedure)]
        held = [t for t in office.tickets.values() if t.status is TicketStatus.HELD]
        ordered = sorted(waiting, key=lambda t: office.policy_key(office.candidate(t)))
        return [present.staff_ticket(office, t) for t in ordered + held]
    return services.read(query)

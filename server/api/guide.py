"""Floor guide endpoints: open, close and re-skill counters, priority flags, suggestions."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response

from madoguchi.server.api import links, present, schemas
from madoguchi.server.api.security import Guide, ServicesDep
from madoguchi.server.core.office import Office
from madoguchi.server.storage.office_store import Transaction

router = APIRouter(tags=["guide"])


@router.patch("/counters/{counter_id}", response_model=schemas.CounterOut)
def update_counter(counter_id: str, body: schemas.CounterPatch, services: ServicesDep,
                   _: Guide) -> schemas.CounterOut:
    """Open, pause or close a counter, or change the bands and procedures it serves."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> schemas.CounterOut:
        counter = office.update_counter(counter_id, now, state=body.state, skills=body.skills)
        return present.counter_out(office, counter)
    return services.execute(command)


@router.patch("/tickets/{ticket_id}", response_model=schemas.StaffTicket, operation_id=links.SET_PRIORITY)
def set_priority(ticket_id: str, body: schemas.PriorityPatch, services: ServicesDep, _: Guide) -> schemas.StaffTicket:
    """Flag a visit (wheelchair, pregnancy, interpreter…); it moves ahead by the site's bounded credit."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> schemas.StaffTicket:
        return present.staff_ticket(office, office.set_priority(ticket_id, frozenset(body.priority), now))
    return services.execute(command)


@router.post("/tickets/{ticket_id}/cancel", response_model=schemas.StaffTicket, operation_id=links.CANCEL)
def cancel(ticket_id: str, services: ServicesDep, _: Guide) -> schemas.StaffTicket:
    """End a visit that will not continue (the resident left); its card data is erased."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> schemas.StaffTicket:
        return present.staff_ticket(office, office.cancel(ticket_id, "guide", now))
    return services.execute(command)


@router.get("/suggestions", response_model=list[schemas.Suggestion])
def suggestions(services: ServicesDep, _: Guide) -> list[schemas.Suggestion]:
    """Counter moves that would bring a band back toward its target, with their predicted effect."""
    def command(office: Office, now: dt.datetime, tx: Transaction) -> list[schemas.Suggestion]:
        return [
            schemas.Suggestion(
                id=s.id, counter=s.counter_id, from_band=s.from_band, to_band=s.to_band,
                new_skills=list(s.new_skills), before={b: present.estimate(e) for b, e in s.before.items()},
                after={b: present.estimate(e) for b, e in s.after.items()},
            )
            for s in office.suggestions(now)
        ]
    return services.execute(command)


@router.post("/suggestions/{suggestion_id}/accept", response_model=schemas.CounterOut)
def accept(suggestion_id: str, services: ServicesDep, _: Guide) -> schemas.CounterOut:
    def command(office: Office, now: dt.datetime, tx: Transaction) -> schemas.CounterOut:
        return present.counter_out(office, office.accept_suggestion(suggestion_id, now))
    return services.execute(command)


@router.post("/suggestions/{suggestion_id}/dismiss", status_code=204, response_class=Response)
def dismiss(suggestion_id: str, services: ServicesDep, _: Guide) -> Response:
    services.execute(lambda office, now, tx: office.dismiss_suggestion(suggestion_id, now))
    return Response(status_code=204)

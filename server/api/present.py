"""Core objects as API responses, in the caller's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from madoguchi.server.api import schemas
from madoguchi.server.core.catalog import Catalog, text_in
from madoguchi.server.core.counter import Counter
from madoguchi.server.core.estimator import Estimate as CoreEstimate
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import AT_COUNTER, Ticket
from madoguchi.server.service.presenters import estimate_payload


def steps(catalog: Catalog, procedures: Iterable[tuple[str, str]], language: str) -> list[schemas.PlanStep]:
    """(procedure id, state) pairs as plan steps labelled in ``language``."""
    out = []
    for procedure_id, state in procedures:
        procedure = catalog.procedures.get(procedure_id)
        out.append(schemas.PlanStep(
            procedure=procedure_id,
            label=text_in(procedure.label, language) if procedure else procedure_id,
            department=procedure.department if procedure else "",
            state=state,
        ))
    return out


def plan(catalog: Catalog, ticket: Ticket, language: str) -> list[schemas.PlanStep]:
    return steps(catalog, ((s.procedure, s.state.value) for s in ticket.steps), language)


def estimate(value: CoreEstimate) -> schemas.Estimate:
    return schemas.Estimate(**estimate_payload(value).model_dump())


def status_url(public_url: str, ticket: Ticket) -> str:
    return f"{public_url.rstrip('/')}/t/{ticket.token}"


def ticket_out(office: Office, ticket: Ticket, now: dt.datetime, public_url: str) -> schemas.TicketOut:
    return schemas.TicketOut(
        id=ticket.id, number=ticket.number, display_number=ticket.display_number, band=ticket.band,
        status=ticket.status.value, language=ticket.language, position=office.position(ticket),
        estimate=estimate(office.estimate(ticket, now)), plan=plan(office.catalog, ticket, ticket.language),
        status_url=status_url(public_url, ticket), issued_at=ticket.issued_at,
    )


def staff_ticket(office: Office, ticket: Ticket) -> schemas.StaffTicket:
    """A visit as staff see it; never its card data (that is ``GET /counters/{id}/card``)."""
    return schemas.StaffTicket(
        id=ticket.id, number=ticket.number, display_number=ticket.display_number, band=ticket.band,
        status=ticket.status.value, language=ticket.language, life_event=ticket.life_event,
        priority=sorted(ticket.priority), plan=plan(office.catalog, ticket, "ja"), current_step=ticket.current,
        issued_at=ticket.issued_at, called_at=ticket.called_at, first_called_at=ticket.first_called_at,
        counter=ticket.counter_id, recalls=ticket.recalls, position=office.position(ticket),
        has_card=ticket.has_card,
    )


def counter_out(office: Office, counter: Counter) -> schemas.CounterOut:
    ticket = office.ticket_at(counter)
    return schemas.CounterOut(
        id=counter.id, label=dict(counter.label), department=counter.department, state=counter.state.value,
        skills=sorted(counter.skills), serving=ticket.display_number if ticket else None,
        ticket_id=ticket.id if ticket else None,
    )


def served_here(ticket: Ticket | None, counter_id: str) -> bool:
    """Card data goes only to the counter the visit is at right now."""
    return bool(ticket and ticket.has_card and ticket.status in AT_COUNTER and ticket.counter_id == counter_id)


def public_ticket(office: Office, ticket: Ticket, now: dt.datetime, language: str) -> schemas.PublicTicket:
    band = office.bands.get(ticket.band)
    counter = office.counters.get(ticket.counter_id) if ticket.counter_id else None
    return schemas.PublicTicket(
        number=ticket.number, display_number=ticket.display_number, band=ticket.band,
        band_label=text_in(band.label, language) if band else ticket.band, status=ticket.status.value,
        position=office.position(ticket) if ticket.id in office.tickets else 0,
        estimate=estimate(office.estimate(ticket, now)) if ticket.id in office.tickets and ticket.is_open else None,
        counter=counter.id if counter else None,
        counter_label=text_in(counter.label, language) if counter else None,
        plan=plan(office.catalog, ticket, language), language=language,
    )

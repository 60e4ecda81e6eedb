"""Kiosk endpoints: what the office offers, the plan for a life event, and issuing a ticket."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.exceptions import RequestValidationError

from madoguchi.server.api import links, present, schemas
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.responses import model_response
from madoguchi.server.api.security import Anyone, Guide, Kiosk, ServicesDep
from madoguchi.server.core import issuing
from madoguchi.server.core.errors import invalid, not_found
from madoguchi.server.core.guidance import available
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.office import Office
from madoguchi.server.service.container import Services
from madoguchi.server.storage.office_store import Transaction, remember_estimate, remember_idempotency_key

router = APIRouter(tags=["kiosk"])
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,200}$")


@router.get("/catalog")
def catalog(services: ServicesDep, _: Anyone) -> dict[str, Any]:
    """Languages, life events, procedures, questions and bands offered today at this site."""
    cfg, site = services.site.catalog_config, services.site.config
    today = services.clock.now().date()
    bands = {b.id for b in site.bands}
    return {
        "site": site.id,
        "site_label": site.name,
        "languages": cfg.languages,
        "life_events": [
            {"id": e.id, "label": e.label, "band": e.band, "questions": e.questions}
            for e in cfg.life_events if available(e.available_from, today) and e.band in bands
        ],
        "procedures": [
            {"id": p.id, "label": p.label, "band": p.band, "department": p.department, "simple": p.simple,
             "bring": p.bring}
            for p in cfg.procedures if available(p.available_from, today)
        ],
        "questions": [
            {"id": q.id, "type": q.type, "label": q.label,
             **({"options": [{"id": o.id, "label": o.label} for o in q.options]} if q.options else {})}
            for q in cfg.questions
        ],
        "bands": [{"id": b.id, "label": b.label, "range": list(b.range), "target_wait_min": b.target_wait_min}
                  for b in site.bands],
        "departments": cfg.departments,
    }


@router.post("/guidance", response_model=schemas.GuidanceOut)
def guidance(body: schemas.GuidanceIn, services: ServicesDep, _: Kiosk) -> schemas.GuidanceOut:
    """The plan a life event and answers give, without issuing anything."""
    def query(office: Office, now: dt.datetime) -> schemas.GuidanceOut:
        request = IssueRequest(life_event=body.life_event, answers=body.answers.raw())
        band, procedures = issuing.plan(office.catalog, office.bands, request, now.date())
        return schemas.GuidanceOut(plan=present.steps(office.catalog, ((p, "todo") for p in procedures), body.language),
                                   band=band.id)
    return services.read(query)


def _request_hash(body: schemas.TicketIn, manual: bool, card_digest: str | None) -> str:
    # the card itself is left out: only a digest keyed with the day's site key (services.vault.digest),
    # so a replay with other card data is refused and nothing stored can be matched against a name
    shape = body.model_dump(mode="json", exclude={"card"}) | {"card": card_digest, "manual": manual}
    return hashlib.sha256(repr(sorted(shape.items())).encode()).hexdigest()


def scoped_key(caller: str, key: str) -> str:
    """Idempotency keys are per device (or per guide): two kiosks may use the same key. The key itself
    has no space (IDEMPOTENCY_KEY), so the pair is unambiguous."""
    return f"{caller} {key}"


Issue = Callable[[Office, dt.datetime, Transaction], tuple[schemas.TicketOut, bool]]


def _prepare(services: Services, body: schemas.TicketIn, key: str | None, manual: bool, caller: str) -> Issue:
    """Checks before the office is touched, and the command that issues (or replays) the ticket.

    The command decides a replay or a refusal (``idempotency_key_reused``, a DomainError) before it
    changes anything, so a refusal never looks like a failure to the writer (STYLE §18)."""
    if body.language not in services.site.catalog_config.languages:
        raise invalid("answer_not_an_option", question="language", options=services.site.catalog_config.languages)
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise ApiError(422, "idempotency_key_invalid")
    today = services.clock.now().date()
    if body.card is not None and body.card.birth_date > today:  # the range's end moves with the day
        raise RequestValidationError([{"type": "less_than_equal", "loc": ("body", "card", "birth_date"),
                                       "msg": "birth date after today", "ctx": {"le": today.isoformat()}}])
    scoped = scoped_key(caller, key) if key is not None else None
    card = body.card.model_dump(mode="json") if body.card is not None else None
    request = IssueRequest(
        life_event=body.life_event, procedures=tuple(body.procedures) if body.procedures is not None else None,
        answers=body.answers.raw(), language=body.language, priority=frozenset(body.priority),
        has_card=body.card is not None, manual=manual,
    )

    def command(office: Office, now: dt.datetime, tx: Transaction) -> tuple[schemas.TicketOut, bool]:
        digest = _request_hash(body, manual, services.vault.digest(card, now.date()) if card else None)
        if scoped is not None:
            row = services.pending_keys.get(scoped) or services.store.idempotent_ticket(scoped)
            if row is not None:
                if row[1] != digest:
                    raise invalid("idempotency_key_reused")  # a refusal: nothing was changed
                return _replay(services, office, row[0], now), True
        ticket = office.issue(request, now)
        out = present.ticket_out(office, ticket, now, services.settings.public_url)
        if scoped is not None:
            services.pending_keys[scoped] = (ticket.id, digest)  # until the writer has committed it
            tx.idempotency_key = scoped
            tx.add(remember_idempotency_key(scoped, ticket.id, digest, now))
        if card is not None:
            tx.add(services.vault.store(ticket.id, card, now))
        tx.add(remember_estimate(services.settings.site, ticket, out.estimate.minutes, out.estimate.low,
                                 out.estimate.high, now))
        return out, False

    return command


def _answer(issued: tuple[schemas.TicketOut, bool]) -> Response:
    out, replayed = issued
    if replayed:
        return model_response(out, 200, {"Idempotent-Replayed": "true"})
    return model_response(out, 201)


def _replay(services: Services, office: Office, ticket_id: str, now: dt.datetime) -> schemas.TicketOut:
    """The answer to a replay, from the office when the visit is live there, else from the database
    (e.g. a visit of an earlier day): never assumes the ticket is in memory."""
    ticket = office.tickets.get(ticket_id)
    if ticket is not None:
        return present.ticket_out(office, ticket, now, services.settings.public_url)
    found = services.store.tickets_where("id = ?", (ticket_id,))
    if not found:
        raise not_found("ticket_not_found", ticket=ticket_id)
    stored = found[0]
    return schemas.TicketOut(
        id=stored.id, number=stored.number, display_number=stored.display_number, band=stored.band,
        status=stored.status.value, language=stored.language, position=0,
        estimate=schemas.Estimate(minutes=0, low=0, high=0), plan=present.plan(office.catalog, stored, stored.language),
        status_url=present.status_url(services.settings.public_url, stored), issued_at=stored.issued_at,
    )


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Same key, same ticket")]


@router.post("/tickets", status_code=201, response_model=schemas.TicketOut, operation_id=links.CREATE_TICKET,
             responses={200: {"description": "A replay of an earlier request with the same Idempotency-Key"},
                        201: {"description": "The ticket, on disk", "links": links.issued_ticket()}})
async def create_ticket(body: schemas.TicketIn, services: ServicesDep, caller: Kiosk,
                        idempotency_key: IdempotencyKey = None) -> Response:
    """Issue one ticket for the whole visit. Committed to disk before this answer is sent."""
    command = _prepare(services, body, idempotency_key, manual=False, caller=caller.name)
    return _answer(await services.execute_async(command))


@router.post("/tickets/manual", status_code=201, response_model=schemas.TicketOut, tags=["guide"])
def create_manual_ticket(body: schemas.TicketIn, services: ServicesDep, caller: Guide,
                               idempotency_key: IdempotencyKey = None) -> Response:
    """A ticket issued by hand by the floor guide (same rules as the kiosk's)."""
    return _answer(services.execute(_prepare(services, body, idempotency_key, manual=True, caller=caller.name)))

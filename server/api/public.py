"""Public pages for the resident's phone: no login, no personal data, found by an unguessable token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from madoguchi.common.i18n import message
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.server.api import present, schemas
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.security import ServicesDep
from madoguchi.server.core.catalog import text_in
from madoguchi.server.core.errors import conflict, not_found
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Ticket
from madoguchi.server.service.container import Services
from madoguchi.server.web.phrases import phrase_breaks

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "web" / "templates"))
templates.env.filters["phrases"] = phrase_breaks  # 禁則: <wbr> between Japanese phrases (server/web/phrases.py)
REFRESH_S = 15


def find(services: Services, office: Office, token: str) -> Ticket:
    """The ticket with this status token: the live one if it is today's, else as stored."""
    stored = services.store.ticket_by_token(token)
    if stored is None:
        raise not_found("ticket_not_found")
    return office.tickets.get(stored.id, stored)


def language_for(services: Services, ticket: Ticket, requested: str | None) -> str:
    languages = services.site.catalog_config.languages
    return requested if requested in languages else ticket.language


@router.get("/api/v1/public/tickets/{token}", response_model=schemas.PublicTicket)
def public_ticket(token: str, services: ServicesDep, lang: str | None = None) -> schemas.PublicTicket:
    """Number, band, status, position, estimate, counter and plan of a visit (no personal data)."""
    def query(office: Office, now: dt.datetime) -> schemas.PublicTicket:
        ticket = find(services, office, token)
        return present.public_ticket(office, ticket, now, language_for(services, ticket, lang))
    return services.read(query)


@router.get("/t/{token}", response_class=HTMLResponse)
def status_page(request: Request, token: str, services: ServicesDep, lang: str | None = None,
                thanks: bool = False) -> Response:
    """The resident's status page, in the ticket's language (``?lang=`` to switch); refreshes itself."""
    def query(office: Office, now: dt.datetime) -> tuple[schemas.PublicTicket, str, bool, dt.datetime] | None:
        stored = services.store.ticket_by_token(token)
        if stored is None:
            return None
        ticket = office.tickets.get(stored.id, stored)
        language = language_for(services, ticket, lang)
        has_feedback = services.store.has_feedback(ticket.id)
        return present.public_ticket(office, ticket, now, language), language, has_feedback, now

    found = services.read(query)
    languages = services.site.catalog_config.languages
    if found is None:
        language = lang if lang in languages else "ja"
        return templates.TemplateResponse(request, "not_found.html", {
            "t": lambda key, **p: message("status", key, language, **p), "lang": language}, status_code=404)
    view, language, has_feedback, now = found
    site = services.site.config
    return templates.TemplateResponse(request, "status.html", {
        "t": lambda key, **p: message("status", key, language, **p),
        "lang": language, "languages": languages, "ticket": view, "token": token, "refresh_s": REFRESH_S,
        "site_name": text_in(site.name, language), "now": now, "thanks": thanks, "has_feedback": has_feedback,
        "language_names": LANGUAGE_NAMES,
    })


def _save_feedback(services: Services, token: str, body: schemas.FeedbackIn) -> None:
    with services.lock:
        now = services.clock.now()
        ticket = find(services, services.office, token)
        if not services.store.add_feedback(ticket, body.rating, (body.comment or "").strip() or None, now):
            raise conflict("feedback_twice")


FEEDBACK_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": schemas.FeedbackIn.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": schemas.FeedbackIn.model_json_schema()},
}}}


@router.post("/t/{token}/feedback", status_code=201, openapi_extra=FEEDBACK_BODY,
             responses={303: {"description": "Back to the status page (form posts)"}})
async def feedback(request: Request, token: str, services: ServicesDep,
                   lang: Annotated[str | None, Query()] = None) -> Response:
    """A rating of 1–5 and an optional comment: JSON from apps, a form from the status page."""
    is_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        if is_json:
            body = schemas.FeedbackIn.model_validate_json(await request.body())
        else:
            form = await request.form()
            body = schemas.FeedbackIn.model_validate(
                {"rating": form.get("rating"), "comment": form.get("comment") or None})
    except ValidationError:
        raise ApiError(422, "feedback_invalid") from None
    await run_in_threadpool(_save_feedback, services, token, body)
    if is_json:
        return Response(status_code=201)
    suffix = f"&lang={lang}" if lang and lang in services.site.catalog_config.languages else ""
    return RedirectResponse(f"/t/{token}?thanks=1{suffix}", status_code=303)

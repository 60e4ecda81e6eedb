"""Public pages for the resident's phone: no login, no personal data, found by an unguessable token.

The token stops working after its service day plus ``Settings.feedback_window``; once the visit is done
the page no longer lists its sensitive procedures (``sensitive = true`` in the catalog); every answer
carries a strict Content-Security-Policy, ``Referrer-Policy: no-referrer`` (the token is in the URL),
``nosniff`` and ``no-store``. Feedback is taken once the visit is done, with strict types; comments are
kept ``Settings.comment_retention`` (storage/feedback.py), ratings stay for the KPI.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

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
from madoguchi.server.core.ticket import Ticket, TicketStatus
from madoguchi.server.service.container import Services
from madoguchi.server.storage.feedback import MAX_COMMENT, expire_comments
from madoguchi.server.web.phrases import phrase_breaks

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "web" / "templates"))
templates.env.filters["phrases"] = phrase_breaks  # 禁則: <wbr> between Japanese phrases (server/web/phrases.py)
REFRESH_S = 15
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def page_headers(nonce: str) -> dict[str, str]:
    """Only this page's own inline style and script (by nonce), its own JSON, forms back to itself; never
    framed (clickjacking of the feedback form), never a referrer (the token is in the URL)."""
    policy = (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; "
              "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return {**PRIVATE, "Content-Security-Policy": policy, "X-Frame-Options": "DENY"}


def expires_at(services: Services, ticket: Ticket) -> dt.datetime:
    """The end of the visit's service day (site time) plus the feedback window."""
    zone = ZoneInfo(services.site.config.timezone)
    day_end = dt.datetime.combine(ticket.service_day + dt.timedelta(days=1), dt.time(), zone)
    return day_end + services.settings.feedback_window


def lookup(services: Services, office: Office, token: str, now: dt.datetime) -> Ticket | None:
    """The ticket with this status token (the live one if it is today's), or None, also once expired."""
    stored = services.store.ticket_by_token(token)
    if stored is None or now >= expires_at(services, stored):
        return None
    return office.tickets.get(stored.id, stored)


def find(services: Services, office: Office, token: str, now: dt.datetime) -> Ticket:
    ticket = lookup(services, office, token, now)
    if ticket is None:
        raise not_found("ticket_not_found")
    return ticket


def discreet(office: Office, ticket: Ticket, view: schemas.PublicTicket) -> schemas.PublicTicket:
    """Once the visit is over, the page shows nothing of its sensitive procedures (bereavement, welfare…):
    a phone left lying around or a shared link should not tell them. While the visit runs the resident
    needs the plan, so it is shown."""
    if ticket.is_open:
        return view
    hidden = {s.procedure for s in ticket.steps
              if (p := office.catalog.procedures.get(s.procedure)) is not None and p.sensitive}
    if not hidden:
        return view
    return view.model_copy(update={"plan": [s for s in view.plan if s.procedure not in hidden], "band_label": ""})


def language_for(services: Services, ticket: Ticket, requested: str | None) -> str:
    languages = services.site.catalog_config.languages
    return requested if requested in languages else ticket.language


@router.get("/api/v1/public/tickets/{token}", response_model=schemas.PublicTicket)
def public_ticket(token: str, services: ServicesDep, response: Response,
                  lang: str | None = None) -> schemas.PublicTicket:
    """Number, band, status, position, estimate, counter and plan of a visit (no personal data)."""
    def query(office: Office, now: dt.datetime) -> schemas.PublicTicket:
        ticket = find(services, office, token, now)
        view = present.public_ticket(office, ticket, now, language_for(services, ticket, lang))
        return discreet(office, ticket, view)
    response.headers.update(PRIVATE)
    return services.read(query)


@router.get("/t/{token}", response_class=HTMLResponse)
def status_page(request: Request, token: str, services: ServicesDep, lang: str | None = None,
                thanks: bool = False) -> Response:
    """The resident's status page, in the ticket's language (``?lang=`` to switch); refreshes itself."""
    return render_status(request, services, token, lang, thanks=thanks)


def render_status(request: Request, services: Services, token: str, lang: str | None, *, thanks: bool = False,
                  error: str | None = None, comment: str = "", status_code: int = 200) -> Response:
    def query(office: Office, now: dt.datetime) -> tuple[schemas.PublicTicket, str, bool, dt.datetime] | None:
        ticket = lookup(services, office, token, now)
        if ticket is None:
            return None
        language = language_for(services, ticket, lang)
        has_feedback = services.store.has_feedback(ticket.id)
        view = discreet(office, ticket, present.public_ticket(office, ticket, now, language))
        return view, language, has_feedback, now

    found = services.read(query)
    languages = services.site.catalog_config.languages
    nonce = secrets.token_urlsafe(16)
    if found is None:
        language = lang if lang in languages else "ja"
        return templates.TemplateResponse(request, "not_found.html", {
            "t": lambda key, **p: message("status", key, language, **p), "lang": language, "csp_nonce": nonce},
            status_code=404, headers=page_headers(nonce))
    view, language, has_feedback, now = found
    site = services.site.config
    return templates.TemplateResponse(request, "status.html", {
        "t": lambda key, **p: message("status", key, language, **p),
        "lang": language, "languages": languages, "ticket": view, "token": token, "refresh_s": REFRESH_S,
        "site_name": text_in(site.name, language), "now": now, "thanks": thanks, "has_feedback": has_feedback,
        "language_names": LANGUAGE_NAMES, "csp_nonce": nonce, "feedback_error": error, "comment": comment,
        "max_comment": MAX_COMMENT,
    }, status_code=status_code, headers=page_headers(nonce))


def _save_feedback(services: Services, token: str, body: schemas.FeedbackIn) -> None:
    """Once per visit, and only once it was served to its end (while waiting it is not counted)."""
    with services.lock:
        now = services.clock.now()
        ticket = find(services, services.office, token, now)
        if ticket.status is not TicketStatus.DONE:
            raise conflict("feedback_too_early")
        if not services.store.add_feedback(ticket, body.rating, (body.comment or "").strip() or None, now):
            raise conflict("feedback_twice")
        expire_comments(services.store.conn, now - services.settings.comment_retention)


def _feedback_error(exc: ValidationError) -> str:
    """The code of what is wrong: a too long comment says so (with the limit), anything else is invalid."""
    if any(e["loc"][:1] == ("comment",) and e["type"] == "string_too_long" for e in exc.errors()):
        return "feedback_comment_too_long"
    return "feedback_invalid"


def _form_feedback(form: dict[str, object]) -> schemas.FeedbackIn:
    """The status page's form, as strictly as JSON: one of the digits 1–5, a comment as text."""
    rating = form.get("rating")
    comment = form.get("comment") or None
    return schemas.FeedbackIn.model_validate({
        "rating": int(rating) if isinstance(rating, str) and rating in {"1", "2", "3", "4", "5"} else rating,
        "comment": comment,
    })


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
    form: dict[str, object] = {}
    try:
        if is_json:
            body = schemas.FeedbackIn.model_validate_json(await request.body())
        else:
            form = dict(await request.form())
            body = _form_feedback(form)
    except ValidationError as exc:
        code = _feedback_error(exc)
        if is_json:
            raise ApiError(422, code, PRIVATE, max=MAX_COMMENT) from None
        # the page again, with the message in the resident's language and what they typed kept
        typed = form.get("comment")
        return render_status(request, services, token, lang, error=code, status_code=422,
                             comment=typed[:MAX_COMMENT * 2] if isinstance(typed, str) else "")
    await run_in_threadpool(_save_feedback, services, token, body)
    if is_json:
        return Response(status_code=201, headers=PRIVATE)
    suffix = f"&lang={lang}" if lang and lang in services.site.catalog_config.languages else ""
    return RedirectResponse(f"/t/{token}?thanks=1{suffix}", status_code=303, headers=PRIVATE)

"""The floor-guide board (``/staff/guide``, role guide and up), first part: every band and every counter,
live from the same server-sent events as the console; open, pause and close counters (with CSRF).

Helpers (sessions, CSRF, pages) are those of ``server/web/staff.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from madoguchi.common.i18n import message
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.server.api import counters, kiosk, schemas
from madoguchi.server.api.security import GUIDE, SESSION_COOKIE
from madoguchi.server.core.catalog import text_in
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Priority
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import Principal
from madoguchi.server.web import staff

router = APIRouter(prefix="/staff/guide", include_in_schema=False)
log = logging.getLogger(__name__)
WAITING_SHOWN = 40
MAX_SKILLS = 20
STATES = {"open": CounterState.OPEN, "pause": CounterState.PAUSED, "close": CounterState.CLOSED}
BOARD_STRINGS = ("state_open", "state_paused", "state_closed", "band_waiting", "band_oldest", "band_estimate",
                 "band_target", "over_target", "counter_free", "counter_serving_for", "status_called",
                 "status_serving", "live_on", "live_off", "error_generic", "act_open", "act_pause", "act_close",
                 "band_minutes", "move_to", "move", "save", "saved", "issued", "accept", "dismiss",
                 "suggestion_move", "suggestion_effect", "no_suggestions",
                 "alert_call_staff", "alert_printer", "alert_device", "alert_offline", "alert_acknowledge",
                 "no_alerts", "kind_kiosk", "kind_display", "skills_choose", "skills_move", "skills_none",
                 *(f"printer_{p}" for p in ("paper_end", "cover_open", "offline", "no_answer")),
                 *(f"priority_{p.value}" for p in Priority))


def _skill(office: Office, skill: str, lang: str) -> str:
    """What people call a skill: a band's or a procedure's label."""
    if skill in office.bands:
        return text_in(office.bands[skill].label, lang)
    procedure = office.catalog.procedures.get(skill)
    return text_in(procedure.label, lang) if procedure is not None else skill


def _suggestions(office: Office, now: dt.datetime, lang: str) -> list[dict[str, Any]]:
    """The server's counter moves with their predicted effect (each logged once when first made)."""
    def label(band: str) -> str:
        return text_in(office.bands[band].label, lang) if band in office.bands else band

    return [{"id": s.id, "counter": text_in(office.counter(s.counter_id).label, lang),
             "from_band": label(s.from_band), "to_band": label(s.to_band),
             "effect": [{"band": label(b), "before": round(e.minutes), "after": round(s.after[b].minutes)}
                        for b, e in s.before.items()
                        if b in s.after and round(e.minutes) != round(s.after[b].minutes)]}
            for s in office.suggestions(now)]


async def _guide_post(request: Request) -> tuple[FormData, Principal] | Response:
    """The form of a board action and who sent it, or the refusal: a missing or wrong CSRF token (403),
    no staff session (401), a role below guide (403)."""
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if not staff.csrf_ok(request, request.headers.get(staff.CSRF_HEADER) or form.get("csrf"), token):
        return staff.refused(request, "csrf_refused", 403)
    who = staff.signed_in_as(request, GUIDE, "guide_only", answer="action")
    if isinstance(who, Response):
        return who
    return form, who


@router.post("/suggestions/{suggestion_id}/{action}")
async def suggestion(request: Request, suggestion_id: str, action: str) -> Response:
    """Accept (the counter's skills change) or dismiss a suggestion, with the session's CSRF token."""
    if action not in ("accept", "dismiss"):
        return staff.refused(request, "not_found", 404)
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked

    def run(office: Office, now: dt.datetime, tx: object) -> None:
        if action == "accept":
            office.accept_suggestion(suggestion_id, now)
        else:
            office.dismiss_suggestion(suggestion_id, now)

    await staff.services_of(request).execute_async(run)
    if staff.wants_json(request):
        return JSONResponse({"suggestion": suggestion_id, "done": action}, headers=staff.HEADERS)
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)


@router.get("", response_class=HTMLResponse)
def board(request: Request) -> Response:
    who = staff.signed_in_as(request, GUIDE, "guide_only", answer="page")
    if isinstance(who, Response):
        return who
    lang = staff.language(request)
    strings = {key: message("staff", key, lang) for key in BOARD_STRINGS}
    services = staff.services_of(request)
    with services.lock:
        procedures = sorted(((p.id, text_in(p.label, lang)) for p in services.office.catalog.procedures.values()),
                            key=lambda item: item[1])
    languages = [(code, LANGUAGE_NAMES.get(code, code)) for code in services.site.catalog_config.languages]
    return staff.page(request, "staff_guide.html", lang, {
        "principal": who, "csrf": staff.csrf_token(request, request.cookies[SESSION_COOKIE]),
        "strings": staff.script_json(strings), "procedures": procedures, "resident_languages": languages,
        "priorities": [p.value for p in Priority]})


@router.post("/tickets")
async def manual_ticket(request: Request) -> Response:
    """A ticket issued by hand for someone who cannot use the kiosk (the same rules as the kiosk's);
    ``key`` in the form is the Idempotency-Key, so a double click issues one ticket."""
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    form, who = checked
    key = form.get("key")
    try:
        body = schemas.TicketIn.model_validate({
            "procedures": [form.get("procedure")], "language": form.get("language") or "ja",
            "priority": form.getlist("priority")})
    except ValidationError:
        return staff.refused(request, "field_invalid", 422)
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64):
        return staff.refused(request, "field_invalid", 422)
    answer: Response = await run_in_threadpool(kiosk.create_manual_ticket, body, staff.services_of(request), who,
                                               key if isinstance(key, str) else None)
    answer.headers.update(staff.HEADERS)
    return answer


@router.get("/state")
def board_state(request: Request) -> Response:
    """Bands (waiting, oldest wait, estimate against target) and counters (state, skills, whom, how long)."""
    who = staff.signed_in_as(request, GUIDE, "guide_only", answer="json")
    if isinstance(who, Response):
        return who
    lang = staff.language(request)
    services = staff.services_of(request)
    shown = services.state()

    def query(office: Office, now: dt.datetime) -> dict[str, Any]:
        oldest: dict[str, int] = {}
        for ticket in office.waiting():
            waited = int((now - ticket.issued_at).total_seconds() // 60)
            oldest[ticket.band] = max(oldest.get(ticket.band, 0), waited)
        rows = []
        for counter in office.counters.values():
            ticket = office.ticket_at(counter)
            since = ticket.called_at if ticket is not None else None
            rows.append({
                "id": counter.id, "label": text_in(counter.label, lang), "state": counter.state.value,
                "skills": [_skill(office, s, lang) for s in sorted(counter.skills)],
                "band": next(iter(counter.skills)) if len(counter.skills) == 1 else None,
                "skill_ids": sorted(counter.skills),
                "serving": ticket.display_number if ticket else None,
                "status": ticket.status.value if ticket else None,
                "minutes": int((now - since).total_seconds() // 60) if since else None,
            })
        waiting = sorted(office.waiting(), key=lambda t: t.issued_at)[:WAITING_SHOWN]
        tickets = [{"id": t.id, "display_number": t.display_number,
                    "band": text_in(office.bands[t.band].label, lang) if t.band in office.bands else t.band,
                    "waited": int((now - t.issued_at).total_seconds() // 60),
                    "language": LANGUAGE_NAMES.get(t.language, t.language), "language_code": t.language,
                    "priority": sorted(str(p) for p in t.priority)} for t in waiting]
        return {"oldest": oldest, "counters": rows, "waiting": tickets,
                "band_ids": [{"id": b, "label": text_in(office.bands[b].label, lang)} for b in office.bands]}

    live = services.read(query)
    live["suggestions"] = services.execute(lambda office, now, tx: _suggestions(office, now, lang))
    procedures = services.read(lambda office, now: [{"id": p.id, "label": text_in(p.label, lang)}
                                                    for p in office.catalog.procedures.values()])
    live["procedure_choices"] = sorted(procedures, key=lambda p: p["label"])
    bands = [{"id": b.id, "label": text_in(b.label, lang), "waiting": b.waiting, "estimate": b.estimate.minutes,
              "target": b.target_wait_min, "oldest": live["oldest"].get(b.id, 0)} for b in shown.bands]
    return JSONResponse({"seq": shown.seq, "bands": bands, "counters": live["counters"],
                         "band_choices": live["band_ids"], "waiting": live["waiting"],
                         "suggestions": live["suggestions"], "alerts": alerts(services),
                         "procedure_choices": live["procedure_choices"],
                         "priorities": [p.value for p in Priority]}, headers=staff.HEADERS)


def alerts(services: Services) -> list[dict[str, Any]]:
    """What a guide must go and see: a kiosk's 「係員を呼ぶ」, a printer that cannot print, a silent device
    (devices revoked or never added are left out)."""
    now = services.clock.now()
    with services.lock:
        kinds = {name: kind for name, kind, revoked in services.accounts.devices() if not revoked}
    return [{"device": a.device, "kind": kinds[a.device], "alert": a.kind, "detail": a.detail,
             "minutes": max(0, int((now - a.since).total_seconds() // 60)),
             "at": a.since.astimezone(now.tzinfo).strftime("%H:%M")}
            for a in services.devices.alerts(now, set(kinds))]


@router.post("/devices/{device}/acknowledge")
async def acknowledge_call(request: Request, device: str) -> Response:
    """A guide went to the kiosk whose 「係員を呼ぶ」 was pressed: the alert goes for every guide (until
    the kiosk calls again)."""
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    _, who = checked
    services = staff.services_of(request)
    if len(device) > 64 or not services.devices.acknowledge(device):
        return staff.refused(request, "alert_gone", 404)
    log.info("guide %s answered the staff call at device %s", who.name, device)
    if staff.wants_json(request):
        return JSONResponse({"device": device, "acknowledged": True}, headers=staff.HEADERS)
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)


@router.post("/tickets/{ticket_id}/priority")
async def ticket_priority(request: Request, ticket_id: str) -> Response:
    """Set the priority flags of a waiting visit (wheelchair, pregnant…): all the flags it has now."""
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    form, _ = checked
    given = form.getlist("priority")
    known = {p.value for p in Priority}
    if len(given) > len(known) or any(not isinstance(p, str) or p not in known for p in given):
        return staff.refused(request, "field_invalid", 422)
    flags = frozenset(Priority(str(p)) for p in given)
    services = staff.services_of(request)
    await services.execute_async(lambda office, now, tx: office.set_priority(ticket_id, flags, now))
    if staff.wants_json(request):
        return JSONResponse({"ticket_id": ticket_id, "priority": sorted(flags)}, headers=staff.HEADERS)
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)


@router.post("/counters/{counter_id}/band")
async def counter_band(request: Request, counter_id: str) -> Response:
    """Move a counter to one band: its skills become that band (whom it calls next changes with it)."""
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    form, _ = checked
    band = form.get("band")
    services = staff.services_of(request)
    with services.lock:
        known = isinstance(band, str) and band in services.office.bands
    if not known:
        return staff.refused(request, "band_unknown", 422)

    def run(office: Office, now: dt.datetime) -> None:
        office.update_counter(counter_id, now, skills=[str(band)])
        return None

    answer: Response = await counters.act(services, counter_id, run)
    if staff.wants_json(request):
        answer.headers.update(staff.HEADERS)
        return answer
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)


@router.post("/counters/{counter_id}/skills")
async def counter_skills(request: Request, counter_id: str) -> Response:
    """Move a counter to single procedures: its skills become the chosen procedures of the catalog (an
    unknown one, or none, is 422); it calls visits waiting for those procedures next."""
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    form, _ = checked
    chosen = form.getlist("procedure")
    services = staff.services_of(request)
    with services.lock:
        procedures = services.office.catalog.procedures
        known = 0 < len(chosen) <= MAX_SKILLS and all(isinstance(p, str) and p in procedures for p in chosen)
    if not known:
        return staff.refused(request, "skill_unknown", 422)

    def run(office: Office, now: dt.datetime) -> None:
        office.update_counter(counter_id, now, skills=[str(p) for p in chosen])
        return None

    answer: Response = await counters.act(services, counter_id, run)
    if staff.wants_json(request):
        answer.headers.update(staff.HEADERS)
        return answer
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)


@router.post("/counters/{counter_id}/{action}")
async def counter_state(request: Request, counter_id: str, action: str) -> Response:
    """Open, pause or close a counter (a guide's action), with the session's CSRF token."""
    if action not in STATES:
        return staff.refused(request, "not_found", 404)
    checked = await _guide_post(request)
    if isinstance(checked, Response):
        return checked
    state = STATES[action]

    def run(office: Office, now: dt.datetime) -> None:
        office.update_counter(counter_id, now, state=state)
        return None

    answer: Response = await counters.act(staff.services_of(request), counter_id, run)
    if staff.wants_json(request):
        answer.headers.update(staff.HEADERS)
        return answer
    return RedirectResponse("/staff/guide", status_code=303, headers=staff.HEADERS)

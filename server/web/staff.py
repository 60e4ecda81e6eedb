"""Staff pages under ``/staff/``: sign-in, the counter console and its live stream (server-sent events).

- Sign-in reuses ``POST /api/v1/auth/token`` (its throttling, lock-out and counter binding) behind a form;
  the session is the same HttpOnly, SameSite=Strict cookie.
- CSRF: every form and action carries a token bound to the session (an HMAC of the session token with
  a per-process key) in a form field or the ``X-CSRF-Token`` header; the sign-in form's token is bound to
  a short-lived pre-session cookie (double submit). A post without it, or with another's, is refused.
- A counter session acts only on the counter it signed in at; the card data is read by the page through
  ``GET /api/v1/counters/{id}/card`` while the visit is served, never rendered into the HTML.
- ``GET /staff/events`` streams a notice per commit (same seq as MQTT) from ``Services.fanout``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from madoguchi.common.i18n import message
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.server.api import auth, counters, present
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.security import COUNTER, GUIDE, SESSION_COOKIE, STAFF
from madoguchi.server.core.catalog import text_in
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Outcome, Priority, Ticket, TicketStatus
from madoguchi.server.service.container import Services
from madoguchi.server.service.fanout import DEVICES
from madoguchi.server.storage.accounts import Principal

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/staff", include_in_schema=False)

LANGUAGES = ("ja", "en")
KEY_FILE = "staff-csrf.key"
LANG_COOKIE = "madoguchi_staff_lang"
LOGIN_COOKIE = "madoguchi_login"
CSRF_HEADER = "x-csrf-token"
MAX_STREAMS = 200
KEEPALIVE_S = 15.0
QUEUE_SHOWN = 10
"""Waiting (and, as many again, held) visits the console lists to call out of order."""


@dataclass(frozen=True)
class ActionForm:
    outcome: Outcome = Outcome.DONE
    ticket_id: str = ""
    reason: str = ""
    next_procedure: str | None = None  # finish: send on to this procedure
    to_counter: str | None = None  # finish: send on to this counter


def _set_state(office: Office, counter_id: str, state: CounterState, now: dt.datetime) -> Ticket | None:
    office.update_counter(counter_id, now, state=state)
    return None


ACTIONS: dict[str, Callable[[Office, str, ActionForm, dt.datetime], Ticket | None]] = {
    "call-next": lambda office, c, _, now: office.call_next(c, now),
    "recall": lambda office, c, _, now: office.recall(c, now),
    "start": lambda office, c, _, now: office.start(c, now),
    "finish": lambda office, c, form, now: office.finish(c, form.outcome, now, next_procedure=form.next_procedure,
                                                         to_counter=form.to_counter),
    "hold": lambda office, c, _, now: office.hold(c, now),
    "no-show": lambda office, c, _, now: office.no_show(c, now),
    "call": lambda office, c, form, now: office.call(c, form.ticket_id, form.reason, now),
    "pause": lambda office, c, _, now: _set_state(office, c, CounterState.PAUSED, now),
    "resume": lambda office, c, _, now: _set_state(office, c, CounterState.OPEN, now),
}
"""What the console may do: its own counter's actions, and pausing ("away") or reopening that counter."""
POLICY = ("default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": POLICY, "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def install(app: FastAPI) -> None:
    """The staff pages and their own script and style (served by this server: the LAN has no CDN)."""
    from madoguchi.server.web import admin, board, manager  # they use this module's helpers

    app.include_router(router)
    app.include_router(board.router)
    app.include_router(manager.router)
    app.include_router(admin.router)
    app.mount("/staff/static", StaticFiles(directory=str(HERE / "static")), name="staff-static")


# ----- helpers

def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "staff_csrf_key", None)
    if key is None:
        key = request.app.state.staff_csrf_key = load_key(services_of(request).settings.data_dir / KEY_FILE)
    return key


def load_key(path: Path) -> bytes:
    """The CSRF key kept in the data folder (mode 0600), made on first use: open consoles keep working
    across a server restart, as their sessions do."""
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_suffix(".tmp")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    os.replace(fresh, path)
    return key


def csrf_token(request: Request, bound_to: str, purpose: str = "session") -> str:
    return hmac.new(_key(request), f"{purpose}:{bound_to}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, given: object, bound_to: str | None, purpose: str = "session") -> bool:
    """The token matches the one bound to ``bound_to``, and a browser's ``Origin`` (if sent) is this server."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False
    if not isinstance(given, str) or not given or not bound_to:
        return False
    return hmac.compare_digest(given, csrf_token(request, bound_to, purpose))


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "ja"


def translator(lang: str) -> Callable[..., str]:
    return lambda key, **params: message("staff", key, lang, **params)


def principal_of(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    services = services_of(request)
    with services.lock:
        return services.accounts.principal(token, services.clock.now())


def signed_in_as(request: Request, roles: frozenset[str], refusal: str, *, answer: Literal["page", "action", "json"],
                 at_counter: bool = False) -> Principal | Response:
    """The staff principal allowed here, or the answer that turns the request away (one rule for every page):
    no staff session is the sign-in page for a ``page``, 401 otherwise; another role (or, ``at_counter``, a
    session not signed in at a counter) is 403 ``refusal``. ``action``: a refusal in words (``refused``);
    ``json``: the code alone, for a page's script reading its view."""
    who = principal_of(request)
    if who is None or who.is_device:
        if answer == "page":
            return RedirectResponse("/staff/login", status_code=303)
        code, status = "unauthorized", 401
    elif who.role not in roles or (at_counter and who.counter is None):
        code, status = refusal, 403
    else:
        return who
    if answer == "json":
        return JSONResponse({"code": code}, status_code=status, headers=HEADERS)
    return refused(request, code, status)


def page(request: Request, name: str, lang: str, context: dict[str, Any], status_code: int = 200,
         extra_headers: dict[str, str] | None = None) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {
        "t": translator(lang), "lang": lang, "languages": LANGUAGES, "language_names": LANGUAGE_NAMES,
        "path": request.url.path, **context}, status_code=status_code, headers={**HEADERS, **(extra_headers or {})})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
    return response


def script_json(strings: dict[str, str]) -> str:
    """Texts for the page's script, as a JSON data block that cannot close its <script> element."""
    return json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c")


def refused(request: Request, code: str, status: int) -> Response:
    """A refusal: JSON for the page's script, a short page for a form post."""
    lang = language(request)
    if wants_json(request):
        return JSONResponse({"code": code, "detail": message("staff", code, lang)}, status_code=status,
                            headers=HEADERS)
    return page(request, "staff_refused.html", lang, {"code": code, "principal": None}, status_code=status)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or CSRF_HEADER in request.headers


# ----- sign-in and sign-out

@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = principal_of(request)
    if who is None or who.is_device:
        return RedirectResponse("/staff/login", status_code=303)
    if who.counter:
        return RedirectResponse("/staff/counter", status_code=303)
    if who.role in GUIDE:
        return RedirectResponse("/staff/guide", status_code=303)
    lang = language(request)
    return page(request, "staff_home.html", lang, {
        "principal": who, "csrf": csrf_token(request, request.cookies[SESSION_COOKIE])})


def _login_page(request: Request, error: str | None = None, status_code: int = 200,
                username: str = "", counter: str = "") -> HTMLResponse:
    lang = language(request)
    services = services_of(request)
    with services.lock:
        options = [(c.id, text_in(c.label, lang)) for c in services.office.counters.values()]
    nonce = secrets.token_urlsafe(24)
    response = page(request, "staff_login.html", lang, {
        "principal": None, "counters": options, "error": error, "username": username, "counter": counter,
        "csrf": csrf_token(request, nonce, "login"), "site_name": text_in(services.site.config.name, lang)},
        status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict", path="/staff/login",
                        secure=auth.cookie_is_secure(request, services))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf"), request.cookies.get(LOGIN_COOKIE), "login"):
        return refused(request, "csrf_refused", 403)
    username, password = form.get("username"), form.get("password")
    counter = form.get("counter") or None
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password \
            or len(username) > 100 or len(password) > 200 or (counter is not None and not isinstance(counter, str)):
        return _login_page(request, "signin_incomplete", 422, username if isinstance(username, str) else "")
    services = services_of(request)
    response = RedirectResponse("/staff", status_code=303)
    try:
        await auth.token(request, services, response, username, password,
                         counter if isinstance(counter, str) else None)
    except ApiError as exc:
        page_ = _login_page(request, exc.code, exc.status, username[:100], counter or "")
        if "Retry-After" in exc.headers:
            page_.headers["Retry-After"] = exc.headers["Retry-After"]
        return page_
    response.delete_cookie(LOGIN_COOKIE, path="/staff/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if not csrf_ok(request, form.get("csrf") or request.headers.get(CSRF_HEADER), token):
        return refused(request, "csrf_refused", 403)
    services = services_of(request)
    with services.lock:
        services.accounts.close_session(token or "")
    response = RedirectResponse("/staff/login", status_code=303, headers=HEADERS)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ----- the counter console

@router.get("/counter", response_class=HTMLResponse)
def console(request: Request) -> Response:
    who = signed_in_as(request, COUNTER, "counter_session_required", answer="page", at_counter=True)
    if isinstance(who, Response):
        return who
    lang = language(request)
    services = services_of(request)
    with services.lock:
        office = services.office
        counter = office.counter(who.counter)
        label = text_in(counter.label, lang)
        procedures = sorted(((p.id, text_in(p.label, lang)) for p in office.catalog.procedures.values()),
                            key=lambda item: item[1])
        others = [(c.id, text_in(c.label, lang)) for c in office.counters.values() if c.id != counter.id]
    strings = {key: message("staff", key, lang) for key in SCRIPT_STRINGS}
    strings.update({f"priority_{p.value}": message("staff", f"priority_{p.value}", lang) for p in Priority})
    return page(request, "staff_counter.html", lang, {
        "principal": who, "counter_id": who.counter, "counter_label": label,
        "csrf": csrf_token(request, request.cookies[SESSION_COOKIE]), "outcomes": [o.value for o in Outcome],
        "procedures": procedures, "other_counters": others, "strings": script_json(strings)})


SCRIPT_STRINGS = (
    "status_idle", "status_called", "status_serving", "status_held", "step_done", "step_active", "step_pending",
    "step_skipped", "step_todo", "step_referred", "live_on", "live_off", "nobody_waiting", "done_ok", "card_none",
    "card_name", "card_address", "card_birth_date", "card_sex", "waiting_count", "state_open", "state_paused",
    "state_closed", "error_generic", "sex_0", "sex_1", "sex_2", "sex_9", "call_this", "waited_min",
    "queue_empty", "reason_needed", "pause", "resume", "status_waiting", "sent_here")


@router.get("/counter/state")
def console_state(request: Request) -> Response:
    """What the console shows (no card data): its counter, the visit there, how many wait for it."""
    who = signed_in_as(request, COUNTER, "counter_session_required", answer="json", at_counter=True)
    if isinstance(who, Response):
        return who
    lang = language(request)
    counter_id = who.counter

    def query(office: Office, now: dt.datetime) -> dict[str, Any]:
        counter = office.counter(counter_id)
        ticket = office.ticket_at(counter)
        def callable_here(t: Ticket) -> bool:
            return t.sent_to in (None, counter_id) and counter.can_serve(t.band, t.procedure)

        waiting = sum(1 for t in office.waiting() if callable_here(t))
        visit = None
        if ticket is not None:
            band = office.bands.get(ticket.band)
            visit = {
                "id": ticket.id, "display_number": ticket.display_number, "status": ticket.status.value,
                "band": text_in(band.label, lang) if band else ticket.band,
                "language": ticket.language, "language_name": LANGUAGE_NAMES.get(ticket.language, ticket.language),
                "priority": sorted(p.value if isinstance(p, Priority) else str(p) for p in ticket.priority),
                "plan": [s.model_dump() for s in present.plan(office.catalog, ticket, lang)],
                "recalls": ticket.recalls, "has_card": present.served_here(ticket, counter_id)
                and ticket.status is TicketStatus.SERVING,
                "form": _form_kind(services_of(request), ticket),
            }
        queue = [t for t in office.waiting() if callable_here(t)]
        queue.sort(key=lambda t: office.policy_key(office.candidate(t)))
        held = [t for t in office.tickets.values() if t.status is TicketStatus.HELD]
        listed = [{"id": t.id, "display_number": t.display_number, "status": t.status.value,
                   "waited_min": int((now - t.issued_at).total_seconds() // 60),
                   "priority": sorted(str(p) for p in t.priority), "language": t.language,
                   "sent_here": t.sent_to == counter_id}
                  for t in (queue[:QUEUE_SHOWN] + held[:QUEUE_SHOWN])]
        return {"counter": {"id": counter.id, "label": text_in(counter.label, lang), "state": counter.state.value},
                "visit": visit, "waiting": waiting, "queue": listed}

    services = services_of(request)
    answer = services.read(query)
    answer["seq"] = services.seq
    return JSONResponse(answer, headers=HEADERS)


def _form_kind(services: Services, ticket: Ticket) -> str | None:
    """The kind of 住民異動届 the visit's step is (the console then offers the pre-filled form)."""
    from madoguchi.server.web import juminido

    return juminido.form_kind(services, ticket)


@router.post("/counters/{counter_id}/{action}")
async def counter_action(request: Request, counter_id: str, action: str) -> Response:
    """One console action, for the counter this session signed in at only, with its CSRF token."""
    if action not in ACTIONS:
        return refused(request, "not_found", 404)
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if not csrf_ok(request, request.headers.get(CSRF_HEADER) or form.get("csrf"), token):
        return refused(request, "csrf_refused", 403)
    who = signed_in_as(request, COUNTER, "counter_session_required", answer="action", at_counter=True)
    if isinstance(who, Response):
        return who
    if who.counter != counter_id:
        return refused(request, "counter_not_yours", 403)
    parsed = _action_form(form)
    if isinstance(parsed, str):
        return refused(request, parsed, 422)
    run = ACTIONS[action]
    answer: Response = await counters.act(services_of(request), counter_id,
                                          lambda office, now: run(office, counter_id, parsed, now))
    if wants_json(request):
        answer.headers.update(HEADERS)
        return answer
    return RedirectResponse("/staff/counter", status_code=303, headers=HEADERS)


def _action_form(form: Any) -> ActionForm | str:
    """The action's fields, strictly: an outcome of the enum, ids and a reason of bounded length."""
    outcome, reason = form.get("outcome") or Outcome.DONE.value, form.get("reason") or ""
    ids = [form.get(name) or "" for name in ("ticket_id", "next_procedure", "to_counter")]
    if outcome not in {o.value for o in Outcome}:
        return "outcome_invalid"
    if not all(isinstance(i, str) and len(i) <= 64 for i in ids) or not isinstance(reason, str) or len(reason) > 200:
        return "field_invalid"
    ticket_id, next_procedure, to_counter = ids
    return ActionForm(Outcome(str(outcome)), ticket_id, reason, next_procedure or None, to_counter or None)


# ----- live stream

@router.get("/events")
async def events(request: Request) -> Response:
    """Server-sent events: ``change`` (id = seq) per commit, ``resync`` when this stream fell behind,
    ``signed_out`` when the session ended. The browser's EventSource reconnects by itself."""
    who = principal_of(request)
    if who is None or who.role not in STAFF:
        return JSONResponse({"code": "unauthorized"}, status_code=401, headers=HEADERS)
    services = services_of(request)
    if services.fanout.count >= MAX_STREAMS:
        return JSONResponse({"code": "too_many_streams"}, status_code=503, headers={"Retry-After": "5"})
    token = request.cookies.get(SESSION_COOKIE, "")
    subscription = services.fanout.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield f"retry: 1000\nevent: hello\ndata: {json.dumps({'seq': services.seq})}\n\n"
            silent = services.devices.silent(services.clock.now())
            while True:
                # wake when a device falls silent too: no commit tells of it (service/devices.py)
                silent_at = services.devices.next_stale_at(services.clock.now())
                wait_s = KEEPALIVE_S if silent_at is None else \
                    min(KEEPALIVE_S, max(0.05, (silent_at - services.clock.now()).total_seconds() + 0.05))
                try:
                    await asyncio.wait_for(subscription.wake.wait(), wait_s)
                except TimeoutError:
                    with services.lock:
                        alive = services.accounts.principal(token, services.clock.now()) is not None
                    if not alive:
                        yield "event: signed_out\ndata: {}\n\n"
                        return
                    now_silent = services.devices.silent(services.clock.now())
                    yield "event: devices\ndata: {}\n\n" if now_silent != silent else ": keep-alive\n\n"
                    silent = now_silent
                    continue
                notices, lost = subscription.take()
                if lost:
                    yield f"event: resync\ndata: {json.dumps({'seq': services.seq})}\n\n"
                if any(DEVICES in n.kinds for n in notices):
                    silent = services.devices.silent(services.clock.now())
                    yield "event: devices\ndata: {}\n\n"
                for n in notices:
                    if DEVICES in n.kinds:
                        continue
                    data = json.dumps({"seq": n.seq, "kinds": n.kinds, "counters": n.counters})
                    yield f"id: {n.seq}\nevent: change\ndata: {data}\n\n"
        finally:
            services.fanout.unsubscribe(subscription)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

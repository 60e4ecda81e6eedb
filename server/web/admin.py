"""The admin pages (``/staff/admin``, role admin): staff users and roles, kiosk and display devices
(a token shown once, revoke), and each device's health, live.

Every action is a form post with the session's CSRF token that calls the handler of the JSON admin API
(``server/api/admin.py``) itself: the same name and password rules (its pydantic models), the same
storage calls, the same refusals. A device token is in the answer to its creation only (only its hash
is stored); the page says so. Helpers (sessions, CSRF, pages) are those of ``server/web/staff.py``.
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
from madoguchi.server.api import admin as admin_api
from madoguchi.server.api.auth import NO_STORE
from madoguchi.server.api.security import ADMIN, SESSION_COOKIE
from madoguchi.server.core.errors import DomainError
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import DeviceKind, Principal, Role
from madoguchi.server.web import staff

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
log = logging.getLogger(__name__)
USER_ACTIONS = ("role", "password", "unlock", "disable", "enable")
DONE = ("user_created", "role_changed", "password_reset", "user_unlocked", "user_disabled", "user_enabled",
        "device_revoked")
ADMIN_STRINGS = ("health_never", "health_online", "health_offline", "health_call_staff", "health_no",
                 "kind_kiosk", "kind_display", "live_on", "live_off", "error_generic", "revoke_confirm",
                 "token_title", "token_once", "health_revoked", "revoke", "admin_done_device_revoked",
                 *(f"printer_{p}" for p in ("online", "paper_near_end", "paper_end", "cover_open", "offline",
                                            "no_answer", "unknown")),
                 *(f"reader_{r}" for r in ("ok", "broken", "none", "unknown")),
                 *(f"audio_{a}" for a in ("ok", "muted", "off", "failed")))


def _admin(request: Request) -> Principal | Response:
    """The admin signed in, or the refusal (401 without a staff session, 403 for another role)."""
    who = staff.signed_in_as(request, ADMIN, "admin_only", answer="action")
    if isinstance(who, Response):
        return who
    return who


async def _admin_post(request: Request) -> tuple[FormData, Principal] | Response:
    """The form of an admin action and who sent it, or the refusal: a missing or wrong CSRF token (403),
    no session (401), a role other than admin (403)."""
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if not staff.csrf_ok(request, request.headers.get(staff.CSRF_HEADER) or form.get("csrf"), token):
        return staff.refused(request, "csrf_refused", 403)
    who = _admin(request)
    return who if isinstance(who, Response) else (form, who)


def _text(code: str, lang: str, **params: object) -> str:
    """A refusal's words on the staff pages (the API's own when the pages have none)."""
    said = message("staff", code, lang, **params)
    return said if said != code else message("errors", code, lang, **params)


def _listing(services: Services) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = services.clock.now()
    order = {c.id: i for i, c in enumerate(services.site.config.counters)}  # as the site lists them: c1, c2 … c10

    def in_order(counter: str) -> tuple[int, str]:
        return order.get(counter, len(order)), counter

    with services.lock:
        locked = services.accounts.locked_users()
        sessions = services.accounts.signed_in(now)
        users = [{"name": u, "role": r, "disabled": d, "locked": u in locked,
                  "counters": sorted((c for c in sessions.get(u, []) if c), key=in_order),
                  "signed_in": u in sessions}
                 for u, r, d in services.accounts.users()]
        devices = [{"name": n, "kind": k, "revoked": r} for n, k, r in services.accounts.devices()]
    return users, devices


def _page(request: Request, who: Principal, *, status_code: int = 200, error: str | None = None,
          token: dict[str, str] | None = None) -> HTMLResponse:
    lang = staff.language(request)
    users, devices = _listing(staff.services_of(request))
    done = request.query_params.get("done")
    return staff.page(request, "staff_admin.html", lang, {
        "principal": who, "csrf": staff.csrf_token(request, request.cookies[SESSION_COOKIE]),
        "users": users, "devices": devices, "roles": [r.value for r in Role], "kinds": [k.value for k in DeviceKind],
        "done": done if done in DONE else None, "error": error, "token": token,
        "strings": staff.script_json({key: message("staff", key, lang) for key in ADMIN_STRINGS})},
        status_code=status_code)


def _refused(request: Request, who: Principal, code: str, status: int, **params: object) -> Response:
    """A refused action: JSON for the script, else the page again with the reason at the top."""
    lang = staff.language(request)
    if staff.wants_json(request):
        return JSONResponse({"code": code, "detail": _text(code, lang, **params)}, status_code=status,
                            headers=staff.HEADERS)
    return _page(request, who, status_code=status, error=_text(code, lang, **params))


def _done(request: Request, done: str, name: str) -> Response:
    if staff.wants_json(request):
        return JSONResponse({"done": done, "name": name}, headers=staff.HEADERS)
    return RedirectResponse(f"/staff/admin?done={done}", status_code=303, headers=staff.HEADERS)


@router.get("", response_class=HTMLResponse)
def admin_page(request: Request) -> Response:
    who = staff.signed_in_as(request, ADMIN, "admin_only", answer="page")
    if isinstance(who, Response):
        return who
    return _page(request, who)


@router.post("/users")
async def create_user(request: Request) -> Response:
    """A new staff user, by the API's rules (name, role, password of 8 to 200 characters)."""
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    form, who = checked
    try:
        body = admin_api.UserIn.model_validate({"username": form.get("username"), "role": form.get("role"),
                                                "password": form.get("password")})
    except ValidationError as exc:
        return _refused(request, who, _why(exc), 422)
    services = staff.services_of(request)
    try:
        await run_in_threadpool(admin_api.add_user, body, services, who)
    except DomainError as exc:
        return _refused(request, who, exc.code, 409, **exc.params)
    log.info("admin %s added user %s (%s)", who.name, body.username, body.role.value)
    return _done(request, "user_created", body.username)


def _why(exc: ValidationError) -> str:
    """Which field of a user form broke the API's rules."""
    fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    for field in ("username", "role", "password"):
        if field in fields:
            return f"admin_bad_{field}"
    return "field_invalid"


@router.post("/users/{username}/{action}")
async def user_action(request: Request, username: str, action: str) -> Response:
    """Change a user's role, set a new password (both end the user's sessions), unlock, disable or enable."""
    if action not in USER_ACTIONS or len(username) > 64:
        return staff.refused(request, "not_found", 404)
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    form, who = checked
    services = staff.services_of(request)
    try:
        if action == "role" and username == who.name:
            return _refused(request, who, "admin_not_your_role", 409)  # the last admin would lock everyone out
        if action in ("role", "password"):
            try:
                change = admin_api.UserChange.model_validate({action: form.get(action)})
            except ValidationError as exc:
                return _refused(request, who, _why(exc), 422)
            if change.role is None and change.password is None:
                return _refused(request, who, f"admin_bad_{action}", 422)
            await run_in_threadpool(admin_api.change_user, username, change, services, who)
        elif action == "unlock":
            await run_in_threadpool(admin_api.unlock_user, request, username, services, who)
        elif action == "enable":
            await run_in_threadpool(admin_api.enable_user, username, services, who)
        else:
            if username == who.name:
                return _refused(request, who, "admin_not_yourself", 409)
            await run_in_threadpool(admin_api.disable_user, username, services, who)
    except DomainError as exc:
        return _refused(request, who, exc.code, 404 if exc.code == "not_found" else 409, **exc.params)
    done = {"role": "role_changed", "password": "password_reset", "unlock": "user_unlocked",
            "disable": "user_disabled", "enable": "user_enabled"}[action]
    log.info("admin %s: %s for user %s", who.name, done, username)
    return _done(request, done, username)


@router.post("/devices")
async def create_device(request: Request) -> Response:
    """A kiosk's or display's token, in this answer only: only its hash is stored. A name in use gets a
    new token (the old one stops working), as with the API and ``madoguchi device add``."""
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    form, who = checked
    try:
        body = admin_api.DeviceIn.model_validate({"name": form.get("name"), "kind": form.get("kind")})
    except ValidationError:
        return _refused(request, who, "admin_bad_device", 422)
    made = await run_in_threadpool(admin_api.add_device, body, staff.services_of(request), who, Response())
    log.info("admin %s made a token for %s %s", who.name, made.kind, made.name)
    if staff.wants_json(request):
        return JSONResponse(made.model_dump(), status_code=201, headers={**staff.HEADERS, **NO_STORE})
    page = _page(request, who, status_code=201, token=made.model_dump())
    page.headers.update(NO_STORE)
    return page


@router.post("/devices/{name}/revoke")
async def revoke_device(request: Request, name: str) -> Response:
    """The device's token stops working at once (its requests get 401)."""
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    _, who = checked
    if len(name) > 64:
        return _refused(request, who, "not_found", 404)
    try:
        await run_in_threadpool(admin_api.revoke_device, name, staff.services_of(request), who)
    except DomainError as exc:
        return _refused(request, who, exc.code, 404)
    log.info("admin %s revoked device %s", who.name, name)
    return _done(request, "device_revoked", name)


@router.get("/health")
def health(request: Request) -> Response:
    """Each device's last report (printer, card reader, 「係員を呼ぶ」, sound, last seen, offline when silent)."""
    who = staff.signed_in_as(request, ADMIN, "admin_only", answer="json")
    if isinstance(who, Response):
        return who
    services = staff.services_of(request)
    return JSONResponse({"devices": device_health(services)}, headers=staff.HEADERS)


def device_health(services: Services) -> list[dict[str, Any]]:
    now = services.clock.now()
    with services.lock:
        devices = services.accounts.devices()
    latest = {s.device: s for s in services.devices.latest()}
    rows = []
    for name, kind, revoked in devices:
        s = latest.get(name)
        row: dict[str, Any] = {"name": name, "kind": kind, "revoked": revoked, "reported": s is not None}
        if s is not None:
            row.update(online=s.online and not services.devices.is_stale(s, now), printer=s.printer,
                       card_reader=s.card_reader, call_staff=bool(s.call_staff), audio=s.audio,
                       seen=_clock(s.at, now))
        rows.append(row)
    return rows


def _clock(moment: dt.datetime, now: dt.datetime) -> str:
    """A report's time on the site's clock: the time of day today, else the date too."""
    local = moment.astimezone(now.tzinfo)
    return local.strftime("%H:%M:%S") if local.date() == now.date() else local.strftime("%Y-%m-%d %H:%M")

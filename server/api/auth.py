"""Staff sign-in (OAuth2 password form, a counter user names the counter they sit at) and sign-out."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from madoguchi.server.api import schemas
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.security import SESSION_COOKIE, ServicesDep
from madoguchi.server.api.signin import SignInGuard
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SIGNIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "Wrong user name or password"},
    422: {"description": "A counter user must name an existing counter"},
    423: {"description": "Locked after too many wrong passwords, until an admin unlocks it"},
    429: {"description": "Too many wrong passwords from this address or for this account (see Retry-After), "
                         "or too many sign-ins at this moment"},
}


def guard_of(request: Request) -> SignInGuard:
    """One guard per application, made on first use from the settings."""
    guard: SignInGuard | None = getattr(request.app.state, "signin", None)
    if guard is None:
        services: Services = request.app.state.services
        guard = request.app.state.signin = SignInGuard(services.settings.signin)
    return guard


def cookie_is_secure(request: Request, services: Services) -> bool:
    """Secure when the page was reached over TLS: uvicorn sets the scheme from ``X-Forwarded-Proto`` of a
    trusted proxy (``--forwarded-allow-ips``); ``Settings.secure_cookies`` forces it."""
    return services.settings.secure_cookies or request.url.scheme == "https"


@router.post("/token", response_model=schemas.TokenOut, responses=SIGNIN_RESPONSES)
async def token(request: Request, services: ServicesDep, response: Response,
                username: Annotated[str, Form(max_length=100)], password: Annotated[str, Form(max_length=200)],
                counter: Annotated[str | None, Form(max_length=40, description=(
                    "The counter a counter user signs in at (required for role counter; its session may act "
                    "on that counter only)"))] = None) -> schemas.TokenOut:
    """Exchange a staff user name and password for a bearer token (also set as a session cookie)."""
    guard = guard_of(request)
    source = request.client.host if request.client else "unknown"
    now = services.clock.now()
    await guard.refuse_if_throttled(source, None, now)  # in memory, before any database read
    with services.lock:
        found = services.accounts.login(username)
    if found is not None and guard.locked(username) and not found.locked:
        guard.unlock(username)  # an admin unlocked it meanwhile (`madoguchi user unlock` in another process)
    if (found.locked if found is not None else guard.locked(username)):
        await guard.refuse("account_locked", NO_STORE, status=423)
    await guard.refuse_if_throttled(source, username, now)
    clean = guard.clean(source, now)
    guard.charge(source, username, now)
    # an unknown or disabled name is checked against a dummy hash: it takes as long as a wrong password
    stored = found.password_hash if found is not None else None
    try:
        right = await guard.check(lambda: services.accounts.verify(stored or services.accounts.dummy_hash(),
                                                                   password), clean)
    except ApiError:
        guard.not_checked(username)
        raise
    if found is None or not right:
        if guard.failed(username) and found is not None:
            with services.lock:
                services.accounts.lock_user(username)
            log.warning("sign-in: account %s locked after repeated wrong passwords", username)
        raise ApiError(401, "bad_credentials", NO_STORE)
    guard.succeeded(source, username)
    bound = _counter_for(services, found.role, counter)
    ttl = services.settings.session_ttl
    newer = await run_in_threadpool(services.accounts.rehashed, found.password_hash, password)
    with services.lock:
        if newer is not None:
            services.accounts.replace_hash(username, found.password_hash, newer)
        access = services.accounts.open_session(username, services.clock.now(), ttl, counter=bound)
    response.set_cookie(SESSION_COOKIE, access, max_age=int(ttl.total_seconds()), httponly=True,
                        samesite="strict", secure=cookie_is_secure(request, services))
    response.headers.update(NO_STORE)
    return schemas.TokenOut(access_token=access, expires_in=int(ttl.total_seconds()))


def _counter_for(services: Services, role: str, counter: str | None) -> str | None:
    """The counter a session is bound to: required for counter users, optional for admins, none otherwise."""
    if role not in (Role.COUNTER.value, Role.ADMIN.value):
        return None
    if counter is None:
        if role == Role.COUNTER.value:
            raise ApiError(422, "counter_required", NO_STORE)
        return None
    with services.lock:
        known = counter in services.office.counters
    if not known:
        raise ApiError(422, "counter_unknown", NO_STORE, counter=counter)
    return counter


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, services: ServicesDep) -> Response:
    header = request.headers.get("authorization", "")
    access = header.removeprefix("Bearer ").strip() or request.cookies.get(SESSION_COOKIE)
    if access:
        with services.lock:
            services.accounts.close_session(access)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE)
    return response

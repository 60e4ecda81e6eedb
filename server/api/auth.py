"""Staff sign-in (OAuth2 password form) and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from madoguchi.server.api import schemas
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.security import SESSION_COOKIE, ServicesDep

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=schemas.TokenOut)
async def token(services: ServicesDep, response: Response, username: Annotated[str, Form(max_length=100)],
                password: Annotated[str, Form(max_length=200)]) -> schemas.TokenOut:
    """Exchange a staff user name and password for a bearer token (also set as a session cookie)."""
    with services.lock:
        found = services.accounts.password_hash(username)
    # the deliberately slow password check runs outside the office lock
    if found is None or not await run_in_threadpool(services.accounts.verify, found[0], password):
        raise ApiError(401, "bad_credentials")
    ttl = services.settings.session_ttl
    with services.lock:
        access = services.accounts.open_session(username, services.clock.now(), ttl)
    response.set_cookie(SESSION_COOKIE, access, max_age=int(ttl.total_seconds()), httponly=True, samesite="strict")
    return schemas.TokenOut(access_token=access, expires_in=int(ttl.total_seconds()))


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, services: ServicesDep) -> Response:
    header = request.headers.get("authorization", "")
    access = header.removeprefix("Bearer ").strip() or request.cookies.get(SESSION_COOKIE)
    if access:
        with services.lock:
            services.accounts.close_session(access)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response

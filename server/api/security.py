"""Who may call what: device tokens for kiosks and displays, staff sessions with roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from madoguchi.server.api.problems import ApiError
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import DeviceKind, Principal, Role

SESSION_COOKIE = "madoguchi_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Who may call: sets of Role and DeviceKind values (storage/accounts.py names them); admin ⊇ all.
ADMIN = frozenset({Role.ADMIN.value})
MANAGER = ADMIN | {Role.MANAGER.value}
GUIDE = MANAGER | {Role.GUIDE.value}
STAFF = frozenset(r.value for r in Role)
COUNTER = ADMIN | {Role.COUNTER.value}
"""Counter actions: a session signed in at that very counter (counter users always are; an admin may be)."""
KIOSK = ADMIN | {DeviceKind.KIOSK.value}
DEVICE = frozenset(k.value for k in DeviceKind)
ANYONE = STAFF | DEVICE

_bearer = HTTPBearer(auto_error=False, description="A device token or a staff access token")


async def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller behind a bearer token (or the staff pages' session cookie); 401 when there is none."""
    services: Services = request.app.state.services
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    if credentials is None and request.method not in READ_METHODS:
        # the staff pages act through /staff/… with a CSRF token; a cookie alone never changes anything here
        raise ApiError(403, "cookie_read_only")
    with services.lock:
        principal = services.accounts.principal(token, services.clock.now())
    if principal is None:
        raise ApiError(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    return principal


class require:  # used like a function: Depends(require(STAFF))
    """A dependency admitting only the given roles; ``roles`` is readable for the route audit test.

    One dependency does both authentication and the role check, and it and the hot endpoints are
    ``async``: their work is short and serialized by the office lock anyway, and every dependency
    and thread hand-off FastAPI saves is time a counter does not wait."""

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles

    async def __call__(self, request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        principal = authenticate(request, credentials)
        if principal.role not in self.roles:
            raise ApiError(403, "forbidden", roles=", ".join(sorted(self.roles)))
        return principal


class require_at_counter(require):  # used like a function, as ``require``
    """Admits a session bound at sign-in to the counter of the path (``{counter_id}``), and only it."""

    def __init__(self) -> None:
        super().__init__(COUNTER)

    async def __call__(self, request: Request,  # type: ignore[override]
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                       counter_id: str) -> Principal:
        principal = await super().__call__(request, credentials)
        if principal.counter != counter_id:
            code = "counter_session_required" if principal.counter is None else "counter_not_yours"
            raise ApiError(403, code, counter=counter_id, signed_in_at=principal.counter or "")
        return principal


AtCounter = Annotated[Principal, Depends(require_at_counter())]
Kiosk = Annotated[Principal, Depends(require(KIOSK))]
Anyone = Annotated[Principal, Depends(require(ANYONE))]
Device = Annotated[Principal, Depends(require(DEVICE))]
Staff = Annotated[Principal, Depends(require(STAFF))]
Guide = Annotated[Principal, Depends(require(GUIDE))]
Manager = Annotated[Principal, Depends(require(MANAGER))]
Admin = Annotated[Principal, Depends(require(ADMIN))]

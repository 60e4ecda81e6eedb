"""Who may call what: device tokens for kiosks and displays, staff sessions with roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..services import Services
from ..storage.accounts import Principal
from .problems import ApiError

SESSION_COOKIE = "madoguchi_session"

KIOSK = frozenset({"kiosk", "admin"})
ANYONE = frozenset({"kiosk", "display", "counter", "guide", "manager", "admin"})
STAFF = frozenset({"counter", "guide", "manager", "admin"})
GUIDE = frozenset({"guide", "manager", "admin"})
MANAGER = frozenset({"manager", "admin"})
ADMIN = frozenset({"admin"})

_bearer = HTTPBearer(auto_error=False, description="A device token or a staff access token")


async def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]


async def authenticated(request: Request, services: ServicesDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    with services.lock:
        principal = services.accounts.principal(token, services.clock.now())
    if principal is None:
        raise ApiError(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
    return principal


class require:  # used like a function: Depends(require(STAFF))
    """A dependency admitting only the given roles; ``roles`` is readable for the route audit test.

    Dependencies and the hot endpoints are ``async``: their work is short and serialized by the
    office lock anyway, and running it on the event loop saves a thread hand-off per request."""

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles

    async def __call__(self, principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in self.roles:
            raise ApiError(403, "forbidden", roles=", ".join(sorted(self.roles)))
        return principal


Kiosk = Annotated[Principal, Depends(require(KIOSK))]
Anyone = Annotated[Principal, Depends(require(ANYONE))]
Staff = Annotated[Principal, Depends(require(STAFF))]
Guide = Annotated[Principal, Depends(require(GUIDE))]
Manager = Annotated[Principal, Depends(require(MANAGER))]
Admin = Annotated[Principal, Depends(require(ADMIN))]

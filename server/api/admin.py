"""Administration: staff users and device tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from madoguchi.server.api.auth import NO_STORE, guard_of
from madoguchi.server.api.security import Admin, ServicesDep
from madoguchi.server.core.errors import conflict, invalid, not_found
from madoguchi.server.storage.accounts import DeviceKind, Role, UserExists

router = APIRouter(prefix="/admin", tags=["admin"])
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Name
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class UserChange(BaseModel):
    """Either or both; every session of the user ends (they sign in again with the new role or password)."""

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: DeviceKind


class Account(BaseModel):
    name: str
    role: str
    disabled: bool
    locked: bool = False
    """Locked after too many wrong passwords, until an admin unlocks it (users only)."""


class DeviceToken(BaseModel):
    name: str
    kind: str
    token: str


@router.get("/users", response_model=list[Account])
def users(services: ServicesDep, _: Admin) -> list[Account]:
    with services.lock:
        locked = services.accounts.locked_users()
        return [Account(name=u, role=r, disabled=d, locked=u in locked) for u, r, d in services.accounts.users()]


@router.post("/users", status_code=201, response_model=Account,
             responses={409: {"description": "A user of that name exists (change it with PATCH)"}})
def add_user(body: UserIn, services: ServicesDep, _: Admin) -> Account:
    """A new staff user; an existing name is refused (409): changing a user is ``PATCH``."""
    try:
        with services.lock:
            services.accounts.create_user(body.username, body.role, body.password, services.clock.now())
    except UserExists:
        raise conflict("user_exists", username=body.username) from None
    return Account(name=body.username, role=body.role.value, disabled=False)


@router.patch("/users/{username}", response_model=Account)
def change_user(username: str, body: UserChange, services: ServicesDep, _: Admin) -> Account:
    """Set a user's role and/or password; every session of that user ends."""
    if body.role is None and body.password is None:
        raise invalid("user_change_empty")
    with services.lock:
        if not services.accounts.update_user(username, body.role, body.password):
            raise not_found("not_found")
        found = next(u for u in services.accounts.users() if u[0] == username)
        locked = username in services.accounts.locked_users()
    return Account(name=found[0], role=found[1], disabled=found[2], locked=locked)


@router.post("/users/{username}/unlock", status_code=204, response_class=Response)
def unlock_user(request: Request, username: str, services: ServicesDep, _: Admin) -> Response:
    """Lift a lock-out after too many wrong passwords (and forget the failures counted so far)."""
    with services.lock:
        known = services.accounts.unlock_user(username)
    if not known:
        raise not_found("not_found")
    guard_of(request).unlock(username)
    return Response(status_code=204)


@router.post("/users/{username}/disable", status_code=204, response_class=Response)
def disable_user(username: str, services: ServicesDep, _: Admin) -> Response:
    with services.lock:
        if not services.accounts.disable_user(username):
            raise not_found("not_found")
    return Response(status_code=204)


@router.post("/users/{username}/enable", status_code=204, response_class=Response)
def enable_user(username: str, services: ServicesDep, _: Admin) -> Response:
    """A disabled user may sign in again (with the password they had; reset it if it may be known)."""
    with services.lock:
        if not services.accounts.enable_user(username):
            raise not_found("not_found")
    return Response(status_code=204)


@router.get("/devices", response_model=list[Account])
def devices(services: ServicesDep, _: Admin) -> list[Account]:
    with services.lock:
        return [Account(name=n, role=k, disabled=r) for n, k, r in services.accounts.devices()]


@router.post("/devices", status_code=201, response_model=DeviceToken)
def add_device(body: DeviceIn, services: ServicesDep, _: Admin, response: Response) -> DeviceToken:
    """A new token for a kiosk or display (shown once; only its hash is stored)."""
    with services.lock:
        token = services.accounts.add_device(body.name, body.kind, services.clock.now())
    response.headers.update(NO_STORE)
    return DeviceToken(name=body.name, kind=body.kind.value, token=token)


@router.post("/devices/{name}/revoke", status_code=204, response_class=Response)
def revoke_device(name: str, services: ServicesDep, _: Admin) -> Response:
    with services.lock:
        if not services.accounts.revoke_device(name):
            raise not_found("not_found")
    return Response(status_code=204)

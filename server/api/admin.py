"""Administration: staff users and device tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from madoguchi.server.api.security import Admin, ServicesDep
from madoguchi.server.core.errors import not_found
from madoguchi.server.storage.accounts import DeviceKind, Role

router = APIRouter(prefix="/admin", tags=["admin"])
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Name
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: DeviceKind


class Account(BaseModel):
    name: str
    role: str
    disabled: bool


class DeviceToken(BaseModel):
    name: str
    kind: str
    token: str


@router.get("/users", response_model=list[Account])
def users(services: ServicesDep, _: Admin) -> list[Account]:
    with services.lock:
        return [Account(name=u, role=r, disabled=d) for u, r, d in services.accounts.users()]


@router.post("/users", status_code=201, response_model=Account)
def add_user(body: UserIn, services: ServicesDep, _: Admin) -> Account:
    with services.lock:
        services.accounts.add_user(body.username, body.role, body.password, services.clock.now())
    return Account(name=body.username, role=body.role.value, disabled=False)


@router.post("/users/{username}/disable", status_code=204, response_class=Response)
def disable_user(username: str, services: ServicesDep, _: Admin) -> Response:
    with services.lock:
        if not services.accounts.disable_user(username):
            raise not_found("not_found")
    return Response(status_code=204)


@router.get("/devices", response_model=list[Account])
def devices(services: ServicesDep, _: Admin) -> list[Account]:
    with services.lock:
        return [Account(name=n, role=k, disabled=r) for n, k, r in services.accounts.devices()]


@router.post("/devices", status_code=201, response_model=DeviceToken)
def add_device(body: DeviceIn, services: ServicesDep, _: Admin) -> DeviceToken:
    """A new token for a kiosk or display (shown once; only its hash is stored)."""
    with services.lock:
        token = services.accounts.add_device(body.name, body.kind, services.clock.now())
    return DeviceToken(name=body.name, kind=body.kind.value, token=token)


@router.post("/devices/{name}/revoke", status_code=204, response_class=Response)
def revoke_device(name: str, services: ServicesDep, _: Admin) -> Response:
    with services.lock:
        if not services.accounts.revoke_device(name):
            raise not_found("not_found")
    return Response(status_code=204)

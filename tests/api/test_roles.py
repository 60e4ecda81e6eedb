"""Every protected endpoint, walked with no token, a wrong role and the right role."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from madoguchi.server.api.app import ROUTERS
from madoguchi.server.api.security import COUNTER, require

ALL_ROLES = ("kiosk", "display", "counter", "guide", "manager", "admin")


def required_roles(route: APIRoute) -> frozenset[str] | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, require):
            return dependency.call.roles
    return None


def protected_routes() -> dict[tuple[str, str], frozenset[str]]:
    routes = {}
    for prefix, router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and (roles := required_roles(route)) is not None:
                for method in route.methods:
                    routes[(method, prefix + route.path)] = roles
    return routes


def flood_simple_band(api, n: int = 40) -> None:
    for _ in range(n):
        assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201


def test_every_endpoint_refuses_no_token_and_wrong_roles_and_serves_the_right_one(api):
    routes = protected_routes()
    issue = {"procedures": ["juminhyo"]}
    with_card = {**issue, "card": {"name": "試験 花子", "address": "熊本市中央区手取本町1-1",
                                   "birth_date": "1980-01-02", "sex": "2"}}
    ids: dict[str, str] = {}

    def ticket(name: str) -> str:
        if name not in ids:
            ids[name] = api.post("/api/v1/tickets", "kiosk", json=issue).json()["id"]
        return ids[name]

    def suggestion() -> str:
        flood_simple_band(api)
        found = api.get("/api/v1/suggestions", "guide").json()
        assert found, "a flooded simple band with idle one-stop counters must bring a suggestion"
        return found[0]["id"]

    # (method, path template, concrete path or a function giving it, json body); in an order where each succeeds
    walk = [
        ("GET", "/api/v1/catalog", None, None),
        ("GET", "/api/v1/state", None, None),
        ("POST", "/api/v1/guidance", None, {"life_event": "tennyu", "answers": {}}),
        ("POST", "/api/v1/tickets", None, with_card),
        ("POST", "/api/v1/tickets/manual", None, issue),
        ("GET", "/api/v1/counters", None, None),
        ("GET", "/api/v1/counters/{counter_id}/queue", "/api/v1/counters/c1/queue", None),
        ("POST", "/api/v1/counters/{counter_id}/call-next", "/api/v1/counters/c1/call-next", None),
        ("POST", "/api/v1/counters/{counter_id}/recall", "/api/v1/counters/c1/recall", None),
        ("GET", "/api/v1/counters/{counter_id}/card", "/api/v1/counters/c1/card", "card"),
        ("POST", "/api/v1/counters/{counter_id}/start", "/api/v1/counters/c1/start", None),
        ("POST", "/api/v1/counters/{counter_id}/hold", "/api/v1/counters/c1/hold", None),
        ("POST", "/api/v1/counters/{counter_id}/call", "/api/v1/counters/c1/call", "held"),
        ("POST", "/api/v1/counters/{counter_id}/no-show", "/api/v1/counters/c1/no-show", None),
        ("POST", "/api/v1/counters/{counter_id}/finish", "/api/v1/counters/c2/finish", "serving"),
        ("PATCH", "/api/v1/counters/{counter_id}", "/api/v1/counters/c3", {"state": "paused"}),
        ("PATCH", "/api/v1/tickets/{ticket_id}", lambda: f"/api/v1/tickets/{ticket('flagged')}",
         {"priority": ["interpreter"]}),
        ("POST", "/api/v1/tickets/{ticket_id}/cancel", lambda: f"/api/v1/tickets/{ticket('cancelled')}/cancel", None),
        ("GET", "/api/v1/suggestions", None, None),
        ("POST", "/api/v1/suggestions/{suggestion_id}/accept", lambda: f"/api/v1/suggestions/{suggestion()}/accept",
         None),
        ("POST", "/api/v1/suggestions/{suggestion_id}/dismiss", "/api/v1/suggestions/c5:onestop>simple/dismiss", None),
        ("GET", "/api/v1/reports/kpi", None, None),
        ("GET", "/api/v1/reports/visits.csv", None, None),
        ("GET", "/api/v1/reports/visits.xlsx", None, None),
        ("GET", "/api/v1/admin/users", None, None),
        ("POST", "/api/v1/admin/users", None, {"username": "new-clerk", "role": "counter", "password": "longenough"}),
        ("PATCH", "/api/v1/admin/users/{username}", "/api/v1/admin/users/new-clerk", {"role": "guide"}),
        ("POST", "/api/v1/admin/users/{username}/unlock", "/api/v1/admin/users/new-clerk/unlock", None),
        ("POST", "/api/v1/admin/users/{username}/disable", "/api/v1/admin/users/new-clerk/disable", None),
        ("POST", "/api/v1/admin/users/{username}/enable", "/api/v1/admin/users/new-clerk/enable", None),
        ("GET", "/api/v1/admin/devices", None, None),
        ("POST", "/api/v1/admin/devices", None, {"name": "kiosk-2", "kind": "kiosk"}),
        ("POST", "/api/v1/admin/devices/{name}/revoke", "/api/v1/admin/devices/kiosk-2/revoke", None),
        ("PUT", "/api/v1/devices/me/status", None, {"printer": "paper_end"}),
        ("GET", "/api/v1/devices/status", None, None),
    ]
    assert {(m, p) for m, p, _, _ in walk} == set(routes), "every protected route is walked"

    for method, template, concrete, body in walk:
        roles = routes[(method, template)]
        path = concrete() if callable(concrete) else (concrete or template)
        if body == "held":
            body = {"ticket_id": api.services.office.ticket_at(api.services.office.counters["c1"]).id
                    if api.services.office.counters["c1"].ticket_id else
                    next(t.id for t in api.services.office.tickets.values() if t.status.value == "held"),
                    "reason": "戻られた"}
        if body == "serving":
            api.post("/api/v1/counters/c2/call-next", "counter")
            api.post("/api/v1/counters/c2/start", "counter")
            body = {"outcome": "done"}
        kwargs = {"json": body} if body not in (None, "card") else {}
        anonymous = api.client.request(method, path, **kwargs)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["content-type"] == "application/problem+json"
        wrong = next((r for r in ALL_ROLES if r not in roles), None)
        if wrong:
            refused = api.client.request(method, path, headers=api.headers(wrong), **kwargs)
            assert refused.status_code == 403, (method, path, wrong, refused.text)
            assert refused.json()["code"] == "forbidden"
        if roles == COUNTER:  # counter actions: only a session signed in at that counter
            right = "counter"
            elsewhere = api.client.request(method, path, headers={"Authorization": f"Bearer {api.counter_token('c9')}"},
                                           **kwargs)
            assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "counter_not_yours", (method, path)
            for unbound in ("admin", "guide", "manager"):
                refused = api.client.request(method, path, headers=api.headers(unbound), **kwargs)
                assert refused.status_code == 403, (method, path, unbound, refused.text)
        else:
            right = "admin" if "admin" in roles and roles != frozenset({"kiosk", "admin"}) else sorted(roles)[0]
        served = api.client.request(method, path, headers=api.headers(right, path), **kwargs)
        assert 200 <= served.status_code < 300, (method, path, right, served.text)


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz"])
def test_malformed_or_unknown_tokens_are_401(api, token):
    response = api.client.get("/api/v1/state", headers={"Authorization": token})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_password_sign_in_gives_a_working_bearer_token(api):
    from tests.api.conftest import PASSWORD

    bad = api.client.post("/api/v1/auth/token", data={"username": "counter-user", "password": "wrong"})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_credentials"
    good = api.client.post("/api/v1/auth/token", data={"username": "counter-user", "password": PASSWORD,
                                                       "counter": "c4"})
    assert good.status_code == 200 and good.json()["token_type"] == "bearer" and good.json()["expires_in"] > 0
    token = good.json()["access_token"]
    assert api.client.get("/api/v1/counters", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_device_revoked_by_another_process_is_refused_within_seconds(api, tmp_path):
    from madoguchi.server.storage.accounts import Accounts
    from madoguchi.server.storage.database import connect

    assert api.get("/api/v1/state", "kiosk").status_code == 200
    other = connect(api.services.settings.database_path)  # as `madoguchi device revoke` would
    Accounts(other).revoke_device("kiosk-1")
    other.close()
    api.advance(0.25)  # 15 s later: past the recheck interval
    assert api.get("/api/v1/state", "kiosk").status_code == 401

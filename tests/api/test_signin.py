"""Issue 8.2 and 8.8: sign-in limited per address and per account, a lock-out an admin lifts, equal
timing for unknown names; sessions end on a password or role change; 409 for an existing user."""

from __future__ import annotations

import statistics
import time

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD


def from_address(api, address: str) -> TestClient:
    """Requests from another source address (the guard counts per address)."""
    return TestClient(api.client.app, client=(address, 40000), raise_server_exceptions=False)


def sign_in(client: TestClient, username: str, password: str, counter: str | None = None):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password,
                                                   **({"counter": counter} if counter else {})})


def test_wrong_passwords_from_one_address_get_429_with_retry_after_and_others_still_sign_in(api):
    attacker = from_address(api, "10.0.0.66")
    for i in range(api.services.settings.signin.failures_per_source):
        assert sign_in(attacker, f"nobody-{i}", "guess").status_code == 401
    refused = sign_in(attacker, "guide-user", PASSWORD)
    assert refused.status_code == 429 and refused.json()["code"] == "signin_throttled"
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    assert refused.headers["retry-after"] in refused.json()["detail"]
    clerk = from_address(api, "10.0.0.7")  # the counter next door
    assert sign_in(clerk, "counter-user", PASSWORD, "c1").status_code == 200
    api.advance(16)
    assert sign_in(attacker, "guide-user", PASSWORD).status_code == 200, "the window has passed"


def test_an_attacked_account_is_throttled_then_locked_until_an_admin_unlocks_it(api):
    address = iter(f"10.1.{i // 200}.{i % 200}" for i in range(10_000))
    for name in ("guide-user", "ghost"):  # a known and an unknown name answer alike
        for round_ in range(4):
            for _ in range(5):
                assert sign_in(from_address(api, next(address)), name, "guess").status_code == 401
            if round_ < 3:
                throttled = sign_in(from_address(api, next(address)), name, PASSWORD)
                assert throttled.status_code == 429 and throttled.json()["code"] == "signin_throttled"
                api.advance(16)
        locked = sign_in(from_address(api, next(address)), name, PASSWORD)
        assert locked.status_code == 423 and locked.json()["code"] == "account_locked", name
        assert "管理者" in locked.json()["detail"]
    assert api.get("/api/v1/counters", "guide").status_code == 401, "a locked account's sessions end"
    users = {u["name"]: u for u in api.get("/api/v1/admin/users", "admin").json()}
    assert users["guide-user"]["locked"] is True
    assert api.post("/api/v1/admin/users/guide-user/unlock", "admin").status_code == 204
    assert sign_in(from_address(api, next(address)), "guide-user", PASSWORD).status_code == 200
    assert api.post("/api/v1/admin/users/ghost/unlock", "admin").status_code == 404


def test_a_disabled_account_signs_in_no_more_until_an_admin_enables_it(api):
    clerk = from_address(api, "10.0.0.8")
    assert sign_in(clerk, "guide-user", PASSWORD).status_code == 200
    assert api.post("/api/v1/admin/users/guide-user/disable", "admin").status_code == 204
    assert api.get("/api/v1/counters", "guide").status_code == 401, "a disabled account's sessions end"
    assert sign_in(clerk, "guide-user", PASSWORD).status_code == 401
    assert api.post("/api/v1/admin/users/guide-user/enable", "admin").status_code == 204
    assert {u["name"]: u["disabled"] for u in api.get("/api/v1/admin/users", "admin").json()}["guide-user"] is False
    assert sign_in(clerk, "guide-user", PASSWORD).status_code == 200, "back with the password it had"
    unknown = api.post("/api/v1/admin/users/ghost/enable", "admin")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_a_wrong_user_name_takes_as_long_as_a_wrong_password(api):
    assert api.post("/api/v1/admin/users/manager-user/disable", "admin").status_code == 204

    addresses = iter(f"10.2.{i // 200}.{i % 200}" for i in range(1000))

    def took(name: str) -> float:
        client = from_address(api, next(addresses))
        started = time.perf_counter()
        assert sign_in(client, name, "guess").status_code == 401
        return time.perf_counter() - started

    took("no-such-user")  # warm-up: the check thread starts, the dummy hash is made
    times: dict[str, list[float]] = {"known": [], "unknown": [], "disabled": []}
    for i in range(7):  # interleaved, so the machine's load drifts alike for all three
        times["known"].append(took("admin-user"))
        times["unknown"].append(took(f"no-such-user-{i}"))
        times["disabled"].append(took("manager-user"))
        api.advance(16)  # past the per-account window
    known, unknown, disabled = (statistics.median(times[k]) for k in ("known", "unknown", "disabled"))
    assert known > 0.01, "a real password check runs"
    # before: 1 ms for a wrong name against 110 ms for a wrong password; now both check a hash
    assert unknown > known / 3 and disabled > known / 3, (known, unknown, disabled)


def test_creating_an_existing_user_is_409_and_changing_it_is_its_own_call(api):
    body = {"username": "counter-user", "role": "admin", "password": "takeover-pass"}
    exists = api.post("/api/v1/admin/users", "admin", json=body)
    assert exists.status_code == 409 and exists.json()["code"] == "user_exists"
    assert sign_in(api.client, "counter-user", "takeover-pass").status_code == 401, "nothing was overwritten"
    assert api.get("/api/v1/counters", "counter").status_code == 200
    empty = api.patch("/api/v1/admin/users/counter-user", "admin", json={})
    assert empty.status_code == 422 and empty.json()["code"] == "user_change_empty"
    assert api.patch("/api/v1/admin/users/nobody", "admin", json={"role": "guide"}).status_code == 404


def test_a_password_change_ends_every_session_of_that_user(api):
    old_token = api.tokens["counter"]
    at_c2 = api.counter_token("c2")
    changed = api.patch("/api/v1/admin/users/counter-user", "admin", json={"password": "a-new-password"})
    assert changed.status_code == 200 and changed.json()["role"] == "counter"
    for token in (old_token, at_c2):
        assert api.client.get("/api/v1/counters", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(api.client, "counter-user", PASSWORD, "c1").status_code == 401
    assert sign_in(api.client, "counter-user", "a-new-password", "c1").status_code == 200
    assert api.get("/api/v1/counters", "guide").status_code == 200, "other users keep their sessions"


def test_a_role_change_ends_every_session_of_that_user(api):
    assert api.get("/api/v1/reports/kpi", "manager").status_code == 200
    changed = api.patch("/api/v1/admin/users/manager-user", "admin", json={"role": "counter"})
    assert changed.status_code == 200 and changed.json()["role"] == "counter"
    assert api.get("/api/v1/reports/kpi", "manager").status_code == 401, "the manager session is gone"


def test_token_answers_are_not_stored_by_browsers_or_proxies(api):
    answer = sign_in(api.client, "guide-user", PASSWORD)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    assert "secure" not in answer.headers["set-cookie"].lower(), "plain HTTP from an untrusted peer"
    device = api.post("/api/v1/admin/devices", "admin", json={"name": "kiosk-9", "kind": "kiosk"})
    assert device.status_code == 201 and device.headers["cache-control"] == "no-store"
    wrong = sign_in(api.client, "guide-user", "guess")
    assert wrong.status_code == 401 and wrong.headers["cache-control"] == "no-store"


def test_the_session_cookie_is_secure_when_the_setting_says_so(tmp_path):
    from tests.api.conftest import make_api

    api = make_api(tmp_path, secure_cookies=True)
    with api.client:
        answer = sign_in(api.client, "guide-user", PASSWORD)
        assert answer.status_code == 200 and "; secure" in answer.headers["set-cookie"].lower()
    api.services.close()


def test_madoguchi_user_unlock_lets_a_locked_clerk_sign_in_again(api):
    import subprocess
    import sys

    address = iter(f"10.3.0.{i}" for i in range(200))
    for _ in range(4):
        for _ in range(5):
            assert sign_in(from_address(api, next(address)), "guide-user", "guess").status_code == 401
        api.advance(16)
    assert sign_in(from_address(api, next(address)), "guide-user", PASSWORD).status_code == 423
    done = subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", "user", "unlock", "guide-user",
                           "--site", "chuo", "--data-dir", str(api.services.settings.data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "unlocked" in done.stderr
    assert sign_in(from_address(api, next(address)), "guide-user", PASSWORD).status_code == 200

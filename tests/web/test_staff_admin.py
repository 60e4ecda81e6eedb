"""The admin pages in Chromium against a live server: an admin makes a user who can then sign in, changes
roles, resets a password, unlocks and disables; a device token is shown once, works, is kept only as its
hash, and stops working when revoked; other roles and posts without the CSRF token are refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3

import httpx
import pytest
from playwright.sync_api import expect

from madoguchi.server.api.security import SESSION_COOKIE
from madoguchi.server.composition import Settings, build
from madoguchi.server.storage.accounts import Role
from tests.live import STAFF_PASSWORD, LiveServer
from tests.web.test_staff_console import DESKTOP, sign_in
from tests.web.test_status_page import serious_violations, shoot

TABLET = {"width": 820, "height": 1180}
CSRF = re.compile(r'data-csrf="([0-9a-f]{64})"')


@pytest.fixture
def server(tmp_path):
    """A live server whose accounts include a user locked after too many wrong passwords."""
    live = LiveServer(tmp_path / "data")
    live.prepare_accounts()
    services = build(Settings(site=live.site, data_dir=live.data_dir))
    with services.lock:
        services.accounts.add_user("locked-clerk", Role.COUNTER, STAFF_PASSWORD, dt.datetime.now(dt.UTC))
        services.accounts.lock_user("locked-clerk")
    services.close()
    live.start("--no-mqtt")
    yield live
    live.stop()


def admin_page(browser, base: str):
    page = sign_in(browser, base, None, user="admin-e2e")
    page.wait_for_url(f"{base}/staff/guide")
    page.click("nav.staff-nav a[href='/staff/admin']")
    page.wait_for_url(f"{base}/staff/admin")
    expect(page.locator("#live")).to_have_text(re.compile("自動更新中|Live updates on"))
    return page


def try_sign_in(browser, base: str, user: str, password: str, counter: str | None = None):
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", user)
    page.fill("#password", password)
    if counter:
        page.select_option("#counter", counter)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    return page


def test_an_admin_makes_a_user_who_signs_in_then_changes_role_password_unlocks_and_disables(server, browser):
    base = server.url
    admin = admin_page(browser, base)
    csrf = admin.locator("#admin").get_attribute("data-csrf")
    short = admin.request.post(f"{base}/staff/admin/users", headers={"Accept": "application/json"},
                               form={"csrf": csrf, "username": "clerk-new", "role": "counter", "password": "short"})
    assert short.status == 422 and short.json()["code"] == "admin_bad_password"  # the API's rule, said plainly
    bad_name = admin.request.post(f"{base}/staff/admin/users", headers={"Accept": "application/json"},
                                  form={"csrf": csrf, "username": "clerk new", "role": "counter",
                                        "password": "long-enough-1"})
    assert bad_name.status == 422 and bad_name.json()["code"] == "admin_bad_username"

    admin.fill("#new-username", "clerk-new")
    admin.select_option("#new-role", "counter")
    admin.fill("#new-password", "first-password-1")
    admin.click("#new-user button[type=submit]")
    expect(admin.locator("#admin-status")).to_have_text("アカウントを作成しました。")
    row = admin.locator("tr[data-user='clerk-new']")
    expect(row).to_contain_text("窓口")
    expect(row).to_have_attribute("data-state", "active")
    admin.fill("#new-username", "clerk-new")  # the same name again: refused, said on the page
    admin.fill("#new-password", "first-password-1")
    admin.click("#new-user button[type=submit]")
    expect(admin.locator("#message")).to_contain_text("clerk-new は既にあります")

    clerk = try_sign_in(browser, base, "clerk-new", "first-password-1", counter="c4")
    clerk.wait_for_url(f"{base}/staff/counter")
    admin.goto(f"{base}/staff/admin")
    expect(row).to_contain_text("窓口 c4")  # signed in at that counter

    row.locator("select[name=role]").select_option("guide")
    row.locator("form[action$='/role'] button").click()
    expect(admin.locator("#admin-status")).to_contain_text("役割を変更しました")
    expect(row.locator("td").first).to_have_text("フロア案内")
    expect(row).not_to_contain_text("窓口 c4")  # the change ended the clerk's session
    row.locator("input[name=password]").fill("second-password-2")
    row.locator("form[action$='/password'] button").click()
    expect(admin.locator("#admin-status")).to_contain_text("パスワードを再設定しました")
    old = try_sign_in(browser, base, "clerk-new", "first-password-1")
    expect(old.locator("p.error")).not_to_be_empty()
    guide = try_sign_in(browser, base, "clerk-new", "second-password-2")
    guide.wait_for_url(f"{base}/staff/guide")  # a guide now: the board

    locked = admin.locator("tr[data-user='locked-clerk']")
    expect(locked).to_have_attribute("data-state", "locked")
    refused = try_sign_in(browser, base, "locked-clerk", STAFF_PASSWORD, counter="c5")
    expect(refused.locator("p.error")).not_to_be_empty()
    shoot(admin, "staff-admin-1366")
    assert not serious_violations(admin)
    locked.locator("form[action$='/unlock'] button").click()
    expect(admin.locator("#admin-status")).to_contain_text("ロックを解除しました")
    expect(locked).to_have_attribute("data-state", "active")
    try_sign_in(browser, base, "locked-clerk", STAFF_PASSWORD, counter="c5").wait_for_url(f"{base}/staff/counter")

    admin.once("dialog", lambda dialog: dialog.dismiss())  # asked first; "cancel" changes nothing
    row.locator("form[action$='/disable'] button").click()
    expect(row).to_have_attribute("data-state", "active")
    admin.once("dialog", lambda dialog: dialog.accept())
    row.locator("form[action$='/disable'] button").click()
    expect(admin.locator("#admin-status")).to_contain_text("無効にしました")
    expect(row).to_have_attribute("data-state", "disabled")
    expect(try_sign_in(browser, base, "clerk-new", "second-password-2").locator("p.error")).not_to_be_empty()
    assert row.locator("form[action$='/password']").count() == 0  # a disabled account offers only enable
    row.locator("form[action$='/enable'] button").click()
    expect(admin.locator("#admin-status")).to_contain_text("有効に戻しました")
    expect(row).to_have_attribute("data-state", "active")
    try_sign_in(browser, base, "clerk-new", "second-password-2").wait_for_url(f"{base}/staff/guide")
    assert admin.locator("tr[data-user='admin-e2e'] form[action$='/disable']").count() == 0  # not oneself
    assert admin.locator("tr[data-user='admin-e2e'] form[action$='/role']").count() == 0

    admin.set_viewport_size(TABLET)
    shoot(admin, "staff-admin-tablet")
    assert not serious_violations(admin)


def test_a_device_token_is_shown_once_works_is_kept_hashed_and_is_dead_once_revoked(server, browser):
    base = server.url
    admin = admin_page(browser, base)
    admin.fill("#device-name", "kiosk-lobby")
    admin.select_option("#device-kind", "kiosk")
    admin.click("#new-device button[type=submit]")
    box = admin.locator("#token-box")
    expect(box).to_be_visible()
    expect(box).to_contain_text("もう一度表示することはできません")
    token = admin.locator("#token-value").input_value()
    assert len(token) >= 40

    device = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    reported = device.put("/api/v1/devices/me/status", json={"printer": "paper_end", "card_reader": "ok"})
    assert reported.status_code == 204
    row = admin.locator("#devices tr[data-device='kiosk-lobby']")
    expect(row).to_have_attribute("data-health", "online", timeout=1000)  # pushed, no reload
    expect(row).to_contain_text("用紙切れ")
    expect(row).to_contain_text("カード読取機 正常")
    expect(admin.locator("#devices tr[data-device='display-e2e']")).to_have_attribute("data-health", "never")
    shoot(admin, "staff-admin-devices-1366")  # the token box and a live health row
    assert not serious_violations(admin)

    admin.reload()
    expect(admin.locator("#token-box")).to_be_hidden()
    assert token not in admin.content()
    data = server.data_dir
    stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    assert token.encode() not in stored, "the token is kept only as its hash"
    with sqlite3.connect(f"file:{data / 'chuo.sqlite3'}?mode=ro", uri=True) as db:
        (digest,) = db.execute("SELECT token_hash FROM devices WHERE name = 'kiosk-lobby'").fetchone()
    assert digest == hashlib.sha256(token.encode()).hexdigest()

    row = admin.locator("#devices tr[data-device='kiosk-lobby']")
    admin.once("dialog", lambda dialog: dialog.accept())
    row.locator("button[data-action='revoke']").click()
    expect(row).to_have_attribute("data-health", "revoked")
    expect(admin.locator("#admin-status")).to_have_text("トークンを取り消しました。")
    assert device.put("/api/v1/devices/me/status", json={"printer": "online"}).status_code == 401
    device.close()


def session(server: LiveServer, role: str, page: str) -> tuple[httpx.Client, str]:
    """A browser-like client of a staff session, and its CSRF token read off one of its pages."""
    client = httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: server.tokens[role]}, timeout=10)
    found = CSRF.search(client.get(page).text)
    assert found, f"no CSRF token on {page} for {role}"
    return client, found.group(1)


@pytest.mark.parametrize(("role", "home"), [("counter@c4", "/staff/counter"), ("guide", "/staff/guide"),
                                            ("manager", "/staff/guide")])
def test_other_roles_get_403_on_the_admin_pages_and_posts(server, role, home):
    client, csrf = session(server, role, home)
    assert client.get("/staff/admin").status_code == 403
    health = client.get("/staff/admin/health")
    assert health.status_code == 403 and health.json()["code"] == "admin_only"
    posts = {"/staff/admin/users": {"username": "intruder", "role": "admin", "password": "long-enough-1"},
             "/staff/admin/users/admin-e2e/password": {"password": "long-enough-1"},
             "/staff/admin/users/admin-e2e/disable": {}, "/staff/admin/devices": {"name": "rogue", "kind": "kiosk"},
             "/staff/admin/devices/kiosk-e2e/revoke": {}}
    for path, form in posts.items():
        answer = client.post(path, data={"csrf": csrf, **form}, headers={"Accept": "application/json"})
        assert (answer.status_code, answer.json()["code"]) == (403, "admin_only"), path
    client.close()
    admin = server.client("admin")
    assert "intruder" not in {u["name"] for u in admin.get("/api/v1/admin/users").json()}
    assert {d["name"]: d["disabled"] for d in admin.get("/api/v1/admin/devices").json()}["kiosk-e2e"] is False


def test_admin_posts_without_the_csrf_token_or_from_another_site_are_refused(server):
    client, csrf = session(server, "admin", "/staff/admin")
    form = {"username": "sneaky", "role": "admin", "password": "long-enough-1"}
    for data, headers in (({**form}, {}), ({**form, "csrf": "0" * 64}, {}),
                          ({**form, "csrf": csrf}, {"Origin": "http://evil.example"})):
        answer = client.post("/staff/admin/users", data=data, headers={"Accept": "application/json", **headers})
        assert (answer.status_code, answer.json()["code"]) == (403, "csrf_refused")
    assert client.post("/staff/admin/devices/kiosk-e2e/revoke", data={}).status_code == 403
    own = client.post("/staff/admin/users/admin-e2e/role", data={"csrf": csrf, "role": "counter"},
                      headers={"Accept": "application/json"})
    assert (own.status_code, own.json()["code"]) == (409, "admin_not_your_role")  # nobody demotes the last admin
    made = client.post("/staff/admin/users", data={**form, "csrf": csrf}, headers={"Accept": "application/json"})
    assert made.status_code == 200 and made.json()["done"] == "user_created"  # the same post with its token
    plain = client.post("/staff/admin/devices", data={"csrf": csrf, "name": "display-hall", "kind": "display"})
    assert plain.status_code == 201 and plain.headers["cache-control"] == "no-store"  # a form posted without script
    token = re.search(r'id="token-value" class="token-value" readonly value="([^"]+)"', plain.text).group(1)
    assert "もう一度表示することはできません" in plain.text
    assert httpx.get(f"{server.url}/api/v1/state", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in client.get("/staff/admin").text
    client.close()
    anonymous = httpx.post(f"{server.url}/staff/admin/users", data=form, timeout=10)
    assert anonymous.status_code == 403

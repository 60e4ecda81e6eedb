"""The API documentation in a real browser on a LAN without internet: every asset comes from the server."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


def offline_page(browser, blocked: list[str]):
    """A page that reaches 127.0.0.1 only: anything else is aborted (and noted), as on an office LAN."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")

    def only_this_machine(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_machine)
    return context, context.new_page()


def test_api_docs_render_offline_and_list_every_operation(live_server, browser, tmp_path):
    spec = httpx.get(f"{live_server.url}/api/v1/openapi.json").json()
    operations = [(method.upper(), path) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) > 20
    blocked: list[str] = []
    failed: list[str] = []
    context, page = offline_page(browser, blocked)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{live_server.url}/api/v1/docs")
        page.locator(".opblock").first.wait_for(timeout=15_000)
        shown = page.locator(".opblock-summary").evaluate_all(
            "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').innerText, "
            "b.querySelector('.opblock-summary-path').getAttribute('data-path')])")
        assert set(map(tuple, shown)) == set(operations), "every operation is listed (one with two tags twice)"
        assert page.locator(".title").first.inner_text().startswith("madoguchi")
        assert page.locator(".opblock-tag").count() >= 5, "operations are grouped by tag"

        artifacts = tmp_path / "artifacts"
        artifacts.mkdir()
        page.screenshot(path=str(artifacts / "api-docs-offline.png"), full_page=False)

        # a person tries one out: the health check answers from the docs page itself
        health = page.locator(".opblock", has=page.locator("[data-path='/healthz']"))
        health.locator(".opblock-summary").click()
        health.get_by_role("button", name="Try it out").click()
        health.get_by_role("button", name="Execute").click()
        answer = health.locator(".live-responses-table tr.response .response-col_status").first
        answer.wait_for(timeout=10_000)
        assert answer.inner_text().strip() == "200"
        assert '"status": "ok"' in health.locator(".live-responses-table .microlight").first.inner_text()
        health.screenshot(path=str(artifacts / "api-docs-try-healthz.png"))
    finally:
        context.close()
    assert blocked == [], f"the docs page wanted assets from outside this server: {blocked}"
    assert failed == [], f"requests that failed: {failed}"


def test_the_docs_assets_are_the_servers_own_and_a_missing_one_is_a_plain_404(live_server):
    page = httpx.get(f"{live_server.url}/api/v1/docs").text
    assert "cdn" not in page.lower() and "https://" not in page
    js = httpx.get(f"{live_server.url}/api/v1/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text[:2000]
    assert httpx.get(f"{live_server.url}/api/v1/docs-assets/nothing.js").status_code == 404

"""Issue 8.11: /metrics and the API docs are not public by default; the unit documents a TLS proxy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.server.composition import Settings
from tests.api.conftest import make_api

ROOT = Path(__file__).resolve().parents[2]
OPS_PATHS = ("/metrics", "/api/v1/docs", "/api/v1/openapi.json")


@pytest.fixture
def production(tmp_path):
    api = make_api(tmp_path, public_ops=False)
    with api.client:
        yield api
    api.services.close()


def test_production_is_the_default():
    assert Settings(site="chuo", data_dir=Path("unused")).public_ops is False


def test_metrics_and_api_docs_answer_404_to_anyone_but_managers_admins_and_this_machine(production):
    for path in OPS_PATHS:
        anonymous = production.client.get(path)
        assert anonymous.status_code == 404, path
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert "madoguchi_http_requests" not in anonymous.text and "openapi" not in anonymous.text
        for role in ("kiosk", "display", "counter", "guide"):
            assert production.get(path, role).status_code == 404, (path, role)
        for role in ("manager", "admin"):
            assert production.get(path, role).status_code == 200, (path, role)
    local = TestClient(production.client.app, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 200, "a Prometheus on the server itself may scrape"
    assert production.client.get("/healthz").status_code == 200, "health stays public for the load balancer"


def test_the_demo_and_tests_may_turn_them_on(api):
    for path in OPS_PATHS:
        assert api.client.get(path).status_code == 200, path


def test_the_systemd_unit_puts_uvicorn_behind_a_local_tls_proxy():
    unit = (ROOT / "config/systemd/madoguchi-server@.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, re.M).group(1)
    assert "--host 127.0.0.1" in exec_start, "uvicorn listens on the machine only; the proxy faces the LAN"
    assert "--public-ops" not in exec_start
    caddy = (ROOT / "config/systemd/Caddyfile.example").read_text(encoding="utf-8")
    assert "reverse_proxy 127.0.0.1:8000" in caddy and "tls " in caddy
    nginx = (ROOT / "config/systemd/nginx-madoguchi.conf.example").read_text(encoding="utf-8")
    assert "listen 443 ssl" in nginx and "proxy_pass http://127.0.0.1:8000" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme" in nginx
    assert "proxy_set_header X-Forwarded-For $remote_addr" in nginx, "never the client's own X-Forwarded-For"
    for name in ("Caddyfile.example", "nginx-madoguchi.conf.example"):
        assert name in unit, f"the unit says where the proxy config is: {name}"

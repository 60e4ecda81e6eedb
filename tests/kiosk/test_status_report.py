"""The kiosk's health reaches the floor guide through the live server: paper out, 「係員を呼ぶ」, offline at exit."""

from __future__ import annotations

import httpx

from madoguchi.kiosk.client import KioskClient
from madoguchi.kiosk.status import StatusReporter, StatusSender
from tests.live import LiveServer, wait_until


def _guide_view(server: LiveServer) -> dict[str, dict]:
    answer = httpx.get(f"{server.url}/api/v1/devices/status",
                       headers={"Authorization": f"Bearer {server.tokens['guide']}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    return {d["device"]: d for d in answer.json()}


def test_paper_end_and_call_staff_reach_the_guide_and_exit_says_offline(live_server, tmp_path):
    with KioskClient(live_server.url, live_server.tokens["kiosk"]) as client:
        reporter = StatusReporter("kiosk-e2e", "chuo", tmp_path / "status.json",
                                  sender=StatusSender(client.report_status))
        reporter.update(printer="paper_end", call_staff=True)

        def paper_end_seen() -> dict | None:
            found = _guide_view(live_server).get("kiosk-e2e")
            return found if found and found["printer"] == "paper_end" else None

        seen = wait_until(paper_end_seen, timeout_s=10, what="the paper end at the guide")
        assert seen["call_staff"] is True and seen["online"] is True and seen["stale"] is False
        reporter.close()
        offline = wait_until(lambda: (d := _guide_view(live_server)["kiosk-e2e"]) and not d["online"] and d,
                             timeout_s=10, what="the kiosk offline at the guide")
        assert offline["printer"] == "paper_end"


def test_an_absent_server_costs_the_screen_nothing_and_one_warning(tmp_path, caplog):
    with KioskClient("http://127.0.0.1:9", "no-token", timeout_s=0.5) as client:  # nothing listens on port 9
        sender = StatusSender(client.report_status)
        reporter = StatusReporter("kiosk-1", "chuo", tmp_path / "status.json", sender=sender)
        for printer in ("paper_end", "online", "cover_open"):
            assert reporter.update(printer=printer).printer == printer  # answered at once, from memory
        reporter.close()
    warnings = [r for r in caplog.records if "status not sent" in r.getMessage()]
    assert len(warnings) == 1

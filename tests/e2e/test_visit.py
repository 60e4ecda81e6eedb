"""A whole visit through the real HTTP API of a live server (uvicorn), as the acceptance describes."""

from __future__ import annotations

from tests.factories import TENNYU_FAMILY
from tests.personal_data import SECRETS, TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_NAME, leaked_in

COUNTER_BY_DEPARTMENT = {"kuminka": "c4", "fukushika": "c10", "hokenkodomo": "c12"}


def test_tennyu_family_goes_counter_to_counter_and_the_status_page_follows(live_server):
    guide, counter, kiosk = live_server.client("guide"), live_server.client("counter"), live_server.client("kiosk")
    # one-stop counter c4 handles only 区民課 procedures here, so the visit must move between departments
    guide.patch("/api/v1/counters/c4", json={"skills": ["tennyu_todoke", "tennyugaku", "kokuho", "nenkin"]})
    for other in ("c5", "c6", "c7", "c8", "c11", "c13"):
        assert guide.patch(f"/api/v1/counters/{other}", json={"state": "closed"}).status_code == 200

    response = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu", "answers": TENNYU_FAMILY.answers},
                          headers={"Idempotency-Key": "family-1"})
    assert response.status_code == 201
    ticket = response.json()
    plan = [s["procedure"] for s in ticket["plan"]]
    assert plan == ["tennyu_todoke", "tennyugaku", "kaigo", "jidou_teate", "kodomo_iryo"]
    labels = [s["label"] for s in ticket["plan"]]
    assert labels[0].startswith("住民異動届") and {"転入学", "児童手当", "子ども医療"} <= set(labels)
    assert "介護保険・要介護認定" in labels  # the member of 70
    status_url = ticket["status_url"]

    # a later visit of the same band, to show the first never goes back behind it
    later = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu", "answers": {}}).json()

    public_url = status_url.replace("/t/", "/api/v1/public/tickets/")
    resident = live_server.client()
    seen_counters = []
    for _ in plan:  # bounded: each counter visit finishes at least one step
        step = next(s for s in resident.get(public_url).json()["plan"] if s["state"] == "todo")
        where = COUNTER_BY_DEPARTMENT[step["department"]]
        called = counter.post(f"/api/v1/counters/{where}/call-next").json()["ticket"]
        assert called is not None and called["id"] == ticket["id"], f"{where} must call our visit first"
        seen_counters.append(where)
        page = resident.get(status_url).text.replace("<wbr>", "")  # <wbr>: line breaks between phrases
        assert "へお越しください" in page, "the status page tells where to go"
        assert counter.post(f"/api/v1/counters/{where}/start").status_code == 200
        for _ in plan:  # the next step may continue at the same counter
            finished = counter.post(f"/api/v1/counters/{where}/finish", json={"outcome": "done"}).json()["ticket"]
            if finished["status"] != "serving":
                break
        if finished["status"] == "done":
            break
        assert finished["status"] == "waiting", finished["status"]
    assert finished["status"] == "done" and finished["id"] == ticket["id"], "the visit never ended"
    assert seen_counters == ["c4", "c10", "c12"]
    public = resident.get(public_url).json()
    assert public["status"] == "done" and all(s["state"] == "done" for s in public["plan"])
    assert "すべての手続きが終わりました" in live_server.client().get(status_url).text.replace("<wbr>", "")
    still_waiting = live_server.client().get(later["status_url"].replace("/t/", "/api/v1/public/tickets/")).json()
    assert still_waiting["status"] == "waiting"


def test_card_data_is_nowhere_once_the_visit_ended(live_server):
    kiosk, counter, manager = (live_server.client(r) for r in ("kiosk", "counter", "manager"))
    card = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
            "sex": "2"}
    ticket = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"], "card": card}).json()
    served = counter.post("/api/v1/counters/c1/call-next").json()["ticket"]
    assert served["id"] == ticket["id"] and served["has_card"]
    card_read = counter.get("/api/v1/counters/c1/card").json()
    assert card_read["card"]["name"] == TEST_HOLDER_NAME, "the serving counter reads the card to fill the form"
    counter.post("/api/v1/counters/c1/start")
    counter.post("/api/v1/counters/c1/finish", json={"outcome": "done"})
    # bad input carrying card data must not echo it back either
    echoed = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"], "card": {**card, "sex": "x"}})
    assert echoed.status_code == 422 and not leaked_in(echoed.text)

    surfaces = {
        "status page": live_server.client().get(ticket["status_url"]).text,
        "public JSON": live_server.client().get(ticket["status_url"].replace("/t/", "/api/v1/public/tickets/")).text,
        "CSV": manager.get("/api/v1/reports/visits.csv").content.decode("utf-8-sig"),
        "KPI": manager.get("/api/v1/reports/kpi").text,
        "state": counter.get("/api/v1/state").text,
    }
    xlsx = manager.get("/api/v1/reports/visits.xlsx").content
    running_files = {p.name: p.read_bytes() for p in live_server.data_dir.rglob("*") if p.is_file()}
    assert any(name.endswith("-wal") for name in running_files), "the running server writes a WAL"
    live_server.stop()  # now the log is complete and the database checkpointed
    surfaces["server log"] = live_server.log()
    for name, text in surfaces.items():
        assert not leaked_in(text), f"personal data in the {name}"
    stopped_files = {p.name: p.read_bytes() for p in live_server.data_dir.rglob("*") if p.is_file()}
    for name, raw in [*running_files.items(), *stopped_files.items(), ("visits.xlsx", xlsx)]:
        for secret in SECRETS:
            assert secret.encode() not in raw, f"{secret!r} found in {name}"

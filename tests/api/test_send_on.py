"""Send a visit on: to a chosen procedure, to a chosen counter (called there now, or waiting for it only)."""

from __future__ import annotations

from tests.api.conftest import make_api


def issue(api, *procedures: str) -> dict:
    response = api.post("/api/v1/tickets", "kiosk", json={"procedures": list(procedures)})
    assert response.status_code == 201, response.text
    return response.json()


def serve_next(api, counter: str) -> dict:
    called = api.post(f"/api/v1/counters/{counter}/call-next", "counter").json()["ticket"]
    assert called is not None, f"{counter} called nobody"
    assert api.post(f"/api/v1/counters/{counter}/start", "counter").status_code == 200
    return called


def finish(api, counter: str, **body: str):
    return api.post(f"/api/v1/counters/{counter}/finish", "counter", json={"outcome": "done", **body})


def plan(api, ticket_id: str) -> list[tuple[str, str]]:
    with api.services.lock:
        return [(s.procedure, s.state.value) for s in api.services.office.ticket(ticket_id).steps]


def test_a_chosen_procedure_becomes_the_next_step_and_is_served_here_at_once(api):
    visit = issue(api, "juminhyo")
    serve_next(api, "c1")
    answer = finish(api, "c1", next_procedure="mynumber_card")
    assert answer.status_code == 200, answer.text
    assert answer.json()["ticket"]["status"] == "serving", "the resident stays seated for the added step"
    assert plan(api, visit["id"]) == [("juminhyo", "done"), ("mynumber_card", "active")]
    assert finish(api, "c1").json()["ticket"]["status"] == "done"


def test_a_chosen_procedure_later_in_the_plan_is_moved_up_not_added_twice(api):
    visit = issue(api, "juminhyo", "inkan", "koseki")
    serve_next(api, "c1")
    assert finish(api, "c1", next_procedure="koseki").status_code == 200
    assert plan(api, visit["id"]) == [("juminhyo", "done"), ("koseki", "active"), ("inkan", "todo")]


def test_a_visit_sent_to_a_free_counter_is_called_there_now(api):
    visit = issue(api, "juminhyo", "inkan")
    serve_next(api, "c1")
    answer = finish(api, "c1", to_counter="c2")
    assert answer.status_code == 200, answer.text
    assert answer.json()["ticket"]["status"] == "called" and answer.json()["ticket"]["counter"] == "c2"
    with api.services.lock:
        assert api.services.office.counter("c1").ticket_id is None
    assert api.post("/api/v1/counters/c2/start", "counter").json()["ticket"]["id"] == visit["id"]


def test_a_visit_sent_to_a_busy_counter_waits_for_it_only_and_comes_first_there(api, tmp_path):
    sent = issue(api, "juminhyo", "inkan")
    serve_next(api, "c1")
    older = issue(api, "juminhyo")
    api.advance(1)
    serve_next(api, "c2")  # c2 is busy with `older`
    api.advance(1)
    newer = issue(api, "juminhyo")
    assert finish(api, "c1", to_counter="c2").json()["ticket"]["status"] == "waiting"
    # c3 does not take the visit sent to c2: it calls the next one in the queue
    assert api.post("/api/v1/counters/c3/call-next", "counter").json()["ticket"]["id"] == newer["id"]
    assert sent["id"] not in [t["id"] for t in api.get("/api/v1/counters/c3/queue", "counter").json()]
    assert sent["id"] in [t["id"] for t in api.get("/api/v1/counters/c2/queue", "counter").json()]
    # c2, once free, calls the visit sent to it before anyone else
    assert finish(api, "c2").json()["ticket"]["id"] == older["id"]
    assert api.post("/api/v1/counters/c2/call-next", "counter").json()["ticket"]["id"] == sent["id"]


def test_a_visit_sent_to_a_counter_still_waits_for_it_after_a_restart(tmp_path):
    first = make_api(tmp_path)
    with first.client:
        sent = issue(first, "juminhyo", "inkan")
        serve_next(first, "c1")
        issue(first, "juminhyo")
        serve_next(first, "c2")
        assert finish(first, "c1", to_counter="c2").json()["ticket"]["status"] == "waiting"
    first.services.close()
    again = make_api(tmp_path, start=first.clock.now())
    with again.client:
        with again.services.lock:
            assert again.services.office.ticket(sent["id"]).sent_to == "c2"
        assert again.post("/api/v1/counters/c3/call-next", "counter").json()["ticket"] is None
        finish(again, "c2")
        assert again.post("/api/v1/counters/c2/call-next", "counter").json()["ticket"]["id"] == sent["id"]
    again.services.close()


def test_closing_the_counter_a_visit_was_sent_to_gives_it_back_to_everyone(api):
    sent = issue(api, "juminhyo", "inkan")
    serve_next(api, "c1")
    issue(api, "juminhyo")
    serve_next(api, "c2")
    api.patch("/api/v1/counters/c3", "guide", json={"state": "paused"})
    assert finish(api, "c1", to_counter="c3").json()["ticket"]["status"] == "waiting"  # c3 is away: it waits
    assert api.post("/api/v1/counters/c1/call-next", "counter").json()["ticket"] is None
    assert api.patch("/api/v1/counters/c3", "guide", json={"state": "closed"}).status_code == 200
    assert api.post("/api/v1/counters/c1/call-next", "counter").json()["ticket"]["id"] == sent["id"]


def test_bad_send_on_requests_are_refused_and_the_visit_stays_where_it_was(api):
    visit = issue(api, "juminhyo")
    serve_next(api, "c1")
    refusals = [
        ({"next_procedure": "no_such_thing"}, 422, "unknown_procedure"),
        ({"to_counter": "c99"}, 404, "counter_not_found"),
        ({"next_procedure": "inkan", "to_counter": "c9"}, 409, "counter_lacks_skill"),  # the おくやみ counter
        ({"to_counter": "c2"}, 409, "nothing_to_send_on"),  # the last step: nothing left to send
        ({"next_procedure": "x" * 65}, 422, None),
    ]
    for body, status, code in refusals:
        answer = finish(api, "c1", **body)
        assert answer.status_code == status, (body, answer.text)
        if code:
            assert answer.json()["code"] == code, answer.text
            assert answer.json()["messages"]["ja"], "a refusal says in words what went wrong"
    assert plan(api, visit["id"]) == [("juminhyo", "active")]
    with api.services.lock:
        assert api.services.office.ticket(visit["id"]).status.value == "serving"
    api.patch("/api/v1/counters/c2", "guide", json={"state": "closed"})
    closed = finish(api, "c1", next_procedure="inkan", to_counter="c2")
    assert closed.status_code == 409 and closed.json()["code"] == "counter_not_open"
    assert plan(api, visit["id"]) == [("juminhyo", "active")]

"""Bad input is a 4xx, bounded and cheap (issue 8.6): nothing a client sends can make a 500 or big work."""

from __future__ import annotations

import asyncio
import json

from madoguchi.server.api.limits import MAX_BODY_BYTES

CARD = {"name": "テスト", "address": "熊本市中央区", "birth_date": "1980-04-01", "sex": "1"}


def raw(api, body: bytes, role: str = "kiosk", path: str = "/api/v1/tickets"):
    return api.post(path, role, content=body, headers={"Content-Type": "application/json"})


class Receiver:
    """An ASGI receive() that hands out a body in chunks and counts what the app pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.left, self.chunk, self.pulled = total, chunk, 0

    async def __call__(self) -> dict:
        size = min(self.chunk, self.left)
        self.left -= size
        self.pulled += size
        return {"type": "http.request", "body": b"x" * size, "more_body": self.left > 0}


def call_asgi(app, headers: list[tuple[bytes, bytes]], receive: Receiver) -> tuple[int, dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/v1/tickets", "raw_path": b"/api/v1/tickets", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


def test_a_300_mb_body_is_refused_before_authentication_without_being_read(api):
    declared = 300 * 1024 * 1024
    receive = Receiver(declared)
    status, problem = call_asgi(api.client.app, [(b"content-type", b"application/json"),
                                                 (b"content-length", str(declared).encode())], receive)
    assert status == 413 and problem["code"] == "body_too_large"  # not 401: no token was even looked at
    assert receive.pulled == 0
    assert problem["detail"] == "送られた内容が大きすぎます（64 kB まで）。"


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(api):
    receive = Receiver(300 * 1024 * 1024)
    status, problem = call_asgi(api.client.app, [(b"content-type", b"application/json")], receive)
    assert status == 413 and problem["code"] == "body_too_large"
    assert receive.pulled <= MAX_BODY_BYTES + 64 * 1024


def test_a_body_just_under_the_limit_is_still_read(api):
    body = json.dumps({"procedures": ["juminhyo"], "language": "ja", "padding": " " * 100}).encode()
    assert len(body) < MAX_BODY_BYTES
    assert raw(api, body).status_code == 422  # read and validated ("padding" is not a field), not 413
    assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201


def test_a_list_nested_900_deep_in_the_answers_is_a_422(api):
    nested = "[" * 900 + "]" * 900
    for answers in (f'{{"household": {nested}}}', f'{{"kokuho": {nested}}}'):
        response = raw(api, f'{{"life_event": "tennyu", "answers": {answers}}}'.encode())
        assert response.status_code == 422, response.text
    assert api.services.office.tickets == {}


SURROGATES = [
    b'{"life_event": "\\ud800"}',
    b'{"life_event": "tennyu", "answers": {"\\udfff": true}}',
    b'{"life_event": "tennyu", "answers": {"kokuho": "\\ud800"}}',
    b'{"procedures": ["juminhyo"], "card": {"name": "\\ud83d", "address": "a", "birth_date": "1980-01-01", '
    b'"sex": "1"}}',
    b'{"procedures": ["juminhyo"], "language": "\\ud800\\ud800"}',
]


def test_lone_surrogates_are_refused_with_422(api):
    for body in SURROGATES:
        response = raw(api, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "invalid_request"
    assert api.services.office.tickets == {}


def test_guidance_and_calls_refuse_lone_surrogates_too(api):
    assert raw(api, b'{"life_event": "\\ud800"}', path="/api/v1/guidance").status_code == 422
    assert raw(api, b'{"ticket_id": "\\ud800", "reason": "x"}', "counter",
               "/api/v1/counters/c1/call").status_code == 422


def test_a_huge_id_is_not_echoed_back(api):
    huge = "x" * 60_000  # under the body limit
    response = api.post("/api/v1/tickets", "kiosk", json={"life_event": huge})
    assert response.status_code == 422 and len(response.content) < 3_000
    assert "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in response.text


def test_an_unknown_id_is_quoted_cut_short(api):
    long_id = "z" * 64  # as long as an id may be: refused by the office, quoted at most 40 characters
    problem = api.post("/api/v1/tickets", "kiosk", json={"life_event": long_id}).json()
    assert problem["code"] == "unknown_life_event"
    assert "z" * 40 + "…" in problem["detail"] and "z" * 41 not in problem["detail"]


BAD_CARDS = [
    ({"birth_date": "0001-01-01"}, "birth_date"),
    ({"birth_date": "1899-12-31"}, "birth_date"),
    ({"birth_date": "2026-12-08"}, "birth_date"),  # the day after the test's today
    ({"birth_date": "9999-12-31"}, "birth_date"),
    ({"sex": "3"}, "sex"),
    ({"sex": 1}, "sex"),
    ({"name": ""}, "name"),
    ({"name": "あ" * 101}, "name"),
    ({"address": "あ" * 201}, "address"),
]


def test_card_fields_have_ranges(api):
    for card, field in BAD_CARDS:
        response = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": {**CARD, **card}})
        assert response.status_code == 422, (card, response.text)
        assert response.json()["errors"][0]["field"] == f"card.{field}", card
    assert api.services.office.tickets == {}


def test_birth_dates_inside_the_range_are_accepted(api):
    for birth_date in ("1900-01-01", "2026-12-07"):
        response = api.post("/api/v1/tickets", "kiosk",
                            json={"procedures": ["juminhyo"], "card": {**CARD, "birth_date": birth_date}})
        assert response.status_code == 201, response.text


def test_lists_have_sizes(api):
    too_many = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"] * 21})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "procedures"
    assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"] * 20}).status_code == 201
    priority = ["elderly", "infant", "pregnant", "wheelchair", "interpreter", "elderly"]
    assert api.post("/api/v1/tickets", "kiosk",
                    json={"procedures": ["juminhyo"], "priority": priority}).status_code == 422
    household = [{"age": 30, "relation": "self"}] * 21
    assert api.post("/api/v1/tickets", "kiosk",
                    json={"life_event": "tennyu", "answers": {"household": household}}).status_code == 422
    answers = {f"q{i}": True for i in range(41)}
    assert api.post("/api/v1/tickets", "kiosk",
                    json={"life_event": "tennyu", "answers": answers}).status_code == 422


def test_a_counter_keeps_at_least_one_skill(api):
    response = api.patch("/api/v1/counters/c1", "guide", json={"skills": []})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "skills"
    counter = next(c for c in api.get("/api/v1/counters", "guide").json() if c["id"] == "c1")
    assert counter["skills"]
    assert api.patch("/api/v1/counters/c1", "guide", json={"skills": ["juminhyo"]}).status_code == 200

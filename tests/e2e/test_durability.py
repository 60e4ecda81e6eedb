"""A server killed with SIGKILL while kiosks issue tickets loses nothing it answered, repeats no number."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import httpx

from tests.live import LiveServer, wait_until

CLIENTS = 24
BODIES = ({"procedures": ["juminhyo"]}, {"life_event": "tenshutsu", "answers": {}})


def issue_until_stopped(server: LiveServer, index: int, stop: threading.Event, answered: list[dict]) -> None:
    with httpx.Client(base_url=server.url, timeout=5,
                      headers={"Authorization": f"Bearer {server.tokens['kiosk']}"}) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                response = client.post("/api/v1/tickets", json=BODIES[n % 2],
                                       headers={"Idempotency-Key": f"client{index}-{n}"})
            except httpx.TransportError:
                continue  # the server is gone: a kiosk would retry with the same key later
            if 200 <= response.status_code < 300:
                answered.append(response.json())


def test_sigkill_under_concurrent_issuing_loses_no_answered_ticket(tmp_path):
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    server.start()
    stop = threading.Event()
    answered: list[dict] = []
    threads = [threading.Thread(target=issue_until_stopped, args=(server, i, stop, answered), name=f"kiosk-{i}")
               for i in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: len(answered) >= 150, 30, "150 answered tickets")
        server.kill()
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)

    server.start()  # restart on the same data directory
    with server.client("kiosk") as kiosk:
        responses = [kiosk.post("/api/v1/tickets", json=body) for body in BODIES * 20]
    server.stop()
    assert [r.status_code for r in responses] == [201] * len(responses), responses[-1].text
    after_restart = [r.json() for r in responses]

    # What the API answered is the truth to check, not what the database's unique index allows anyway.
    everything = answered + after_restart
    assert len({t["id"] for t in everything}) == len(everything), "one ticket id answered for two requests"
    answered_numbers = Counter((t["band"], t["number"]) for t in everything)
    twice = {number: n for number, n in answered_numbers.items() if n > 1}
    assert not twice, f"numbers handed out twice (band, number): {sorted(twice)[:10]}"
    db = sqlite3.connect(server.data_dir / "chuo.sqlite3")
    stored = {row[0]: row[1:] for row in db.execute("SELECT id, band, number, status FROM tickets")}
    db.close()
    for ticket in everything:
        assert ticket["id"] in stored, f"ticket {ticket['display_number']} was answered 2xx but is gone"
        assert stored[ticket["id"]] == (ticket["band"], ticket["number"], "waiting"), ticket["display_number"]

"""Manager dashboard bench for `make bench`: the KPI page for 30 service days of an ordinary 中央区, and what
requesting it does to the counters' call-next latency.

The days come from the simulator (``server/simulate``: the ``ordinary`` scenario, the project's arm, the real
core office and estimator with a simulated clock). The simulator never touches storage, so this bench takes
each day's changes from its office (``Office.take_changes``) and writes them through the storage layer
(``office_store.rows_of`` / ``write``, the writer's own path) into the live server's database before the
server starts, with each visit's estimate at issue (``remember_estimate``) and ratings from a share of the
finished visits (``OfficeStore.add_feedback``). Then a live `madoguchi serve`:

1. ``GET /staff/manager?from=…&to=…`` (manager session) for the whole range, timed by the client;
2. call-next p99 idle: CALLS calls on c1, one at a time;
3. the same CALLS calls while another thread requests the KPI page in a loop; the ratio to (2).

Run alone with `.venv/bin/python -m tests.bench.run bench_manager`.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from madoguchi.server.config.loading import load
from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core.estimator import Estimate
from madoguchi.server.core.ticket import Ticket, TicketStatus
from madoguchi.server.simulate.engine import Simulator
from madoguchi.server.simulate.population import Population
from madoguchi.server.simulate.runner import service_days
from madoguchi.server.simulate.scenario import load_scenario
from madoguchi.server.storage import office_store
from madoguchi.server.storage.database import connect, database_path
from tests.live import LiveServer

SITE = "chuo"
DAYS = 30
SEED = 1
CALLS = 800
ROUNDS = 8
PAUSE_S = 0.02  # between calls: a counter does not call back to back, and the page loop keeps running
PAGE_RUNS = 10
RATED_SHARE = 0.3
AIM_PAGE_S = 1.0
PAGE_LOOP = """
import os, sys, time, httpx
os.nice(10)
with httpx.Client(cookies={"madoguchi_session": sys.argv[2]}, timeout=60) as client:
    while True:
        began = time.perf_counter()
        assert client.get(sys.argv[1]).status_code == 200
        print(time.perf_counter() - began, flush=True)
"""
AIM_RATIO = 2.0


def simulate_into(data_dir: Path) -> tuple[dt.date, dt.date, int]:
    """DAYS ordinary days of the site written into its database; (first day, last day, visits written)."""
    loaded = load(default_config_dir(), SITE)
    scenario = load_scenario(default_config_dir(), "ordinary")
    simulator = Simulator(loaded.rules, loaded.catalog, scenario, "guided", measure_estimates=True)
    office = simulator.office
    pending: list[office_store.SideWrite] = []
    estimated: set[str] = set()
    original_estimate, original_take = office.estimate, office.take_changes

    def estimate(ticket: Ticket, now: dt.datetime) -> Estimate:
        found = original_estimate(ticket, now)
        if ticket.id not in estimated:  # the estimate given at issue, as the API keeps it
            estimated.add(ticket.id)
            pending.append(office_store.remember_estimate(SITE, ticket, found.minutes, found.low, found.high, now))
        return found

    conn = connect(database_path(data_dir, SITE))
    store = office_store.OfficeStore(conn, SITE)
    done: list[Ticket] = []

    def take_changes():  # every change of the day, written as the server's writer writes them
        changes = original_take()
        tx = office_store.Transaction(side_writes=list(pending))
        pending.clear()
        office_store.write(conn, [office_store.rows_of(SITE, changes, tx)])
        done.extend(t for t in changes.tickets if t.status is TicketStatus.DONE)
        return changes

    office.estimate, office.take_changes = estimate, take_changes  # type: ignore[method-assign]
    population = Population(scenario, loaded.rules, loaded.catalog)
    days = service_days(scenario.first_day, DAYS)
    rng = random.Random(SEED)
    for index, day in enumerate(days):
        simulator.run_day(population.day(SEED, index, day), day, SEED, index)
        for ticket in done:
            if rng.random() < RATED_SHARE and ticket.finished_at is not None:
                store.add_feedback(ticket, rng.choices([1, 2, 3, 4, 5], [1, 2, 6, 12, 9])[0], None, ticket.finished_at)
        done.clear()
    # the counters as the last simulated evening left them (closed, moved by the guide) are not today's: the
    # server starts them from the site's config, as on a new install
    with office_store.transaction(conn):
        conn.execute("DELETE FROM counters WHERE site = ?", (SITE,))
    visits = conn.execute("SELECT count(*) FROM tickets WHERE site = ?", (SITE,)).fetchone()[0]
    conn.close()
    return days[0], days[-1], visits


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def call_next_ms(server: LiveServer, calls: int) -> list[float]:
    with server.client("kiosk") as kiosk, server.client("counter") as counter:
        for _ in range(calls):
            assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).status_code == 201
        out = []
        for _ in range(calls):
            started = time.perf_counter()
            answer = counter.post("/api/v1/counters/c1/call-next")
            out.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200 and answer.json()["ticket"] is not None, answer.text
            assert counter.post("/api/v1/counters/c1/no-show").status_code == 200  # untimed: free the counter
            time.sleep(PAUSE_S)
    return out


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data", site=SITE)
        server.prepare_accounts()
        started = time.perf_counter()
        first, last, visits = simulate_into(server.data_dir)
        simulated_s = time.perf_counter() - started
        server.start("--no-mqtt")
        try:
            return _measure(server, first, last, visits, simulated_s)
        finally:
            server.stop()


def _measure(server: LiveServer, first: dt.date, last: dt.date, visits: int, simulated_s: float) -> str:
    url = f"{server.url}/staff/manager?from={first}&to={last}"
    page = httpx.Client(cookies={"madoguchi_session": server.tokens["manager"]}, timeout=60)
    page_s, report_ms = [], []
    for _ in range(PAGE_RUNS):
        began = time.perf_counter()
        answer = page.get(url)
        page_s.append(time.perf_counter() - began)
        assert answer.status_code == 200 and f"来庁 {visits} 件" in answer.text, answer.text[:500]
        report_ms.append(float(answer.headers["server-timing"].split("report;dur=")[1].split(",")[0]))

    downloads = {}
    for kind in ("csv", "xlsx"):
        began = time.perf_counter()
        answer = page.get(f"{server.url}/staff/manager/visits.{kind}?from={first}&to={last}")
        downloads[kind] = (time.perf_counter() - began, len(answer.content))
        assert answer.status_code == 200, answer.text[:300]

    # idle and busy blocks alternate, so that both see the same background load of the shared machine
    idle: list[float] = []
    busy: list[float] = []
    loaded_pages: list[float] = []
    for _ in range(ROUNDS):
        idle += call_next_ms(server, CALLS // ROUNDS)
        # the manager's browser is another PC: here a process of its own at nice 10, so that its parsing
        # takes neither this client's GIL nor the server's share of the CPU
        loop = subprocess.Popen([sys.executable, "-c", PAGE_LOOP, url, server.tokens["manager"]],
                                stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.3)  # the first page is being made
            busy += call_next_ms(server, CALLS // ROUNDS)
        finally:
            loop.terminate()
            out, _ = loop.communicate(timeout=60)
        loaded_pages += [float(line) for line in out.split()]
    page.close()
    load_avg = os.getloadavg()[0]
    idle_p99, busy_p99 = percentile(idle, 0.99), percentile(busy, 0.99)
    ratio = busy_p99 / idle_p99
    worst_page = max(page_s)
    return "\n".join([
        "## Manager dashboard: KPI page for 30 days of 中央区, and the counters meanwhile",
        "",
        f"`.venv/bin/python -m tests.bench.run bench_manager`. {DAYS} service days (weekdays {first} → {last}) of "
        f"the simulator's `ordinary` 中央区 (seed {SEED}, the project's arm: balancing policy and floor guide), "
        f"written through the storage layer into the live server's database: {visits} visits, with the estimate "
        f"at issue of each and a rating on {RATED_SHARE:.0%} of the finished ones (simulating and writing took "
        f"{simulated_s:.0f} s). Then `GET /staff/manager` for the whole range ({(last - first).days + 1} calendar "
        f"days) with a manager session, {PAGE_RUNS} times; call-next on c1, {CALLS} calls one at a time, idle "
        f"and while another process (nice 10, standing for the manager's PC) requests the KPI page in a loop "
        f"({len(loaded_pages)} pages served "
        f"meanwhile), in {ROUNDS} alternating blocks of {CALLS // ROUNDS} each, {PAUSE_S * 1000:.0f} ms apart. "
        f"Load average at the end: {load_avg:.1f} (the machine is shared).",
        "",
        "| measure | p50 | p99 / max | aim | |",
        "|---|---|---|---|---|",
        f"| KPI page, client wall time (s) | {percentile(page_s, 0.5):.2f} | {worst_page:.2f} (max) | "
        f"≤ {AIM_PAGE_S:.0f} s | {'✓' if worst_page <= AIM_PAGE_S else '✗'} |",
        f"| of which the report (its own process, Server-Timing, ms) | {percentile(report_ms, 0.5):.0f} | "
        f"{max(report_ms):.0f} (max) | – | |",
        f"| KPI page while call-next runs (s) | {percentile(loaded_pages, 0.5):.2f} | "
        f"{max(loaded_pages):.2f} (max) | – | |",
        *(f"| {kind.upper()} download of the range, the page's link (s; {size / 1e6:.1f} MB) | {secs:.2f} | – | – | |"
          for kind, (secs, size) in downloads.items()),
        f"| call-next idle (ms) | {percentile(idle, 0.5):.1f} | {idle_p99:.1f} (p95 {percentile(idle, 0.95):.1f}) "
        "| – | |",
        f"| call-next with the KPI page in a loop (ms) | {percentile(busy, 0.5):.1f} | {busy_p99:.1f} "
        f"(p95 {percentile(busy, 0.95):.1f}) | – | |",
        f"| ratio p99 busy / idle | | {ratio:.2f} | ≤ {AIM_RATIO:.0f} | {'✓' if ratio <= AIM_RATIO else '✗'} |",
        "",
        "Assumptions: the simulated days stand for real ones (arrivals, mix and handling times from the "
        "scenario, not from 中央区's log); ratings are drawn at random (the simulator has no residents' "
        "feedback); client, server, the report's process (nice 10) and the page loop share the same 2 cores "
        "with whatever else runs on the machine, so single p99s of a few hundred calls move between runs; idle "
        "and busy blocks alternate so that both see the same background. The report made in a server thread "
        "instead (before `server/web/report_process.py`, one run, not alternated) gave call-next p99 2.7 → "
        "72 ms (docs/design-changes.md).",
    ])

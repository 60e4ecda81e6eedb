"""Puts the kiosk on any screen without walking there (for screenshots of every screen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from madoguchi.kiosk.flow import State
from madoguchi.kiosk.flow import states as s
from madoguchi.kiosk.flow.household import AgeGroup
from madoguchi.kiosk.models import Catalog, Estimate, Guidance, PlanStep, PlanView, Ticket

# A fictional holder (not the suite's test identity, which the hygiene checks hunt for).
GALLERY_CARD = {"name": "熊本　太郎", "address": "熊本県熊本市中央区花畑町１番", "birth_date": "1950-01-01", "sex": "1"}


def sample_plan(catalog: Catalog, language: str) -> PlanView:
    ids = ["tennyu_todoke", "kokuho", "tennyugaku", "jidou_teate", "kodomo_iryo", "kouki"]
    steps = []
    for procedure_id in ids:
        procedure = catalog.procedure(procedure_id)
        assert procedure is not None
        steps.append(PlanStep(procedure=procedure_id, label=procedure.label.get(language, procedure.label["ja"]),
                              department=procedure.department, state="todo"))
    return PlanView(guidance=Guidance(plan=steps, band="onestop"), estimate=Estimate(minutes=25, low=15, high=35))


def sample_ticket(plan: PlanView) -> Ticket:
    return Ticket(id="gallery", number=312, display_number="312", band="onestop", position=4,
                  estimate=Estimate(minutes=25, low=15, high=35), plan=plan.guidance.plan,
                  status_url="http://127.0.0.1:8000/t/gallery-token-0001",
                  issued_at=dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))


def stage(controller: Any, state: State, language: str, **visit: Any) -> None:
    """Sets the flow on ``state`` with what that screen shows, then draws it."""
    flow = controller.flow
    catalog = controller.runner.catalog
    v = flow.visit
    v.language = language
    v.life_event = "tennyu"
    plan = sample_plan(catalog, language)
    v.plan, v.ticket = plan, sample_ticket(plan)
    v.household_count, v.groups, v.asked_household = 3, [AgeGroup.ADULT], True
    v.tries_left, v.pin, v.printed = 3, "12", True
    v.card = dict(GALLERY_CARD) if state is State.CARD_CONFIRM else None
    v.card_problem = s.CardProblem.NOT_MY_NUMBER
    v.refused_code, v.server_down = "outside_hours", state in (State.STARTING, State.PLAN_LOADING)
    if state is State.QUESTION:
        v.question_index = list(flow.questions).index("kokuho")
    for key, value in visit.items():
        setattr(v, key, value)
    flow.state = state
    flow._history[:] = [(State.ATTRACT, 0)] if state not in (State.ATTRACT, State.STARTING) else []
    controller.render()

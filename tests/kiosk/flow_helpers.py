"""A small catalog like the server's, and a helper that walks the flow to a given screen."""

from __future__ import annotations

import itertools

from madoguchi.kiosk.flow import Flow, FlowCatalog, LifeEventInfo, QuestionInfo, State
from madoguchi.kiosk.flow import states as s
from madoguchi.kiosk.flow.household import AgeGroup

CATALOG = FlowCatalog(
    languages=("ja", "en", "ja-easy", "vi", "zh", "ko", "ne"),
    life_events=(
        LifeEventInfo("tennyu", ("household", "kokuho", "nursery", "dog")),
        LifeEventInfo("tenkyo", ("household", "kokuho")),
        LifeEventInfo("tenshutsu", ("household",)),
        LifeEventInfo("okuyami", ("deceased_age", "deceased_kokuho")),
    ),
    questions={
        "household": QuestionInfo("household", "household"),
        "kokuho": QuestionInfo("kokuho", "bool"),
        "nursery": QuestionInfo("nursery", "bool"),
        "dog": QuestionInfo("dog", "bool"),
        "deceased_age": QuestionInfo("deceased_age", "choice", ("under_65", "from_65_to_74", "from_75")),
        "deceased_kokuho": QuestionInfo("deceased_kokuho", "bool"),
    },
    simple_procedures=("juminhyo", "inkan"),
)

CARD = {"name": "試験　花子", "address": "熊本市中央区", "birth_date": "1980-01-01", "sex": "2"}
STAFF_PIN = "9876"


def new_flow() -> Flow:
    keys = (f"key-{n}" for n in itertools.count(1))
    flow = Flow(new_key=lambda: next(keys), staff_pin_ok=lambda pin: pin == STAFF_PIN)
    assert flow.start() == [s.LoadCatalog()]
    flow.handle(s.CatalogLoaded(CATALOG))
    assert flow.state is State.ATTRACT
    return flow


def to_plan_tennyu(flow: Flow, groups: tuple[AgeGroup, ...] = (AgeGroup.ADULT, AgeGroup.SCHOOL)) -> None:
    flow.handle(s.Touch())
    flow.handle(s.ChooseLanguage("ja"))
    flow.handle(s.ChoosePurpose(purpose=s.Purpose.MOVING))
    flow.handle(s.ChooseLifeEvent("tennyu"))
    flow.handle(s.HouseholdCount(len(groups)))
    for group in groups:
        flow.handle(s.ChooseAgeGroup(group))
    while flow.state is State.QUESTION:
        flow.handle(s.AnswerQuestion(True))
    assert flow.state is State.PLAN_LOADING
    flow.handle(s.PlanReady({"plan": []}))
    assert flow.state is State.PLAN


def to_pin(flow: Flow, tries_left: int = 3) -> None:
    to_plan_tennyu(flow)
    flow.handle(s.ConfirmPlan())
    assert flow.handle(s.UseCard()) == [s.WaitForCard()]
    assert flow.handle(s.CardInserted()) == [s.CheckCard()]
    flow.handle(s.CardChecked(tries_left))


def enter_pin(flow: Flow, pin: str = "1234") -> list[s.Effect]:
    for digit in pin:
        flow.handle(s.PinDigit(digit))
    return flow.handle(s.PinSubmit())

"""Household answers without typing: how many people, then an age group for each.

An age group stands for a representative age on the side of the guidance rules' thresholds that
matters (school age 6-15, children up to 18, 20-59 for the pension, 65+ and 75+ for care and the
medical system for the elderly), so the server's rules give the same plan as the exact ages would.
"""

from __future__ import annotations

import enum

MAX_MEMBERS = 6


class AgeGroup(enum.Enum):
    INFANT = "age_0_5"
    SCHOOL = "age_6_15"
    TEEN = "age_16_18"
    ADULT = "age_19_64"
    SENIOR = "age_65_74"
    ELDER = "age_75_plus"


REPRESENTATIVE_AGE: dict[AgeGroup, int] = {
    AgeGroup.INFANT: 3,
    AgeGroup.SCHOOL: 10,
    AgeGroup.TEEN: 17,
    AgeGroup.ADULT: 40,
    AgeGroup.SENIOR: 70,
    AgeGroup.ELDER: 80,
}

CHILD_GROUPS = frozenset({AgeGroup.INFANT, AgeGroup.SCHOOL, AgeGroup.TEEN})


def household_answer(groups: list[AgeGroup]) -> list[dict[str, object]]:
    """The ``household`` answer of DESIGN §5: the first member is the resident ("self")."""
    members: list[dict[str, object]] = []
    for index, group in enumerate(groups):
        if index == 0:
            relation = "self"
        elif group in CHILD_GROUPS:
            relation = "child"
        else:
            relation = "other"
        members.append({"age": REPRESENTATIVE_AGE[group], "relation": relation})
    return members


# Questions that only make sense for some households; skipped (answered "no") otherwise, so a
# resident living alone at 80 is not asked about nursery schools.
RELEVANT_IF: dict[str, frozenset[AgeGroup]] = {
    "nursery": frozenset({AgeGroup.INFANT}),
    "child_disability": CHILD_GROUPS,
    "single_parent": CHILD_GROUPS,
    "nenkin_1go": frozenset({AgeGroup.ADULT}),
}


def is_relevant(question_id: str, groups: list[AgeGroup], asked_household: bool) -> bool:
    """Whether to ask ``question_id`` given the household's age groups (all questions without one)."""
    needed = RELEVANT_IF.get(question_id)
    if needed is None or not asked_household:
        return True
    return any(group in needed for group in groups)

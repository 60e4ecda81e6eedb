"""Words the display shows and says: the date with the Japanese era, announcement phrases."""

from __future__ import annotations

import datetime as dt

from madoguchi.common.i18n import message
from madoguchi.common.protocol import CallPayload

REIWA_START = dt.date(2019, 5, 1)


def era_year(day: dt.date) -> int:
    """The year of the Reiwa era (令和8年 = 2026); the board shows no date before it."""
    return day.year - REIWA_START.year + 1


def date_text(day: dt.date, language: str) -> str:
    """「令和8年（2026年）12月2日（水）」 and its equivalent in ``language``."""
    weekday = message("display", f"weekday_{day.weekday()}", language)
    return message("display", "date", language, era_year=era_year(day), year=day.year, month=day.month,
                   day=day.day, weekday=weekday)


def clock_text(moment: dt.datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def announcement(call: CallPayload, language: str) -> str:
    """What is spoken for a call: 「受付番号 312番の方、3番窓口へお越しください。」, a recall says it is one.

    The number is given as digits (``call.number``, not a padded display form), so the speech
    engine reads it as a number (さんびゃくじゅうに, "three hundred and twelve").
    """
    counter = call.counter_label.get(language) or call.counter_label.get("ja") or call.counter
    key = "announce_recall" if call.recall else "announce"
    return message("display", key, language, number=call.number, counter=counter)

"""Sample MQTT payloads for the display tests, in the shape the server publishes (docs/mqtt.md)."""

from __future__ import annotations

import datetime as dt

from madoguchi.common.protocol import CallPayload, StatePayload

JST = dt.timezone(dt.timedelta(hours=9))
AT = dt.datetime(2026, 12, 2, 10, 5, tzinfo=JST)

BAND_LABELS = {
    "simple": {"ja": "かんたん窓口", "en": "Simple procedures", "ja-easy": "かんたんな てつづき",
               "vi": "Thủ tục đơn giản", "zh": "简易手续", "ko": "간단한 절차", "ne": "सामान्य प्रक्रिया"},
    "onestop": {"ja": "ワンストップ窓口", "en": "One-stop counter", "ja-easy": "ワンストップ まどぐち",
                "vi": "Quầy một cửa", "zh": "一站式窗口", "ko": "원스톱 창구", "ne": "एकद्वार काउन्टर"},
    "okuyami": {"ja": "おくやみコーナー", "en": "Bereavement corner", "ja-easy": "おくやみ コーナー",
                "vi": "Góc thủ tục tang sự", "zh": "丧事手续窗口", "ko": "사망 절차 코너", "ne": "शोक सहायता कक्ष"},
}
COUNTER_TEMPLATES = {"ja": "{n}番窓口", "en": "Counter {n}", "ja-easy": "{n}ばん まどぐち", "vi": "Quầy số {n}",
                     "zh": "{n}号窗口", "ko": "{n}번 창구", "ne": "काउन्टर नं. {n}"}


def counter_label(n: int) -> dict[str, str]:
    return {lang: t.format(n=n) for lang, t in COUNTER_TEMPLATES.items()}


def call(seq: int, number: int, counter: int, recall: bool = False, band: str = "onestop") -> CallPayload:
    return CallPayload(seq=seq, site="chuo", number=number, display_number=str(number), counter=f"c{counter}",
                       counter_label=counter_label(counter), band=band, recall=recall,
                       at=AT + dt.timedelta(seconds=seq))


def state(seq: int, calls: list[CallPayload] | None = None, waits=None) -> StatePayload:
    waits = waits or {"simple": (4, 6, 2, 10), "onestop": (9, 20, 15, 25), "okuyami": (0, 0, 0, 0)}
    bands = [{"id": b, "label": BAND_LABELS[b], "waiting": w, "estimate": {"minutes": m, "low": lo, "high": hi},
              "target_wait_min": 20.0, "last_called": None} for b, (w, m, lo, hi) in waits.items()]
    counters = [{"id": f"c{n}", "label": counter_label(n), "state": "open", "serving": None, "skills": ["simple"]}
                for n in range(1, 10)]
    return StatePayload.model_validate({"seq": seq, "site": "chuo", "at": AT.isoformat(), "bands": bands,
                                        "counters": counters,
                                        "recent_calls": [c.model_dump(mode="json") for c in calls or []]})


def busy_calls() -> list[CallPayload]:
    """A morning's last calls: several counters, one recall."""
    return [call(10, 12, 1, band="simple"), call(11, 305, 4), call(12, 13, 2, band="simple"),
            call(13, 701, 9, band="okuyami"), call(14, 306, 5), call(15, 14, 3, recall=True, band="simple"),
            call(16, 307, 6)]

"""Errors and texts a person can act on (issue 13.5): Japanese first, fields and counters by their names."""

from __future__ import annotations

import re

from madoguchi.common.i18n import message
from tests.api.test_counter_sessions import sign_in
from tests.api.test_public import token_of

LANGUAGES = ("ja", "ja-easy", "en", "vi", "zh", "ko", "ne")
PYDANTIC_ENGLISH = re.compile(r"Field required|Input should|Extra inputs|at least|at most|valid|List should")


def ticket(api, body, language: str = "ja"):
    return api.post("/api/v1/tickets", "kiosk", json=body, headers={"Accept-Language": language})


def test_a_missing_card_field_is_named_in_japanese_without_english(api):
    problem = ticket(api, {"procedures": ["juminhyo"], "card": {"name": "テスト"}}).json()
    assert problem["code"] == "invalid_request"
    assert problem["detail"] == ("入力内容に誤りがあります: カードの住所を入力してください。"
                                 "カードの生年月日を入力してください。カードの性別を入力してください。")
    assert problem["title"] == ("Some input is not valid: Please give the address on the card. "
                                "Please give the birth date on the card. Please give the sex on the card.")
    assert [e["field"] for e in problem["errors"]] == ["card.address", "card.birth_date", "card.sex"]


def test_no_japanese_detail_carries_pydantic_english(api):
    bodies = [
        {"procedures": ["juminhyo"], "priority": ["vip"]},
        {"procedures": ["juminhyo"], "surprise": 1},
        {"procedures": "juminhyo"},
        {"procedures": [1]},
        {"procedures": ["juminhyo"], "card": {"name": "x" * 101, "address": "a", "birth_date": "1980-02-30",
                                              "sex": "x"}},
        {"life_event": "tennyu", "answers": {"household": [{"age": "forty", "relation": "boss"}]}},
        {"life_event": "tennyu", "answers": {"household": {"age": 3}}},
        {"life_event": "tennyu", "answers": {"kokuho": [True]}},
        {"life_event": 7},
        [],
    ]
    for body in bodies:
        response = ticket(api, body)
        assert response.status_code == 422, body
        problem = response.json()
        assert not PYDANTIC_ENGLISH.search(problem["detail"]), (body, problem["detail"])
        assert problem["detail"] == problem["messages"]["ja"] and problem["messages"]["en"] != problem["detail"]
    household = ticket(api, {"life_event": "tennyu", "answers": {"household": [
        {"age": 40, "relation": "self"}, {"age": 200, "relation": "child"}]}}).json()
    assert household["detail"] == "入力内容に誤りがあります: 世帯の2人目の方の年齢は130以下にしてください。"
    choice = ticket(api, {"procedures": ["juminhyo"], "priority": ["vip"]}).json()
    assert choice["detail"] == ("入力内容に誤りがあります: 優先案内（1番目）は次から選んでください: "
                                "wheelchair、pregnant、elderly、interpreter、infant")


def test_card_dates_out_of_range_say_which_dates_are_allowed(api):
    card = {"name": "テスト", "address": "熊本市中央区", "sex": "1"}
    early = ticket(api, {"procedures": ["juminhyo"], "card": {**card, "birth_date": "0001-01-01"}}).json()
    assert early["detail"] == "入力内容に誤りがあります: カードの生年月日は1900-01-01以降の日付にしてください。"
    late = ticket(api, {"procedures": ["juminhyo"], "card": {**card, "birth_date": "2027-01-01"}}, "en").json()
    assert late["detail"] == "Some input is not valid: Please give the birth date on the card on or before 2026-12-07."
    assert late["messages"]["ja"].endswith("カードの生年月日は2026-12-07以前の日付にしてください。")


def test_bad_json_says_so_in_both_languages(api):
    response = api.post("/api/v1/tickets", "kiosk", content=b'{"procedures": ["juminhyo"',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_json"
    assert problem["detail"] == "送られた内容を JSON として読み取れません。形式をお確かめください。"
    assert problem["messages"]["en"] == "The request body is not valid JSON. Please check its format."


def test_an_unknown_life_event_lists_the_ones_offered_with_their_names(api):
    problem = ticket(api, {"life_event": "moon_landing"}).json()
    assert problem["code"] == "unknown_life_event"
    assert problem["detail"].startswith("ライフイベント「moon_landing」はありません。選べるのは次のとおりです: ")
    assert "tennyu（転入（熊本市外から引越し））" in problem["detail"]
    assert "okuyami（おくやみ" in problem["detail"]
    assert "shussei" not in problem["detail"]  # 出生 is offered only from 2027
    assert "tennyu (Moving in" in problem["messages"]["en"]


def test_an_unknown_procedure_lists_the_ones_offered(api):
    problem = ticket(api, {"procedures": ["juminhyo", "passport"]}).json()
    assert problem["code"] == "unknown_procedure"
    assert "手続き「passport」はありません" in problem["detail"]
    assert "juminhyo（住民票の写し）" in problem["detail"] and "inkan（印鑑登録）" in problem["detail"]


def test_an_answer_to_a_question_the_life_event_does_not_ask_lists_the_ones_it_asks(api):
    problem = ticket(api, {"life_event": "tenshutsu", "answers": {"nursery": True}}).json()
    assert problem["code"] == "unknown_answer"
    assert problem["detail"].startswith("質問「保育園の入園を希望しますか」はこのライフイベントにはありません。"
                                        "答えられる質問: household（")
    assert "dog（犬を飼っていますか）" in problem["detail"]


def test_a_choice_outside_the_options_lists_them_with_their_names(api):
    age = ticket(api, {"life_event": "okuyami", "answers": {"deceased_age": "ninety"}}).json()
    assert age["detail"] == ("質問「亡くなった方の年齢」の答えは次から選んでください: "
                             "under_65（65歳未満）、from_65_to_74（65〜74歳）、from_75（75歳以上）")
    language = ticket(api, {"procedures": ["juminhyo"], "language": "xx"}).json()
    assert language["detail"].startswith("質問「言語」の答えは次から選んでください: ja（日本語）、en（English）")


def test_counters_are_named_as_residents_and_staff_know_them(api):
    nothing = api.post("/api/v1/counters/c1/finish", "counter").json()
    assert nothing["detail"] == "1番窓口で呼び出し中の整理券がありません。"
    assert nothing["messages"]["en"] == "Counter 1 has no ticket called."
    api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]})
    assert api.post("/api/v1/counters/c1/call-next", "counter").status_code == 200
    busy = api.post("/api/v1/counters/c1/call-next", "counter").json()
    assert busy["code"] == "counter_busy"
    assert busy["detail"].startswith("1番窓口は 1 番を対応中です（呼び出し中）。")
    assert api.patch("/api/v1/counters/c2", "guide", json={"state": "closed"}).status_code == 200
    closed = api.post("/api/v1/counters/c2/call-next", "counter").json()
    assert closed["detail"] == "2番窓口は開いていません（閉じています）。先に窓口を開けてください。"
    elsewhere = api.client.post("/api/v1/counters/c5/call-next", headers=sign_in(api, "c4")).json()
    assert elsewhere["detail"].startswith("このセッションは 4番窓口 でサインインしています。5番窓口の操作は")
    for problem in (nothing, busy, closed, elsewhere):
        assert not re.search(r"\bc\d+\b", str(problem["messages"])), problem


def test_the_household_answers_have_a_typed_bounded_schema_with_an_example(api):
    schema = api.client.app.openapi()["components"]["schemas"]  # what /api/v1/openapi.json publishes
    ticket_in = schema["TicketIn"]["properties"]
    assert ticket_in["answers"]["$ref"].endswith("/Answers")
    answers = schema["Answers"]
    household = answers["properties"]["household"]
    assert household["maxItems"] == 20 and household["items"]["$ref"].endswith("/Member")
    member = schema["Member"]["properties"]
    assert member["age"]["minimum"] == 0 and member["age"]["maximum"] == 130
    relation = schema[member["relation"]["$ref"].rsplit("/", 1)[1]]
    assert relation["enum"] == ["self", "spouse", "child", "parent", "other"]
    assert {"type": "boolean"} in answers["additionalProperties"]["anyOf"]
    example = answers["examples"][0]
    assert example["household"][1] == {"age": 8, "relation": "child"}
    assert ticket(api, {"life_event": "tennyu", "answers": example}).status_code == 201  # the example is valid
    assert ticket_in["procedures"]["anyOf"][0]["maxItems"] == 20
    assert schema["CardIn"]["properties"]["name"]["maxLength"] == 100


def test_the_satisfaction_scale_is_labelled_in_every_language(api):
    made = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    for action in ("call-next", "start", "finish"):
        assert api.post(f"/api/v1/counters/c1/{action}", "counter").status_code == 200
    for language in LANGUAGES:
        page = api.client.get(f"/t/{token_of(made)}?lang={language}").text
        labels = [message("status", f"rating_{n}", language) for n in range(1, 6)]
        assert len(set(labels)) == 5, (language, labels)
        for n, label in enumerate(labels, start=1):
            assert f'value="{n}" required> <span class="scale">{n} {label}</span>' in page, (language, n)
    assert message("status", "rating_1", "ja") == "とても不満" and message("status", "rating_5", "ja") == "とても満足"


def test_the_status_page_breaks_japanese_between_phrases(api):
    made = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    page = api.client.get(f"/t/{token_of(made)}").text
    assert "word-break: keep-all" in page and "line-break: strict" in page
    assert "自動で<wbr>更新されます" in page  # a phrase break, not between any two characters
    assert "くださ<wbr>い" not in page and "<wbr>い。" not in page
    english = api.client.get(f"/t/{token_of(made)}?lang=en").text
    assert "<wbr>" not in english  # words already break at spaces

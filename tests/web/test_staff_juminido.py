"""書かない窓口 in Debian's Chromium against a live server: a 転入 visit with card data gets the 住民異動届
pre-filled from the card on the console of the counter serving it; staff complete, confirm and print it
(the PDF holds the name and address); the hand-off file downloads once; refusals in plain words; once the
visit ends, the card data and the form are in no page, file or log."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from playwright.sync_api import expect

from tests.api.test_erasure import every_file, recoverable
from tests.live import wait_until
from tests.personal_data import SECRETS, TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME, leaked_in
from tests.web.test_staff_console import CARD, sign_in
from tests.web.test_status_page import SCREENSHOTS, serious_violations, shoot

NEW_ADDRESS = "熊本県熊本市中央区桜町９番９号"
FURIGANA = "ひご　はるこ"
PHONE = "096-000-4827"
TYPED = (NEW_ADDRESS, FURIGANA, PHONE)
"""What staff type in: personal data too, erased with the card data."""
TABLET = {"width": 820, "height": 1180}


def everything_typed_in(text: str) -> list[str]:
    return leaked_in(text) + [t for t in TYPED if t in text]


def serve(page, number: str) -> None:
    page.click("#btn-call-next")
    expect(page.locator("#number")).to_have_text(number)
    page.click("#btn-start")
    expect(page.locator("#status")).to_contain_text("対応中")


def test_a_tennyu_visit_is_prefilled_printed_handed_off_once_and_then_gone_everywhere(live_server, browser,
                                                                                       tmp_path):
    base = live_server.url
    ticket = live_server.client("kiosk").post("/api/v1/tickets", json={"life_event": "tennyu", "card": CARD}).json()
    console = sign_in(browser, base, "c4")
    serve(console, ticket["display_number"])
    panel = console.locator("#form-section")
    expect(panel).to_be_visible()  # a 転入 with card data: the console offers the form
    assert not leaked_in(console.request.get(f"{base}/staff/counter").text())

    form = console.context.new_page()  # the form in a tab of its own; the console stays open beside it
    form.goto(f"{base}{console.locator('#btn-juminido').get_attribute('href')}")
    expect(form.locator("#jd-name")).to_have_value(TEST_HOLDER_NAME)  # filled by the script from the card
    expect(form.locator("#jd-old_address")).to_have_value(TEST_HOLDER_ADDRESS)
    expect(form.locator("#jd-birth_date")).to_have_value("1958-04-12")
    expect(form.locator("#jd-sex")).to_have_value("2")
    expect(form.locator("#jd-kind")).to_have_value("tennyu")
    today = form.request.get(f"{base}/staff/counter/form/state").json()["visit"]["today"]
    expect(form.locator("#jd-notified_on")).to_have_value(today)
    expect(form.locator("#jd-number")).to_contain_text(ticket["display_number"])
    source = form.request.get(f"{base}/staff/counter/form").text()
    assert not leaked_in(source), "the server renders no card data into the page"
    assert "<script>" not in source and "onclick" not in source  # CSP: no inline script

    form.click("#jd-confirm")  # not complete yet: refused on the page, naming the field
    expect(form.locator("#jd-message")).to_have_text("「異動日」を入力してください。")
    expect(form.locator("tr[data-field=moved_on]")).to_have_class(re.compile("invalid"))
    form.fill("#jd-moved_on", today)
    form.fill("#jd-new_address", NEW_ADDRESS)
    form.fill("#jd-previous_municipality", "福岡県福岡市")
    form.click("#jd-self-head")
    expect(form.locator("#jd-household_head")).to_have_value(TEST_HOLDER_NAME)
    expect(form.locator("#jd-relation")).to_have_value("世帯主")
    form.fill("#jd-furigana", FURIGANA)
    form.fill("#jd-phone", PHONE)
    expect(form.locator("#jd-download")).to_be_disabled()
    assert not serious_violations(form)
    shoot(form, "staff-juminido-1366")
    form.set_viewport_size(TABLET)
    shoot(form, "staff-juminido-tablet")

    form.click("#jd-confirm")
    expect(form.locator("#jd-status")).to_have_text(re.compile("確定しました"))
    expect(form.locator("#jd-message")).to_be_empty()
    expect(form.locator("#jd-download")).to_be_enabled()
    form.reload()  # left and opened again: the form comes back as confirmed, not afresh from the card
    expect(form.locator("#jd-new_address")).to_have_value(NEW_ADDRESS)
    expect(form.locator("#jd-furigana")).to_have_value(FURIGANA)
    expect(form.locator("#jd-status")).to_have_text(re.compile("確定しました"))

    form.emulate_media(media="print")  # the print view: the bordered A4 sheet only
    form.set_viewport_size({"width": 794, "height": 1123})
    expect(form.locator("#jd-sheet")).to_be_visible()
    expect(form.locator("#jd-form")).to_be_hidden()
    shoot(form, "staff-juminido-print")
    assert not serious_violations(form)  # the sheet as printed: its table read in order, contrast on paper
    pdf = tmp_path / "juminido.pdf"
    form.pdf(path=str(pdf), format="A4", print_background=True)
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                             check=True).stdout
    for words in ("住民異動届", "氏名", "世帯主", "続柄", "転入", *TEST_HOLDER_NAME.split("\u3000"),
                  TEST_HOLDER_ADDRESS, NEW_ADDRESS, "届出人署名"):
        assert words in printed, f"{words!r} not in the printed form"
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\b", pages) and "595.92 x 842.88" in pages  # one A4 page
    form.emulate_media(media="screen")
    form.set_viewport_size({"width": 1366, "height": 768})

    with form.expect_download() as downloading, \
            form.expect_response(re.compile(r"/juminido/handoff$")) as answered:
        form.click("#jd-download")
    assert answered.value.status == 200 and answered.value.headers["cache-control"] == "no-store"
    handoff = json.loads(Path(downloading.value.path()).read_text(encoding="utf-8"))
    assert downloading.value.suggested_filename == f"juminido-{ticket['display_number']}-{today}.json"
    assert handoff["format"] == "madoguchi-juminido-1" and handoff["counter"] == "c4"
    fields = {f["key"]: f for f in handoff["fields"]}
    assert fields["name"] == {"key": "name", "label": "氏名", "value": TEST_HOLDER_NAME}
    assert fields["new_address"]["value"] == NEW_ADDRESS and fields["old_address"]["value"] == TEST_HOLDER_ADDRESS
    assert fields["kind"]["text"] == "転入" and fields["sex"]["text"] == "女"
    assert fields["relation"]["label"] == "続柄" and fields["household_head"]["label"] == "世帯主"
    expect(form.locator("#jd-status")).to_have_text("引き継ぎファイルはダウンロード済みです。")
    expect(form.locator("#jd-download")).to_be_disabled()
    again = form.request.get(f"{base}/staff/counters/c4/juminido/handoff", headers={"Accept": "application/json"})
    assert again.status == 410
    assert again.json()["detail"] == "引き継ぎファイルはすでにダウンロードされました。ダウンロードは1回だけです。"
    assert not everything_typed_in(again.text())
    with closing(sqlite3.connect(f"file:{live_server.data_dir / 'chuo.sqlite3'}?mode=ro", uri=True)) as db:
        audit = db.execute("SELECT username, counter_id, kind FROM card_reads WHERE ticket_id = ? ORDER BY id",
                           (ticket["id"],)).fetchall()
    assert audit == [("counter-e2e", "c4", kind) for kind in ("card", "card", "form", "handoff")], audit
    # read by the console and by the form page, the confirmed form shown back, then the one download

    console.bring_to_front()
    console.click("#btn-finish")  # the visit's only step: it ends
    expect(console.locator("#number")).to_have_text("—")
    expect(form.locator("#jd-status")).to_have_text("来庁が終わったため、届書の内容を画面から消しました。")
    expect(form.locator("#jd-form")).to_be_hidden()
    for page in (console, form):
        assert not everything_typed_in(page.content()), "nothing of the visit left in the page's DOM"
        assert not everything_typed_in(page.evaluate(
            "Array.from(document.querySelectorAll('input, select')).map(e => e.value).join('|')"))
    gone = form.request.get(f"{base}/staff/counters/c4/juminido/handoff", headers={"Accept": "application/json"})
    assert gone.status == 404

    keys = [p.read_bytes().strip() for p in Path(os.environ["MADOGUCHI_KEY_DIR"]).glob("chuo.card.*.key")]
    probes = [s.encode() for s in (*SECRETS, *TYPED)]

    def nothing_on_disk() -> bool:
        files = every_file(live_server.data_dir)
        plain = [p.name for p, raw in files.items() for s in probes if s in raw]
        return not plain and not recoverable(files, keys) and not [p for p, b in files.items() if b"mdg1:" in b]

    wait_until(nothing_on_disk, 15, "card data and the form erased from the database and its WAL")
    live_server.stop()
    assert nothing_on_disk(), "and after the server stopped"
    assert not everything_typed_in(live_server.log()), "nothing of it in the server log"
    assert "downloaded by counter-e2e at counter c4" in live_server.log()  # the download is logged, without content
    assert (SCREENSHOTS / "staff-juminido-print.png").stat().st_size > 10_000


def test_refusals_other_counters_csrf_and_bad_fields_in_plain_words(live_server, browser):
    base = live_server.url
    kiosk = live_server.client("kiosk")
    tenkyo = kiosk.post("/api/v1/tickets", json={"procedures": ["tenkyo_todoke"], "card": CARD}).json()
    c4 = sign_in(browser, base, "c4")
    c5 = sign_in(browser, base, "c5")
    serve(c4, tenkyo["display_number"])
    expect(c4.locator("#form-section")).to_be_visible()
    expect(c4.locator("#card")).to_contain_text(TEST_HOLDER_NAME)
    assert not serious_violations(c4)
    shoot(c4, "staff-console-juminido-1366")
    url = f"{base}/staff/counters/c4/juminido"
    token = c4.locator("#console").get_attribute("data-csrf")
    json_headers = {"Accept": "application/json", "Content-Type": "application/json"}
    good = {"ticket_id": tenkyo["id"], "kind": "tenkyo", "notified_on": "2026-12-02", "moved_on": "2026-11-30",
            "new_address": NEW_ADDRESS, "old_address": TEST_HOLDER_ADDRESS, "household_head": TEST_HOLDER_NAME,
            "name": TEST_HOLDER_NAME, "birth_date": "1958-04-12", "sex": "2", "relation": "世帯主",
            "notifier": "self"}

    def post(page, body, csrf=token, where=url):
        headers = {**json_headers, **({"X-CSRF-Token": csrf} if csrf else {})}
        return page.request.post(f"{where}/form", data=json.dumps(body), headers=headers)

    no_token = post(c4, good, csrf=None)
    assert no_token.status == 403 and no_token.json()["code"] == "csrf_refused"
    foreign = c4.request.post(f"{url}/form", data=json.dumps(good), headers={
        **json_headers, "X-CSRF-Token": token, "Origin": "http://evil.example"})
    assert foreign.status == 403
    other_token = c5.locator("#console").get_attribute("data-csrf")
    elsewhere = post(c5, good, csrf=other_token)  # a counter at c5 posting c4's form
    assert elsewhere.status == 403 and elsewhere.json()["code"] == "counter_not_yours"
    assert c5.request.get(f"{url}/handoff", headers={"Accept": "application/json"}).status == 403
    assert c5.request.get(f"{url}/form", headers={"Accept": "application/json"}).status == 403
    not_served_there = post(c5, good, csrf=other_token, where=f"{base}/staff/counters/c5/juminido")
    assert not_served_there.status == 409
    assert not_served_there.json()["detail"] == "この窓口で対応中の、カード情報のある住民異動の来庁ではありません。"
    c5.goto(f"{base}/staff/counter/form")
    expect(c5.locator("#jd-status")).to_have_text("この窓口で対応中の、カード情報のある住民異動の来庁はありません。")
    expect(c5.locator("#jd-form")).to_be_hidden()
    assert not leaked_in(c5.content()), "the card data shows on the serving counter's pages only"

    cases = [
        ({**good, "new_address": "あ" * 201}, "new_address", "「新しい住所」は 200 文字までです。"),
        ({**good, "moved_on": "2026-13-45"}, "moved_on", "「異動日」の値が正しくありません。"),
        ({k: v for k, v in good.items() if k != "relation"}, "relation", "「続柄」を入力してください。"),
        ({**good, "sex": "female"}, "sex", "「性別」の値が正しくありません。"),
        ({**good, "notifier": "proxy"}, "notifier_name", "「代理人の氏名」を入力してください。"),
        ({**good, "phone": "<script>"}, "phone", "「電話番号」の値が正しくありません。"),
        ({**good, "name": "肥後\n春子"}, "name", "「氏名」の値が正しくありません。"),
        ({**good, "my_number": "123456789012"}, "my_number", None),
    ]
    for body, field, words in cases:
        refused = post(c4, body)
        assert refused.status == 422, (field, refused.text())
        answer = refused.json()
        assert answer["code"] == "form_field_invalid" and answer["field"] == field, answer
        if words:
            assert answer["detail"] == words
        assert not everything_typed_in(refused.text()), "a refusal never echoes what was sent"
    huge = post(c4, {**good, "honseki": "x" * 9000})
    assert huge.status == 422 and huge.json()["detail"] == "届書のデータが大きすぎます。"
    assert c4.request.get(f"{url}/handoff", headers={"Accept": "application/json"}).json()["detail"] \
        == "まだ確定されていません。先に内容を確定してください。"

    accepted = post(c4, good)
    assert accepted.status == 200 and accepted.json()["state"] == "confirmed"
    download = c4.request.get(f"{url}/handoff")
    assert download.status == 200 and download.headers["cache-control"] == "no-store"
    assert download.headers["content-type"].startswith("application/json")
    assert {f["key"]: f["value"] for f in download.json()["fields"]}["kind"] == "tenkyo"
    after = post(c4, good)  # once handed off, the form is not taken again
    assert after.status == 409 and after.json()["detail"] == "引き継ぎファイルはダウンロード済みです。"

    c4.click("#btn-hold")  # held: no longer served here, and the form is gone with the card
    expect(c4.locator("#form-section")).to_be_hidden()
    assert c4.request.get(f"{base}/staff/counter/form/state").json() == {"visit": None}

    plain = kiosk.post("/api/v1/tickets", json={"procedures": ["tenkyo_todoke"]}).json()  # no card read
    c5.goto(f"{base}/staff/counter")
    serve(c5, plain["display_number"])
    expect(c5.locator("#form-section")).to_be_hidden()
    c5.goto(f"{base}/staff/counter/form?lang=en")
    expect(c5.locator("#jd-status")).to_have_text(
        "This counter is not serving a move (転入・転居・転出) with card data.")
    assert not serious_violations(c5)
    assert not everything_typed_in(live_server.log())

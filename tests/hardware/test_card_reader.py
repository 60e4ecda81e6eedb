"""The My Number card driver through real pcscd + vpcd + the virtual card (DESIGN.md §7, issue 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from madoguchi.hardware import card_errors as errors
from madoguchi.hardware import mynumber as mn
from madoguchi.hardware.cardreader import CardType, list_readers, wait_for_reader_change
from madoguchi.hardware.virtual_card import VirtualMyNumberCard
from madoguchi.hardware.virtual_reader import PcscdBusyError, PcscdWithVirtualReader
from tests.hardware.conftest import assert_card_log_is_clean, make_card
from tests.personal_data import (
    TEST_HOLDER_ADDRESS,
    TEST_HOLDER_BIRTH_DATE,
    TEST_HOLDER_NAME,
    TEST_HOLDER_SEX,
    TEST_PIN,
)

WRONG_PIN = "1111"


def verify_commands_with_pin(card: VirtualMyNumberCard) -> list[bytes]:
    return [c for c in card.commands() if c[:4] == mn.VERIFY_TRIES_LEFT and len(c) > 4]


def test_the_right_pin_returns_the_four_items_exactly_as_on_the_card(reader, card):
    info = reader.read_basic_four(TEST_PIN)

    assert (info.name, info.address, info.birth_date, info.sex) == (
        TEST_HOLDER_NAME, TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_SEX)
    assert TEST_HOLDER_NAME not in repr(info) and TEST_HOLDER_ADDRESS not in str(info)


def test_card_type_is_told_by_the_jpki_token_without_a_pin(reader, card):
    assert reader.card_type() is CardType.MY_NUMBER
    assert reader.pin_tries_left() == 3
    assert verify_commands_with_pin(card) == []


def test_a_card_without_the_my_number_applications_is_refused(pcscd, reader):
    other = make_card(pcscd, my_number_card=False)
    other.insert()
    try:
        reader.wait_for_card(timeout_s=5)
        with pytest.raises(errors.NotMyNumberCardError):
            reader.card_type()
        with pytest.raises(errors.NotMyNumberCardError):
            reader.read_basic_four(TEST_PIN)
        assert verify_commands_with_pin(other) == []
    finally:
        other.remove()
        reader.wait_for_removal(timeout_s=5)
    assert_card_log_is_clean(other)


def test_a_wrong_pin_reports_the_tries_left_and_is_not_retried(reader, card):
    with pytest.raises(errors.WrongPinError) as caught:
        reader.read_basic_four(WRONG_PIN)

    assert caught.value.tries_left == 2
    assert "あと2回" in caught.value.message_ja
    assert len(verify_commands_with_pin(card)) == 1  # one attempt, no automatic retry
    assert card.tries_left == 2
    assert reader.pin_tries_left() == 2


def test_with_one_try_left_no_pin_is_sent_until_the_caller_confirms(reader, card):
    card.tries_left = 1

    with pytest.raises(errors.LastTryNotConfirmedError):
        reader.read_basic_four(TEST_PIN)
    assert verify_commands_with_pin(card) == []

    info = reader.read_basic_four(TEST_PIN, confirm_last_try=True)
    assert info.sex == TEST_HOLDER_SEX
    assert card.tries_left == 3  # a right PIN resets the counter


def test_the_third_wrong_pin_blocks_the_card_and_the_driver_refuses_further_attempts(reader, card):
    for expected_left in (2, 1):
        with pytest.raises(errors.WrongPinError) as caught:
            reader.read_basic_four(WRONG_PIN, confirm_last_try=True)
        assert caught.value.tries_left == expected_left

    with pytest.raises(errors.CardBlockedError):
        reader.read_basic_four(WRONG_PIN, confirm_last_try=True)
    assert card.blocked
    sent = len(verify_commands_with_pin(card))

    with pytest.raises(errors.CardBlockedError):
        reader.read_basic_four(TEST_PIN, confirm_last_try=True)
    assert len(verify_commands_with_pin(card)) == sent  # refused before any PIN went out
    assert reader.pin_tries_left() == 0


def test_a_card_blocked_before_it_arrived_is_refused_without_sending_the_pin(reader, card):
    card.block()
    with pytest.raises(errors.CardBlockedError):
        reader.read_basic_four(TEST_PIN, confirm_last_try=True)
    assert verify_commands_with_pin(card) == []


def test_removing_the_card_mid_read_gives_its_own_error(reader, card):
    card.removed_mid_read = True
    with pytest.raises(errors.CardRemovedError):
        reader.read_basic_four(TEST_PIN)


def test_a_card_that_stops_answering_trips_the_watchdog(reader, card):
    reader.transmit_timeout_s = 0.3
    card.response_delay_s = 3.0  # ten times the watchdog: only the watchdog can end the wait before it
    started = time.monotonic()
    with pytest.raises(errors.CardTimeoutError):
        reader.pin_tries_left()
    assert time.monotonic() - started < card.response_delay_s, "the card's late answer ended the wait"
    card.response_delay_s = 0.0
    reader.transmit_timeout_s = 5.0  # longer than the rest of the late answer
    assert reader.pin_tries_left() == 3  # usable again once the late answer came back


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４"])
def test_a_pin_that_is_not_four_ascii_digits_is_rejected_before_the_card(reader, card, pin):
    with pytest.raises(errors.InvalidPinFormatError) as caught:
        reader.read_basic_four(pin)
    assert pin not in str(caught.value)
    assert verify_commands_with_pin(card) == []


def test_waiting_for_a_card_sees_it_arrive_and_can_be_cancelled(pcscd, reader):
    with pytest.raises(errors.NoCardError):
        reader.wait_for_card(timeout_s=0.3)

    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(errors.CardWaitCancelledError):  # the 60 s timeout would raise NoCardError
        reader.wait_for_card(timeout_s=60, cancel=cancel)

    late = make_card(pcscd)
    timer = threading.Timer(0.3, late.insert)
    timer.start()
    try:
        reader.wait_for_card(timeout_s=5)
        assert reader.card_type() is CardType.MY_NUMBER
    finally:
        timer.join()
        late.remove()
        reader.wait_for_removal(timeout_s=5)


def test_the_virtual_reader_is_listed_and_a_change_is_awaited_with_a_bound(pcscd):
    readers = list_readers()
    assert pcscd.reader_name in readers
    started = time.monotonic()
    assert wait_for_reader_change(readers, timeout_s=0.3) == readers
    assert time.monotonic() - started < 10, "the 0.3 s bound was not kept"  # a hang guard, not a timing


SERVICE_DOWN_PROBE = """
import json, sys
from madoguchi.hardware import card_errors as errors
from madoguchi.hardware.cardreader import PcscCardReader, list_readers, wait_for_reader_change

reader = PcscCardReader(sys.argv[1])
answers = {}
for name, action in [("list_readers", list_readers), ("wait_for_card", lambda: reader.wait_for_card(timeout_s=1)),
                     ("read_basic_four", lambda: reader.read_basic_four(sys.argv[2]))]:
    try:
        action()
        answers[name] = "no error"
    except errors.CardReaderError as exc:
        answers[name] = f"{type(exc).__name__}: {exc}"
answers["wait_for_reader_change"] = wait_for_reader_change([sys.argv[1]], timeout_s=1)
print(json.dumps(answers))
"""


def test_with_pcscd_down_the_error_says_the_reader_service_is_down(pcscd: PcscdWithVirtualReader, tmp_path):
    """A PC/SC client whose pcscd socket nobody serves (PCSCLITE_CSOCK_NAME, which the client library
    honours) meets a stopped pcscd, without stopping the one the machine may share with us."""
    probe = subprocess.run(
        [sys.executable, "-c", SERVICE_DOWN_PROBE, pcscd.reader_name, TEST_PIN],
        env={**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")},
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    answers = json.loads(probe.stdout)
    for name in ("list_readers", "wait_for_card", "read_basic_four"):
        assert answers[name].startswith("ReaderServiceDownError:") and "pcscd" in answers[name], (name, answers)
    assert answers["wait_for_reader_change"] == []
    assert pcscd.reader_name in list_readers(), "the real pcscd still serves this process"


def test_a_restarted_pcscd_is_seen_again_by_the_same_process(pcscd: PcscdWithVirtualReader):
    """Only our own pcscd can be stopped; a shared (system) one is never touched, and then this test
    checks that the shared daemon keeps serving across our stop() and start()."""
    shared = pcscd.shared
    pcscd.stop()
    try:
        if not shared:
            with pytest.raises(errors.ReaderServiceDownError):
                list_readers()
        else:
            assert pcscd.reader_name in list_readers(), "stop() must leave a shared pcscd running"
    finally:
        pcscd.start()
    assert pcscd.shared is shared
    assert pcscd.reader_name in list_readers()


def test_a_second_start_beside_a_running_pcscd_shares_it_and_finds_its_vpcd_port(pcscd, reader):
    """What happens beside a system pcscd (Debian's loads vpcd too): it is used as it is, never stopped."""
    beside = PcscdWithVirtualReader(port=1).start()  # the port it is given must give way to the real one
    try:
        assert beside.shared and beside.running and beside.port == pcscd.port
        card = make_card(beside)
        card.insert()
        try:
            reader.wait_for_card(timeout_s=5)
            assert reader.card_type() is CardType.MY_NUMBER
            with pytest.raises(PcscdBusyError, match="already holds a card"):
                PcscdWithVirtualReader().start()  # a demo's card in the reader: not ours to use
        finally:
            card.remove()
            assert reader.wait_for_removal(timeout_s=5)
        assert_card_log_is_clean(card)
    finally:
        beside.stop()
    assert pcscd.running and pcscd.reader_name in list_readers(), "stopping a shared pcscd stopped it"

"""The My Number card driver through real pcscd + vpcd + the virtual card (DESIGN.md §7, issue 4)."""

from __future__ import annotations

import threading
import time

import pytest

from madoguchi.hardware import card_errors as errors
from madoguchi.hardware import mynumber as mn
from madoguchi.hardware.cardreader import CardType, PcscCardReader, list_readers, wait_for_reader_change
from madoguchi.hardware.virtual_card import VirtualMyNumberCard
from madoguchi.hardware.virtual_reader import PcscdWithVirtualReader
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
    started = time.monotonic()
    info = reader.read_basic_four(TEST_PIN)
    elapsed = time.monotonic() - started

    assert (info.name, info.address, info.birth_date, info.sex) == (
        TEST_HOLDER_NAME, TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_SEX)
    assert TEST_HOLDER_NAME not in repr(info) and TEST_HOLDER_ADDRESS not in str(info)
    assert elapsed < 2.0  # ~8 APDUs at ~50 ms each through pcscd + vpcd


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
    card.response_delay_s = 1.5
    started = time.monotonic()
    with pytest.raises(errors.CardTimeoutError):
        reader.pin_tries_left()
    assert time.monotonic() - started < 1.2  # the watchdog, not the card's late answer, ended the wait
    card.response_delay_s = 0.0
    reader.transmit_timeout_s = 2.0
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
    started = time.monotonic()
    with pytest.raises(errors.CardWaitCancelledError):
        reader.wait_for_card(timeout_s=10, cancel=cancel)
    assert time.monotonic() - started < 1.0

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
    assert time.monotonic() - started < 1.0


def test_with_pcscd_stopped_the_error_says_the_reader_service_is_down(pcscd: PcscdWithVirtualReader):
    pcscd.stop()
    try:
        with pytest.raises(errors.ReaderServiceDownError) as caught:
            list_readers()
        assert "pcscd" in str(caught.value)
        reader = PcscCardReader(pcscd.reader_name)
        with pytest.raises(errors.ReaderServiceDownError):
            reader.wait_for_card(timeout_s=1)
        with pytest.raises(errors.ReaderServiceDownError):
            reader.read_basic_four(TEST_PIN)
        assert wait_for_reader_change([pcscd.reader_name], timeout_s=1) == []
    finally:
        pcscd.start()
    assert pcscd.reader_name in list_readers()

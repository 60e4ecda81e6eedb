"""Fixtures that run the real virtual devices: a TCP virtual printer, and pcscd + vpcd + a virtual card.

pcscd runs once per session (≈0.2 s to start) with a private reader.conf.d on a free port, or, when a
pcscd already serves the fixed socket and lists the virtual reader (Debian's pcscd loads vpcd too),
that one is used as it is; a pcscd that cannot serve fails the session, it never skips. Every card
test gets a fresh virtual card holding the suite's test identity, and its teardown checks the card's
APDU log: EF 0001 (individual number) never selected, no PIN digits in any logged command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.hardware import mynumber as mn
from madoguchi.hardware.cardreader import PcscCardReader
from madoguchi.hardware.virtual_card import CardHolder, VirtualMyNumberCard
from madoguchi.hardware.virtual_printer import VirtualPrinter
from madoguchi.hardware.virtual_reader import PcscdBusyError, PcscdWithVirtualReader
from tests.personal_data import (
    TEST_HOLDER_ADDRESS,
    TEST_HOLDER_BIRTH_DATE_CARD,
    TEST_HOLDER_NAME,
    TEST_HOLDER_SEX,
    TEST_PIN,
)

TEST_HOLDER = CardHolder(TEST_HOLDER_NAME, TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE_CARD, TEST_HOLDER_SEX)
SELECT_INDIVIDUAL_NUMBER_EF = bytes.fromhex("00A4020C020001")


@pytest.fixture
def virtual_printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    printer = VirtualPrinter(tmp_path / "tickets", slow_delay_s=0.3).start()
    yield printer
    printer.stop()


@pytest.fixture(scope="session")
def pcscd() -> Iterator[PcscdWithVirtualReader]:
    service = PcscdWithVirtualReader()
    try:
        service.start()
    except PcscdBusyError as exc:
        pytest.fail(f"the card reader tests cannot use pcscd: {exc}", pytrace=False)
    yield service
    service.stop()


@pytest.fixture
def reader(pcscd: PcscdWithVirtualReader) -> Iterator[PcscCardReader]:
    if not pcscd.running:  # a test stopped it (reader service down) and failed before restarting
        pcscd.start()
    card_reader = PcscCardReader(pcscd.reader_name, transmit_timeout_s=2.0)
    yield card_reader
    card_reader.close()


def make_card(pcscd: PcscdWithVirtualReader, **options: object) -> VirtualMyNumberCard:
    return VirtualMyNumberCard(TEST_HOLDER, TEST_PIN, port=pcscd.port, **options)  # type: ignore[arg-type]


def assert_card_log_is_clean(card: VirtualMyNumberCard) -> None:
    commands = card.commands()
    assert SELECT_INDIVIDUAL_NUMBER_EF not in commands, "the individual-number EF was selected"
    assert not any(TEST_PIN.encode() in command for command in commands), "a PIN reached the APDU log"
    assert all(command[:4] != mn.VERIFY_TRIES_LEFT or len(command) in (4, 9) for command in commands)


@pytest.fixture
def card(pcscd: PcscdWithVirtualReader, reader: PcscCardReader) -> Iterator[VirtualMyNumberCard]:
    """The test holder's card, inserted and seen by pcscd; removed (and seen gone) afterwards."""
    virtual_card = make_card(pcscd)
    virtual_card.insert()
    reader.wait_for_card(timeout_s=5)
    yield virtual_card
    virtual_card.remove()
    if pcscd.running:
        assert reader.wait_for_removal(timeout_s=5), "pcscd still sees the card"
    assert_card_log_is_clean(virtual_card)

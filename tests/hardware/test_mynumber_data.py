"""BER-TLV of the basic-4 EF, parsed by tag: round trips and malformed input (no card needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.hardware import mynumber as mn
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=120)
dates = st.dates().map(lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}")


@given(name=text, address=text, birth=dates, sex=st.sampled_from(["1", "2", "9"]))
def test_basic_four_round_trips_through_the_card_format(name, address, birth, sex):
    ef = mn.build_basic_four(name, address, birth, sex) + b"\xff" * 16  # padding after the template
    info = mn.parse_basic_four(ef)
    read_back = (info.name, info.address, info.birth_date.replace("-", ""), info.sex)
    assert read_back == (name, address, birth, sex)


def test_items_are_found_by_tag_whatever_their_order():
    items = [mn.encode_tlv(mn.TAG_SEX, b"2"), mn.encode_tlv(mn.TAG_BIRTH_DATE, b"19580412"),
             mn.encode_tlv(mn.TAG_ADDRESS, "住所".encode()), mn.encode_tlv(mn.TAG_NAME, "氏名".encode())]
    info = mn.parse_basic_four(mn.encode_tlv(mn.TAG_BASIC_FOUR, b"".join(items)))
    assert (info.name, info.address, info.birth_date, info.sex) == ("氏名", "住所", "1958-04-12", "2")


def test_long_values_use_the_two_byte_length_form():
    ef = mn.build_basic_four("名" * 200, "所", "20000101", "1")
    assert ef[:3] == b"\xff\x20\x82"
    assert mn.tlv_header(ef) == (mn.TAG_BASIC_FOUR, len(ef) - 5, 5)


@pytest.mark.parametrize("broken", [b"", b"\xff\x20", b"\xff\x20\x10\xdf\x22", b"\xdf\x22\x01x"])
def test_malformed_files_raise_value_error(broken):
    with pytest.raises(ValueError):
        mn.parse_basic_four(broken)


def test_errors_about_the_file_never_contain_its_contents():
    ef = mn.build_basic_four(TEST_HOLDER_NAME, TEST_HOLDER_ADDRESS, "1958041", "2")  # 7-digit date
    with pytest.raises(ValueError) as caught:
        mn.parse_basic_four(ef)
    assert TEST_HOLDER_NAME not in str(caught.value) and "1958041" not in str(caught.value)


def test_apdus_are_the_documented_bytes():
    assert mn.select_df(mn.TEXT_AP_AID).hex().upper() == "00A4040C0AD3921000310001010408"
    assert mn.select_ef(mn.EF_PIN).hex().upper() == "00A4020C020011"
    assert mn.select_ef(mn.EF_BASIC_FOUR).hex().upper() == "00A4020C020002"
    assert mn.verify(b"0000").hex().upper() == "002000800430303030"
    assert mn.read_binary(0x0105, 0x20).hex().upper() == "00B0010520"
    assert mn.tries_left_from_sw(0x63C2) == 2 and mn.tries_left_from_sw(0x9000) is None

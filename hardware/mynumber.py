"""The My Number card's 券面事項入力補助AP as seen from the terminal: APDUs, file ids, and BER-TLV.

Facts (DESIGN.md §7): SELECT the text AP by name, SELECT the PIN EF 0011 and ask for tries left with
an empty VERIFY (63Cx), VERIFY the 4-digit PIN, SELECT the basic-4 EF 0002 and READ BINARY it:
FF20 { DF21 offsets, DF22 name (UTF-8, family U+3000 given), DF23 address, DF24 birth date
YYYYMMDD, DF25 sex 1/2/9 }. The card type is told without a PIN by the JPKI AP's token EF 0006.
EF 0001 holds the individual number, which 番号法 forbids us to read: it has no constant here.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT_AP_AID = bytes.fromhex("D3921000310001010408")
JPKI_AP_AID = bytes.fromhex("D392F000260100000001")
EF_PIN = 0x0011
EF_BASIC_FOUR = 0x0002
EF_JPKI_TOKEN = 0x0006
JPKI_TOKEN_MY_NUMBER = b"JPKIAPICCTOKEN2"

TAG_BASIC_FOUR = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25

SW_OK = 0x9000
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_REFERENCE_DATA_BLOCKED = 0x6984
SW_FILE_NOT_FOUND = 0x6A82
SW_END_OF_FILE = 0x6282
BLOCKED_SWS = frozenset({SW_AUTH_BLOCKED, SW_REFERENCE_DATA_BLOCKED})


def select_df(aid: bytes) -> bytes:
    return bytes((0x00, 0xA4, 0x04, 0x0C, len(aid))) + aid


def select_ef(file_id: int) -> bytes:
    return bytes((0x00, 0xA4, 0x02, 0x0C, 0x02)) + file_id.to_bytes(2, "big")


VERIFY_TRIES_LEFT = bytes((0x00, 0x20, 0x00, 0x80))


def verify(pin_digits: bytes) -> bytes:
    return VERIFY_TRIES_LEFT + bytes((len(pin_digits),)) + pin_digits


def read_binary(offset: int, length: int) -> bytes:
    if not 0 < length <= 0xFF or not 0 <= offset <= 0x7FFF:
        raise ValueError("READ BINARY takes an offset below 32768 and 1-255 bytes")
    return bytes((0x00, 0xB0, offset >> 8, offset & 0xFF, length))


def tries_left_from_sw(sw: int) -> int | None:
    """The tries left a 63Cx status word reports, else None."""
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None


# ---- BER-TLV ----------------------------------------------------------------------------------

def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    elif n <= 0xFF:
        length = bytes((0x81, n))
    else:
        length = bytes((0x82, n >> 8, n & 0xFF))
    return tag_bytes + length + value


def tlv_header(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag, value length, header length) of the TLV at ``pos``; ValueError when truncated or malformed."""
    try:
        tag = data[pos]
        size = 1
        if tag & 0x1F == 0x1F:  # multi-byte tag: more bytes while bit 8 is set
            while True:
                byte = data[pos + size]
                tag = tag << 8 | byte
                size += 1
                if not byte & 0x80:
                    break
        first = data[pos + size]
        size += 1
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if not 1 <= count <= 3:
                raise ValueError("unsupported TLV length form")
            length = int.from_bytes(data[pos + size:pos + size + count], "big")
            if len(data) < pos + size + count:
                raise IndexError
            size += count
    except IndexError:
        raise ValueError("truncated TLV header") from None
    return tag, length, size


def parse_tlv(data: bytes) -> dict[int, bytes]:
    """The top-level TLVs of ``data`` by tag (the first occurrence of a tag wins)."""
    items: dict[int, bytes] = {}
    pos = 0
    while pos < len(data) and not _is_padding(data, pos):
        tag, length, header = tlv_header(data, pos)
        value = data[pos + header:pos + header + length]
        if len(value) != length:
            raise ValueError(f"TLV {tag:X} is truncated")
        items.setdefault(tag, value)
        pos += header + length
    return items


def _is_padding(data: bytes, pos: int) -> bool:
    # 0xFF starts the FF20 template; 0x00, or 0xFF not followed by a tag byte, pads the end of an EF.
    if data[pos] == 0x00:
        return True
    return data[pos] == 0xFF and (pos + 1 >= len(data) or data[pos + 1] in (0x00, 0xFF))


@dataclass(frozen=True, repr=False)
class BasicFour:
    """The four basic items (基本4情報). repr never shows them, so they cannot slip into a log line."""

    name: str
    address: str
    birth_date: str  # YYYY-MM-DD
    sex: str  # "1" male, "2" female, "9" not applicable

    def __repr__(self) -> str:
        return "BasicFour(<personal data hidden>)"

    __str__ = __repr__


def parse_basic_four(ef: bytes) -> BasicFour:
    """Parses the basic-4 EF by tag; ValueError (without the data) when it is not well formed."""
    outer = parse_tlv(ef)
    if TAG_BASIC_FOUR not in outer:
        raise ValueError("basic-4 EF has no FF20 template")
    inner = parse_tlv(outer[TAG_BASIC_FOUR])
    missing = [f"{t:X}" for t in (TAG_NAME, TAG_ADDRESS, TAG_BIRTH_DATE, TAG_SEX) if t not in inner]
    if missing:
        raise ValueError(f"basic-4 EF lacks tags {', '.join(missing)}")
    try:
        raw_date = inner[TAG_BIRTH_DATE].decode("ascii")
        if len(raw_date) != 8 or not raw_date.isdigit():
            raise ValueError("birth date is not YYYYMMDD")
        return BasicFour(
            name=inner[TAG_NAME].decode("utf-8"),
            address=inner[TAG_ADDRESS].decode("utf-8"),
            birth_date=f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:]}",
            sex=inner[TAG_SEX].decode("ascii"),
        )
    except UnicodeDecodeError:
        raise ValueError("basic-4 EF holds text that is not UTF-8") from None


def build_basic_four(name: str, address: str, birth_date_yyyymmdd: str, sex: str) -> bytes:
    """The EF contents a card holds (used by the virtual card), with DF21 offsets like a real one."""
    items = [encode_tlv(TAG_NAME, name.encode("utf-8")), encode_tlv(TAG_ADDRESS, address.encode("utf-8")),
             encode_tlv(TAG_BIRTH_DATE, birth_date_yyyymmdd.encode("ascii")),
             encode_tlv(TAG_SEX, sex.encode("ascii"))]
    offsets_tlv_size = len(encode_tlv(TAG_OFFSETS, bytes(8)))
    offsets, position = bytearray(), offsets_tlv_size
    for item in items:
        offsets += position.to_bytes(2, "big")
        position += len(item)
    body = encode_tlv(TAG_OFFSETS, bytes(offsets)) + b"".join(items)
    return encode_tlv(TAG_BASIC_FOUR, body)

"""Byte-exact ESC/POS: status queries, QR, raster slices and cut, and the virtual printer's decoder."""

from __future__ import annotations

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from madoguchi.hardware.escpos_decoder import EscposDecoder
from madoguchi.hardware.printer import RASTER_SLICE_ROWS, build_job
from madoguchi.hardware.printer_status import (
    DLE_EOT_OFFLINE_CAUSE,
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    GS_R_PAPER,
    PrinterStatus,
    decode_realtime_status,
    is_status_answer,
)
from madoguchi.hardware.ticket_render import QrBlock, RenderedTicket, render_ticket
from tests.hardware.regenerate_golden import CASES

CONTENT, _ = CASES["ticket-ja-576"]


def test_status_queries_are_the_exact_escpos_bytes():
    assert DLE_EOT_PRINTER == b"\x10\x04\x01" == RT_STATUS_ONLINE
    assert DLE_EOT_OFFLINE_CAUSE == b"\x10\x04\x02"
    assert DLE_EOT_PAPER == b"\x10\x04\x04" == RT_STATUS_PAPER
    assert GS_R_PAPER == b"\x1d\x72\x01"


def test_status_bytes_decode_to_states():
    def status(printer: int, cause: int, paper: int) -> PrinterStatus:
        return decode_realtime_status(printer, cause, paper).status

    assert status(0x12, 0x12, 0x12) is PrinterStatus.ONLINE
    assert status(0x12, 0x12, 0x1E) is PrinterStatus.PAPER_NEAR_END
    assert status(0x1A, 0x32, 0x7E) is PrinterStatus.PAPER_END
    assert status(0x1A, 0x16, 0x12) is PrinterStatus.COVER_OPEN
    assert status(0x1A, 0x52, 0x12) is PrinterStatus.OFFLINE
    both = decode_realtime_status(0x1A, 0x16, 0x1E)
    assert both.conditions == {PrinterStatus.COVER_OPEN, PrinterStatus.PAPER_NEAR_END}
    assert is_status_answer(0x12) and not is_status_answer(0x00) and not is_status_answer(0x03)


def test_a_job_is_init_raster_centred_native_qr_raster_feed_and_cut():
    rendered = render_ticket(CONTENT, 576)
    job = build_job(rendered)
    url = CONTENT.status_url.encode()

    assert job.startswith(b"\x1b@" + b"\x1dv0\x00" + (72).to_bytes(2, "little")
                          + rendered.header.height.to_bytes(2, "little"))
    qr = (b"\x1b\x61\x01"
          b"\x1d(k\x04\x00\x31\x41\x32\x00"      # model 2
          b"\x1d(k\x03\x00\x31\x43\x06"          # module 6 dots
          b"\x1d(k\x03\x00\x31\x45\x31"          # error correction M
          + b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"\x31\x50\x30" + url
          + b"\x1d(k\x03\x00\x31\x51\x30")       # print
    assert qr in job
    assert job.endswith(b"\x1bd\x06\x1dV\x00")
    assert b"\x1d(L" not in job and b"\x1d8L" not in job  # never python-escpos' graphics mode


def test_tall_images_go_in_raster_slices_of_at_most_900_rows():
    tall = Image.new("1", (576, 2000), 255)
    ticket = RenderedTicket(576, tall, QrBlock(b"https://x.example/t/1", 6), Image.new("1", (576, 10), 255))
    commands = EscposDecoder().feed(build_job(ticket))
    heights = [c.args[2] for c in commands if c.name == "RASTER"]
    assert heights == [RASTER_SLICE_ROWS, RASTER_SLICE_ROWS, 200, 10]


def test_the_decoder_reads_back_every_command_of_a_job():
    job = build_job(render_ticket(CONTENT, 384))
    names = [c.name for c in EscposDecoder().feed(job)]
    assert names.count("RASTER") == 2 and names.count("CODE2D") == 5 and names[-1] == "CUT"
    assert "UNKNOWN" not in names


_JOB = build_job(render_ticket(CONTENT, 384)) + b"hello\n\x10\x04\x01\x1dr\x01\x1b\x61\x01\x1dV\x41\x03"


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(_JOB)), max_size=12))
def test_the_decoder_gives_the_same_commands_however_the_bytes_are_chunked(cuts):
    job = _JOB
    whole = EscposDecoder().feed(job)
    decoder, pieces, start = EscposDecoder(), [], 0
    for cut in sorted(set(cuts)):
        pieces += decoder.feed(job[start:cut])
        start = max(start, cut)
    pieces += decoder.feed(job[start:])
    assert pieces == whole and decoder.pending == 0
    assert [c.name for c in whole[-6:]] == ["TEXT", "LF", "DLE_EOT", "TRANSMIT_STATUS", "JUSTIFY", "CUT"]

"""Korean and Chinese on the kiosk in their own glyph forms: Kivy opens only a collection's first face
(Japanese in Noto Sans CJK), so the kiosk gives it a file holding the regional face."""

from __future__ import annotations

import logging
import os

from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFont

from madoguchi.common.fonts import find_font
from madoguchi.kiosk.fonts import openable_path

FORMS = "次判述化"  # drawn differently in Japanese, Korean and simplified Chinese type


def drawn(path: str, index: int = 0) -> Image.Image:
    image = Image.new("L", (200, 70), 255)
    ImageDraw.Draw(image).text((4, 4), FORMS, font=ImageFont.truetype(path, 56, index=index), fill=0)
    return image


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_korean_and_chinese_get_their_own_face_in_a_file_kivy_can_open(tmp_path):
    for script, name in (("ko", "Noto Sans CJK KR"), ("zh-hans", "Noto Sans CJK SC")):
        font = find_font(script, "regular")
        path = openable_path(font, tmp_path)
        assert path.parent == tmp_path and path.suffix == ".otf"
        assert TTFont(str(path))["name"].getDebugName(4) == name  # the face's own name, first in the file
        assert same(drawn(str(path)), drawn(str(font.path), font.index)), f"{script}: not the regional face"
        assert not same(drawn(str(path)), drawn(str(font.path), 0)), f"{script}: drawn with Japanese forms"


def test_the_face_is_written_once_and_japanese_needs_no_copy(tmp_path):
    korean = find_font("ko", "regular")
    first = openable_path(korean, tmp_path)
    written = first.stat().st_mtime_ns
    assert openable_path(korean, tmp_path) == first and first.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [first.name], "no half-written files left behind"
    japanese = find_font("ja", "regular")
    assert openable_path(japanese, tmp_path) == japanese.path


def test_an_unwritable_cache_falls_back_to_the_collection_and_says_so(tmp_path, caplog):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    korean = find_font("ko", "regular")
    with caplog.at_level(logging.WARNING, logger="madoguchi.kiosk.fonts"):
        assert openable_path(korean, blocked / "fonts") == korean.path
    assert any("first face" in r.getMessage() for r in caplog.records)
    assert os.path.isfile(blocked)

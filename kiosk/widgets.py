"""Kivy widgets of the kiosk: text in the right font per language, big buttons with a kiosk id.

Every label takes the language of its text: the font comes from ``common.fonts`` (no toolkit falls
back between fonts) and Nepali labels set ``font_script_name='Deva'``, without which Kivy mis-shapes
Devanagari (DESIGN §7b). Every widget the resident can touch carries ``kiosk_id`` so tests can find it.
"""

from __future__ import annotations

import math
from functools import cache

from kivy.graphics import Color, Ellipse, Line, Rectangle, Triangle
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from madoguchi.common.fonts import find_font, script_for_language, shaping_script
from madoguchi.kiosk.fonts import openable_path
from madoguchi.kiosk.theme import RGB


@cache
def font_path(language: str, bold: bool = False) -> str:
    """The font file of the language's script (BIZ UDPGothic for Japanese where installed, DESIGN §12), with
    the regional face of Noto Sans CJK for Korean and Chinese (``kiosk/fonts.py``)."""
    return str(openable_path(find_font(script_for_language(language), "bold" if bold else "regular")))


_PHRASE_SCRIPTS = {"ja": "ja", "ja-easy": "ja", "zh": "zh"}


def break_lines(text: str, language: str, font_name: str, font_size: float, width: float) -> str:
    """Japanese and Chinese broken into lines between BudouX phrases with 禁則 (Kivy would cut anywhere,
    even before 「。」); room for one hanging punctuation mark is left at the end of each line."""
    script = _PHRASE_SCRIPTS.get(language)
    limit = width - font_size
    if script is None or limit <= font_size or not text:
        return text
    from kivy.core.text import Label as CoreLabel

    from madoguchi.hardware.ticket_render import wrap

    core = CoreLabel(font_name=font_name, font_size=font_size)

    def measure(part: str) -> float:
        return float(core.get_extents(part)[0])

    return "\n".join("\n".join(part.strip(" ") for part in wrap(line, measure, limit, by_words=False, script=script))
                     if line else "" for line in text.split("\n"))


def _text_options(language: str, bold: bool) -> dict[str, object]:
    options: dict[str, object] = {"font_name": font_path(language, bold)}
    script = shaping_script(language)
    if script:
        options["font_script_name"] = script
    return options


class TextLabel(Label):
    """A wrapping label in the font of ``language``, as tall as its text (at least ``min_height``)."""

    def __init__(self, text: str, language: str, *, size_px: float, color: RGB, bold: bool = False,
                 halign: str = "center", min_height: float = 0, **kwargs: object) -> None:
        super().__init__(text=text, font_size=size_px, color=(*color, 1), halign=halign, valign="middle",
                         size_hint_y=None, **_text_options(language, bold), **kwargs)
        self.language = language
        self.source_text = text
        self.min_height = min_height
        self.bind(width=self._wrap, texture_size=self._fit)
        self._wrap()

    def _wrap(self, *_: object) -> None:
        width = max(1, self.width - 8)
        self.text = break_lines(self.source_text, self.language, self.font_name, self.font_size, width)
        self.text_size = (width, None)

    def _fit(self, *_: object) -> None:
        self.height = max(self.min_height, self.texture_size[1] + 8)


class BigButton(Button):
    """A touch target: solid colour, wrapped text, ``kiosk_id`` for tests and screenshots."""

    def __init__(self, kiosk_id: str, text: str, language: str, *, size_px: float, background: RGB,
                 color: RGB, border: RGB | None = None, bold: bool = True, icon: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(text=text, font_size=size_px, color=(*color, 1), halign="center", valign="middle",
                         background_normal="", background_down="", background_color=(*background, 1),
                         **_text_options(language, bold), **kwargs)
        self.kiosk_id = kiosk_id
        self.language = language
        self.source_text = text
        self._border = border
        self._icon = icon
        self._ink = color
        self._wanted_font = size_px
        self.bind(size=self._wrap, pos=self._draw_border)

    @property
    def _icon_side(self) -> float:
        return min(self.height * 0.7, self.width * 0.2) if self._icon else 0.0

    def _wrap(self, *_: object) -> None:
        """Wraps the text in the button and shrinks it (to 60% at most) until it fits."""
        offset = self._icon_side * 1.9
        self.padding = (offset, 0, 0, 0)
        width = max(1, self.width - 16 - offset)
        self.text_size = (width, None)
        self.font_size = self._wanted_font
        self.text = break_lines(self.source_text, self.language, self.font_name, self.font_size, width)
        self.texture_update()
        while self.texture_size[1] > self.height - 8 and self.font_size > self._wanted_font * 0.6:
            self.font_size *= 0.9
            self.text = break_lines(self.source_text, self.language, self.font_name, self.font_size, width)
            self.texture_update()
        self.text_size = (width, max(1, self.height - 8))
        self._draw_border()

    def _draw_border(self, *_: object) -> None:
        self.canvas.after.clear()
        if self._icon:
            side = self._icon_side
            draw_icon(self, self._icon, self.x + side * 0.35, self.y + (self.height - side) / 2, side, self._ink)
        if self._border is None:
            return
        with self.canvas.after:
            Color(*self._border, 1)
            Line(rectangle=(self.x + 1, self.y + 1, self.width - 2, self.height - 2), width=2)


def draw_icon(widget: Widget, icon: str, x: float, y: float, s: float, ink: RGB) -> None:
    """A plain pictogram in the button's text colour: a house (moving), a flower (bereavement), a form
    (certificates). Drawn as vectors, so it needs no image files and follows the colour mode."""
    width = max(2.0, s * 0.06)

    def house(hx: float, hy: float, hs: float) -> None:
        Triangle(points=(hx, hy + 0.55 * hs, hx + 0.5 * hs, hy + hs, hx + hs, hy + 0.55 * hs))
        Line(rectangle=(hx + 0.15 * hs, hy, 0.7 * hs, 0.55 * hs), width=width)
        Rectangle(pos=(hx + 0.42 * hs, hy), size=(0.16 * hs, 0.3 * hs))

    def arrow(x0: float, x1: float, ay: float) -> None:
        head = 0.14 * s
        Line(points=(x0, ay, x1, ay), width=width)
        Triangle(points=(x1 + head, ay, x1, ay + head, x1, ay - head))

    with widget.canvas.after:
        Color(*ink, 1)
        if icon == "house":
            house(x, y, s)
        elif icon == "house_in":  # 転入: coming into the city
            arrow(x, x + 0.3 * s, y + 0.3 * s)
            house(x + 0.5 * s, y + 0.1 * s, 0.8 * s)
        elif icon == "house_move":  # 転居: from one home to another within the city
            house(x - 0.1 * s, y + 0.2 * s, 0.55 * s)
            arrow(x + 0.5 * s, x + 0.65 * s, y + 0.35 * s)
            house(x + 0.85 * s, y + 0.2 * s, 0.55 * s)
        elif icon == "house_out":  # 転出: leaving the city
            house(x - 0.1 * s, y + 0.1 * s, 0.8 * s)
            arrow(x + 0.85 * s, x + 1.15 * s, y + 0.3 * s)
        elif icon == "flower":
            for k in range(8):
                angle = k * math.pi / 4
                cx, cy = x + s / 2 + 0.28 * s * math.cos(angle), y + s / 2 + 0.28 * s * math.sin(angle)
                Line(circle=(cx, cy, 0.16 * s), width=width)
            Ellipse(pos=(x + 0.38 * s, y + 0.38 * s), size=(0.24 * s, 0.24 * s))
        elif icon == "form":
            Line(points=(x + 0.15 * s, y, x + 0.15 * s, y + s, x + 0.65 * s, y + s, x + 0.85 * s, y + 0.8 * s,
                         x + 0.85 * s, y, x + 0.15 * s, y), width=width, close=True)
            for row in (0.7, 0.5, 0.3):
                Line(points=(x + 0.28 * s, y + row * s, x + 0.72 * s, y + row * s), width=width)


class Background(Widget):
    """Paints the whole screen in one colour (Kivy's window clear colour is not part of exports)."""

    def __init__(self, color: RGB, **kwargs: object) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            Color(*color, 1)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._update, size=self._update)

    def _update(self, *_: object) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

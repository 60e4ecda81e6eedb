"""Sizes and colours of the kiosk screens, computed from the window size and the screen's DPI.

Pure arithmetic (no Kivy), so tests check the promises directly: every touch target is at least
15 mm on the configured screen, text contrast is at least 7:1 (WCAG AAA) in both colour modes.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
MIN_TOUCH_MM = 15.0
LARGE_TEXT_SCALE = 1.3

RGB = tuple[float, float, float]


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


@dataclass(frozen=True)
class Palette:
    name: str
    background: RGB
    text: RGB
    primary: RGB  # main action buttons
    primary_text: RGB
    choice: RGB  # answer buttons
    choice_text: RGB
    quiet: RGB  # back, skip, toggles
    quiet_text: RGB
    alert: RGB  # call staff, warnings
    alert_text: RGB
    panel: RGB  # the ticket number, the plan
    panel_text: RGB

    def pairs(self) -> dict[str, tuple[RGB, RGB]]:
        """(text, background) pairs that appear on screen, for the contrast check."""
        return {"text": (self.text, self.background), "primary": (self.primary_text, self.primary),
                "choice": (self.choice_text, self.choice), "quiet": (self.quiet_text, self.quiet),
                "alert": (self.alert_text, self.alert), "panel": (self.panel_text, self.panel)}


NORMAL = Palette(
    "normal", background=_hex("#FFFFFF"), text=_hex("#1A1A1A"),
    primary=_hex("#0B4A8F"), primary_text=_hex("#FFFFFF"),
    choice=_hex("#E3ECF7"), choice_text=_hex("#0A2540"),
    quiet=_hex("#E6E6E6"), quiet_text=_hex("#1A1A1A"),
    alert=_hex("#8C2F00"), alert_text=_hex("#FFFFFF"),
    panel=_hex("#FFF6D6"), panel_text=_hex("#1A1A1A"),
)
HIGH_CONTRAST = Palette(
    "high_contrast", background=_hex("#000000"), text=_hex("#FFFFFF"),
    primary=_hex("#FFD400"), primary_text=_hex("#000000"),
    choice=_hex("#FFFFFF"), choice_text=_hex("#000000"),
    quiet=_hex("#3A3A3A"), quiet_text=_hex("#FFFFFF"),
    alert=_hex("#FF8C1A"), alert_text=_hex("#000000"),
    panel=_hex("#000000"), panel_text=_hex("#FFD400"),
)


def _luminance(rgb: RGB) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    dpi: float
    large_text: bool = False

    @property
    def landscape(self) -> bool:
        return self.width >= self.height

    @property
    def touch_min_px(self) -> int:
        """15 mm on this screen, in pixels."""
        return int(MIN_TOUCH_MM / MM_PER_INCH * self.dpi + 0.999)

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)

    @property
    def button_height(self) -> int:
        return max(self.touch_min_px, int(self.short_side * (0.12 if self.landscape else 0.09)))

    @property
    def bar_height(self) -> int:
        return max(self.touch_min_px, int(self.short_side * 0.1))

    @property
    def padding(self) -> int:
        return max(6, int(self.short_side * 0.015))

    @property
    def scale(self) -> float:
        return LARGE_TEXT_SCALE if self.large_text else 1.0

    @property
    def font(self) -> float:
        return self.short_side * 0.05 * self.scale

    @property
    def small_font(self) -> float:
        return self.short_side * 0.04 * self.scale

    @property
    def title_font(self) -> float:
        return self.short_side * 0.062 * self.scale

    @property
    def number_font(self) -> float:
        return self.short_side * 0.15

    def columns(self, buttons: int) -> int:
        """How many columns a grid of ``buttons`` answer buttons uses."""
        if buttons <= 2:
            return buttons if self.landscape else 1
        if not self.landscape:
            return 1 if buttons <= 4 else 2
        return 2 if buttons == 4 else 3

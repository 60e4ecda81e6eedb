"""Where everything goes on the board, computed from the screen size (no pygame).

One rule for every size: a landscape screen puts the call being made on the left and the recent
calls on the right, a portrait screen stacks them; the number's glyphs are at least 15 % of the
screen height (DESIGN: read from across the room), every other size follows the screen height.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_NUMBER_SHARE = 0.15
"""The number being called is at least this share of the screen height."""


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w

    def overlaps(self, other: Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def inside(self, other: Box) -> bool:
        return other.x <= self.x and other.y <= self.y and self.right <= other.right and self.bottom <= other.bottom


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    portrait: bool
    margin: int
    header: Box
    main_tag: Box
    number: Box
    """The glyphs of the number (their ink, not the font's line box) fill this box's height at most."""
    counter: Box
    recent: Box
    recent_title_px: int
    row_px: int
    row_h: int
    rows: int
    bands: Box
    band_cells: tuple[Box, ...]
    footer: Box
    notice: Box
    text_px: int
    """Size of ordinary text (header, footer, band lines)."""
    small_px: int

    def boxes(self) -> dict[str, Box]:
        return {"header": self.header, "main_tag": self.main_tag, "number": self.number, "counter": self.counter,
                "recent": self.recent, "bands": self.bands, "footer": self.footer}


def compute(width: int, height: int, band_count: int = 3) -> Layout:
    """The layout of a ``width`` × ``height`` screen showing ``band_count`` bands."""
    if width < 320 or height < 240:
        raise ValueError(f"screen {width}x{height} is too small for a waiting-room board")
    portrait = height > width
    m = max(8, round(min(width, height) * 0.02))
    unit = height / 100  # one percent of the height

    if portrait:
        shares = {"header": 6.0, "main": 32.0, "recent": 27.0, "bands": 28.0}
    else:
        shares = {"header": 9.0, "main": 54.0, "recent": 54.0, "bands": 27.0}
    header = Box(0, 0, width, round(shares["header"] * unit))
    top = header.bottom + m
    main_h = round(shares["main"] * unit) - m
    if portrait:
        main = Box(m, top, width - 2 * m, main_h)
        recent = Box(m, main.bottom + m, width - 2 * m, round(shares["recent"] * unit) - m)
        bands = Box(m, recent.bottom + m, width - 2 * m, round(shares["bands"] * unit) - m)
    else:
        half = (width - 3 * m) // 2
        main = Box(m, top, half, main_h)
        recent = Box(main.right + m, top, width - main.right - 2 * m, main_h)
        bands = Box(m, main.bottom + m, width - 2 * m, round(shares["bands"] * unit) - m)
    footer = Box(0, bands.bottom + m, width, height - bands.bottom - m)

    # The call's own area: a tag line, the number, the counter.
    tag_h = round(main.h * 0.16)
    counter_h = round(main.h * 0.22)
    number_h = main.h - tag_h - counter_h - 2 * m
    main_tag = Box(main.x, main.y, main.w, tag_h)
    number = Box(main.x + m, main_tag.bottom + m, main.w - 2 * m, number_h)
    counter = Box(main.x, number.bottom + m, main.w, counter_h)

    row_h = round((4.6 if portrait else 7.4) * unit)
    title_h = round(row_h * 0.8)
    rows = max(1, (recent.h - title_h) // row_h)

    n = max(1, band_count)
    if portrait:
        title = round(bands.h * 0.16)
        cell_h = (bands.h - title) // n
        cells = tuple(Box(bands.x, bands.y + title + i * cell_h, bands.w, cell_h) for i in range(n))
    else:
        title = round(bands.h * 0.2)
        cell_w = (bands.w - (n - 1) * m) // n
        cells = tuple(Box(bands.x + i * (cell_w + m), bands.y + title, cell_w, bands.h - title) for i in range(n))

    notice = Box(bands.x, bands.y, bands.w, height - bands.y - m)
    text_px = round((3.0 if portrait else 4.2) * unit)
    return Layout(width, height, portrait, m, header, main_tag, number, counter, recent,
                  recent_title_px=round(title_h * 0.7), row_px=round(row_h * 0.72), row_h=row_h, rows=rows,
                  bands=bands, band_cells=cells, footer=footer, notice=notice, text_px=text_px,
                  small_px=max(12, round(text_px * 0.7)))


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` → (1920, 1080), or ValueError with what was wrong."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise ValueError(f"size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    compute(int(w), int(h))
    return int(w), int(h)

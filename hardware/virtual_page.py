"""The paper of the virtual printer: where raster images, QR codes and text land, as one 1-bit image."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from madoguchi.hardware.qr import qr_image

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_LINE_SPACING_DOTS = 30  # ESC 2: 1/6 inch at 180 dpi


@dataclass(frozen=True)
class PrintedQr:
    y: int
    x: int
    data: bytes
    module_dots: int
    error_level: int


@dataclass
class PrintedTicket:
    """One ticket the virtual printer produced (cut, or left incomplete when the link closed)."""

    number: int
    image: Image.Image
    rasters: list[tuple[int, Image.Image]]  # (y, image) as received, for pixel comparisons
    qr_codes: list[PrintedQr]
    complete: bool
    path: Path | None = None


@dataclass
class Page:
    width: int
    justify: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING_DOTS
    y: int = 0
    placements: list[tuple[int, int, Image.Image]] = field(default_factory=list)
    rasters: list[tuple[int, Image.Image]] = field(default_factory=list)
    qr_codes: list[PrintedQr] = field(default_factory=list)
    text_line: bytearray = field(default_factory=bytearray)
    qr_model: int = 2
    qr_module_dots: int = 3
    qr_error_level: int = 0
    qr_data: bytes = b""

    @property
    def empty(self) -> bool:
        return not self.placements and self.y == 0 and not self.text_line

    def reset_modes(self) -> None:
        self.justify = 0
        self.line_spacing = DEFAULT_LINE_SPACING_DOTS

    def _x_for(self, width: int) -> int:
        if self.justify == 1:
            return max(0, (self.width - width) // 2)
        if self.justify == 2:
            return max(0, self.width - width)
        return 0

    def place(self, image: Image.Image) -> int:
        self.flush_text()
        x, y = self._x_for(image.width), self.y
        self.placements.append((x, y, image))
        self.y += image.height
        return y

    def raster(self, width_bytes: int, height: int, data: bytes) -> None:
        from PIL import Image

        # ESC/POS raster: 1 bit = a printed dot; Pillow's "1;I" raw mode reads exactly that.
        image = Image.frombytes("1", (width_bytes * 8, height), data, "raw", "1;I")
        if image.width > self.width:
            image = image.crop((0, 0, self.width, height))
        y = self.place(image)
        self.rasters.append((y, image))

    def code2d(self, body: bytes) -> None:
        """GS ( k for QR (cn = 49): model, module size, error level, store, print."""
        if len(body) < 2 or body[0] != 49:
            return
        fn, params = body[1], body[2:]
        if fn == 65 and params:
            self.qr_model = params[0] - 48
        elif fn == 67 and params:
            self.qr_module_dots = max(1, min(16, params[0]))
        elif fn == 69 and params:
            self.qr_error_level = max(0, min(3, params[0] - 48))
        elif fn == 80 and params:
            self.qr_data = bytes(params[1:])
        elif fn == 81 and self.qr_data:
            symbol = qr_image(self.qr_data, self.qr_module_dots, self.qr_error_level)
            y = self.place(symbol)
            self.qr_codes.append(PrintedQr(y, self._x_for(symbol.width), self.qr_data,
                                           self.qr_module_dots, self.qr_error_level))

    def text(self, data: bytes) -> None:
        self.text_line += data

    def line_feed(self, lines: int = 1) -> None:
        if self.text_line:
            self.flush_text()
            lines -= 1
        self.y += max(0, lines) * self.line_spacing

    def flush_text(self) -> None:
        """Draws the pending text line (plain ASCII font: tickets print Japanese as images)."""
        if not self.text_line:
            return
        from PIL import Image, ImageDraw, ImageFont

        text = self.text_line.decode("latin-1")
        self.text_line.clear()
        font = ImageFont.load_default(size=max(10, self.line_spacing - 6))
        line = Image.new("1", (self.width, self.line_spacing), 255)
        ImageDraw.Draw(line).text((self._x_for(int(font.getlength(text))), 2), text, font=font, fill=0)
        self.placements.append((0, self.y, line))
        self.y += line.height

    def render(self) -> Image.Image:
        from PIL import Image

        self.flush_text()
        height = max([self.y] + [y + im.height for _, y, im in self.placements]) or 1
        paper = Image.new("1", (self.width, height), 255)
        for x, y, image in self.placements:
            paper.paste(image, (x, y))
        return paper

"""The QR symbol a printer draws for ESC/POS ``GS ( k`` (model 2), as a 1-bit Pillow image.

Shared by the virtual printer (which must draw what a real printer would) and the ticket preview.
Like a printer, it picks the smallest version for the data and error level, uses byte mode, and adds
no quiet zone: the ticket layout leaves white space around the symbol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# ESC/POS error correction parameter (48 + n) -> segno level.
ERROR_LEVELS = {0: "l", 1: "m", 2: "q", 3: "h"}


def qr_image(data: bytes, module_dots: int, error_level: int = 1) -> Image.Image:
    """A mode "1" image (0 = ink) of the QR symbol for ``data`` with square modules of ``module_dots``."""
    import segno
    from PIL import Image

    symbol = segno.make_qr(data, error=ERROR_LEVELS[error_level], mode="byte", boost_error=False)
    rows = list(symbol.matrix_iter(scale=1, border=0))
    size = len(rows)
    pixels = bytes(0 if dark else 255 for row in rows for dark in row)
    modules = Image.frombytes("L", (size, size), pixels)
    scaled = modules.resize((size * module_dots, size * module_dots), Image.Resampling.NEAREST)
    return scaled.convert("1", dither=Image.Dither.NONE)

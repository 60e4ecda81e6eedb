"""Regenerates the golden ticket PNGs on purpose: `python -m tests.hardware.regenerate_golden`.

Run it after an intended layout change, look at every PNG it wrote, and commit them together with the
change. versions.json records what drew them (Pillow, FreeType, font files): when a machine differs,
the golden test allows a small share of differing pixels instead of demanding identity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

from madoguchi.hardware.ticket import TicketContent

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
JST = dt.timezone(dt.timedelta(hours=9))
ISSUED = dt.datetime(2026, 4, 6, 9, 41, tzinfo=JST)


def _japanese() -> TicketContent:
    return TicketContent(
        site_name="熊本市 中央区役所",
        display_number="312",
        band_label="ワンストップ窓口",
        procedure_labels=["転入届", "国民健康保険 加入", "児童手当 認定請求", "子ども医療費助成",
                          "小・中学校の転入学（就学通知書の交付を含む長い名前の手続き）"],
        issued_at=ISSUED,
        estimate_low_min=15,
        estimate_high_min=25,
        status_url="https://madoguchi.example.jp/t/Zk3pQ8wVtY2mN7rB",
        notes=["番号が呼ばれたら表示の窓口へお越しください。",
               "お子さまの手続きもこの番号で続けて受けられます。"],
        language="ja",
    )


def _vietnamese() -> TicketContent:
    return TicketContent(
        site_name="熊本市 東区役所",
        display_number="1704",
        band_label="おくやみ窓口",
        procedure_labels=["死亡届の後の手続き"],
        issued_at=ISSUED,
        estimate_low_min=None,
        estimate_high_min=None,
        status_url="https://madoguchi.example.jp/t/Vn0aB1cD2eF3gH4i",
        notes=["Khi số của bạn được gọi, vui lòng đến quầy hiển thị trên màn hình."],
        language="vi",
    )


CASES: dict[str, tuple[TicketContent, int]] = {
    "ticket-ja-576": (_japanese(), 576),
    "ticket-ja-512": (_japanese(), 512),
    "ticket-ja-384": (_japanese(), 384),
    "ticket-vi-576": (_vietnamese(), 576),
}


def environment() -> dict[str, str]:
    """What the rendering depends on besides our code."""
    from PIL import Image, features

    from madoguchi.hardware.fonts import find_font

    fonts = {}
    for script in ("ja", "latin"):
        for weight in ("regular", "bold"):
            path = find_font(script, weight).path  # type: ignore[arg-type]
            fonts[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return {"pillow": Image.__version__, "freetype": str(features.version("freetype2")),
            "raqm": str(features.version("raqm")), **fonts}


def render_case(name: str):  # type: ignore[no-untyped-def]
    from madoguchi.hardware.ticket_render import render_ticket

    content, width = CASES[name]
    return render_ticket(content, width).preview()


def main() -> int:
    GOLDEN_DIR.mkdir(exist_ok=True)
    for name in CASES:
        path = GOLDEN_DIR / f"{name}.png"
        render_case(name).save(path)
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    (GOLDEN_DIR / "versions.json").write_text(json.dumps(environment(), indent=2) + "\n", encoding="utf-8")
    print("now look at each PNG before committing them")
    return 0


if __name__ == "__main__":
    sys.exit(main())

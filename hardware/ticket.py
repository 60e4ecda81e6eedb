"""What a printed ticket says: a small model the server fills in, free of queue logic and personal data.

The printer driver only renders and prints it. Every label arrives already translated and resolved
(site name, band label, procedure labels); the driver adds no text of its own beyond fixed Japanese
headings, so the server stays the one place that knows the catalog and the resident's language.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TicketContent(BaseModel):
    """One numbered ticket for a whole visit. Never carries a name, address, birth date or token other
    than the public status URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_name: str = Field(min_length=1, max_length=40)
    """Printed at the top, e.g. "熊本市 中央区役所"."""
    display_number: str = Field(min_length=1, max_length=8)
    """The number as called out and shown on the displays, e.g. "312"."""
    band_label: str = Field(min_length=1, max_length=30)
    """The 番号帯 label, e.g. "ワンストップ窓口"."""
    procedure_labels: list[str] = Field(default_factory=list, max_length=12)
    """The procedures of the visit in the order they will be served."""
    issued_at: dt.datetime
    """When the number was issued (timezone-aware; printed in the site's local time as given)."""
    estimate_low_min: int | None = Field(default=None, ge=0)
    estimate_high_min: int | None = Field(default=None, ge=0)
    """Estimated wait, 80% interval in minutes; both None when there is no estimate yet."""
    status_url: str = Field(min_length=1, max_length=300)
    """Public status page for the resident's phone, printed as a QR code. Plain ASCII."""
    notes: list[str] = Field(default_factory=list, max_length=6)
    """Short notes in the resident's language (already translated)."""
    language: str = Field(default="ja", pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    """BCP 47 language code of the notes, used to choose a font that has the script."""

    @field_validator("status_url")
    @classmethod
    def _ascii_url(cls, value: str) -> str:
        if not value.isascii() or any(ch.isspace() for ch in value):
            raise ValueError("status_url must be plain ASCII without spaces (it becomes a QR code)")
        return value

    @field_validator("estimate_high_min")
    @classmethod
    def _ordered_estimate(cls, high: int | None, info) -> int | None:  # type: ignore[no-untyped-def]
        low = info.data.get("estimate_low_min")
        if high is not None and low is not None and high < low:
            raise ValueError("estimate_high_min must be >= estimate_low_min")
        return high


def sample_ticket(now: dt.datetime | None = None) -> TicketContent:
    """The ticket `madoguchi hardware print-test` prints: realistic Japanese text, no real resident."""
    issued = now or dt.datetime.now(dt.timezone(dt.timedelta(hours=9)))
    return TicketContent(
        site_name="熊本市 中央区役所",
        display_number="312",
        band_label="ワンストップ窓口",
        procedure_labels=["転入届", "国民健康保険 加入", "児童手当 認定請求", "子ども医療費助成"],
        issued_at=issued,
        estimate_low_min=15,
        estimate_high_min=25,
        status_url="https://madoguchi.example.jp/t/print-test-0001",
        notes=["番号が呼ばれたら表示の窓口へお越しください。", "これは印刷テストです。"],
        language="ja",
    )

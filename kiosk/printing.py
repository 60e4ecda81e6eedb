"""The one mapping from the server's ticket answer to the printed ticket (hardware ``TicketContent``).

Used by the kiosk and by ``madoguchi demo``. What staff read on the ticket — site, band, procedures,
times — is printed in Japanese from the catalog (the ticket renderer draws those parts with the
Japanese font); the notes for the resident are in the resident's language, in that language's font.
"""

from __future__ import annotations

from collections.abc import Mapping

from madoguchi.common.i18n import message
from madoguchi.hardware.ticket import TicketContent
from madoguchi.kiosk.models import Catalog, Ticket

NOTE_KEYS = ("ticket_note_wait", "ticket_note_keep")
MAX_PROCEDURES = 12


def ticket_content(ticket: Ticket | Mapping[str, object], catalog: Catalog | Mapping[str, object],
                   language: str) -> TicketContent:
    """The printed ticket for ``ticket`` (a POST /tickets answer), notes in ``language``."""
    ticket = ticket if isinstance(ticket, Ticket) else Ticket.model_validate(ticket)
    catalog = catalog if isinstance(catalog, Catalog) else Catalog.model_validate(catalog)
    band = catalog.band(ticket.band)
    labels = []
    for step in ticket.plan[:MAX_PROCEDURES]:
        procedure = catalog.procedure(step.procedure)
        labels.append(procedure.label.get("ja", step.label) if procedure else step.label)
    return TicketContent(
        site_name=catalog.site_label.get("ja") or catalog.site,
        display_number=ticket.display_number,
        band_label=band.label.get("ja", band.id) if band else ticket.band,
        procedure_labels=labels,
        issued_at=ticket.issued_at,
        estimate_low_min=ticket.estimate.low,
        estimate_high_min=ticket.estimate.high,
        status_url=ticket.status_url,
        notes=[message("kiosk", key, language) for key in NOTE_KEYS],
        language=language,
    )

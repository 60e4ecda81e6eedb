"""書かない窓口: the 住民異動届 (転入, 転居, 転出) pre-filled from the card, completed, printed and handed off.

- ``GET /staff/counter/form``: the form page of the counter's session. The server renders no card data
  into it: the page's script reads the card through ``GET /api/v1/counters/{id}/card`` (audit-logged),
  as the console does, and empties the form when the visit is no longer served here.
- ``GET /staff/counter/form/state``: the visit it is for (number, kind of move, today), no card data.
- ``POST /staff/counters/{id}/juminido/form``: the confirmed form (JSON, CSRF header, typed and bounded),
  kept only sealed with the visit's own data key beside its card data (``CardVault.seal_handoff``),
  so it is erased with it when the visit ends, at day end, and never goes into a backup.
- ``GET /staff/counters/{id}/juminido/form``: the confirmed form shown back (until it is handed off).
- ``GET /staff/counters/{id}/juminido/handoff``: the hand-off file for the city's core-system input
  (JSON, UTF-8), once; the sealed form is then dropped and a second download is 410. Audit-logged
  (who, when, which visit), never its content.

Which procedures are 住民異動届 is configuration: ``juminido = "tennyu" | "tenkyo" | "tenshutsu"`` on a
procedure of ``config/catalog.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from madoguchi.common.i18n import message
from madoguchi.server.api import present
from madoguchi.server.api.security import COUNTER, SESSION_COOKIE
from madoguchi.server.core.catalog import text_in
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Ticket, TicketStatus
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import Principal
from madoguchi.server.storage.audit import CardRead, record_card_read
from madoguchi.server.web import staff

log = logging.getLogger(__name__)
router = APIRouter(prefix="/staff", include_in_schema=False)

FORMAT = "madoguchi-juminido-1"
MAX_BODY_BYTES = 8 * 1024
Kind = Literal["tennyu", "tenkyo", "tenshutsu"]
Text = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""One line of text: no control characters (a form field, not a document)."""


class Handoff(BaseModel):
    """The confirmed 住民異動届: the fields of the city's form, in its order."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ticket_id: str = Field(min_length=1, max_length=64)
    notified_on: dt.date
    moved_on: dt.date
    kind: Kind
    new_address: Annotated[Text, Field(min_length=1)]
    old_address: Annotated[Text, Field(min_length=1)]
    previous_municipality: Annotated[Text, Field(max_length=100)] = ""
    household_head: Annotated[Text, Field(min_length=1, max_length=100)]
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    furigana: Annotated[Text, Field(max_length=100)] = ""
    birth_date: dt.date
    sex: Literal["1", "2", "9"]
    relation: Annotated[Text, Field(min_length=1, max_length=30)]
    honseki: Text = ""
    notifier: Literal["self", "proxy"]
    notifier_name: Annotated[Text, Field(max_length=100)] = ""
    phone: Annotated[str, Field(max_length=20, pattern=r"^[0-9+\-() ]*$")] = ""

    @model_validator(mode="after")
    def _proxy_named(self) -> Handoff:
        if self.notifier == "proxy" and not self.notifier_name:
            raise ValueError("notifier_name")
        return self


FIELDS = [name for name in Handoff.model_fields if name != "ticket_id"]
"""The form's fields in the order of the city's form (also the order of the hand-off file)."""
CODED = {"kind": "jd_kind_", "sex": "sex_", "notifier": "jd_notifier_"}
"""Fields whose value is a code: the hand-off file gives its Japanese word beside it."""
PAGE_STRINGS = ("jd_none", "jd_ended", "jd_confirmed", "jd_taken",
                "error_generic", "live_on", "live_off", "jd_for_visit",
                *(f"jd_{f}" for f in FIELDS), "jd_kind_tennyu", "jd_kind_tenkyo", "jd_kind_tenshutsu",
                "jd_notifier_self", "jd_notifier_proxy", "jd_self_head_relation", "jd_date", "jd_sheet_number",
                "sex_1", "sex_2", "sex_9")


def kinds(services: Services) -> dict[str, str]:
    """Procedure id → kind of 住民異動届, from the catalog (``juminido = …``)."""
    return {p.id: p.juminido for p in services.site.catalog_config.procedures if p.juminido}


def form_kind(services: Services, ticket: Ticket) -> str | None:
    """The kind of 住民異動届 the visit's current step is, or None."""
    return kinds(services).get(ticket.procedure)


def _counter_session(request: Request) -> Principal | Response:
    who = staff.signed_in_as(request, COUNTER, "counter_session_required", answer="action", at_counter=True)
    if isinstance(who, Response):
        return who
    return who


def _served(office: Office, services: Services, counter_id: str) -> Ticket | None:
    """The visit this counter is serving now, when it has card data and is a 住民異動届."""
    ticket = office.ticket_at(office.counter(counter_id))
    if ticket is None or not present.served_here(ticket, counter_id) or ticket.status is not TicketStatus.SERVING:
        return None
    return ticket if form_kind(services, ticket) else None


@router.get("/counter/form", response_class=HTMLResponse)
def form_page(request: Request) -> Response:
    who = staff.signed_in_as(request, COUNTER, "counter_session_required", answer="page", at_counter=True)
    if isinstance(who, Response):
        return who
    lang = staff.language(request)
    strings = {key: message("staff", key, lang) for key in PAGE_STRINGS}
    site_name = text_in(staff.services_of(request).site.config.name, lang)
    return staff.page(request, "staff_juminido.html", lang, {"site_name": site_name,
        "principal": who, "counter_id": who.counter, "csrf": staff.csrf_token(request, request.cookies[SESSION_COOKIE]),
        "fields": FIELDS, "strings": staff.script_json(strings)})


@router.get("/counter/form/state")
def form_state(request: Request) -> Response:
    """The visit the form is for (no card data): its id and number, the kind of move, today, and whether
    a hand-off was confirmed or already downloaded."""
    who = _counter_session(request)
    if isinstance(who, Response):
        return who
    counter_id = who.counter
    assert counter_id is not None
    services = staff.services_of(request)

    def query(office: Office, now: dt.datetime) -> dict[str, Any]:
        ticket = _served(office, services, counter_id)
        if ticket is None:
            return {"visit": None}
        return {"visit": {"id": ticket.id, "display_number": ticket.display_number,
                          "kind": form_kind(services, ticket), "today": ticket.service_day.isoformat(),
                          "handoff": services.vault.handoff_state(services.store.conn, ticket.id) or "none"}}

    return JSONResponse(services.read(query), headers=staff.HEADERS)


def _invalid(request: Request, error: ValidationError) -> Response:
    """422 naming the field in words; never the value (it is personal data)."""
    lang = staff.language(request)
    first = error.errors()[0]  # its input is looked at (empty?), never sent back
    field = str(first["loc"][0]) if first["loc"] else str(first.get("msg", "")).removeprefix("Value error, ")
    label = message("staff", f"jd_{field}", lang) if field in FIELDS else field
    kind = first["type"]
    if kind == "missing" or first.get("input") == "" or field == "notifier_name":
        key = "jd_error_required"
    elif kind == "string_too_long":
        key = "jd_error_too_long"
    else:
        key = "jd_error_invalid"
    limit = first.get("ctx", {}).get("max_length", "")
    return JSONResponse({"code": "form_field_invalid", "field": field,
                         "detail": message("staff", key, lang, field=label, max=limit)},
                        status_code=422, headers=staff.HEADERS)


@router.post("/counters/{counter_id}/juminido/form")
async def confirm(request: Request, counter_id: str) -> Response:
    """The confirmed form, for the counter serving the visit only; kept sealed until downloaded."""
    if not staff.csrf_ok(request, request.headers.get(staff.CSRF_HEADER), request.cookies.get(SESSION_COOKIE)):
        return staff.refused(request, "csrf_refused", 403)
    who = _counter_session(request)
    if isinstance(who, Response):
        return who
    if who.counter != counter_id:
        return staff.refused(request, "counter_not_yours", 403)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return staff.refused(request, "form_too_large", 422)
    try:
        form = Handoff.model_validate_json(body)
    except ValidationError as exc:
        return _invalid(request, exc)
    services = staff.services_of(request)

    def command(office: Office, now: dt.datetime) -> str | None:
        ticket = _served(office, services, counter_id)
        if ticket is None or ticket.id != form.ticket_id:
            return None
        record = {"fields": form.model_dump(mode="json", exclude={"ticket_id"}), "confirmed_at": now.isoformat(),
                  "confirmed_by": who.name, "display_number": ticket.display_number}
        return services.vault.seal_handoff(services.store.conn, ticket.id, record)

    before = services.read(command)
    if before is None:
        return staff.refused(request, "form_not_here", 409)
    if before == "taken":
        return staff.refused(request, "jd_taken", 409)
    log.info("住民異動届 of visit %s confirmed by %s at counter %s", form.ticket_id, who.name, counter_id)
    return JSONResponse({"state": "confirmed",
                         "download": f"/staff/counters/{counter_id}/juminido/handoff"}, headers=staff.HEADERS)


@router.get("/counters/{counter_id}/juminido/form")
def confirmed(request: Request, counter_id: str) -> Response:
    """The confirmed form shown back (DESIGN §8) to the counter serving the visit, until it is handed off;
    audit-logged like a card read (``kind`` ``form``)."""
    who = _counter_session(request)
    if isinstance(who, Response):
        return who
    if who.counter != counter_id:
        return staff.refused(request, "counter_not_yours", 403)
    services = staff.services_of(request)

    def query(office: Office, now: dt.datetime) -> tuple[str, dict[str, Any]] | None:
        ticket = _served(office, services, counter_id)
        record = services.vault.read_handoff(services.store.conn, ticket.id) if ticket else None
        if ticket is None or record is None:
            return None
        record_card_read(services.store.conn, CardRead(now, who.name, counter_id, ticket.id, "form"))
        return ticket.id, record

    found = services.read(query)
    if found is None:
        return staff.refused(request, "jd_none_confirmed", 404)
    return JSONResponse({"ticket_id": found[0], "fields": found[1]["fields"]}, headers=staff.HEADERS)


@router.get("/counters/{counter_id}/juminido/handoff")
def download(request: Request, counter_id: str) -> Response:
    """The hand-off file, once (410 afterwards), for the counter serving the visit only."""
    who = _counter_session(request)
    if isinstance(who, Response):
        return who
    if who.counter != counter_id:
        return staff.refused(request, "counter_not_yours", 403)
    services = staff.services_of(request)

    def command(office: Office, now: dt.datetime) -> tuple[str, dict[str, Any] | None, Ticket | None, dt.datetime]:
        ticket = _served(office, services, counter_id)
        if ticket is None:
            return "missing", None, None, now
        state, record = services.vault.take_handoff(services.store.conn, ticket.id)
        if state == "confirmed":  # the audit row is on disk before the file leaves
            record_card_read(services.store.conn, CardRead(now, who.name, counter_id, ticket.id, "handoff"))
        return state, record, ticket, now

    state, record, ticket, now = services.read(command)
    if state == "taken":
        return staff.refused(request, "jd_gone", 410)
    if record is None or ticket is None:
        return staff.refused(request, "jd_none_confirmed" if state == "none" else "form_not_here", 404)
    log.info("hand-off of the 住民異動届 of visit %s downloaded by %s at counter %s", ticket.id, who.name, counter_id)
    return Response(json.dumps(handoff_file(services, counter_id, record, now), ensure_ascii=False, indent=2),
                    media_type="application/json; charset=utf-8", headers={**staff.HEADERS, "Content-Disposition":
                    f'attachment; filename="juminido-{ticket.display_number}-{ticket.service_day}.json"'})


def handoff_file(services: Services, counter_id: str, record: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The hand-off: each field with its key, the form's Japanese label, its value (and a code's word)."""
    fields = record["fields"]
    rows = []
    for key in FIELDS:
        row: dict[str, Any] = {"key": key, "label": message("staff", f"jd_{key}", "ja"), "value": fields.get(key, "")}
        if key in CODED:
            row["text"] = message("staff", CODED[key] + str(fields.get(key)), "ja")
        rows.append(row)
    return {"format": FORMAT, "form": "住民異動届", "site": services.site.config.id, "counter": counter_id,
            "display_number": record.get("display_number"), "confirmed_at": record.get("confirmed_at"),
            "confirmed_by": record.get("confirmed_by"), "downloaded_at": now.isoformat(), "fields": rows}

"""Rules of issuing a ticket: what the visit is, which band, which number, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import guidance
from .catalog import Band, Catalog
from .errors import invalid, unavailable
from .site import SiteRules
from .ticket import Priority


@dataclass(frozen=True)
class IssueRequest:
    life_event: str | None = None
    procedures: tuple[str, ...] | None = None
    answers: Mapping[str, object] = field(default_factory=dict)
    language: str = "ja"
    priority: frozenset[Priority] = frozenset()
    has_card: bool = False
    manual: bool = False


def plan(catalog: Catalog, bands: Mapping[str, Band], request: IssueRequest,
         day: dt.date) -> tuple[Band, list[str]]:
    """The band and the ordered procedures of the visit the request describes."""
    if (request.life_event is None) == (request.procedures is None):
        raise invalid("life_event_xor_procedures")
    if request.life_event is not None:
        event = guidance.life_event_for(catalog, request.life_event, day)
        answers = guidance.parse_answers(catalog, event, request.answers)
        steps = guidance.plan_for(catalog, event, answers, day)
        band_id = event.band
    else:
        assert request.procedures is not None
        guidance.parse_answers(catalog, None, request.answers)
        steps = procedure_plan(catalog, request.procedures, day)
        band_id = catalog.procedures[steps[0]].band
    if not steps:
        raise invalid("empty_plan")
    band = bands.get(band_id)
    if band is None:
        raise unavailable("band_not_at_site", band=band_id)
    return band, steps


def procedure_plan(catalog: Catalog, procedures: tuple[str, ...], day: dt.date) -> list[str]:
    if not procedures:
        raise invalid("no_procedures")
    for pid in procedures:
        procedure = catalog.procedures.get(pid)
        if procedure is None:
            offered = [p.id for p in catalog.procedures.values() if guidance.available(p.available_from, day)]
            raise invalid("unknown_procedure", procedure=pid, procedures=offered)
        if not guidance.available(procedure.available_from, day):
            raise invalid("procedure_not_yet_available", procedure=pid,
                          available_from=str(procedure.available_from))
    bands = {catalog.procedures[p].band for p in procedures}
    if len(bands) > 1:
        raise invalid("procedures_in_different_bands", bands=sorted(bands))
    return catalog.plan_order(set(procedures))


def check_reception(site: SiteRules, now: dt.datetime) -> None:
    """Refuse tickets before the site's service starts and outside reception hours."""
    if site.service_from and now.date() < site.service_from:
        raise unavailable("site_not_open_yet", site=site.id, service_from=str(site.service_from))
    if not site.opens_at <= now.time() < site.closes_at:
        raise unavailable("outside_reception_hours", opens=site.opens_at.strftime("%H:%M"),
                          closes=site.closes_at.strftime("%H:%M"))


def next_number(band: Band, last: int | None, taken: set[int]) -> int:
    """The band's next number after ``last``, wrapping, skipping numbers still open.

    A band whose whole range is open refuses: a number is never issued twice while open.
    """
    previous = band.lo - 1 if last is None else last
    for offset in range(1, band.size + 1):
        number = band.lo + (previous - band.lo + offset) % band.size
        if number not in taken:
            return number
    raise unavailable("band_full", band=band.id, size=band.size)

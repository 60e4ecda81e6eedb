"""A site's configuration checked against the catalog and turned into core objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from madoguchi.server.config.schema import (
    CatalogConfig,
    ConfigError,
    CounterConfig,
    SiteConfig,
    load_catalog,
    load_site,
    site_ids,
)
from madoguchi.server.core.catalog import Band, Catalog, LifeEvent, Option, Procedure, Question, QuestionType, Rule
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.site import CounterSpec, PolicyRules, SiteRules


@dataclass(frozen=True)
class LoadedSite:
    config: SiteConfig
    catalog_config: CatalogConfig
    rules: SiteRules
    catalog: Catalog


def catalog_from(config: CatalogConfig) -> Catalog:
    procedures = {
        p.id: Procedure(p.id, p.label, p.band, p.department, p.handling_min, tuple(p.bring), p.simple,
                        p.available_from, p.sensitive)
        for p in config.procedures
    }
    questions = {
        q.id: Question(q.id, QuestionType(q.type), q.label, tuple(Option(o.id, o.label) for o in q.options))
        for q in config.questions
    }
    events = {
        e.id: LifeEvent(
            e.id, e.label, e.band, tuple(e.questions), tuple(e.always),
            tuple(Rule(r.procedure, r.member_age,
                       {k: tuple(v) if isinstance(v, list) else (v,) for k, v in r.answers.items()})
                  for r in e.rules),
            e.available_from,
        )
        for e in config.life_events
    }
    return Catalog(procedures, questions, events, config.departments)


def counter_label(catalog: CatalogConfig, counter: CounterConfig) -> dict[str, str]:
    if counter.label:
        return dict(counter.label)
    return {lang: template.format(n=counter.number) for lang, template in catalog.counter_label.items()}


def site_rules_from(site: SiteConfig, catalog: CatalogConfig) -> SiteRules:
    return SiteRules(
        id=site.id,
        label=site.name,
        bands=tuple(Band(b.id, b.label, b.range[0], b.range[1], b.target_wait_min) for b in site.bands),
        counters=tuple(
            CounterSpec(c.id, counter_label(catalog, c), c.department, tuple(c.skills), CounterState(c.state))
            for c in site.counters
        ),
        opens_at=site.hours.open,
        closes_at=site.hours.close,
        service_from=site.service_from,
        policy=PolicyRules(priority_credit_min=site.policy.priority_credit_min, walk_min=site.policy.walk_min,
                           aging_factor=site.policy.aging_factor),
    )


def cross_problems(site: SiteConfig, catalog: CatalogConfig) -> Iterator[str]:
    """What is wrong between a site file and the catalog, naming the site, band or counter."""
    name = f"sites/{site.id}.toml"
    bands = {b.id for b in site.bands}
    procedures = {p.id: p for p in catalog.procedures}
    for c in site.counters:
        if c.department not in catalog.departments:
            yield f"{name}: counter '{c.id}' has department '{c.department}' which is not in catalog departments"
        for skill in c.skills:
            if skill in bands:
                continue
            if skill not in procedures:
                yield (f"{name}: counter '{c.id}' has skill '{skill}' "
                       "which is neither a band of the site nor a procedure")
    def served(band: str, procedure: str) -> bool:
        return any(band in c.skills or procedure in c.skills for c in site.counters)

    for e in catalog.life_events:
        for pid in dict.fromkeys([*e.always, *(r.procedure for r in e.rules)]):
            if e.band in bands and not served(e.band, pid):
                yield f"{name}: life event '{e.id}' needs '{pid}' but no counter serves it in band '{e.band}'"
    for p in catalog.procedures:
        if p.simple and p.band in bands and not served(p.band, p.id):
            yield f"{name}: simple procedure '{p.id}' has no counter that serves it"
    for e in catalog.life_events:
        if e.band not in bands:
            yield f"{name}: life event '{e.id}' issues in band '{e.band}' which the site does not have"
    for p in catalog.procedures:
        if p.simple and p.band not in bands:
            yield f"{name}: simple procedure '{p.id}' is in band '{p.band}' which the site does not have"
    life_events = {e.id for e in catalog.life_events}
    for event in site.kpi_targets.stay_min:
        if event not in life_events:
            yield f"{name}: kpi_targets.stay_min: '{event}' is not a life event of the catalog"
    for c in site.counters:
        for skill in c.skills:
            procedure = procedures.get(skill)
            if procedure is not None and procedure.band not in bands:
                yield (f"{name}: counter '{c.id}' has skill '{skill}' but no band serves it "
                       f"(band '{procedure.band}' is missing)")


def load(config_dir: Path, site_id: str) -> LoadedSite:
    catalog = load_catalog(config_dir)
    site = load_site(config_dir, site_id)
    problems = list(cross_problems(site, catalog))
    if problems:
        raise ConfigError(problems)
    return LoadedSite(site, catalog, site_rules_from(site, catalog), catalog_from(catalog))


def check_config(config_dir: Path) -> list[str]:
    """Every problem of every file, one line each (empty when all is well)."""
    problems: list[str] = []
    try:
        catalog = load_catalog(config_dir)
    except ConfigError as exc:
        return exc.problems
    ids = site_ids(config_dir)
    if not ids:
        problems.append("sites/: no site files")
    for site_id in ids:
        try:
            site = load_site(config_dir, site_id)
        except ConfigError as exc:
            problems += exc.problems
            continue
        problems += cross_problems(site, catalog)
    return problems

"""Lunch rotation keeps every pool of counters open; the outage takes one counter away for an hour."""

from __future__ import annotations

import random

import pytest

from madoguchi.server.config.schema import ConfigError, default_config_dir
from madoguchi.server.simulate.scenario import load_scenario, scenario_ids
from madoguchi.server.simulate.staffing import staff_plan
from tests.factories import chuo


def test_lunch_is_staggered_so_no_pool_of_counters_is_ever_empty():
    site = chuo()
    scenario = load_scenario(default_config_dir(), "ordinary")
    plan = staff_plan(scenario, site.rules, random.Random(1))
    lunches = [b for b in plan.breaks if b[3] == "lunch"]
    assert lunches
    pools: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for spec in site.rules.counters:
        pools.setdefault((spec.department, tuple(sorted(spec.skills))), []).append(spec.id)
    for minute in range(11 * 60, 14 * 60):
        away = {cid for cid, start, end, _ in lunches if start <= minute < end}
        for members in pools.values():
            assert set(members) - away, f"pool {members} empty at {minute // 60}:{minute % 60:02d}"


def test_one_counter_goes_down_for_an_hour_within_the_window():
    site = chuo()
    scenario = load_scenario(default_config_dir(), "ordinary")
    for seed in range(20):
        outages = [b for b in staff_plan(scenario, site.rules, random.Random(seed)).breaks if b[3] == "outage"]
        assert len(outages) == 1
        cid, start, end, _ = outages[0]
        assert cid in scenario.outage.counters
        assert end - start == scenario.outage.duration_min
        assert 10 * 60 <= start <= 15 * 60


def test_every_shipped_scenario_loads_and_names_real_streams():
    site = chuo()
    names = scenario_ids(default_config_dir())
    assert {"ordinary", "peak", "monday_after_holiday", "rainy"} <= set(names)
    for name in names:
        scenario = load_scenario(default_config_dir(), name)
        stream_ids = {s.id for s in scenario.streams}
        assert set(scenario.stream_volume) <= stream_ids, name
        for stream in scenario.streams:
            assert stream.life_event is None or stream.life_event in site.catalog.life_events
            assert all(p in site.catalog.procedures for p in stream.procedures or ())
        assert set(scenario.outage.counters) <= {c.id for c in site.rules.counters}


def test_a_scenario_that_scales_a_missing_stream_is_refused_with_the_file_and_key(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "typo.toml").write_text(
        'base = "ordinary"\nname = "typo"\n[stream_volume]\ntenyu = 2.0\n', encoding="utf-8")
    for shipped in ("ordinary",):
        source = default_config_dir() / "scenarios" / f"{shipped}.toml"
        (tmp_path / "scenarios" / f"{shipped}.toml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_scenario(tmp_path, "typo")
    assert err.value.problems[0].startswith("scenarios/typo.toml:")
    assert "tenyu" in err.value.problems[0]

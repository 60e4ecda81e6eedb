"""Configuration files: the shipped ones pass, a clerk's mistakes get one clear line each."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from madoguchi.server.config.docs import render
from madoguchi.server.config.loading import check_config, load
from madoguchi.server.config.schema import default_config_dir, site_ids


@pytest.fixture
def config(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(default_config_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check(config_dir) -> list[str]:
    return check_config(config_dir)


def test_the_shipped_configuration_has_all_thirteen_sites_and_no_problem():
    assert check(default_config_dir()) == []
    ids = site_ids(default_config_dir())
    assert len(ids) == 13 and {"chuo", "higashi", "nishi", "minami", "kita"} <= set(ids)
    waves = {sid: load(default_config_dir(), sid).config.wave for sid in ids}
    assert sorted(sid for sid, wave in waves.items() if wave == 1) == ["chuo", "higashi", "kita", "minami", "nishi"]
    assert all(load(default_config_dir(), sid).config.service_from.year == 2027 for sid, w in waves.items() if w == 2)


def test_an_inverted_band_range_names_file_key_and_problem(config):
    edit(config / "sites" / "chuo.toml", "range = [701, 799]", "range = [799, 701]")
    assert check(config) == ["sites/chuo.toml: bands.2.range: 799-701: end must be ≥ start"]


def test_a_typo_in_a_key_is_an_error_not_silence(config):
    edit(config / "sites" / "nishi.toml", "target_wait_min = 30", "target_wait_mins = 30")
    problems = check(config)
    assert "sites/nishi.toml: bands.1.target_wait_mins: Extra inputs are not permitted" in problems
    assert "sites/nishi.toml: bands.1.target_wait_min: Field required" in problems


def test_a_counter_skill_nothing_serves_is_named(config):
    edit(config / "sites" / "kita.toml", 'skills = ["simple"]', 'skills = ["tennyu"]')
    assert check(config) == ["sites/kita.toml: counter 'c1' has skill 'tennyu' which is neither a band of the "
                             "site nor a procedure"]


def test_a_procedure_nobody_serves_is_named(config):
    path = config / "sites" / "minami.toml"
    text = path.read_text(encoding="utf-8").replace('skills = ["okuyami"]', 'skills = ["onestop"]')
    path.write_text(text, encoding="utf-8")
    problems = check(config)
    assert "sites/minami.toml: life event 'okuyami' needs 'okuyami_annai' but no counter serves it in band " \
        "'okuyami'" in problems
    assert not any("kaigo_soushitsu" in p for p in problems), "福祉課 counters still serve that step"


def test_overlapping_bands_and_broken_toml(config):
    edit(config / "sites" / "chuo.toml", "range = [301, 699]", "range = [250, 699]")
    edit(config / "sites" / "kita.toml", 'id = "kita"', 'id = "kita')
    problems = check(config)
    assert "sites/chuo.toml: bands 'simple' and 'onestop' overlap (1-299, 250-699)" in problems, problems
    assert any(p.startswith("sites/kita.toml: not valid TOML:") for p in problems), problems


def test_catalog_rule_reading_an_unknown_answer(config):
    marker = '\n]\n\n[[life_events]]\nid = "tenkyo"'
    edit(config / "catalog.toml", '{ procedure = "inu", answers = { dog = true } },' + marker,
         '{ procedure = "inu", answers = { cat = true } },' + marker)
    problems = check(config)
    assert problems == ["catalog.toml: life event 'tennyu': a rule for 'inu' reads answer 'cat' it never asks"]


def test_check_config_command_prints_one_line_per_problem_and_no_traceback(config):
    edit(config / "sites" / "chuo.toml", "range = [701, 799]", "range = [799, 701]")
    bad = subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", "check-config", "--config-dir",
                          str(config)],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stdout.strip() == "sites/chuo.toml: bands.2.range: 799-701: end must be ≥ start"
    assert "Traceback" not in bad.stderr
    good = subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", "check-config"], capture_output=True,
                          text=True)
    assert good.returncode == 0 and "13 sites" in good.stdout


def test_serve_refuses_to_start_on_a_bad_configuration(config, tmp_path):
    edit(config / "sites" / "chuo.toml", "range = [701, 799]", "range = [799, 701]")
    run = subprocess.run([sys.executable, "-m", "madoguchi.server.cli.main", "serve", "--config-dir", str(config),
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "799-701: end must be ≥ start" in run.stderr and "Traceback" not in run.stderr


def test_docs_config_md_is_generated_from_the_models():
    page = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    assert page.read_text(encoding="utf-8") == render(), "run: python -m madoguchi.server.config.docs"


def test_stay_targets_name_a_life_event_of_the_catalog_and_a_positive_target(config):
    assert load(config, "chuo").config.kpi_targets.stay_min["tennyu"].model_dump() == {"target": 79, "baseline": 129}
    edit(config / "sites" / "chuo.toml", "tennyu = { baseline = 129, target = 79 }",
         "tenyu = { baseline = 129, target = 79 }")
    assert check(config) == ["sites/chuo.toml: kpi_targets.stay_min: 'tenyu' is not a life event of the catalog"]
    edit(config / "sites" / "chuo.toml", "tenyu = { baseline = 129, target = 79 }", "tennyu = { target = 0 }")
    assert check(config) == ["sites/chuo.toml: kpi_targets.stay_min.tennyu.target: 0: "
                             "Input should be greater than 0"]

"""`madoguchi simulate` as a person runs it: a report with tables and plots, or one line of error."""

from __future__ import annotations

from madoguchi.server.cli.main import main


def test_simulate_writes_a_report_with_tables_and_plots(tmp_path, capsys):
    status = main(["simulate", "--site", "chuo", "--scenario", "rainy", "--days", "1", "--seed", "4",
                   "--policy", "both", "--out", str(tmp_path)])
    assert status == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for heading in ("Stay time", "The ladder", "The project ÷ today", "Waits per band", "Estimate accuracy",
                    "unserved at close", "site-days / min"):
        assert heading in report
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["rainy-estimate-error.png", "rainy-stay-by-hour.png", "rainy-stay-split.png",
                    "rainy-wait-by-hour.png"]
    assert all((tmp_path / p).stat().st_size > 10_000 for p in pngs)
    out = capsys.readouterr().out
    assert "guided:" in out and "today:" in out and "report:" in out


def test_an_unknown_scenario_is_one_line_naming_the_known_ones(tmp_path, capsys):
    status = main(["simulate", "--scenario", "typhoon", "--out", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "typhoon" in err and "ordinary" in err and "Traceback" not in err


def test_a_scenario_for_another_site_is_refused(tmp_path, capsys):
    assert main(["simulate", "--site", "higashi", "--scenario", "ordinary", "--out", str(tmp_path)]) == 2
    assert "chuo" in capsys.readouterr().err

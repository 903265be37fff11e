"""Noise-aware verdicts: every outcome, the unfavourable one printed, and the record in metrics.json."""

from __future__ import annotations

import json
import math

import pytest

from cnncourse import claims, report
from cnncourse.claims import HOLDS, NOT_SEEN, WITHIN_NOISE, Measurement


pytestmark = pytest.mark.usefixtures("judging_profile")


def test_binomial_standard_error_of_an_accuracy():
    m = Measurement.accuracy(0.5, n=1000, label="a")
    assert m.se == pytest.approx(math.sqrt(0.25 / 1000))
    assert Measurement.accuracy(1.0, n=50).se == 0.0
    with pytest.raises(ValueError, match="lies in"):
        Measurement.accuracy(50.0, n=100)          # a percentage, not a fraction
    with pytest.raises(ValueError, match="at least one"):
        Measurement.accuracy(0.5, n=0)


def test_spread_over_seeds_is_the_standard_error_of_the_mean():
    m = Measurement.over_seeds([0.30, 0.34, 0.32])
    assert m.value == pytest.approx(0.32)
    assert m.se == pytest.approx(0.02 / math.sqrt(3))
    assert m.n == 3
    with pytest.raises(ValueError, match="at least 2"):
        Measurement.over_seeds([0.3])


def test_a_clear_gain_holds(capsys):
    v = claims.check_greater("B beats A", Measurement.accuracy(0.60, 5000, "B"), Measurement.accuracy(0.50, 5000, "A"),
                             record=False)
    assert v.outcome == HOLDS and v.holds
    assert v.difference == pytest.approx(0.10)
    assert v.margin_se > 10
    line = capsys.readouterr().out.strip()
    assert line.startswith("HOLDS") and "B beats A: +10.0 points" in line and "SE)" in line


def test_a_clear_loss_prints_not_seen(capsys):
    """The unfavourable answer is printed, not hidden: the claimed winner lost beyond noise."""
    v = claims.check_greater("fine-tuning beats training from scratch",
                             Measurement.accuracy(0.284, 10000, "fine-tuned"),
                             Measurement.accuracy(0.502, 10000, "scratch"), record=False)
    assert v.outcome == NOT_SEEN and not v.holds
    assert v.difference == pytest.approx(-0.218)
    out = capsys.readouterr().out
    assert out.startswith("NOT SEEN") and "-21.8 points" in out


def test_a_small_difference_on_few_images_is_within_noise():
    # 1,000 test images: SE of each accuracy ~1.5 points, of the difference ~2.1
    v = claims.check_greater("BN helps", Measurement.accuracy(0.379, 1000), Measurement.accuracy(0.345, 1000),
                             show=False, record=False)
    assert v.outcome == WITHIN_NOISE
    assert 0 < v.margin_se < 2
    # ... and the same difference on 100,000 images clears the noise
    v = claims.check_greater("BN helps", Measurement.accuracy(0.379, 100_000), Measurement.accuracy(0.345, 100_000),
                             show=False, record=False)
    assert v.outcome == HOLDS


def test_a_required_margin_is_part_of_the_claim():
    a, b = Measurement.accuracy(0.58, 2000), Measurement.accuracy(0.50, 2000)
    assert claims.check_greater("8 points up", a, b, show=False, record=False).outcome == HOLDS
    v = claims.check_greater("at least 10 points up", a, b, by=0.10, show=False, record=False)
    assert v.outcome == WITHIN_NOISE and v.difference == pytest.approx(-0.02)
    assert v.margin_text().startswith("+8.0 points against the +10.0 points claimed: margin -2.0 points (-1.3 SE)")
    assert claims.check_greater("at least 20 points up", a, b, by=0.20, show=False, record=False).outcome == NOT_SEEN


def test_exact_values_have_no_noise_band():
    assert claims.check_greater("x", 0.51, 0.5, show=False, record=False, unit="value").outcome == HOLDS
    assert claims.check_greater("x", 0.5, 0.5, show=False, record=False).outcome == NOT_SEEN
    assert claims.check_less("loss falls", 0.2, 0.3, show=False, record=False).outcome == HOLDS
    with pytest.raises(ValueError, match="unit"):
        claims.check_greater("x", 1, 0, unit="percent")


def test_counts_hold_at_the_bar_and_fail_below_it(capsys):
    assert claims.check_count("5 of 6 overfit", 5, 5, out_of=6, record=False).outcome == HOLDS
    assert claims.check_count("5 of 6 overfit", 4, 5, out_of=6, record=False).outcome == NOT_SEEN
    assert "NOT SEEN      5 of 6 overfit: 4 of 6 (at least 5 claimed)" in capsys.readouterr().out
    assert claims.check_count("few units", 6, at_most=10, record=False).outcome == HOLDS
    assert claims.check_count("few units", 11, at_most=10, record=False).outcome == NOT_SEEN
    with pytest.raises(ValueError, match="exactly one"):
        claims.check_count("x", 1, 1, at_most=2)


def test_a_fact_records_what_was_seen(capsys):
    v = claims.check_fact("std 0.1 reaches 90%", False, "never reached 90% in 30 epochs", record=False)
    assert v.outcome == NOT_SEEN and "never reached 90% in 30 epochs" in capsys.readouterr().out


def test_verdicts_are_recorded_in_metrics_json(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    monkeypatch.setenv(report.METRICS_ENV, str(path))
    monkeypatch.setenv(report.NOTEBOOK_ENV, "06_x")
    report.report_metric("acc", 0.5)
    claims.check_greater("A beats B", Measurement.accuracy(0.6, 1000, "A"), Measurement.accuracy(0.5, 1000, "B"),
                         show=False)
    claims.check_greater("C beats D", 0.1, 0.2, show=False)
    claims.check_greater("A beats B", Measurement.accuracy(0.5, 1000, "A"), Measurement.accuracy(0.6, 1000, "B"),
                         show=False)                      # a rerun of the same claim replaces it
    stored = json.loads(path.read_text())["06_x"]
    assert stored["metrics"] == {"acc": 0.5}
    assert [c["claim"] for c in stored["claims"]] == ["C beats D", "A beats B"]
    rerun = stored["claims"][1]
    assert rerun["outcome"] == NOT_SEEN and rerun["values"]["A"] == 0.5 and rerun["difference"] == pytest.approx(-0.1)
    assert rerun["margin_se"] < -2
    assert stored["claims"][0]["margin_se"] is None       # exact values: no SE to divide by
    lines = claims.format_claims(stored["claims"])
    assert lines[0].split()[:2] == ["NOT", "SEEN"] and "C beats D" in lines[0]
    table = claims.claims_table(stored["claims"])
    assert list(table.columns) == ["outcome", "claim", "margin"] and len(table) == 2


def test_nothing_is_written_outside_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv(report.METRICS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    claims.check_greater("x", 1, 0, show=False)
    assert list(tmp_path.iterdir()) == []


def test_a_given_spread_and_the_test_items_make_the_standard_error():
    pooled = Measurement.over_seeds([0.80], "one run", std=0.01)
    assert pooled.se == pytest.approx(0.01) and pooled.n == 1
    both = Measurement.over_seeds([0.80, 0.82], std=0.01, items=10_000)
    assert both.se == pytest.approx(math.sqrt(0.01**2 / 2 + 0.81 * 0.19 / 10_000))
    with pytest.raises(ValueError, match="accuracies"):
        Measurement.over_seeds([3.0, 4.0], items=100)


def test_pooled_std_weights_each_group_by_its_degrees_of_freedom():
    # variances 0.0002 (1 dof) and 0.0001 (2 dof); the single run adds nothing
    groups = {"A": [0.80, 0.82], "B": [0.70, 0.71, 0.72], "C": [0.5]}
    assert claims.pooled_std(groups) == pytest.approx(math.sqrt((0.0002 + 2 * 0.0001) / 3))
    assert math.isnan(claims.pooled_std({"A": [0.8], "B": [0.7]}))


def test_check_best_compares_with_the_strongest_rival(capsys):
    runs = {"A": [0.80, 0.81], "B": [0.86, 0.87], "C": [0.84, 0.85]}
    v = claims.check_best("B is best (next: {rival})", runs, "B", items=10_000, record=False)
    assert v.claim == "B is best (next: C)" and v.outcome == HOLDS
    assert v.difference == pytest.approx(0.02)
    assert "HOLDS" in capsys.readouterr().out
    close = claims.check_best("C is best (next: {rival})", {"B": [0.85, 0.87], "C": [0.86, 0.84]}, "C",
                              items=10_000, record=False)
    assert close.outcome == WITHIN_NOISE and "next: B" in close.claim
    worse = claims.check_best("A is best (next: {rival})", runs, "A", items=10_000, record=False)
    assert worse.outcome == NOT_SEEN


def test_check_best_with_one_run_each_uses_the_sampling_noise_or_none():
    one = {"A": [0.80], "B": [0.79]}
    v = claims.check_best("A", one, "A", items=1000, record=False, show=False)
    assert v.se == pytest.approx(math.hypot(math.sqrt(0.8 * 0.2 / 1000), math.sqrt(0.79 * 0.21 / 1000)))
    exact = claims.check_best("A", one, "A", record=False, show=False, unit="value")
    assert exact.se == 0 and exact.outcome == HOLDS
    with pytest.raises(KeyError, match="'Z' must be one of"):
        claims.check_best("Z", one, "Z", record=False)


def test_a_smoke_run_measures_each_claim_and_judges_none(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CNNCOURSE_PROFILE", "smoke")
    path = tmp_path / "metrics.json"
    monkeypatch.setenv(report.METRICS_ENV, str(path))
    verdict = claims.check_greater("a beats b", Measurement(0.9, 0.01), Measurement(0.5, 0.01))
    assert verdict.outcome == claims.NOT_JUDGED and not verdict.holds
    assert verdict.difference == pytest.approx(0.4)                       # the margin is still measured
    assert capsys.readouterr().out.startswith("NOT JUDGED")
    (stored,) = report.read_metrics(path).values()
    assert stored["claims"][0]["outcome"] == claims.NOT_JUDGED

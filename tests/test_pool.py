"""A run's seed (CNNCOURSE_SEED) and pooling a class's runs (python -m cnncourse pool)."""

from __future__ import annotations

import json

import nbformat
import pytest

from cnncourse import profiles
from cnncourse.tooling import cli, pool, runner
from cnncourse.claims import (HOLDS, NOT_JUDGED, NOT_SEEN, WITHIN_NOISE, Measurement, check_best, check_count,
                              check_greater)
from cnncourse.reproducibility import DEFAULT_SEED, SEED_ENV, SeedError, derive_seed, run_seed

LESSON = "04_architecture_comparison_umap"
pytestmark = pytest.mark.usefixtures("judging_profile")


# ----------------------------------------------------------------------------- the run's seed
def test_unset_seed_is_the_courses_and_leaves_the_profile_as_it_was(monkeypatch):
    monkeypatch.delenv(SEED_ENV, raising=False)
    assert run_seed() == (DEFAULT_SEED, "the course's default")
    laptop = profiles.get_profile("laptop")
    assert laptop == profiles.PROFILES["laptop"]
    assert laptop.lesson04.seeds == (42, 43) and laptop.lesson05.seeds == (42, 43, 44)
    assert "seed 42 (the course's default)" in laptop.summary("lesson04").splitlines()[0]


def test_a_learners_seed_moves_every_seed_of_the_lesson(monkeypatch):
    monkeypatch.setenv(SEED_ENV, " 1000 ")
    laptop = profiles.get_profile("laptop")
    assert (laptop.seed, laptop.lesson04.seeds, laptop.lesson05.seeds) == (1000, (1000, 1001), (1000, 1001, 1002))
    first_line = laptop.summary("lesson05").splitlines()[0]
    assert first_line.startswith("cnncourse profile: laptop") and "seed 1000 (CNNCOURSE_SEED=1000)" in first_line
    assert "seeds=(1000, 1001, 1002)" in laptop.summary("lesson05")
    assert derive_seed(42, 0) == 0 and derive_seed(0, 0) == 2**31 - 42   # never negative


def test_a_name_hashes_to_a_seed_the_same_way_every_time(monkeypatch):
    ada, origin = run_seed("Ada  Lovelace")
    assert run_seed("ada lovelace")[0] == ada and 0 <= ada < 2**31 and "hashed" in origin
    assert run_seed("Grace")[0] != ada


@pytest.mark.parametrize("bad", ["-3", "1.5", "1e3", "?!", str(2**31), "_x"])
def test_a_bad_seed_says_what_is_allowed(monkeypatch, bad):
    with pytest.raises(SeedError, match="whole number from 0 to .* or a learner's name"):
        run_seed(bad)
    monkeypatch.setenv(SEED_ENV, bad)
    with pytest.raises(SeedError):
        profiles.get_profile("smoke")


def test_run_refuses_a_bad_seed_before_starting_a_kernel(monkeypatch, capsys):
    monkeypatch.setenv(SEED_ENV, "-1")
    assert cli.main(["run", "01", "--profile", "smoke"]) == 2
    assert "CNNCOURSE_SEED must be" in capsys.readouterr().err


# ----------------------------------------------------------------------------- synthetic runs
def _claims(difference: float, seed_spread: float = 0.03):
    """A run's claims: one that is within noise alone (a difference far below its per-run SE), a count."""
    greater = check_greater("Inception+Residual beats Inception (next best: Inception)",
                            Measurement(0.80 + difference, seed_spread, "Inception+Residual"),
                            Measurement(0.80, seed_spread, "Inception"), show=False, record=False)
    count = check_count("at least 3 of 4 models learn", 4, at_least=3, out_of=4, show=False, record=False)
    return [greater.as_record(), count.as_record()]


def _write_run(path, seed, difference, *, profile="laptop", version="0.1.0", code="abc", lesson=LESSON, status="ok"):
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"profile": profile, "seed": seed, "seed_origin": f"{SEED_ENV}={seed}", "course_version": version,
              "lesson_code": code, "status": status}
    path.write_text(json.dumps({lesson: {"metrics": {}, "claims": _claims(difference), "run": record}}))
    return path


def _class_of(tmp_path, n=20, profile="laptop"):
    """n learners whose difference is +2 points give or take a point: each run alone WITHIN NOISE."""
    for i in range(n):
        _write_run(tmp_path / "class" / f"learner{i:02d}.json", seed=10 * (i + 1),
                   difference=0.02 + 0.01 * ((i % 5) - 2) / 2, profile=profile)
    return tmp_path / "class"


def test_a_difference_within_noise_in_every_run_holds_pooled(tmp_path):
    runs, notes = pool.find_runs([_class_of(tmp_path)])
    assert len(runs) == 20 and notes == []
    (lesson,), notes = pool.pool_runs(runs)
    by_claim = {c.claim: c for c in lesson.claims}
    beats = by_claim["Inception+Residual beats Inception (next best: Inception)"]
    assert beats.single == {HOLDS: 0, NOT_SEEN: 0, WITHIN_NOISE: 20, NOT_JUDGED: 0}
    assert beats.outcome == HOLDS and beats.agree == 0 and beats.runs == 20
    assert beats.mean == pytest.approx(0.02) and 0 < beats.se < 0.01 / 2
    assert beats.margin.startswith("+2.0 points (")
    assert by_claim["at least 3 of 4 models learn"].outcome == HOLDS
    assert lesson.seeds == [10 * (i + 1) for i in range(20)] and lesson.profile == "laptop"


def test_smoke_runs_pool_to_not_judged_with_their_margin(tmp_path):
    (lesson,), notes = pool.pool_runs(pool.find_runs([_class_of(tmp_path, profile="smoke")])[0])
    by_claim = {c.claim: c for c in lesson.claims}
    beats = by_claim["Inception+Residual beats Inception (next best: Inception)"]
    assert beats.outcome == NOT_JUDGED and beats.margin.startswith("+2.0 points (")   # HOLDS under laptop
    assert by_claim["at least 3 of 4 models learn"].outcome == NOT_JUDGED
    assert any("smoke profile judges no claim" in n for n in notes)


def test_few_runs_need_a_wider_margin_than_many(tmp_path):
    assert pool.runs_threshold(2.0, 1) is None
    assert pool.runs_threshold(2.0, 2) == pytest.approx(13.97, abs=0.01)
    assert 2.0 < pool.runs_threshold(2.0, 20) < 2.2 < pool.runs_threshold(2.0, 5) < 3.0
    two = [check_greater("a beats b", Measurement(0.80 + d, 0.03, "a"), Measurement(0.80, 0.03, "b"),
                         show=False, record=False).as_record() for d in (0.02, 0.03)]
    claim = pool.pool_claim(two)   # +2.5 points at 5 SEs over 2 runs: not enough from 2 runs
    assert claim.mean / claim.se == pytest.approx(5.0) and claim.outcome == WITHIN_NOISE
    assert pool.pool_claim(two * 10).outcome == HOLDS   # the same spread over 20 runs


def test_a_real_difference_of_zero_stays_within_noise_pooled(tmp_path):
    for i, d in enumerate([0.01, -0.01, 0.02, -0.02, 0.0, 0.005, -0.005]):
        _write_run(tmp_path / f"r{i}.json", seed=10 * i, difference=d)
    (lesson,), _ = pool.pool_runs(pool.find_runs([tmp_path])[0])
    assert lesson.claims[0].outcome == WITHIN_NOISE


def test_a_claim_against_each_runs_own_rival_pools_under_one_name(tmp_path):
    records = []
    for rival, seed in [("Inception", 1), ("ResNet", 11), ("Inception", 21)]:
        records.append(check_best("Inception+Residual has the best test accuracy (next best: {rival})",
                                  {"Inception+Residual": [0.81, 0.80], rival: [0.83, 0.84], "other": [0.5, 0.5]},
                                  "Inception+Residual", items=10_000, show=False, record=False).as_record())
    assert len({r["claim"] for r in records}) == 2
    assert {pool.claim_key(r["claim"]) for r in records} == {"Inception+Residual has the best test accuracy"}
    claim = pool.pool_claim(records)
    assert claim.runs == 3 and len(claim.wordings) == 2 and claim.outcome == NOT_SEEN
    assert claim.claim == "Inception+Residual has the best test accuracy"
    assert pool.common_wording(["a (k-NN) b (next: X)", "a (k-NN) b (next: Y)"]) == "a (k-NN) b"


def test_a_mixed_profile_folder_is_refused_naming_the_files(tmp_path):
    folder = _class_of(tmp_path, n=3)
    odd = _write_run(folder / "smoke_run.json", seed=999, difference=0.02, profile="smoke")
    with pytest.raises(pool.PoolError, match="differ in profiles") as err:
        pool.pool_runs(pool.find_runs([folder])[0])
    assert str(odd) in str(err.value) and "learner00.json" in str(err.value)


def test_other_course_versions_and_edited_lessons_are_refused(tmp_path):
    _write_run(tmp_path / "a.json", 10, 0.0)
    _write_run(tmp_path / "b.json", 20, 0.0, version="0.2.0")
    with pytest.raises(pool.PoolError, match="course versions"):
        pool.pool_runs(pool.find_runs([tmp_path])[0])
    (tmp_path / "b.json").unlink()
    _write_run(tmp_path / "c.json", 30, 0.0, code="edited")
    with pytest.raises(pool.PoolError, match="lesson code"):
        pool.pool_runs(pool.find_runs([tmp_path])[0])


def test_duplicate_seeds_are_dropped_and_said(tmp_path):
    folder = _class_of(tmp_path, n=4)
    copy = folder / "zz_copy_of_learner00.json"
    copy.write_text((folder / "learner00.json").read_text())
    runs, _ = pool.find_runs([folder])
    (lesson,), notes = pool.pool_runs(runs)
    assert len(runs) == 5 and len(lesson.seeds) == 4 and lesson.claims[0].runs == 4
    assert any("dropped" in n and "zz_copy_of_learner00.json" in n and "seed 10" in n for n in notes)


def test_close_seeds_are_pointed_out(tmp_path):
    for seed in (1, 2, 30):
        _write_run(tmp_path / f"s{seed}.json", seed, 0.01)
    _, notes = pool.pool_runs(pool.find_runs([tmp_path])[0])
    assert any("less than 3 apart (1 and the next)" in n for n in notes)


def test_runs_without_a_record_or_that_failed_are_skipped_saying_why(tmp_path):
    _write_run(tmp_path / "ok.json", 10, 0.0)
    _write_run(tmp_path / "failed.json", 20, 0.0, status="failed")
    (tmp_path / "old.json").write_text(json.dumps({LESSON: {"metrics": {}, "claims": _claims(0.0)}}))
    (tmp_path / "notes.json").write_text("[1, 2]")
    runs, notes = pool.find_runs([tmp_path, tmp_path / "missing.json"])
    assert [r.seed for r in runs] == [10]
    text = "\n".join(notes)
    assert "failed.json" in text and "old.json" in text and "no run record" in text and "missing.json" in text
    with pytest.raises(pool.PoolError, match="no runs"):
        pool.pool_runs([])


def test_the_pool_command_prints_and_writes_the_table_and_the_site_shows_it(tmp_path, capsys):
    folder = _class_of(tmp_path, n=5)
    out = tmp_path / "build"
    assert cli.main(["pool", str(folder), "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"## {LESSON}: 5 runs pooled" in printed and "beyond 2.9 SEs over 5 runs (" in printed and "| HOLDS | Inception+Residual beats Inception (next best: Inception) |" in printed
    assert "5 WITHIN NOISE | 0 of 5 |" in printed
    assert (out / pool.POOLED_MD).read_text() in printed
    written = json.loads((out / pool.POOLED_JSON).read_text())
    assert written["pooled"][0]["seeds"] == [10, 20, 30, 40, 50]
    # a second pool over a folder holding the first's output does not read it as a run
    assert pool.find_runs([out])[0] == []
    section = pool.pooled_html(out)
    assert "The class's runs, pooled" in section and "Inception+Residual beats Inception" in section
    assert "verdicts beyond 2.9 SEs" in section
    assert pool.pooled_html(tmp_path / "nowhere") == ""
    from cnncourse.tooling.site import render_index

    assert section in render_index([], section) and "pooled" not in render_index([])


def test_the_pool_command_refuses_with_exit_2(tmp_path, capsys):
    folder = _class_of(tmp_path, n=2)
    _write_run(folder / "smoke.json", 5, 0.0, profile="smoke")
    assert cli.main(["pool", str(folder), "--output-dir", str(tmp_path / "out")]) == 2
    assert "differ in profiles" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- the runner records the run
def test_the_runner_records_the_seed_and_a_run_pools_from_its_notebook_or_metrics(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from cnncourse.profiles import get_profile\nfrom cnncourse.claims import check_greater\n"
        "profile = get_profile()\nprint(profile.summary('lesson04'))\n"
        "check_greater('seed above 100', profile.seed, 100, unit='value')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "07_seeded.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv(SEED_ENV, "1234")
    run = runner.run_notebook(path, profile="smoke", output_dir=tmp_path / "build", timeout=120)
    assert run.status == "ok", run.error
    executed = nbformat.read(run.output, as_version=4)
    assert "seed 1234 (CNNCOURSE_SEED=1234)" in executed.cells[0].outputs[0]["text"]
    record = json.loads((tmp_path / "build" / "metrics.json").read_text())["07_seeded"]["run"]
    assert record == {"profile": "smoke", "seed": 1234, "seed_origin": "CNNCOURSE_SEED=1234",
                      "course_version": record["course_version"], "lesson_code": pool.lesson_code(nb), "status": "ok"}
    assert executed.metadata["cnncourse"]["seed"] == 1234 and executed.metadata["cnncourse"]["claims"] == run.claims
    from_metrics, _ = pool.find_runs([tmp_path / "build"])
    from_notebook, _ = pool.find_runs([run.output])
    assert [(r.seed, r.claims) for r in from_metrics] == [(r.seed, r.claims) for r in from_notebook] == [(1234, run.claims)]

"""doctor --bench: the estimate's arithmetic, the costs file, the table (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from cnncourse.tooling import bench, doctor

WORKLOAD = {part: 2.0 for part in bench.WORKLOAD_PARTS}


def test_every_lesson_is_scaled_by_a_part_of_the_workload():
    assert set(bench.LESSON_PART) == {"01", "02", "03", "04", "05", "06"}
    assert set(bench.LESSON_PART.values()) <= set(bench.WORKLOAD_PARTS)
    assert set(bench._PARTS) == set(bench.WORKLOAD_PARTS)


def test_record_cost_writes_and_replaces_entries(tmp_path):
    path = tmp_path / "costs.json"
    bench.record_cost("05", "laptop", seconds=600, peak_mib=1500.4, workload=WORKLOAD, machine="m",
                      measured="2026-11-30", path=path)
    bench.record_cost("05", "laptop", seconds=660, peak_mib=1501, workload=WORKLOAD, machine="m",
                      measured="2026-11-30", path=path)
    costs = json.loads(path.read_text())
    assert costs["lessons"]["05"]["laptop"]["seconds"] == 660 and costs["lessons"]["05"]["laptop"]["peak_mib"] == 1501
    with pytest.raises(ValueError, match="unknown lesson '07'"):
        bench.record_cost("07", "laptop", seconds=1, peak_mib=1, workload=WORKLOAD, machine="m", measured="d", path=path)
    with pytest.raises(ValueError, match="lack"):
        bench.record_cost("05", "laptop", seconds=1, peak_mib=1, workload={"umap": 1.0}, machine="m", measured="d",
                          path=path)


def test_estimate_scales_each_lesson_by_its_own_part(tmp_path):
    path = tmp_path / "costs.json"
    for lesson in ("03", "05"):
        bench.record_cost(lesson, "laptop", seconds=600, peak_mib=1000, workload=WORKLOAD, machine="m",
                          measured="d", path=path)
    bench.record_cost("05", "smoke", seconds=30, peak_mib=900, workload=WORKLOAD, machine="m", measured="d",
                      path=path)
    here = dict(WORKLOAD, tiny_mlp=5.0, cifar_batchnorm_cnn=1.0)   # slow Python, fast convolutions
    estimates = {(e.lesson, e.profile): e for e in bench.estimate(bench.read_costs(path), here)}
    assert estimates["03", "laptop"].seconds == pytest.approx(1500)       # 600 s x 5.0 / 2.0
    assert estimates["05", "laptop"].seconds == pytest.approx(300)        # 600 s x 1.0 / 2.0
    assert estimates["05", "smoke"].seconds == pytest.approx(15)
    assert [(e.lesson, e.profile) for e in bench.estimate(bench.read_costs(path), here)] == [
        ("03", "laptop"), ("05", "smoke"), ("05", "laptop")]
    assert "before a break" in estimates["03", "laptop"].advice
    assert "while you introduce it" in estimates["05", "laptop"].advice
    table = bench.format_estimates(list(estimates.values()), memory_limit_mib=950)
    assert "25 min" in table and "NEEDS 1.0 GiB" in table


def test_estimate_refuses_a_part_without_a_timing(tmp_path):
    path = tmp_path / "costs.json"
    bench.record_cost("03", "laptop", seconds=60, peak_mib=1, workload=WORKLOAD, machine="m", measured="d", path=path)
    with pytest.raises(ValueError, match="tiny_mlp"):
        bench.estimate(bench.read_costs(path), dict(WORKLOAD, tiny_mlp=0.0))


def test_durations_read_naturally():
    assert bench.format_duration(42) == "42 s"
    assert bench.format_duration(420) == "7 min"
    assert bench.format_duration(3900) == "1 h 05 min"


def test_the_costs_the_package_ships_cover_every_lesson_on_laptop():
    costs = bench.read_costs()
    assert set(costs["lessons"]) == set(bench.LESSON_PART), "re-run benchmarks/run_lessons.py --record-costs"
    for lesson, by_profile in costs["lessons"].items():
        entry = by_profile["laptop"]
        assert entry["seconds"] > 0 and entry["peak_mib"] > 0 and set(entry["workload"]) == set(bench.WORKLOAD_PARTS)


def test_doctor_bench_without_costs_says_how_to_make_them(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bench, "COSTS_FILE", tmp_path / "none.json")
    doctor.print_bench()
    assert "--record-costs" in capsys.readouterr().out


def test_available_memory_is_positive_where_linux_reports_it():
    memory = doctor.available_memory_mib()
    assert memory is None or memory > 0


def _benchmark_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "run_lessons.py"
    spec = importlib.util.spec_from_file_location("run_lessons", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_records_each_notebooks_peak_memory_and_writes_the_costs(tmp_path, monkeypatch):
    import sys

    import nbformat

    script = _benchmark_script()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nx = np.ones(20_000_000)")])
    path = tmp_path / "03_tiny.ipynb"
    nbformat.write(nb, path)
    record = script._run_one(str(path), "smoke", str(tmp_path / "out"), warm=False)
    assert record["status"] == "ok", record["error"]
    if sys.platform.startswith("linux"):
        assert record["kernel_peak_rss_mib"] > 150 and record["memory_cells"][0]["cell"] == 0
    assert not (tmp_path / "build").exists()          # run cold, from a copy elsewhere
    monkeypatch.setattr(bench, "COSTS_FILE", tmp_path / "costs.json")
    script._record_costs([record], "smoke", [WORKLOAD, dict(WORKLOAD, umap=2.2)])
    entry = bench.read_costs()["lessons"]["03"]["smoke"]
    assert entry["peak_mib"] == round(record["kernel_peak_rss_mib"]) and entry["seconds"] == record["wall_s"]
    assert entry["workload"]["umap"] == pytest.approx(2.1)   # the mean of the timings before and after

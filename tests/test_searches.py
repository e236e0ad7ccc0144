"""Documented searches (`ddd_utils.engine.searches`): settings run as resumable sweeps into one file with provenance,
and a setting's extra seeds merged back where they were run."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ddd_utils.analysis import sweep_curves
from ddd_utils.engine import searches
from ddd_utils.experiments import translation_sweep

BASE = dataclasses.replace(translation_sweep.PRESETS["smoke"], steps=4, eval_count=2, checkpoint_every=0,
                           test_size=20)
SETTINGS = {"tiny": dict(n_trains=(20, 90), d_models=(8, 16)),
            "tiny-seed-1": dict(n_trains=(20, 90), d_models=(16,), seeds=(1,))}


def test_a_search_writes_every_setting_with_provenance_and_reads_finished_runs_back(tmp_path, monkeypatch):
    first = searches.run_search("demo", translation_sweep.run, translation_sweep.run_configs, BASE, SETTINGS,
                                tmp_path, "scripts/demo.py")
    written = json.loads((tmp_path / "demo.json").read_text())
    assert written["command"] == f"python scripts/demo.py {tmp_path}" and {"commit", "date"} <= set(written)
    assert [len(written["settings"][name]["runs"]) for name in SETTINGS] == [4, 2]

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(translation_sweep, "train_run", refuse)
    again = searches.run_search("demo", translation_sweep.run, translation_sweep.run_configs, BASE, SETTINGS,
                                tmp_path, "scripts/demo.py")
    assert again["settings"]["tiny"]["runs"] == first["settings"]["tiny"]["runs"]


def test_extra_seeds_join_the_setting_where_they_ran_and_nowhere_else(tmp_path):
    result = searches.run_search("demo", translation_sweep.run, translation_sweep.run_configs, BASE, SETTINGS,
                                 tmp_path, "scripts/demo.py")
    assert searches.seed_settings(result, "tiny") == ["tiny-seed-1"]
    runs = searches.with_extra_seeds(result, "tiny", "d_model")
    assert {(r["config"]["d_model"], r["config"]["seed"]) for r in runs} == {(16, 0), (16, 1)}
    curves = sweep_curves.final_values(sweep_curves.select(runs, n_train=90), ("test_loss",), knob="d_model")
    assert curves["test_loss"].shape == (2, 1)  # two seeds at the one d_model both settings ran
    with pytest.raises(ValueError, match="miss"):  # without the merge the seeds are ragged
        sweep_curves.final_values(sweep_curves.select(
            result["settings"]["tiny"]["runs"] + result["settings"]["tiny-seed-1"]["runs"], n_train=90),
            ("test_loss",), knob="d_model")

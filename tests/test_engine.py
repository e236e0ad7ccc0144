"""The deep-training engine: bit-exact resume, resumable sweeps that survive SIGKILL, damaged records, executors,
and the MNIST-1D sweep's configs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ddd_utils.analysis import sweep_curves
from ddd_utils.engine import checkpoints, sweep, training
from ddd_utils.engine.recipe import Recipe, TrainData, log_spaced_epochs
from ddd_utils.engine.result_store import ResultStore, load_results, run_key
from ddd_utils.engine.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]


def tiny_problem(seed: int = 0) -> TrainData:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 1, 8, 8, generator=generator)
    y = torch.randint(0, 3, (96,), generator=generator)
    return TrainData(x, y, torch.arange(96) % 5 == 0, x[:32] + 0.1, y[:32])


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))


RECIPE = Recipe(optimizer="adam", lr=1e-2, batch_size=16, epochs=6, augment=True)


def without_time(history: dict) -> dict:
    return {name: values for name, values in history.items() if name != "seconds"}


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run_bit_for_bit(tmp_path, monkeypatch):
    reference_model = tiny_model()
    reference = training.train(reference_model, tiny_problem(), RECIPE, seed=3)

    saves = []
    real_save = checkpoints.save_atomically

    def crash_after_second_checkpoint(state, path):
        real_save(state, path)
        saves.append(state["epoch"])
        if len(saves) == 2:
            raise KeyboardInterrupt  # the process dies right after the epoch-4 checkpoint

    monkeypatch.setattr(checkpoints, "save_atomically", crash_after_second_checkpoint)
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        training.train(tiny_model(), tiny_problem(), RECIPE, seed=3, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.setattr(checkpoints, "save_atomically", real_save)
    assert saves == [2, 4]

    resumed_model = tiny_model(seed=99)  # different initial weights: everything must come from the checkpoint
    resumed = training.train(resumed_model, tiny_problem(), RECIPE, seed=3, checkpoint=checkpoint, checkpoint_every=2)
    assert without_time(resumed) == without_time(reference)
    for (name, expected), actual in zip(reference_model.state_dict().items(), resumed_model.state_dict().values(),
                                        strict=True):
        assert torch.equal(expected, actual), name


def test_history_records_the_requested_epochs_and_memorisation():
    history = training.train(tiny_model(), tiny_problem(), RECIPE, seed=0, eval_epochs=[1, 3, 6])
    assert history["epoch"] == [1, 3, 6]
    assert all(0.0 <= value <= 1.0 for name in ("train_error", "corrupted_error", "test_error")
               for value in history[name])
    assert history["seconds"] == sorted(history["seconds"])


def test_log_spaced_epochs_end_at_the_last_epoch_and_increase():
    epochs = log_spaced_epochs(4000, 20)
    assert epochs[0] == 1 and epochs[-1] == 4000 and epochs == sorted(set(epochs))
    assert log_spaced_epochs(7, 1) == [1, 7]


@pytest.mark.parametrize("field, value", [("optimizer", "rmsprop"), ("lr", 0.0), ("batch_size", 0),
                                          ("epochs", 0), ("weight_decay", -1.0), ("loss", "hinge")])
def test_bad_recipes_are_clear_errors(field, value):
    with pytest.raises((ValueError, TypeError), match=field):
        Recipe(**{field: value})


# --- sweeps ---------------------------------------------------------------------------------------------------

def square_run(job: list[dict], checkpoint: Path, progress: bool = False) -> list[dict]:
    """A stand-in training job for the sweep machinery: fast, deterministic, picklable."""
    return [{"value": [config["x"] ** 2], "pid": os.getpid(), "job_size": len(job)} for config in job]


CONFIGS = [{"x": x, "tag": "tiny"} for x in range(4)]


def test_run_sweep_records_every_run_and_skips_finished_ones(tmp_path):
    first = run_sweep(square_run, CONFIGS, tmp_path, progress=False)
    assert [run["history"]["value"] for run in first] == [[0], [1], [4], [9]]
    stamps = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "records").glob("*.json")}
    second = run_sweep(square_run, CONFIGS + [{"x": 5, "tag": "tiny"}], tmp_path, progress=False)
    assert second[:4] == first
    assert {path.name: path.stat().st_mtime_ns for path in (tmp_path / "records").glob("*.json")
            if path.name in stamps} == stamps, "finished runs must not be run again"
    assert len(load_results(tmp_path)) == 5


@pytest.mark.parametrize("damage", ["truncate", "edit", "wrong_config"])
def test_a_damaged_record_is_detected_and_rerun(tmp_path, damage):
    run_sweep(square_run, CONFIGS, tmp_path, progress=False)
    path = tmp_path / "records" / f"{run_key(CONFIGS[2])}.json"
    record = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[:-10])
    elif damage == "edit":
        record["history"]["value"] = [123]
        path.write_text(json.dumps(record))
    else:
        record["config"] = CONFIGS[1]
        path.write_text(json.dumps(record))
    with pytest.warns(UserWarning):
        assert all(run["config"] != CONFIGS[2] for run in load_results(tmp_path)) or damage == "wrong_config"
    with pytest.warns(UserWarning, match="damaged"):
        runs = run_sweep(square_run, CONFIGS, tmp_path, progress=False)
    assert runs[2]["history"]["value"] == [4]
    assert list((tmp_path / "records").glob("*.corrupt-*")), "the damaged record is kept aside, not deleted"


def test_duplicate_configs_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="distinct"):
        run_sweep(square_run, [CONFIGS[0], dict(CONFIGS[0])], tmp_path, progress=False)


@pytest.mark.parametrize("executor, options", [("process", {"workers": 2}), ("submitit", {"cluster": "local"})])
def test_other_executors_give_the_same_records_in_other_processes(tmp_path, executor, options):
    if executor == "submitit":  # its job processes cannot import this test module: send the function by value
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        options = {**options, "resources": sweep.JobResources(gpus=0, cpus=1, mem_gb=1)}
    runs = run_sweep(square_run, CONFIGS, tmp_path, executor=executor, progress=False, **options)
    assert [run["history"]["value"] for run in runs] == [[0], [1], [4], [9]]
    assert all(run["history"]["pid"] != os.getpid() for run in runs)


def device_run(job: list[dict], checkpoint: Path, progress: bool = False) -> list[dict]:
    """Reports which GPUs its process was given and whether it was asked for a progress bar."""
    return [{"gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "pid": os.getpid(), "progress": progress}
            for _ in job]


def test_each_process_worker_gets_its_own_gpu(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "_visible_gpus", lambda: ["3", "5"])
    runs = run_sweep(device_run, CONFIGS, tmp_path, executor="process", workers=2, runs_per_job=1, progress=False)
    gpus_of = {}
    for run in runs:
        gpus_of.setdefault(run["history"]["pid"], set()).add(run["history"]["gpus"])
    assert all(len(gpus) == 1 for gpus in gpus_of.values()), "a worker keeps one GPU"
    assert len({next(iter(gpus)) for gpus in gpus_of.values()}) == len(gpus_of), "no two workers share a GPU"
    assert set().union(*gpus_of.values()) <= {"3", "5"}


def test_only_an_in_process_sweep_asks_its_jobs_for_a_progress_bar(tmp_path):
    assert all(run["history"]["progress"] for run in run_sweep(device_run, CONFIGS, tmp_path / "a", progress=True))
    assert not any(run["history"]["progress"] for run in run_sweep(device_run, CONFIGS, tmp_path / "b",
                                                                   progress=False))
    assert not any(run["history"]["progress"] for run in run_sweep(device_run, CONFIGS, tmp_path / "c",
                                                                   executor="process", progress=True))


def test_job_resources_reach_submitit_and_bad_values_are_clear_errors():
    parameters = sweep.JobResources(gpus=2, cpus=16, mem_gb=64, timeout_min=60, partition="gpu").submitit_parameters()
    assert parameters == {"gpus_per_node": 2, "cpus_per_task": 16, "mem_gb": 64, "timeout_min": 60,
                          "tasks_per_node": 1, "slurm_partition": "gpu"}
    assert "slurm_partition" not in sweep.JobResources().submitit_parameters()
    assert sweep.JobResources().gpus == 1, "by default a cluster job asks for a GPU"
    for field, value in (("gpus", -1), ("cpus", 0), ("mem_gb", 0), ("timeout_min", 0)):
        with pytest.raises(ValueError, match=field):
            sweep.JobResources(**{field: value})


def test_a_job_that_asked_for_a_gpu_and_sees_none_fails_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="--gpus-per-job 0"):
        sweep._run_job(device_run, CONFIGS, str(tmp_path), gpus=1)
    assert not (tmp_path / "records").exists()


def test_unknown_executor_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="executor"):
        run_sweep(square_run, CONFIGS, tmp_path, executor="threads")


# --- the MNIST-1D sweep and the command line ------------------------------------------------------------------

def cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "ddd_utils", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def comparable(runs: list[dict]) -> list[dict]:
    return [{"config": run["config"], "history": without_time(run["history"])} for run in runs]


def test_a_sweep_killed_mid_run_resumes_and_matches_an_uninterrupted_one(tmp_path):
    from ddd_utils.experiments import mnist1d_sweep

    uninterrupted = cli("run", "mnist1d_sweep", "--preset", "smoke", "--out", str(tmp_path / "a"))
    out, err = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, err
    assert out.startswith(f"expected time of 'smoke': {mnist1d_sweep.PRESET_TIMES['smoke']}\n")  # said first

    killed_dir = tmp_path / "b"
    process = cli("run", "mnist1d_sweep", "--preset", "smoke", "--out", str(killed_dir))
    deadline = time.time() + 300
    while not list((killed_dir / "checkpoints").glob("*.pt")) and process.poll() is None and time.time() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before = {path.name: path.stat().st_mtime_ns for path in (killed_dir / "records").glob("*.json")}
    assert len(finished_before) < 2, "the sweep finished before it could be killed; nothing was tested"

    restarted = cli("run", "mnist1d_sweep", "--preset", "smoke", "--out", str(killed_dir))
    assert restarted.wait(timeout=300) == 0, restarted.stderr.read()
    after = {path.name: path.stat().st_mtime_ns for path in (killed_dir / "records").glob("*.json")}
    assert len(after) == 2 and all(after[name] == stamp for name, stamp in finished_before.items())
    assert not list((killed_dir / "checkpoints").iterdir()), "checkpoints and job files of finished jobs are removed"
    expected = json.loads((tmp_path / "a" / "mnist1d_sweep.json").read_text())
    actual = json.loads((killed_dir / "mnist1d_sweep.json").read_text())
    assert comparable(actual["runs"]) == comparable(expected["runs"])
    assert {"command", "preset", "device", "torch", "date", "commit"} <= set(actual)
    assert [call["finished"] for call in expected["calls"]] == [True]
    assert [call["finished"] for call in actual["calls"]] == [False, True], "the killed call is counted too"
    assert actual["wall_seconds"] == round(sum(call["seconds"] for call in actual["calls"]), 1)


def test_cli_lists_experiments_and_rejects_unknown_names(tmp_path):
    listing = cli("list")
    out, _ = listing.communicate(timeout=120)
    assert "mnist1d_sweep" in out and "--preset smoke" in out and "--preset paper" in out
    assert "2 CPU cores" in out, "each preset says how long it takes and where that was measured"
    for args in (("run", "nope", "--out", str(tmp_path)), ("run", "mnist1d_sweep", "--preset", "huge",
                                                           "--out", str(tmp_path))):
        process = cli(*args)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2 and "invalid choice" in err


def test_label_noise_is_the_same_draw_at_every_width():
    from ddd_utils.experiments import mnist1d_sweep

    config = mnist1d_sweep.PRESETS["smoke"]
    draws = {}
    for run in mnist1d_sweep.run_configs(config):
        data = mnist1d_sweep.training_data(run["n_train"], run["noise"], run["seed"])
        draws.setdefault((run["noise"], run["seed"]), []).append(data)
    for same_noise in draws.values():
        assert len(same_noise) == len(config.widths)
        for data in same_noise[1:]:
            assert torch.equal(data.y_train, same_noise[0].y_train)
            assert torch.equal(data.corrupted, same_noise[0].corrupted)
    first = next(iter(draws.values()))[0]
    assert 0 < first.corrupted.float().mean() < 0.4


@pytest.mark.parametrize("field, value", [("widths", (0, 4)), ("noises", (1.5,)), ("noises", (-0.1,)),
                                          ("model", "transformer"), ("n_train", 5000), ("epochs", 0),
                                          ("loss", "l1"), ("optimizer", "lbfgs"), ("momentum", -0.5)])
def test_bad_sweep_configs_are_clear_errors(field, value):
    from ddd_utils.experiments import mnist1d_sweep

    expected = {"widths": "width", "noises": "noise"}.get(field, field)
    with pytest.raises((ValueError, TypeError), match=expected):
        mnist1d_sweep.MNIST1DSweepConfig(**{field: value})


def test_result_store_paths_are_keyed_by_config(tmp_path):
    store = ResultStore(tmp_path)
    assert store.checkpoint_path([{"a": 1}]) != store.checkpoint_path([{"a": 2}])
    assert store.checkpoint_path([{"a": 1}, {"a": 2}]) != store.checkpoint_path([{"a": 2}, {"a": 1}])
    assert run_key({"a": 1, "b": 2}) == run_key({"b": 2, "a": 1})


def test_runs_per_job_splits_the_remaining_runs_in_config_order(tmp_path):
    runs = run_sweep(square_run, CONFIGS + [{"x": 4, "tag": "tiny"}], tmp_path, progress=False, runs_per_job=2)
    assert [run["history"]["job_size"] for run in runs] == [2, 2, 2, 2, 1]
    assert not list((tmp_path / "checkpoints").iterdir())
    with pytest.raises(ValueError, match="runs_per_job"):
        run_sweep(square_run, CONFIGS + [{"x": 9}], tmp_path, progress=False, runs_per_job=0)


def test_an_unfinished_job_is_formed_again_exactly_as_it_was(tmp_path):
    store = ResultStore(tmp_path)
    store.start_job([CONFIGS[3], CONFIGS[1]])  # a job that was killed before it finished
    store.start_job([CONFIGS[0]])
    store.write(CONFIGS[0], {"value": [0]})  # recorded, killed before its job files were removed
    todo = CONFIGS[1:]
    assert sweep.plan_jobs(store, todo, runs_per_job=1) == [[CONFIGS[3], CONFIGS[1]], [CONFIGS[2]]]
    assert store.unfinished_jobs() == [[run_key(CONFIGS[3]), run_key(CONFIGS[1])]], "the finished job is cleaned up"


def test_a_run_function_that_loses_runs_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="histories"):
        run_sweep(dropping_run, CONFIGS, tmp_path, progress=False)
    assert not (tmp_path / "records").exists(), "no record is written for a job that lost runs"


def dropping_run(job: list[dict], checkpoint: Path, progress: bool = False) -> list[dict]:
    return [{"value": [0]}] * (len(job) - 1)


def fake_record(noise: float, seed: int, width: int, train: float, test: float) -> dict:
    history = {"train_error": [0.9, train], "corrupted_error": [1.0, train], "test_error": [0.9, test],
               "num_parameters": 51 * width + 10}
    return {"config": {"noise": noise, "seed": seed, "width": width}, "history": history}


def test_final_curves_take_the_last_epoch_per_seed_and_width():
    records = [fake_record(0.2, seed, width, train=0.5 / width, test=0.3 + 0.01 * seed)
               for seed in (1, 0) for width in (8, 2, 4)]
    records.append(fake_record(0.0, 0, 2, 0.1, 0.1))
    curves = sweep_curves.final_curves(records, 0.2)
    assert curves["widths"].tolist() == [2, 4, 8]
    assert curves["num_parameters"].tolist() == [112, 214, 418]
    assert curves["test_error"].shape == (2, 3) and curves["test_error"][1].tolist() == [0.31, 0.31, 0.31]
    assert curves["train_error"][0].tolist() == [0.25, 0.125, 0.0625]
    with pytest.raises(ValueError, match="noise"):
        sweep_curves.final_curves(records, 0.5)
    with pytest.raises(ValueError, match="not finished"):
        sweep_curves.final_curves(records[1:], 0.2)


def test_interpolation_width_is_the_first_width_whose_mean_train_error_is_small_enough():
    widths = [2, 4, 8, 16]
    errors = [[0.5, 0.1, 0.0, 0.0], [0.5, 0.0, 0.02, 0.0]]
    assert sweep_curves.interpolation_width(widths, errors) == 16
    assert sweep_curves.interpolation_width(widths, errors, eps=0.05) == 4
    assert sweep_curves.interpolation_width(widths, [0.5, 0.4, 0.3, 0.2]) is None


def test_weight_reuse_sweep_grows_each_width_from_the_last(monkeypatch):
    from ddd_utils.experiments import mnist1d_sweep

    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(3, 2), noises=(0.2,), seeds=(0, 5), n_train=100, epochs=2,
                                              eval_count=2)
    grown = []
    grow_from = mnist1d_sweep.grow_from
    monkeypatch.setattr(mnist1d_sweep, "grow_from", lambda big, small: grown.append(
        (big.net[1].out_features, small.net[1].out_features, small.net[1].weight.clone())) or grow_from(big, small))
    records = mnist1d_sweep.weight_reuse_sweep(config, noise=0.2)
    assert [(r["config"]["width"], r["config"]["seed"]) for r in records] == [(2, 0), (2, 5), (3, 0), (3, 5)]
    assert all(r["config"]["weight_reuse"] for r in records)
    assert records[0]["history"]["epoch"][-1] == config.epochs
    assert [(big, small) for big, small, _ in grown] == [(3, 2), (3, 2)], "each seed's width 3 grows from its width 2"
    assert not torch.equal(grown[0][2], grown[1][2]), "each seed grows from its own trained network"
    with pytest.raises(ValueError, match="mlp"):
        mnist1d_sweep.weight_reuse_sweep(mnist1d_sweep.MNIST1DSweepConfig(model="cnn5"), noise=0.2)


def test_belkins_protocol_reuses_weights_up_to_its_threshold_and_starts_small_and_fresh_above(monkeypatch):
    from ddd_utils.experiments import mnist1d_sweep

    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(2, 8, 20, 40), noises=(0.2,), seeds=(0, 1), n_train=100,
                                              epochs=1, eval_count=1, loss="squared")
    threshold = mnist1d_sweep.belkin_threshold_width(config)
    assert threshold == 20, "51 h + 10 parameters reach n * classes = 1000 first at h = 20"
    grown, fresh = [], []
    grow_from = mnist1d_sweep.grow_from
    monkeypatch.setattr(mnist1d_sweep, "grow_from", lambda big, small: grown.append(big.net[1].out_features)
                        or grow_from(big, small))
    real_train = mnist1d_sweep._train_together

    def record_fresh(models, *args, **kwargs):
        if models[0].net[1].out_features > threshold:
            fresh.append(torch.cat([p.detach().flatten() for p in models[0].parameters()]).std().item())
        return real_train(models, *args, **kwargs)

    monkeypatch.setattr(mnist1d_sweep, "_train_together", record_fresh)
    records = mnist1d_sweep.weight_reuse_sweep(config, noise=0.2, reuse_up_to=threshold)
    assert sorted(set(grown)) == [8, 20], "only widths up to the threshold grow from the previous one"
    assert fresh and fresh[0] == pytest.approx(mnist1d_sweep.SMALL_INIT_STD, rel=0.1), "small N(0, 0.01) weights"
    assert {r["config"]["reuse_up_to"] for r in records} == {threshold}
    assert all(r["config"]["loss"] == "squared" for r in records)


def test_weight_reuse_kept_on_disk_is_read_back_and_an_interrupted_chain_resumes(tmp_path, monkeypatch):
    from ddd_utils.experiments import mnist1d_sweep

    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(2, 3, 4), noises=(0.2,), seeds=(0, 1), n_train=100, epochs=2,
                                              eval_count=2)
    first = mnist1d_sweep.weight_reuse_sweep(config, noise=0.2, out=tmp_path)
    trained = []
    real = mnist1d_sweep._train_together
    monkeypatch.setattr(mnist1d_sweep, "_train_together", lambda models, *args, **kwargs: trained.append(
        models[0].net[1].out_features) or real(models, *args, **kwargs))
    assert mnist1d_sweep.weight_reuse_sweep(config, noise=0.2, out=tmp_path) == first
    assert trained == [], "kept widths are read back, not trained again"
    assert all(run["provenance"]["device"] for run in load_results(tmp_path)), "kept records say where they trained"

    last = [r for r in first if r["config"]["width"] == 4][0]
    (tmp_path / "records" / f"{run_key(last['config'])}.json").unlink()  # as if killed during width 4
    resumed = mnist1d_sweep.weight_reuse_sweep(config, noise=0.2, out=tmp_path)
    assert trained == [4], "only the width that was not kept trains again"
    assert [comparable([r]) for r in resumed] == [comparable([r]) for r in first], \
        "it grows from the kept width-3 weights exactly as the uninterrupted chain did"


def test_the_paper_preset_is_greydanus_deep_double_descent_setting():
    from ddd_utils.experiments import mnist1d_sweep
    from ddd_utils.models import build_model, count_parameters

    paper = mnist1d_sweep.PRESETS["paper"]
    assert (paper.model, paper.n_train, paper.epochs, paper.optimizer, paper.lr, paper.momentum, paper.batch_size) \
        == ("mlp2", 4000, 500, "sgd", 0.01, 0.9, 100)
    assert 0.15 in paper.noises and 0.0 in paper.noises
    assert paper.widths[0] == 2 and paper.widths[-1] == 300 and len(paper.widths) >= 20
    assert {16, 47, 61, 300} <= set(paper.widths), "the published minimum, peak and largest width are on the grid"
    h = 47
    assert count_parameters(build_model("mlp2", h, (40,), 10)) == 40 * h + h + h * h + h + h * 10 + 10
    assert set(mnist1d_sweep.PRESET_TIMES) == set(mnist1d_sweep.PRESETS)


def test_the_cpu_preset_is_greydanus_recipe_on_a_subset_of_his_widths_and_seeds():
    from dataclasses import replace

    from ddd_utils.experiments import mnist1d_sweep

    paper, cpu = mnist1d_sweep.PRESETS["paper"], mnist1d_sweep.PRESETS["cpu"]
    assert replace(paper, widths=cpu.widths, seeds=cpu.seeds) == cpu, "only the widths and seeds differ"
    assert set(cpu.widths) <= set(paper.widths) and set(cpu.seeds) <= set(paper.seeds)
    assert {16, 47, 61} <= set(cpu.widths), "the published minimum and peak are on the reader's grid"


def test_a_shipped_result_is_read_from_the_book_folder_or_named_clearly_when_missing(tmp_path, book_config):
    from ddd_utils.notebook import results

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text('{"runs": [1]}')
    assert results.load_result("x.json", tmp_path) == {"runs": [1]}
    with pytest.raises(FileNotFoundError, match="missing.json"):  # tests run without network: not reachable
        results.load_result("missing.json", tmp_path)
    repository = book_config["repository"]
    assert results.REPOSITORY_RAW == (repository["url"].replace("https://github.com", "https://raw.githubusercontent.com")
                                      + "/" + repository["branch"])


def test_provenance_records_the_source_commit_read_at_import_flags_local_changes_and_reads_a_copied_one(monkeypatch):
    from ddd_utils.engine import provenance

    answers = {("rev-parse", "--short", "HEAD"): "abc1234", ("status", "--porcelain", "--untracked-files=no"): ""}
    monkeypatch.setattr(provenance, "_git", lambda *args: answers[args])
    assert provenance._source_commit() == "abc1234"
    answers[("status", "--porcelain", "--untracked-files=no")] = " M ddd_utils/engine/training.py"
    assert provenance._source_commit() == "abc1234+changes"
    monkeypatch.delenv("DDD_SOURCE_COMMIT", raising=False)
    monkeypatch.setattr(provenance, "_git", lambda *args: None)
    assert provenance._source_commit() is None
    monkeypatch.setenv("DDD_SOURCE_COMMIT", "abc1234+changes")  # a checkout's copy without .git (a GPU machine)
    assert provenance._source_commit() == "abc1234+changes"
    monkeypatch.setattr(provenance, "_git", lambda *args: answers[args])
    assert provenance._source_commit() == "abc1234+changes", "git, where there is one, wins over the variable"
    answers[("status", "--porcelain", "--untracked-files=no")] = ""
    assert provenance._source_commit() == "abc1234"
    assert provenance.environment()["commit"] == provenance.SOURCE_COMMIT, "not re-read when a run finishes"


def test_the_shipped_paper_run_is_a_real_run_of_the_paper_preset_with_its_provenance():
    from dataclasses import asdict

    from ddd_utils.experiments import mnist1d_sweep

    shipped = json.loads((ROOT / "book" / "results" / "mnist1d_sweep-paper.json").read_text())
    preset = json.loads(json.dumps(asdict(mnist1d_sweep.PRESETS["paper"])))  # tuples as JSON lists
    assert shipped["preset"] == "paper" and "--preset paper" in shipped["command"]
    # Fields added to the config after the run have the defaults the run used (cross-entropy before `loss` existed).
    assert set(preset) - set(shipped["config"]) <= {"loss"} and mnist1d_sweep.PRESETS["paper"].loss == "cross_entropy"
    assert {name: preset[name] for name in shipped["config"]} == shipped["config"]
    assert len(shipped["runs"]) == len(mnist1d_sweep.run_configs(mnist1d_sweep.PRESETS["paper"]))
    for run in shipped["runs"]:
        assert {"device", "commit", "date", "torch"} <= set(run["provenance"])
        assert run["history"]["epoch"][-1] == mnist1d_sweep.PRESETS["paper"].epochs

"""The engine refuses or survives what would otherwise give wrong results silently or get a sweep stuck: foreign,
damaged and GPU-written checkpoints (graphed or eager), a job killed while writing its records, malformed data, and
library calls that would change global state; and the GPU path's choices, on the CPU: an eager fallback in the
record, the autocast dtype by compute capability."""

from __future__ import annotations

import importlib
import pickle
import warnings

import pytest
import torch

from ddd_utils.engine import checkpoints, graphs, steps, training
from ddd_utils.engine.evaluation import evaluate
from ddd_utils.engine.history import note_graphs
from ddd_utils.engine.provenance import device_name
from ddd_utils.engine.recipe import Recipe, TrainData
from ddd_utils.engine.result_store import ResultStore, load_results, run_key
from ddd_utils.engine.sweep import run_sweep
from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.models.stacked import stack_models

RECIPE = Recipe(optimizer="adam", lr=1e-2, batch_size=16, epochs=3)


def problem(seed: int, n: int = 64) -> TrainData:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=generator)
    y = torch.randint(0, 3, (n,), generator=generator)
    return TrainData(x, y, torch.arange(n) % 4 == 0, x[:16] + 0.5, y[:16])


def model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def without_time(history: dict) -> dict:
    return {name: values for name, values in history.items() if name != "seconds"}


# --- checkpoints -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("other, differs_in", [
    ({"seed": 1}, "seeds"), ({"data": 1}, "data"), ({"eval_epochs": [3]}, "eval_epochs"),
    ({"width": 9}, "models")])
def test_a_checkpoint_written_by_another_run_is_refused(tmp_path, other, differs_in):
    checkpoint = tmp_path / "run.pt"
    training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    width = other.get("width", 8)
    different = torch.nn.Sequential(torch.nn.Linear(6, width), torch.nn.ReLU(), torch.nn.Linear(width, 3))
    with pytest.raises(ValueError, match=f"another run .*{differs_in}"):
        training.train(different if "width" in other else model(5), problem(other.get("data", 0)), RECIPE,
                       seed=other.get("seed", 0), checkpoint=checkpoint, eval_epochs=other.get("eval_epochs"))


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a checkpoint"])
def test_a_damaged_checkpoint_is_moved_aside_and_its_run_starts_over(tmp_path, damage):
    checkpoint = tmp_path / "run.pt"
    training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    content = checkpoint.read_bytes()
    checkpoint.write_bytes({"truncated": content[:len(content) // 2], "empty": b"",
                            "not a checkpoint": b"hello"}[damage])
    with pytest.warns(UserWarning, match=f"checkpoint {checkpoint} cannot be read.*moved it to run.pt.damaged-"):
        history = training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    fresh = training.train(model(0), problem(0), RECIPE, seed=0)
    assert without_time(history) == without_time(fresh)
    assert len(list(tmp_path.glob("run.pt.damaged-*"))) == 1, "the damaged file is kept for inspection"
    assert checkpoint.exists(), "the rerun wrote a new checkpoint"


def train_until_killed_writing_as(monkeypatch, checkpoint, writer: str, capturable: bool) -> None:
    """Train RECIPE with a checkpoint every epoch and kill the job after the epoch-2 one, each file written as if
    by a `writer` ("cpu" or "gpu": every storage tagged as living on cuda:0, as a GPU run's are) whose Adam has
    `capturable` param groups (a graphed run's)."""
    real_save = checkpoints.save_atomically

    def save_as_written_there(state, path):
        groups = [{**group, "capturable": capturable} for group in state["optimizer"]["param_groups"]]
        state = {**state, "optimizer": {**state["optimizer"], "param_groups": groups}}
        with monkeypatch.context() as patch:
            if writer == "gpu":
                patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
            real_save(state, path)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "save_atomically", save_as_written_there)
    with pytest.raises(KeyboardInterrupt):
        training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint, checkpoint_every=1)
    monkeypatch.setattr(checkpoints, "save_atomically", real_save)


@pytest.mark.parametrize("capturable", [False, True], ids=["eager", "graphed"])
def test_a_checkpoint_written_on_a_gpu_resumes_on_the_cpu(tmp_path, monkeypatch, capturable):
    # A graphed run's Adam is capturable; the CPU cannot step a capturable Adam, so the resumed run keeps its own flag.
    checkpoint = tmp_path / "run.pt"
    train_until_killed_writing_as(monkeypatch, checkpoint, "gpu", capturable)
    if not torch.cuda.is_available():
        with pytest.raises((RuntimeError, pickle.UnpicklingError), match="CUDA"):  # which, by torch's version
            torch.load(checkpoint, weights_only=True)  # what a load without map_location does on a CPU-only node
    resumed = training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    assert without_time(resumed) == without_time(training.train(model(0), problem(0), RECIPE, seed=0))


def test_an_eager_checkpoint_resumed_by_a_graphed_run_steps_as_the_graphed_run_bit_for_bit(tmp_path, monkeypatch):
    # A graphed run (capturable Adam) simulated on the CPU, where torch is told to allow one: its rounding differs
    # from eager Adam's, so a resumed run that took the checkpoint's flag would not equal an uninterrupted one.
    monkeypatch.setattr(importlib.import_module("torch.optim.adam"), "_get_capturable_supported_devices",
                        lambda supports_xla=True: ["cpu"])
    real_optimizer = steps.make_optimizer
    monkeypatch.setattr(steps, "make_optimizer",
                        lambda parameters, recipe, capturable: real_optimizer(parameters, recipe, capturable=True))
    checkpoint = tmp_path / "run.pt"
    train_until_killed_writing_as(monkeypatch, checkpoint, "cpu", capturable=False)
    resumed = training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    assert without_time(resumed) == without_time(training.train(model(0), problem(0), RECIPE, seed=0))


@pytest.mark.parametrize("written, resumed", [(True, False), (False, True)])
def test_a_resumed_adam_keeps_its_own_capturable_flag_with_its_step_where_the_flag_wants_it(written, resumed):
    # The resuming run's parameters on `meta` stand in for a GPU's: a capturable Adam's step lives beside them.
    parameter = torch.nn.Parameter(torch.ones(3))
    writer = torch.optim.Adam([parameter], foreach=True)
    parameter.grad = torch.ones(3)
    writer.step()
    saved = writer.state_dict()
    saved["param_groups"][0]["capturable"] = written
    reader = torch.optim.Adam([torch.nn.Parameter(torch.ones(3, device="meta"))], foreach=True, capturable=resumed)
    checkpoints.load_optimizer_state(reader, saved)
    assert reader.param_groups[0]["capturable"] == resumed
    (state,) = reader.state.values()
    assert state["step"].device.type == ("meta" if resumed else "cpu") and state["exp_avg"].device.type == "meta"


def test_a_checkpoint_write_is_atomic_with_a_temporary_file_of_its_own(tmp_path, monkeypatch):
    checkpoint = tmp_path / "run.pt"
    names = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda state, file: names.append(file.name) or real_save(state, file))
    fsyncs = []
    real_fsync = checkpoints.os.fsync
    monkeypatch.setattr(checkpoints.os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    checkpoints.save_atomically({"a": torch.zeros(2)}, checkpoint)
    checkpoints.save_atomically({"a": torch.ones(2)}, checkpoint)
    assert len(set(names)) == 2 and all(name != str(checkpoint) + ".tmp" for name in names), \
        "two writers (a relaunched sweep) never share a temporary file"
    assert len(fsyncs) == 2, "the data is on disk before the rename"
    assert torch.equal(torch.load(checkpoint)["a"], torch.ones(2)) and list(tmp_path.iterdir()) == [checkpoint]


def test_resuming_on_another_kind_of_device_warns_and_the_history_says_so(tmp_path):
    checkpoint = tmp_path / "run.pt"
    training.train(model(0), problem(0), Recipe(lr=1e-2, batch_size=16, epochs=2), seed=0,
                   checkpoint=checkpoint)
    state = torch.load(checkpoint, weights_only=True)
    assert state["histories"][0]["devices"] == [[1, device_name(torch.device("cpu"))]]
    assert {"device", "commit", "torch", "host", "date"} <= set(state["provenance"]), "the checkpoint says who wrote it"
    state["histories"][0]["devices"] = [[1, "cuda (NVIDIA H200)"]]
    state["fingerprint"]["recipe"]["epochs"] = 3  # as if the run had been cut at epoch 2 of 3
    state["fingerprint"]["eval_epochs"] = [1, 2, 3]
    torch.save(state, checkpoint)
    with pytest.warns(UserWarning, match="written on cuda .* resumes on cpu"):
        history = training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    assert [segment[0] for segment in history["devices"]] == [1, 3]


# --- the GPU path, on the CPU ------------------------------------------------------------------------------------

def test_the_history_and_the_checkpoint_record_that_a_cpu_run_stepped_eagerly(tmp_path):
    checkpoint = tmp_path / "run.pt"
    history = training.train(model(0), problem(0), RECIPE, seed=0, checkpoint=checkpoint)
    assert history["graphed_steps"] == [[1, False]]
    assert torch.load(checkpoint, weights_only=True)["histories"][0]["graphed_steps"] == [[1, False]]


def test_a_failed_capture_trains_eagerly_and_the_history_says_so(monkeypatch, caplog):
    # The capture is made to fail as it does on a GPU (a RuntimeError inside it); SGD, as the CPU cannot step the
    # capturable Adam a graphed run uses.
    recipe = Recipe(optimizer="sgd", lr=0.1, batch_size=16, epochs=3)
    eager = training.train(model(0), problem(0), recipe, seed=0)

    def no_capture(device):
        raise RuntimeError("operation not permitted when stream is capturing")

    real_steps = training.GroupStep
    monkeypatch.setattr(training, "GroupStep", lambda *args, use_graphs: real_steps(*args, use_graphs=True))
    monkeypatch.setattr(graphs, "capture_stream", no_capture)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    history = training.train(model(0), problem(0), recipe, seed=0)
    assert "CUDA graph capture failed" in caplog.text
    assert history["graphed_steps"] == [[1, False]], "the fallback is in the record, not only in the log"
    assert without_time(history) == without_time(eager)


def test_graphed_steps_gets_a_segment_each_time_the_steps_change_between_graphed_and_eager():
    histories = [{}, {}]
    for epoch, graphed in [(1, True), (2, True), (3, False), (4, False), (5, True)]:
        note_graphs(histories, epoch, graphed)
    assert histories == [{"graphed_steps": [[1, True], [3, False], [5, True]]}] * 2


@pytest.mark.parametrize("capability, dtype", [(None, None), ((7, 0), None), ((7, 5), None),
                                               ((8, 0), torch.bfloat16), ((8, 6), torch.bfloat16),
                                               ((9, 0), torch.bfloat16), ((12, 0), torch.bfloat16)])
def test_steps_autocast_to_bf16_only_where_the_gpu_computes_it_natively(monkeypatch, capability, dtype):
    # A Colab T4 (7.5) emulates bf16 and cuDNN has no bf16 convolutions for it: fp32 there, as on the CPU (None).
    assert steps.autocast_dtype(capability) == dtype
    monkeypatch.setattr(steps, "device_capability", lambda device: capability)
    data = problem(0)
    built = steps.GroupStep(stack_models([model(0)]), data.x_train, False, data.y_train[None], RECIPE,
                            images=False, use_graphs=False)
    assert built.precision == dtype


def test_a_cpu_has_no_compute_capability():
    assert steps.device_capability(torch.device("cpu")) is None


# --- sweeps ------------------------------------------------------------------------------------------------------

def count_steps(monkeypatch) -> list[int]:
    taken = []
    real_call = steps.GroupStep.take
    monkeypatch.setattr(steps.GroupStep, "take", lambda self, table: taken.append(1) or real_call(self, table))
    return taken


def test_a_job_killed_while_writing_its_records_resumes_without_training_again(tmp_path, monkeypatch):
    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(2, 3, 4), noises=(0.2,), n_train=100, epochs=2, eval_count=2)
    configs = mnist1d_sweep.run_configs(config)
    writes = []
    real_write = ResultStore.write

    def disk_full_on_the_second_record(self, *args, **kwargs):
        writes.append(1)
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(ResultStore, "write", disk_full_on_the_second_record)
    with pytest.raises(OSError, match="No space"):
        run_sweep(mnist1d_sweep.run, configs, tmp_path, progress=False)
    monkeypatch.setattr(ResultStore, "write", real_write)
    assert len(list((tmp_path / "records").glob("*.json"))) == 1
    taken = count_steps(monkeypatch)
    runs = run_sweep(mnist1d_sweep.run, configs, tmp_path, progress=False)
    assert taken == [], "the finished checkpoint gives the missing records: nothing trains again"
    assert [run["config"] for run in runs] == configs and all(run["history"]["epoch"] == [1, 2] for run in runs)
    assert not list((tmp_path / "checkpoints").iterdir()), "the finished job is cleaned up"


def test_every_record_carries_the_provenance_of_the_process_that_trained_it(tmp_path):
    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(2,), noises=(0.2,), n_train=50, epochs=1, eval_count=1)
    runs = run_sweep(mnist1d_sweep.run, mnist1d_sweep.run_configs(config), tmp_path, progress=False)
    provenance = runs[0]["provenance"]
    assert {"device", "host", "torch", "numpy", "commit", "date"} <= set(provenance)
    assert provenance["device"].startswith("cuda" if torch.cuda.is_available() else "cpu")
    assert load_results(tmp_path)[0]["provenance"] == provenance
    path = tmp_path / "records" / f"{run_key(runs[0]['config'])}.json"
    path.write_text(path.read_text().replace(provenance["host"], "another-host"))
    with pytest.warns(UserWarning, match="damaged"):
        assert load_results(tmp_path) == [], "the provenance is covered by the record's checksum"


# --- data ---------------------------------------------------------------------------------------------------------

X, Y = torch.randn(10, 4), torch.randint(0, 3, (10,))
MASK = torch.zeros(10, dtype=torch.bool)


@pytest.mark.parametrize("fields, message", [
    ((X, Y[:8], MASK, X, Y), "y_train must have one label per example"),
    ((X, Y, MASK[:5], X, Y), "corrupted must be a torch.bool mask of shape \\(10,\\)"),
    ((X, Y, MASK.long(), X, Y), "corrupted must be a torch.bool mask"),
    ((X, Y.float(), MASK, X, Y), "y_train must hold class indices as torch.int64"),
    ((X, Y - 5, MASK, X, Y), "y_train must hold class indices >= 0"),
    ((X[:0], Y[:0], MASK[:0], X, Y), "x_train must hold at least one example"),
    ((X, Y, MASK, X[:0], Y[:0]), "x_test must hold at least one example"),
    ((X, Y, MASK, X[:, :3], Y), "x_test's examples must have x_train's shape"),
    ((X, Y, MASK, X, Y[:3]), "y_test must have one label per example"),
    ((X, Y, MASK, X.to("meta"), Y), "one device"),
])
def test_malformed_train_data_is_a_clear_error_when_it_is_made(fields, message):
    with pytest.raises(ValueError, match=message):
        TrainData(*fields)


def test_labels_beyond_the_models_outputs_are_refused_before_training():
    data = TrainData(X, torch.full((10,), 7), MASK, X, Y)
    with pytest.raises(ValueError, match=r"datas\[0\].y_train holds label 7, but model 0 has 3 outputs"):
        training.train(torch.nn.Linear(4, 3), data, RECIPE, seed=0)


# --- global state -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("before", [False, True])
def test_training_leaves_flush_denormal_as_it_found_it(before):
    torch.set_flush_denormal(before)
    try:
        training.train(model(0), problem(0), RECIPE, seed=0)
        assert training._flush_denormal_is_on() == before
    finally:
        torch.set_flush_denormal(False)


def test_training_and_evaluation_leave_the_callers_model_in_its_mode():
    net = model(0).eval()
    training.train(net, problem(0), RECIPE, seed=0)  # an nn.Sequential: trained in place, not stacked
    assert not any(module.training for module in net.modules())
    net.train()
    evaluate(net, problem(0).x_test, problem(0).y_test)
    assert all(module.training for module in net.modules())


def test_the_training_scope_puts_the_callers_models_back_in_their_memory_format():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    stacks = stack_models([net])
    with training._training_scope([net], stacks, torch.device("cpu"), channels_last=True):
        assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
        assert not net[0].weight.is_contiguous()
    assert net[0].weight.is_contiguous()


def test_a_sweep_run_leaves_the_global_random_state_alone():
    config = mnist1d_sweep.MNIST1DSweepConfig(widths=(2,), noises=(0.2,), seeds=(3,), n_train=50, epochs=1,
                                              eval_count=1)
    torch.manual_seed(1234)
    state = torch.random.get_rng_state()
    mnist1d_sweep.run(mnist1d_sweep.run_configs(config))
    assert torch.equal(torch.random.get_rng_state(), state)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist1d_sweep.weight_reuse_sweep(mnist1d_sweep.MNIST1DSweepConfig(
            widths=(2, 3), noises=(0.2,), seeds=(3,), n_train=50, epochs=1, eval_count=1), noise=0.2)
    assert torch.equal(torch.random.get_rng_state(), state)

"""The engine on a CUDA GPU: every model family trains there from CUDA graphs (an eager fallback, or autograd's
warning that a gradient crossed streams, fails the test), a graphed step equals an eager one within bf16 tolerance,
a CUDA checkpoint resumes (on the GPU, and on the CPU) and a CPU one resumes graphed on the GPU, and a GPU run agrees
with a CPU run of the same job within seed noise; chapter 6's Transformer trains from a CUDA graph as its eager steps
do and resumes across devices.

Skipped (and saying so) where no GPU is present, as in CI; `python scripts/gpu_probe.py` runs it on a GPU machine.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import pytest
import torch
from test_stacked_training import train_until_killed

from ddd_utils.engine import steps as steps_module
from ddd_utils.engine import training
from ddd_utils.engine.group import shared_or_stacked
from ddd_utils.engine.recipe import Recipe, TrainData
from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.models import build_model
from ddd_utils.models.stacked import stack_models

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")
CUDA = torch.device("cuda")
RECIPE = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=2)
STREAM_MISMATCH = "AccumulateGrad node's stream does not match"


@pytest.fixture(autouse=True)
def no_gradient_crosses_streams():
    """Fail a test on autograd's warning that a gradient accumulator was made on another stream (it makes a capture
    fail or replay wrongly); torch would give it once per process, so it is made to warn every time."""
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        torch.set_warn_always(always)
    assert not [str(w.message) for w in caught if STREAM_MISMATCH in str(w.message)]


def synthetic_images(n: int, seed: int) -> TrainData:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    return TrainData(x, y, torch.zeros(n, dtype=torch.bool), x[:64], y[:64])


def mnist1d_job(model: str, widths, seeds, n_train: int = 400):
    models, datas, all_seeds = [], [], []
    for width in widths:
        for seed in seeds:
            torch.manual_seed(seed)
            models.append(build_model(model, width, (40,), 10))
            datas.append(mnist1d_sweep.training_data(n_train, 0.2, seed))
            all_seeds.append(seed)
    return models, datas, all_seeds


@pytest.mark.parametrize("family", ["mlp", "cnn5-1d", "cnn5-2d", "resnet18", "strided_cnn"])
def test_every_model_family_trains_on_the_gpu_from_cuda_graphs(family, caplog):
    if family in ("mlp", "cnn5-1d", "strided_cnn"):
        models, datas, seeds = mnist1d_job(family.split("-")[0], widths=(2, 4), seeds=(0, 1))
        recipe = RECIPE
    else:
        name = "cnn5" if family == "cnn5-2d" else "resnet18"
        models = [build_model(name, 2, (3, 32, 32), 10) for _ in range(2)]
        datas, seeds = [synthetic_images(256, 0)] * 2, [0, 1]
        recipe = Recipe(optimizer="adam", lr=1e-3, batch_size=64, epochs=2, augment=True)
    models = [model.to(CUDA) for model in models]
    histories = training.train_many(models, [d.to(CUDA) for d in datas], recipe, seeds)
    for model, history in zip(models, histories, strict=True):
        assert history["graphed_steps"] == [[1, True]], caplog.text  # from CUDA graphs, not the eager fallback
        assert all(p.device.type == "cuda" and torch.isfinite(p).all() for p in model.parameters())
        assert history["epoch"] == [1, 2] and all(0.0 <= e <= 1.0 for e in history["train_error"])


@pytest.mark.parametrize("name", ["mlp", "cnn5"])
def test_a_graphed_step_equals_an_eager_step(name):
    # Plain SGD, so that the update is the gradient itself (Adam would turn rounding-level gradient differences
    # into steps of size lr): three steps from one state, eager and replayed from a CUDA graph.
    recipe = Recipe(optimizer="sgd", lr=0.1, momentum=0.0, batch_size=32, epochs=1)
    models, datas, seeds = mnist1d_job(name, widths=(4, 16), seeds=(0, 1, 2))
    results = []
    for graphs in (False, True):
        copies = [copy.deepcopy(model).to(CUDA) for model in models]
        gpu_datas = [d.to(CUDA) for d in datas]
        x, per_model = shared_or_stacked([d.x_train for d in gpu_datas])
        step = steps_module.GroupStep(stack_models(copies), x, per_model, torch.stack([d.y_train for d in gpu_datas]),
                                      recipe, images=False, use_graphs=graphs)
        draws = steps_module.epoch_draws([torch.Generator().manual_seed(s) for s in seeds], 400, False, CUDA)
        for begin in (0, 32, 64):
            step.take(draws[:, :, begin:begin + 32])
        assert step.use_graphs == graphs  # the capture worked
        results.append({f"{i}.{key}": value.float() for i, (_, stack) in enumerate(step.stacks)
                        for key, value in stack.state_dict().items()})
    for key, eager in results[0].items():
        graphed = results[1][key]
        assert torch.allclose(eager, graphed, rtol=1e-2, atol=1e-3), (key, (eager - graphed).abs().max().item())


def test_a_cuda_checkpoint_resumes(tmp_path, monkeypatch):
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=4)
    models, datas, seeds = mnist1d_job("cnn5", widths=(4,), seeds=(0, 1))
    gpu_datas = [d.to(CUDA) for d in datas]
    uninterrupted = [copy.deepcopy(m).to(CUDA) for m in models]
    expected = training.train_many(uninterrupted, gpu_datas, recipe, seeds)
    checkpoint = tmp_path / "job.pt"
    train_until_killed(monkeypatch, [copy.deepcopy(m).to(CUDA) for m in models], gpu_datas, recipe, seeds,
                       checkpoint)
    resumed = [build_model("cnn5", 4, (40,), 10).to(CUDA) for _ in models]  # other weights: all from the file
    histories = training.train_many(resumed, gpu_datas, recipe, seeds, checkpoint=checkpoint)
    for history, reference in zip(histories, expected, strict=True):
        assert history["epoch"] == reference["epoch"] == [1, 2, 3, 4]
        assert history["graphed_steps"] == [[1, True]]  # the resumed run graphs its steps too
        assert history["test_error"] == pytest.approx(reference["test_error"], abs=0.02)
    for model, reference in zip(resumed, uninterrupted, strict=True):
        for value, target in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
            assert torch.allclose(value.float(), target.float(), rtol=1e-2, atol=1e-3)


def test_a_cuda_checkpoint_resumes_on_the_cpu_and_the_history_says_so(tmp_path, monkeypatch):
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=4)
    models, datas, seeds = mnist1d_job("mlp", widths=(4,), seeds=(0, 1))
    checkpoint = tmp_path / "job.pt"
    train_until_killed(monkeypatch, [copy.deepcopy(m).to(CUDA) for m in models], [d.to(CUDA) for d in datas],
                       recipe, seeds, checkpoint)
    with pytest.warns(UserWarning, match="written on cuda .* resumes on cpu"):
        histories = training.train_many([copy.deepcopy(m) for m in models], datas, recipe, seeds,
                                        checkpoint=checkpoint)
    assert [[epoch, name.split(" ")[0]] for epoch, name in histories[0]["devices"]] == [[1, "cuda"], [3, "cpu"]]
    assert histories[0]["graphed_steps"] == [[1, True], [3, False]]
    assert histories[0]["epoch"] == [1, 2, 3, 4]


def test_a_cpu_checkpoint_resumes_on_the_gpu_from_cuda_graphs(tmp_path, monkeypatch, caplog):
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=4)
    models, datas, seeds = mnist1d_job("mlp", widths=(4,), seeds=(0, 1))
    checkpoint = tmp_path / "job.pt"
    train_until_killed(monkeypatch, [copy.deepcopy(m) for m in models], datas, recipe, seeds, checkpoint)
    with pytest.warns(UserWarning, match="written on cpu .* resumes on cuda"):
        histories = training.train_many([copy.deepcopy(m).to(CUDA) for m in models], [d.to(CUDA) for d in datas],
                                        recipe, seeds, checkpoint=checkpoint)
    assert histories[0]["graphed_steps"] == [[1, False], [3, True]], caplog.text  # not eager for the rest of the run
    assert histories[0]["epoch"] == [1, 2, 3, 4]


def test_gpu_and_cpu_runs_of_one_job_agree_within_seed_noise():
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=64, epochs=30)
    models, datas, seeds = mnist1d_job("mlp", widths=(8, 64), seeds=(0, 1, 2, 3), n_train=1000)
    errors = {}
    for device in ("cpu", "cuda"):
        copies = [copy.deepcopy(m).to(device) for m in models]
        histories = training.train_many(copies, [d.to(device) for d in datas], recipe, seeds, eval_epochs=[30])
        errors[device] = torch.tensor([h["test_error"][-1] for h in histories]).view(2, 4)  # (width, seed)
    spread = errors["cpu"].std(dim=1) / 2 + 0.01  # standard error over 4 seeds, plus a floor
    assert (errors["cpu"].mean(dim=1) - errors["cuda"].mean(dim=1)).abs().le(3 * spread).all(), errors


def test_the_grokking_sweep_trains_full_batch_adamw_from_cuda_graphs(caplog):
    from ddd_utils.experiments import grokking

    config = grokking.PRESETS["smoke"]
    job = grokking.run_configs(config)
    histories = grokking.run(job)
    for run, history in zip(job, histories, strict=True):
        assert history["graphed_steps"] == [[1, True]], caplog.text
        assert history["devices"][0][1].startswith("cuda") and len(history["weight_norm"]) == len(history["epoch"])
        assert history["train_loss"][-1] < history["train_loss"][0], run


def test_the_translation_transformer_trains_from_a_cuda_graph_as_its_eager_steps_do(caplog):
    # Same kernels, replayed or launched one by one: the recorded losses agree to bf16 rounding.
    from ddd_utils.experiments import translation_corpus as tc
    from ddd_utils.experiments import translation_sweep as ts

    config = dataclasses.replace(ts.PRESETS["smoke"], d_models=(32,), layers=2, steps=30, warmup=5)
    run = ts.run_configs(config)[0]
    corpus = tc.corpus(dataclasses.asdict(config), run["n_train"])
    graphed, eager = (ts.train_run(run, corpus, cuda_graphs=graphs) for graphs in (True, False))
    assert graphed["graphed_steps"] == [[1, True]], caplog.text
    assert eager["graphed_steps"] == [[1, False]] and graphed["devices"][0][1].startswith("cuda")
    assert graphed["train_loss"] == pytest.approx(eager["train_loss"], abs=1e-2)
    assert graphed["train_loss"][-1] < graphed["train_loss"][0]


@pytest.mark.parametrize("source, target", [("cuda", "cpu"), ("cpu", "cuda")])
def test_a_translation_checkpoint_resumes_on_the_other_device_and_the_history_says_so(tmp_path, monkeypatch,
                                                                                      source, target):
    from ddd_utils.experiments import translation_corpus as tc
    from ddd_utils.experiments import translation_sweep as ts

    config = dataclasses.replace(ts.PRESETS["smoke"], steps=10, checkpoint_every=5)
    run = ts.run_configs(config)[0]
    corpus = tc.corpus(dataclasses.asdict(config), run["n_train"])
    real_save = ts.save_atomically

    def save_then_die(state, path):
        real_save(state, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(ts, "save_atomically", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        ts.train_run(run, corpus, tmp_path / "run.pt", device=torch.device(source))
    monkeypatch.setattr(ts, "save_atomically", real_save)
    with pytest.warns(UserWarning, match="numerics change at step 6"):
        history = ts.train_run(run, corpus, tmp_path / "run.pt", device=torch.device(target))
    assert history["graphed_steps"] == [[1, source == "cuda"], [6, target == "cuda"]]
    assert [device.split(" ")[0].split(":")[0] for _, device in history["devices"]] == [source, target]
    assert history["step"][-1] == 10

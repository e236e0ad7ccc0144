"""Many models trained at once (`train_many`, `ddd_utils.models.stacked`) equal each model trained alone by a plain
PyTorch loop, BatchNorm statistics included, and resume bit for bit."""

from __future__ import annotations

import copy
import functools
import json

import pytest
import torch
import torch.nn.functional as F

from ddd_utils.engine import checkpoints, graphs, training
from ddd_utils.engine import steps as steps_module
from ddd_utils.engine.evaluation import evaluate
from ddd_utils.engine.group import shared_or_stacked
from ddd_utils.engine.recipe import Recipe, TrainData
from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.models import CNN5, MLP, StridedCNN, build_model
from ddd_utils.models.stacked import Single, StackedConvNet, StackedMLP, stack_models

RECIPE = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=2)


def plain_loss(logits: torch.Tensor, labels: torch.Tensor, loss: str) -> torch.Tensor:
    """The batch-mean loss written out independently of the engine."""
    if loss == "squared":
        return F.mse_loss(logits, F.one_hot(labels, logits.shape[-1]).float(), reduction="sum") / labels.numel()
    return F.cross_entropy(logits, labels)


def plain_training(model: torch.nn.Module, data: TrainData, recipe: Recipe, seed: int) -> None:
    """The textbook loop, one model at a time: the independent route train_many must agree with."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    n = data.x_train.shape[0]
    for _ in range(recipe.epochs):
        model.train()
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, recipe.batch_size):
            batch = order[begin:begin + recipe.batch_size]
            loss = plain_loss(model(data.x_train[batch]), data.y_train[batch], recipe.loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def sweep_models(name: str, runs: list[tuple[int, float, int]]) -> tuple[list, list, list]:
    """Models, data and seeds for (width, noise, seed) runs of a small MNIST-1D sweep."""
    models, datas = [], []
    for width, noise, seed in runs:
        torch.manual_seed(seed)
        models.append(build_model(name, width, (40,), 10))
        datas.append(mnist1d_sweep.training_data(200, noise, seed))
    return models, datas, [seed for _, _, seed in runs]


RUNS = [(4, 0.0, 0), (4, 0.2, 1), (16, 0.2, 0), (4, 0.2, 2), (16, 0.0, 1)]


@pytest.mark.parametrize("name, loss", [("mlp", "cross_entropy"), ("cnn5", "cross_entropy"),
                                       ("strided_cnn", "cross_entropy"), ("mlp", "squared")])
def test_train_many_equals_training_each_model_alone(name, loss):
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=2, loss=loss)
    models, datas, seeds = sweep_models(name, RUNS)
    alone = copy.deepcopy(models)
    histories = training.train_many(models, datas, recipe, seeds, eval_epochs=[2])
    for model, reference, data, seed, history in zip(models, alone, datas, seeds, histories, strict=True):
        plain_training(reference, data, recipe, seed)
        for (key, trained), expected in zip(model.state_dict().items(), reference.state_dict().values(),
                                            strict=True):
            assert torch.allclose(trained.float(), expected.float(), rtol=1e-4, atol=1e-5), key
        wrong, losses = evaluate(reference, data.x_test, data.y_test, loss=loss)
        assert history["test_error"] == [pytest.approx(wrong.float().mean().item(), abs=2e-3)]
        with torch.no_grad():
            expected_loss = plain_loss(reference.eval()(data.x_test), data.y_test, loss).item()
        assert history["test_loss"] == [pytest.approx(expected_loss, rel=1e-3)]
        assert losses.mean().item() == pytest.approx(expected_loss, rel=1e-5)


def test_stacked_batchnorm_keeps_each_models_own_statistics():
    models = []
    for seed in range(3):
        torch.manual_seed(seed)
        models.append(CNN5(2, num_classes=10, in_channels=1, dims=1))
    alone = copy.deepcopy(models)
    stack = StackedConvNet(models).train()
    scale, shift = torch.tensor([1.0, 5.0, 0.1]), torch.tensor([0.0, 3.0, -2.0])  # each model sees other inputs
    x = torch.randn(3, 8, 40) * scale[:, None, None] + shift[:, None, None]
    out = stack(x)
    for m, model in enumerate(alone):
        assert torch.allclose(out[m], model.train()(x[m]), atol=1e-5)
    stack.unstack_into(models)
    for model, reference in zip(models, alone, strict=True):
        for (key, value), expected in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
            assert torch.allclose(value.float(), expected.float(), atol=1e-6), key


def test_models_are_stacked_by_shape_and_others_stand_alone():
    mlps = [MLP(40, width, 10) for width in (4, 8, 4)]
    resnet_like = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(40, 10))
    stacks = stack_models([*mlps, resnet_like, CNN5(2, 10, 1, dims=1)])
    assert [(indices, type(stack)) for indices, stack in stacks] == [
        ([0, 2], StackedMLP), ([1], StackedMLP), ([3], Single), ([4], StackedConvNet)]
    with pytest.raises(ValueError, match="identical shapes"):
        StackedMLP([MLP(40, 4, 10), MLP(40, 8, 10)])


def test_cnn5s_wider_than_the_stacking_limit_train_alone_and_as_they_would_stacked(monkeypatch):
    # No preset has a CNN5 wider than CNN5_STACK_UP_TO; the unstacked branch stays for a GPU measurement that may
    # lower it, and must train what the stacked one does.
    from ddd_utils.models import stacked

    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=2)
    models, datas, seeds = sweep_models("cnn5", RUNS[:2])  # two seeds of width 4: one stack
    unstacked = copy.deepcopy(models)
    training.train_many(models, datas, recipe, seeds)
    monkeypatch.setattr(stacked, "CNN5_STACK_UP_TO", 2)
    assert [indices for indices, _ in stack_models(unstacked)] == [[0], [1]]  # side by side, a stack each
    training.train_many(unstacked, datas, recipe, seeds)
    for model, alone in zip(models, unstacked, strict=True):
        for (key, value), other in zip(model.state_dict().items(), alone.state_dict().values(), strict=True):
            torch.testing.assert_close(value, other, rtol=1e-4, atol=1e-5, msg=key)


def train_until_killed(monkeypatch, models, datas, recipe, seeds, checkpoint, epoch: int = 2) -> None:
    """Train with a checkpoint every `epoch` epochs and kill the job right after the first one is written."""
    save = checkpoints.save_atomically

    def crash_after_first_checkpoint(state, path):
        save(state, path)
        if state["epoch"] == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "save_atomically", crash_after_first_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        training.train_many(models, datas, recipe, seeds, checkpoint=checkpoint, checkpoint_every=epoch)
    monkeypatch.undo()


def test_train_many_resumes_bit_for_bit(tmp_path, monkeypatch):
    recipe = Recipe(optimizer="adam", lr=3e-3, batch_size=32, epochs=4)
    uninterrupted_models, datas, seeds = sweep_models("mlp", RUNS[:3])
    uninterrupted = training.train_many(uninterrupted_models, datas, recipe, seeds)

    checkpoint = tmp_path / "job.pt"
    train_until_killed(monkeypatch, sweep_models("mlp", RUNS[:3])[0], datas, recipe, seeds, checkpoint)
    fresh = [build_model("mlp", width, (40,), 10) for width, _, _ in RUNS[:3]]  # other weights: all from the file
    resumed = training.train_many(fresh, datas, recipe, seeds, checkpoint=checkpoint, checkpoint_every=2)
    for before, after in zip(uninterrupted, resumed, strict=True):
        before.pop("seconds"), after.pop("seconds")
        assert json.dumps(before) == json.dumps(after)  # as text, so that NaN (no corrupted labels) equals NaN
    for model, reference in zip(fresh, uninterrupted_models, strict=True):
        for value, expected in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
            assert torch.equal(value, expected)


def test_a_checkpoint_of_another_job_is_refused(tmp_path):
    models, datas, seeds = sweep_models("mlp", RUNS[:2])
    checkpoint = tmp_path / "job.pt"
    training.train_many(models, datas, RECIPE, seeds, checkpoint=checkpoint)
    other = Recipe(optimizer="adam", lr=1e-3, batch_size=32, epochs=2)
    with pytest.raises(ValueError, match="another run .*recipe"):
        training.train_many(models, datas, other, seeds, checkpoint=checkpoint)


def test_train_many_needs_one_data_set_and_seed_per_model():
    models, datas, seeds = sweep_models("mlp", RUNS[:2])
    with pytest.raises(ValueError, match="one entry per model"):
        training.train_many(models, datas[:1], RECIPE, seeds)


def test_a_job_of_runs_with_different_recipes_is_refused():
    configs = mnist1d_sweep.run_configs(mnist1d_sweep.PRESETS["smoke"])
    with pytest.raises(ValueError, match="share"):
        mnist1d_sweep.run([configs[0], {**configs[1], "epochs": 7}])


@pytest.mark.parametrize("make", [lambda: MLP(40, 8, 10), lambda: CNN5(2, 10, in_channels=1, dims=1),
                                  lambda: CNN5(2, 10, in_channels=3, dims=2), lambda: StridedCNN(3)],
                         ids=["mlp", "cnn5-1d", "cnn5-2d", "strided_cnn"])
def test_a_stack_lives_where_its_models_live(make):
    # On a GPU the stack's new layers were once built on the CPU beside CUDA models; `meta` stands in for the GPU.
    models = [make().to("meta") for _ in range(3)]
    (_, stack), = stack_models(models)
    for name, tensor in [*stack.named_parameters(), *stack.named_buffers()]:
        assert tensor.device.type == "meta", name


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_undoing_a_graph_warm_up_leaves_the_training_untouched(optimizer):
    # Before a CUDA graph is captured, a few eager steps warm it up and are undone; what they created in the
    # optimizer is zeroed. The next step must then equal the first step of a run that never warmed up.
    recipe = Recipe(optimizer=optimizer, lr=1e-2, batch_size=32, epochs=1)
    runs = []
    for warm_up in (False, True):
        models, datas, seeds = sweep_models("cnn5", RUNS[:3])
        x, per_model = shared_or_stacked([d.x_train for d in datas])
        step = steps_module.GroupStep(stack_models(models), x, per_model, torch.stack([d.y_train for d in datas]),
                                      recipe, images=False, use_graphs=False)
        draws = steps_module.epoch_draws([torch.Generator().manual_seed(s) for s in seeds], 200, False, x.device)
        batch = draws[:, :, :32]
        if warm_up:  # the warm-up `graphs.capture_step` takes before it records
            graphs.warm_up(functools.partial(step._step_eagerly, draws[:, :, 32:64]), step._state_tensors,
                           graphs.snapshot(step._state_tensors()))
        step.take(batch)
        step.take(draws[:, :, 64:96])
        runs.append([t.clone() for _, stack in step.stacks for t in stack.state_dict().values()])
    for cold, warm in zip(*runs, strict=True):
        assert torch.equal(cold, warm)

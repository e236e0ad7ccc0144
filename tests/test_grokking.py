"""Chapter 7's grokking sweep: the modular-arithmetic tables, AdamW in the engine, and the sweep's runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ddd_utils.data import modular
from ddd_utils.engine.recipe import Recipe, log_spaced_epochs
from ddd_utils.engine.steps import make_optimizer
from ddd_utils.engine.sweep import run_sweep
from ddd_utils.engine.training import train
from ddd_utils.experiments import grokking
from ddd_utils.models.arithmetic_transformer import EQUATION_LENGTH, ArithmeticTransformer


@pytest.mark.parametrize("operation", modular.OPERATIONS)
def test_the_table_holds_every_pair_once_with_the_right_answer(operation):
    p = 7
    a, b, c = modular.table(p, operation)
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(pairs) == len(a) == (p * p if operation != "divide" else p * (p - 1))
    for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True):
        if operation == "add":
            assert z == (x + y) % p
        elif operation == "subtract":
            assert (z + y) % p == x
        else:
            assert z * y % p == x


def test_division_needs_a_prime_and_unknown_operations_are_refused():
    with pytest.raises(ValueError, match="modulus must be a prime"):
        modular.table(8, "divide")
    with pytest.raises(ValueError, match="operation"):
        modular.table(7, "multiply")


def test_the_split_is_disjoint_complete_and_fixed_by_its_seed():
    train, test = modular.split(100, 0.3, seed=4)
    assert len(train) == 30 and not set(train) & set(test) and sorted([*train, *test]) == list(range(100))
    again, _ = modular.split(100, 0.3, seed=4)
    other, _ = modular.split(100, 0.3, seed=5)
    np.testing.assert_array_equal(train, again)
    assert set(other) != set(train)
    for bad in (0.0, 1.0, 0.001):
        with pytest.raises(ValueError, match="train_fraction"):
            modular.split(100, bad, seed=0)


def test_the_data_are_one_hot_pairs_with_their_labels():
    data = modular.modular_data(5, "add", 0.6, seed=0)
    assert data.x_train.shape == (15, 10) and data.x_test.shape == (10, 10)
    a, b = data.x_train[:, :5].argmax(1), data.x_train[:, 5:].argmax(1)
    assert torch.equal((a + b) % 5, data.y_train) and data.x_train.sum(1).eq(2).all()


def test_an_adamw_step_decays_the_weights_apart_from_the_gradient():
    # First step from w = 2 with gradient g = 0.5 (loss 0.5 w): Adam's normalised step is lr * g / |g| = lr, and
    # AdamW also shrinks w by lr * decay * w before it: 2 - 0.1 * 0.5 * 2 - 0.1 = 1.8 (up to Adam's epsilon).
    weight = torch.nn.Parameter(torch.tensor([2.0]))
    optimizer = make_optimizer([weight], Recipe(optimizer="adamw", lr=0.1, weight_decay=0.5, betas=(0.9, 0.98)),
                               capturable=False)
    (0.5 * weight).sum().backward()
    optimizer.step()
    assert weight.item() == pytest.approx(1.8, abs=1e-6)
    # Adam's coupled L2 penalty adds decay * w to the gradient, which the normalisation then cancels: 2 - 0.1.
    coupled = torch.nn.Parameter(torch.tensor([2.0]))
    optimizer = make_optimizer([coupled], Recipe(optimizer="adam", lr=0.1, weight_decay=0.5), capturable=False)
    (0.5 * coupled).sum().backward()
    optimizer.step()
    assert coupled.item() == pytest.approx(1.9, abs=1e-6)


def test_bad_betas_are_refused():
    with pytest.raises(ValueError, match="betas"):
        Recipe(optimizer="adamw", betas=(0.9, 1.0))


def test_the_history_records_the_weight_norm_of_the_trained_model():
    data = modular.modular_data(5, "add", 0.6, seed=0)
    model = grokking.initial_model({"model": "mlp", "modulus": 5}, 8, seed=0)
    history = train(model, data, Recipe(optimizer="adamw", lr=1e-2, weight_decay=1.0, batch_size=15, epochs=5),
                    seed=0)
    norm = math.sqrt(sum(parameter.square().sum().item() for parameter in model.parameters()))
    assert history["weight_norm"][-1] == pytest.approx(norm, rel=1e-6)
    assert len(history["weight_norm"]) == 5


def test_run_configs_hold_the_width_grid_and_the_controls_once():
    config = grokking.GrokkingConfig(widths=(16, 64), control_width=64, control_decays=(0.0, 1.0), seeds=(0, 1))
    runs = grokking.run_configs(config)
    keys = [(run["width"], run["weight_decay"], run["seed"]) for run in runs]
    assert len(keys) == len(set(keys)) == 6  # 4 grid runs and the decay-0 controls; decay 1 at 64 is a grid run
    assert {(64, 0.0, 0), (64, 0.0, 1)} <= set(keys)


@pytest.mark.parametrize("change, name", [({"modulus": 1}, "modulus"), ({"operation": "mul"}, "operation"),
                                          ({"train_fraction": 1.0}, "train_fraction"), ({"widths": (0,)}, "width"),
                                          ({"control_decays": (-1.0,)}, "weight_decay"), ({"steps": 0}, "steps"),
                                          ({"lr": 0.0}, "lr"), ({"seeds": ()}, "seeds"), ({"model": "cnn"}, "model"),
                                          ({"batch_size": -1}, "batch_size"),
                                          ({"model": "transformer", "widths": (30,)}, "multiple of heads")])
def test_bad_configs_are_refused_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=name):
        grokking.GrokkingConfig(**change)


def test_the_sweep_trains_every_run_and_stacked_seeds_match_a_run_alone(tmp_path):
    config = grokking.PRESETS["smoke"]
    records = run_sweep(grokking.run, grokking.run_configs(config), tmp_path, progress=False)
    assert len(records) == len(grokking.run_configs(config))
    alone = records[0]["config"]
    data = modular.modular_data(alone["modulus"], alone["operation"], alone["train_fraction"], alone["seed"])
    recipe = Recipe(optimizer="adamw", lr=alone["lr"], betas=tuple(alone["betas"]),
                    weight_decay=alone["weight_decay"], batch_size=len(data.y_train), epochs=alone["steps"])
    history = train(grokking.initial_model(alone, alone["width"], alone["seed"]), data, recipe,
                    seed=alone["seed"], eval_epochs=log_spaced_epochs(alone["steps"], alone["eval_count"]))
    assert records[0]["history"]["step"] == history["epoch"]  # full batch: one step per pass
    np.testing.assert_allclose(history["train_loss"], records[0]["history"]["train_loss"], rtol=1e-4)
    assert not list(tmp_path.rglob("*.pt"))


def test_grokking_and_memorised_steps_read_the_first_crossing():
    history = {"step": [1, 10, 100, 1000], "test_error": [1.0, 0.95, 0.5, 0.05],
               "train_error": [0.9, 0.0, 0.0, 0.0]}
    assert grokking.grokking_step(history) == 1000 and grokking.memorised_step(history) == 10
    assert math.isnan(grokking.grokking_step(history, level=0.99))



def test_equations_as_tokens_name_both_operands_the_operation_and_equals():
    data = modular.modular_data(7, "add", 0.5, seed=1, inputs="tokens")
    tokens = data.x_train
    assert tokens.shape[1] == EQUATION_LENGTH and tokens.dtype == torch.int64
    assert torch.equal((tokens[:, 0] + tokens[:, 2]) % 7, data.y_train)
    assert tokens[:, 1].eq(7).all() and tokens[:, 3].eq(8).all()
    with pytest.raises(ValueError, match="inputs"):
        modular.modular_data(7, "add", 0.5, seed=1, inputs="words")


def test_the_transformer_reads_equations_causally_and_refuses_bad_shapes():
    model = ArithmeticTransformer(7, d_model=16, layers=2, heads=4).eval()
    tokens = modular.equation_tokens(np.array([1, 2]), np.array([3, 4]), 7)
    assert model(tokens).shape == (2, 7)
    with torch.no_grad():  # causal: the first position's state ignores the later tokens
        first = model.blocks(model.tokens(tokens) + model.positions, mask=model.causal_mask, is_causal=True)[:, 0]
        changed = tokens.clone()
        changed[:, 2] = 0
        again = model.blocks(model.tokens(changed) + model.positions, mask=model.causal_mask, is_causal=True)[:, 0]
    torch.testing.assert_close(first, again)
    with pytest.raises(ValueError, match="tokens"):
        model(tokens[:, :3])
    with pytest.raises(ValueError, match="multiple of heads"):
        ArithmeticTransformer(7, d_model=18, heads=4)


def test_a_batched_transformer_sweep_counts_optimizer_steps(tmp_path):
    config = grokking.GrokkingConfig(modulus=7, model="transformer", widths=(8,), control_width=8,
                                     control_decays=(), steps=12, batch_size=8, eval_count=4, checkpoint_every=4)
    (record,) = run_sweep(grokking.run, grokking.run_configs(config), tmp_path, progress=False)
    history = record["history"]
    # 24 training equations in batches of 8: 3 steps per pass, so 12 steps are 4 passes
    assert history["epoch"][-1] == 4 and history["step"][-1] == 12
    assert history["train_loss"][-1] < history["train_loss"][0]

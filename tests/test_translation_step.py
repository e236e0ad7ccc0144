"""Chapter 6's Transformer step, graphed or eager, on the CPU: a graphed step (capturable Adam, which torch is told to
allow on the CPU, and a stand-in graph that replays the recorded step) reads the learning rate and the batch from
the tensors it was captured with; a failed capture steps eagerly and the history says so; checkpoints resume across
the two forms bit for bit."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import torch

from ddd_utils.engine import graphs, translation_step
from ddd_utils.experiments import translation_corpus as tc
from ddd_utils.experiments import translation_sweep as ts

TINY = dataclasses.replace(ts.PRESETS["smoke"], steps=10, warmup=4, checkpoint_every=5, eval_count=4)
CONFIG = ts.run_configs(TINY)[0]


def data() -> tc.Corpus:
    return tc.corpus(dataclasses.asdict(TINY), CONFIG["n_train"])


def measured(history: dict) -> dict:
    """Everything a run records but its wall-clock times."""
    return {name: value for name, value in history.items() if name != "seconds"}


def eager_run() -> dict:
    """CONFIG's history with eager steps, as the CPU takes them, even under `graphed_on_cpu`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ts, "TranslationStep", translation_step.TranslationStep)
        return ts.train_run(CONFIG, data())


class ReplayedStep:
    """Stands in for a CUDA graph: replays the recorded step, after checking that what a real graph would read
    (the learning rate and the batch's rows) is still in the tensors the capture saw."""

    def __init__(self, step, trainer_tensors):
        self.step, self.tensors = step, trainer_tensors
        self.seen = trainer_tensors()

    def replay(self):
        assert all(now is then for now, then in zip(self.tensors(), self.seen, strict=True)), \
            "a graph keeps reading the tensors it was captured with"
        self.step()


@pytest.fixture
def graphed_on_cpu(monkeypatch):
    """Every run's steps take the graphed form on the CPU; returns the list of captures made."""
    monkeypatch.setattr(importlib.import_module("torch.optim.adam"), "_get_capturable_supported_devices",
                        lambda supports_xla=True: ["cpu"])
    captures = []

    def capture(step, state, optimizer, device):
        trainer = step.__self__
        graph = ReplayedStep(step, lambda: [optimizer.param_groups[0]["lr"], trainer.rows])
        captures.append(graph)
        return graph

    real = translation_step.TranslationStep
    monkeypatch.setattr(graphs, "capture_step", capture)
    monkeypatch.setattr(ts, "TranslationStep", lambda *args, use_graphs, **options: real(*args, use_graphs=True,
                                                                                             **options))
    return captures


def test_a_graphed_step_takes_the_schedule_and_the_batch_through_the_tensors_it_was_captured_with(graphed_on_cpu):
    eager, graphed = eager_run(), ts.train_run(CONFIG, data())
    assert len(graphed_on_cpu) == 1, "one capture, then replays"
    assert graphed["graphed_steps"] == [[1, True]] and eager["graphed_steps"] == [[1, False]]
    # Capturable Adam may round its step size differently; a learning rate stuck at its first value (a quarter of
    # the peak here) would be far off.
    assert graphed["train_loss"] == pytest.approx(eager["train_loss"], rel=1e-4)


def test_the_learning_rate_tensor_follows_the_schedule(graphed_on_cpu):
    corpus = data()
    model = ts._initial_model(CONFIG, corpus)
    train = [corpus.source, corpus.target_in, corpus.target_out]
    trainer = translation_step.TranslationStep(model, train, 8, 1e-3, 4, 0.1, use_graphs=True)
    lr = trainer.optimizer.param_groups[0]["lr"]
    for step in range(8):
        trainer.take(step, torch.arange(8) + step)
        assert trainer.optimizer.param_groups[0]["lr"] is lr
        assert float(lr) == pytest.approx(1e-3 * translation_step.inverse_sqrt_schedule(step, 4), rel=1e-6)
        assert torch.equal(trainer.rows, torch.arange(8) + step)


def test_a_failed_capture_steps_eagerly_and_the_history_says_so(graphed_on_cpu, monkeypatch):
    captured = ts.train_run(CONFIG, data())
    monkeypatch.setattr(graphs, "capture_step", lambda *args: None)
    failed = ts.train_run(CONFIG, data())
    assert failed["graphed_steps"] == [[1, False]], "the fallback is in the record, not only in the log"
    assert measured(failed) | {"graphed_steps": None} == measured(captured) | {"graphed_steps": None}


def kill_after_first_checkpoint(monkeypatch, checkpoint, written_as: str) -> None:
    """Train CONFIG until its step-5 checkpoint is written, then die. The file's optimizer says it was written by
    a `written_as` run, whatever this one is: "graphed" (capturable Adam, a tensor learning rate, every storage
    tagged cuda:0, as a GPU run writes it) or "eager" (Adam not capturable, a float learning rate)."""
    real_save = ts.save_atomically

    def save_then_die(state, path):
        graphed = written_as == "graphed"
        groups = [{**group, "capturable": graphed, "lr": torch.tensor(float(group["lr"])) if graphed
                   else float(group["lr"])} for group in state["optimizer"]["param_groups"]]
        state = {**state, "optimizer": {**state["optimizer"], "param_groups": groups}}
        with monkeypatch.context() as patch:
            if graphed:
                patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
            real_save(state, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(ts, "save_atomically", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        ts.train_run(CONFIG, data(), checkpoint)
    monkeypatch.setattr(ts, "save_atomically", real_save)


def test_a_graphed_gpu_runs_checkpoint_resumes_eagerly_on_the_cpu_bit_for_bit(tmp_path, monkeypatch):
    # Taking the writer's form would fail here (the CPU cannot step a capturable Adam) or round differently (a
    # tensor learning rate).
    uninterrupted = ts.train_run(CONFIG, data())
    checkpoint = tmp_path / "run.pt"
    kill_after_first_checkpoint(monkeypatch, checkpoint, "graphed")
    assert measured(ts.train_run(CONFIG, data(), checkpoint)) == measured(uninterrupted)


def test_an_eager_runs_checkpoint_resumes_graphed_bit_for_bit(tmp_path, monkeypatch, graphed_on_cpu):
    # This run steps graphed, its checkpoint says eager: a resumed run that took the writer's form would step
    # eagerly and round differently from the uninterrupted graphed run.
    uninterrupted = ts.train_run(CONFIG, data())
    checkpoint = tmp_path / "run.pt"
    kill_after_first_checkpoint(monkeypatch, checkpoint, "eager")
    resumed = ts.train_run(CONFIG, data(), checkpoint)
    assert resumed["graphed_steps"] == [[1, True]]
    assert measured(resumed) == measured(uninterrupted)

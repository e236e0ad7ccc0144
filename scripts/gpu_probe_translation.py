"""Chapter 6's translation Transformer in scripts/gpu_probe.py: one small run on the generated task (to check its
CUDA-graph capture, graphed against eager steps, and resumption across devices) and the steady step and evaluation
times of the `full` preset at IWSLT'14's shapes (random tokens: a step's time does not depend on their values),
projected to its length. Each function takes the device and whether the probe is tiny."""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from unittest import mock

import torch

from ddd_utils.engine.recipe import log_spaced_epochs
from ddd_utils.engine.translation_step import TranslationStep
from ddd_utils.experiments import translation_corpus as tc
from ddd_utils.experiments import translation_sweep as ts
from ddd_utils.models.transformer import TranslationTransformer

CHECKPOINT_EVERY = 5


def small_run(tiny: bool) -> tuple[dict, tc.Corpus]:
    """One run of the generated task (2 + 2 layers, 8 heads; 1 + 1 when tiny) and its corpus."""
    config = replace(ts.PRESETS["smoke"], d_models=(32,), n_trains=(100 if tiny else 400,), layers=1 if tiny else 2,
                     steps=10 if tiny else 20, warmup=5, eval_count=3, checkpoint_every=CHECKPOINT_EVERY)
    run = ts.run_configs(config)[0]
    return run, tc.corpus(asdict(config), run["n_train"])


def history(device: torch.device, tiny: bool, cuda_graphs: bool = True) -> dict:
    """The small run's history, trained on `device`."""
    run, corpus = small_run(tiny)
    return ts.train_run(run, corpus, device=device, cuda_graphs=cuda_graphs)


def graphed_against_eager(device: torch.device, tiny: bool) -> dict:
    """The largest difference between the small run's recorded losses, graphed and eager, on `device`."""
    graphed, eager = (history(device, tiny, cuda_graphs) for cuda_graphs in (True, False))
    difference = max(abs(a - b) for name in ("train_loss", "test_loss")
                     for a, b in zip(graphed[name], eager[name], strict=True))
    return {"max_abs_loss_difference": difference, "graphed_steps": graphed["graphed_steps"]}


class Killed(Exception):
    """Stands for a run killed right after its first checkpoint was written."""


def resumed(source: torch.device, target: torch.device, tiny: bool) -> dict:
    """The small run killed after its first checkpoint on `source` and resumed on `target`: its record, and
    whether it was killed there and then finished."""
    run, corpus = small_run(tiny)
    real_save = ts.save_atomically

    def save_then_die(state: dict, path: Path) -> None:
        real_save(state, path)
        if state["step"] == CHECKPOINT_EVERY:
            raise Killed

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "run.pt"
        with mock.patch.object(ts, "save_atomically", save_then_die), contextlib.suppress(Killed):
            ts.train_run(run, corpus, checkpoint, device=source)
        killed_at = torch.load(checkpoint, map_location="cpu", weights_only=True)["step"]
        done = ts.train_run(run, corpus, checkpoint, device=target)
    expected = [[1, source.type == "cuda"]]
    if target.type != source.type:
        expected.append([CHECKPOINT_EVERY + 1, target.type == "cuda"])
    return {"steps": done["step"], "devices": done["devices"], "graphed_steps": done["graphed_steps"],
            "expected_graphed_steps": expected,
            "complete": killed_at == CHECKPOINT_EVERY and done["step"][-1] == run["steps"]}


def _seconds(work, repeats: int, device: torch.device) -> float:
    """Seconds per call of `work`, over `repeats` calls after one untimed call."""
    work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    began = time.perf_counter()
    for _ in range(repeats):
        work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - began) / repeats


def _step_seconds(trainer: TranslationStep, rows: torch.Tensor, repeats: int, device: torch.device) -> float:
    """Seconds per step of `trainer` on `rows` (its untimed first step captures the graph, if it uses one)."""
    steps = iter(range(10**9))
    return _seconds(lambda: trainer.take(next(steps), rows), repeats, device)


def _time_d_model(config: ts.TranslationSweepConfig, d_model: int, size: int, repeats: int, device: torch.device
                  ) -> dict:
    """Steady seconds per training step of `size` pairs, graphed where the device allows and eager (the baseline),
    and per evaluation batch, of one d_model of `config`."""
    model = TranslationTransformer(d_model, config.vocab_size, config.vocab_size, layers=config.layers,
                                   heads=config.heads).to(device)
    tokens = [torch.randint(1, config.vocab_size, (size, config.max_tokens), device=device) for _ in range(3)]
    rows, times = torch.arange(size, device=device), {}
    for name, graphs in (("step_s", device.type == "cuda"), ("eager_step_s", False)):
        trainer = TranslationStep(model, tokens, size, config.lr, config.warmup, config.label_smoothing,
                                  use_graphs=graphs)
        times[name] = _step_seconds(trainer, rows, repeats, device)
        times.setdefault("graphed", trainer.use_graphs)
    pairs = [torch.randint(1, config.vocab_size, (ts.EVALUATION_BATCH, config.max_tokens), device=device)
             for _ in range(3)]
    times["evaluation_batch_s"] = _seconds(lambda: ts.evaluate(model, *pairs), max(repeats // 5, 1), device)
    return times | {"eager_over_graphed": times["eager_step_s"] / times["step_s"]}


def full_timing(device: torch.device, tiny: bool) -> dict:
    """Steady seconds per step and per evaluation batch of each d_model of `full`, and the sweep projected."""
    config = ts.PRESETS["full"]
    if tiny:
        config = replace(config, d_models=(8, 16), n_trains=(100, 200), layers=1, vocab_size=50, max_tokens=12,
                         batch_size=32, test_size=100)
    size, repeats = min(config.batch_size, min(config.n_trains)), 2 if tiny else 20
    evaluations = len(log_spaced_epochs(config.steps, config.eval_count))
    per_model, projected = {}, 0.0
    for d_model in config.d_models:
        times = per_model[d_model] = _time_d_model(config, d_model, size, repeats, device)
        for n_train in config.n_trains:
            batches = ts.evaluation_batches(n_train, config.test_size)
            projected += config.steps * times["step_s"] + evaluations * batches * times["evaluation_batch_s"]
    basis = (f"{len(config.d_models)} d_models x {len(config.n_trains)} sizes, {config.steps} steps of {size} pairs "
             f"of {config.max_tokens} tokens each, steady over {repeats} steps after the capture; eager/graphed step "
             "time by d_model: " + ", ".join(f"{d} {t['eager_over_graphed']:.2f}x" for d, t in per_model.items()))
    return {"projected_s": projected, "per_d_model": per_model, "basis": basis}

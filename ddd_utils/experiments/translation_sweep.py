"""Model-wise and sample-wise double descent in Transformers (Nakkiran et al., Fig. 3): d_model x training-set size.

Every run trains one encoder-decoder Transformer (`models.transformer`) with teacher forcing and label smoothing
for a fixed number of steps, and records at log-spaced steps its training loss (on the targets it was trained on,
noise included), test loss and test token accuracy (without smoothing). Data: IWSLT'14 German-English
(`data.iwslt`, on a GPU), or the CPU stand-in, the generated task of `data.translation`, whose training targets
carry token noise so that fitting them all means memorising. Either way the training sets are nested (a smaller
one is a prefix of a larger one) and share one test set. The step itself is `engine.translation_step`: on a GPU it
runs under bf16 autocast where the GPU computes it natively (evaluation stays fp32) and is replayed from a CUDA
graph, its learning rate refilled before each replay.
"""

from __future__ import annotations

import functools
import math
import operator
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import torch

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.blas import spare_one_core
from ddd_utils.engine import job_progress, stop_signal
from ddd_utils.engine.checkpoints import load_optimizer_state, load_or_set_aside, save_atomically
from ddd_utils.engine.gpu_estimate import H200, Estimate, GpuCosts, OpCount, count_ops, group_estimate
from ddd_utils.engine.history import note_device, note_graphs
from ddd_utils.engine.recipe import log_spaced_epochs
from ddd_utils.engine.sweep import shared_settings
from ddd_utils.engine.translation_step import TranslationStep
from ddd_utils.experiments.translation_corpus import Corpus, corpus, synthetic_corpus
from ddd_utils.models import count_parameters
from ddd_utils.models.transformer import PAD, TranslationTransformer, translation_loss

DATASETS = ("synthetic", "iwslt14")
EVALUATION_BATCH = 500  # sentence pairs per forward pass when a run is evaluated


@dataclass(frozen=True)
class TranslationSweepConfig:
    dataset: str = "synthetic"          # "synthetic" (data.translation, offline) or "iwslt14" (data.iwslt, downloaded)
    d_models: tuple[int, ...] = (8, 16, 32, 64)  # embedding dimension, the width knob (multiples of `heads`)
    n_trains: tuple[int, ...] = (1000, 2000)     # training sentence pairs
    seeds: tuple[int, ...] = (0,)       # initialisation and batch order (the data are fixed by `data_seed`)
    layers: int = 6                     # encoder layers, and as many decoder layers
    heads: int = 8                      # attention heads
    steps: int = 2000                   # gradient steps (unless `epochs` is set)
    epochs: int = 0                     # if > 0: each run takes epochs * n_train / batch_size steps (rounded up)
    batch_size: int = 64                # sentence pairs per step
    lr: float = 1e-3                    # peak learning rate (Adam, betas 0.9 and 0.98), reached after `warmup`
    lr_d_model: int = 0                 # if > 0: the peak is lr * sqrt(lr_d_model / d_model) (Vaswani et al.'s d^-0.5)
    warmup: int = 200                   # steps of linear warm-up, then decay as 1/sqrt(step)
    label_smoothing: float = 0.1        # in the training loss only
    token_noise: float = 0.1            # probability a training target word is replaced by a random word (synthetic)
    test_size: int = 1000               # held-out pairs, clean (IWSLT'14: the first of its test split)
    data_seed: int = 0                  # the lexicon, the sentences and the noise; IWSLT'14: the training order
    data_root: str = "data"             # where IWSLT'14 is read from (and downloaded to, when missing)
    vocab_size: int = 10000             # IWSLT'14: byte-pair tokens per language
    max_tokens: int = 64                # IWSLT'14: longer pairs are left out
    nouns: int = 40                     # the generated grammar's vocabulary
    verbs: int = 20
    adjectives: int = 20
    eval_count: int = 15                # log-spaced steps at which the history is recorded
    checkpoint_every: int = 500         # steps between checkpoints of an unfinished job

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}; got {self.dataset!r}")
        for name in ("d_models", "n_trains", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        for d_model in self.d_models:
            if check_positive_int("d_model", d_model) % self.heads:
                raise ValueError(f"d_models must be multiples of heads = {self.heads}; got {d_model}")
        for n_train in self.n_trains:
            check_positive_int("n_train", n_train)
        for name in ("layers", "heads", "steps", "batch_size", "warmup", "test_size", "nouns", "verbs",
                     "adjectives", "eval_count", "vocab_size", "max_tokens"):
            check_positive_int(name, getattr(self, name))
        for name in ("checkpoint_every", "epochs", "lr_d_model"):
            check_positive_int(name, getattr(self, name), minimum=0)
        check_probability("label_smoothing", self.label_smoothing)
        check_probability("token_noise", self.token_noise)
        if self.dataset == "iwslt14" and self.token_noise:
            raise ValueError("token_noise must be 0 with dataset 'iwslt14': it corrupts the generated task only "
                             f"(real translations bring their own noise); got {self.token_noise!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")


PRESETS = {
    "smoke": TranslationSweepConfig(d_models=(8, 16), n_trains=(100, 200), layers=1, steps=20, warmup=5,
                                    test_size=50, eval_count=3, checkpoint_every=10),
    # The CPU stand-in: 2 + 2 layers and a 24-word grammar, so that the training loss reaches its floor inside the
    # d_model grid within 1,200 steps (probed at 1,000-1,500 steps and 10% or 20% noise before choosing).
    "cpu": TranslationSweepConfig(d_models=(8, 16, 24, 32, 48, 64, 128), n_trains=(1000, 2000), layers=2,
                                  steps=1200, lr=2e-3, token_noise=0.2, nouns=12, verbs=6, adjectives=6,
                                  eval_count=12, checkpoint_every=400),
    # IWSLT'14 with the published architecture (6 + 6 layers, 8 heads) and training-set sizes (4K and 18K pairs).
    # `full` is sized for one H200 by `gpu_estimate` (graphed steps of about 3,000 kernels each): 5 d_models, 1,200
    # steps of 512 pairs (the pairs of 4,800 published steps; lr scaled by sqrt(4) from 5e-4), 400 of them warm-up.
    # It was sized when its steps were eager (8.8 min estimated); graphed, the estimate halves, and the preset keeps
    # that margin until a GPU measures the kernel cost the estimate assumes. `paper` is the published 80K steps of
    # 128 pairs at 32 d_models.
    "full": TranslationSweepConfig(dataset="iwslt14", d_models=(16, 32, 64, 128, 256), n_trains=(4000, 18000),
                                   steps=1200, batch_size=512, warmup=400, lr=1e-3, token_noise=0.0, test_size=4000,
                                   eval_count=12, checkpoint_every=400),
    "paper": TranslationSweepConfig(dataset="iwslt14", d_models=tuple(range(8, 257, 8)), n_trains=(4000, 18000),
                                    steps=80000, batch_size=128, warmup=4000, lr=5e-4, token_noise=0.0,
                                    test_size=4000, eval_count=40, checkpoint_every=5000),
}

PRESET_TIMES = {
    "smoke": "a few seconds on 2 CPU cores",
    "cpu": "about 7 min through the command line on 2 CPU cores (two processes, 13.6 min of training summed over "
           "the 14 runs); seconds once its runs are on disk",
    "full": ("estimated 4.3 min on one H200 with graphed steps, from kernels and FLOPs counted on the CPU "
             "(python -m ddd_utils estimate translation_sweep); unmeasured on a GPU"),
    "paper": "unmeasured: the published horizon (80K steps) for 32 d_models x 2 sizes, days on one GPU",
}


def run_configs(config: TranslationSweepConfig) -> list[dict]:
    """One plain dict per run (JSON-serialisable: it names the run's record), with its own step count when the
    budget is set in epochs."""
    shared = {name: value for name, value in asdict(config).items() if name not in ("d_models", "n_trains", "seeds")}
    return [{**shared, "d_model": d_model, "n_train": n_train, "seed": seed,
             "steps": math.ceil(config.epochs * n_train / config.batch_size) if config.epochs else config.steps}
            for n_train, seed, d_model in product(config.n_trains, config.seeds, config.d_models)]


def peak_lr(config: dict) -> float:
    """A run's peak learning rate: `lr`, or with `lr_d_model` set, lr * sqrt(lr_d_model / d_model), so that wider
    models take smaller steps as in the original Transformer's schedule."""
    if not config.get("lr_d_model"):
        return config["lr"]
    return config["lr"] * math.sqrt(config["lr_d_model"] / config["d_model"])


# Config fields every run of one job shares: the data and the recipe.
_JOB_FIELDS = ("dataset", "layers", "heads", "batch_size", "lr", "lr_d_model", "epochs", "warmup", "label_smoothing",
               "token_noise", "test_size", "data_seed", "nouns", "verbs", "adjectives", "eval_count",
               "checkpoint_every", "data_root", "vocab_size", "max_tokens")


@torch.no_grad()
def evaluate(model: TranslationTransformer, source: torch.Tensor, target_in: torch.Tensor,
             target_out: torch.Tensor, batch_size: int = EVALUATION_BATCH) -> tuple[float, float]:
    """(mean token cross-entropy, token accuracy) over the non-padding target positions, without smoothing."""
    was_training = model.training
    model.eval()
    total_loss, correct, tokens = 0.0, 0, 0
    for start in range(0, source.shape[0], batch_size):
        logits = model(source[start:start + batch_size], target_in[start:start + batch_size])
        expected = target_out[start:start + batch_size]
        real = expected != PAD
        count = int(real.sum())
        total_loss += float(translation_loss(logits, expected)) * count
        correct += int((logits.argmax(-1)[real] == expected[real]).sum())
        tokens += count
    model.train(was_training)
    return total_loss / tokens, correct / tokens


def _initial_model(config: dict, data: Corpus) -> TranslationTransformer:
    """A run's initial network for `data`'s vocabularies, drawn from its own seed; the global random state is left
    as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config["seed"])
        return TranslationTransformer(config["d_model"], data.source_vocab, data.target_vocab,
                                      layers=config["layers"], heads=config["heads"])


def _draw_rows(generator: torch.Generator, n: int, size: int, steps: int, device: torch.device) -> torch.Tensor:
    """(steps, size) training rows drawn uniformly, with replacement, on the CPU from `generator` (the same numbers
    as a draw per step) and moved to `device` once, so that no step waits on a host-to-device copy."""
    rows = torch.randint(n, (steps, size), generator=generator)
    if device.type == "cuda":
        rows = rows.pin_memory()
    return rows.to(device, non_blocking=True)


def _batches(config: dict, generator: torch.Generator, first: int, device: torch.device
             ) -> Iterator[tuple[int, torch.Tensor]]:
    """Each step from `first` with its batch's training rows, drawn a checkpoint interval at a time (the whole run
    without checkpoints), so that the generator's state at each checkpoint is the one a draw per step leaves."""
    every = config["checkpoint_every"] or config["steps"]
    size = min(config["batch_size"], config["n_train"])
    for begin in range(first, config["steps"], every):  # `first` is 0 or a checkpoint's step, a multiple of `every`
        yield from enumerate(_draw_rows(generator, config["n_train"], size, min(every, config["steps"] - begin),
                                        device), begin)


def _step_and_forward(run: dict, vocab: int, length: int, autocast: bool) -> tuple[OpCount, OpCount]:
    """The kernels and FLOPs of one training step of a run's network and of one evaluation batch's forward pass."""
    size = min(run["batch_size"], run["n_train"])
    with torch.device("meta"):
        model = TranslationTransformer(run["d_model"], vocab, vocab, layers=run["layers"], heads=run["heads"])
        train = [torch.randint(0, vocab, (size, length)) for _ in range(3)]
        pairs = [torch.randint(0, vocab, (EVALUATION_BATCH, length)) for _ in range(2)]
        rows = torch.arange(size)
    trainer = TranslationStep(model, train, size, peak_lr(run), run["warmup"], run["label_smoothing"],
                              use_graphs=False)
    trainer.take(0, rows)  # Adam's state exists now
    step = count_ops(lambda: trainer.take(1, rows), autocast)
    with torch.no_grad():
        return step, count_ops(lambda: model(*pairs))


def evaluation_batches(n_train: int, test_size: int) -> int:
    """Forward passes of one evaluation of a run: its training set and the test set, `EVALUATION_BATCH` pairs each."""
    return math.ceil(n_train / EVALUATION_BATCH) + math.ceil(test_size / EVALUATION_BATCH)


def gpu_estimate(config: TranslationSweepConfig, costs: GpuCosts = H200) -> Estimate:
    """Estimated time of the sweep on a GPU (`ddd_utils.engine.gpu_estimate`): each run alone, one after another, with
    graphed steps; sentences as long as `max_tokens` (IWSLT'14) or as the generated task's longest."""
    if config.dataset == "iwslt14":
        length, vocab = config.max_tokens, config.vocab_size
    else:
        task = synthetic_corpus(asdict(config), 1)
        length, vocab = task.source.shape[1], task.source_vocab
    counted, estimates = {}, []
    for run in run_configs(config):
        shape = (run["d_model"], min(run["batch_size"], run["n_train"]))
        if shape not in counted:
            counted[shape] = _step_and_forward(run, vocab, length, costs.bf16)
        step, forward = counted[shape]
        batches = evaluation_batches(run["n_train"], run["test_size"])
        evaluations = len(log_spaced_epochs(run["steps"], run["eval_count"]))
        estimates.append(group_estimate(step, OpCount(forward.kernels * batches, forward.flops * batches),
                                        run["steps"], evaluations, costs, graphed=True,
                                        label=f"d_model {run['d_model']}, n {run['n_train']}"))
    return functools.reduce(operator.add, estimates)


def train_run(config: dict, data: Corpus, checkpoint: Path | None = None, progress: bool = False,
              device: torch.device | None = None, cuda_graphs: bool = True) -> dict:
    """Train one run on `device` (default: the GPU if there is one) and return its history; each step's batch is
    drawn uniformly, with replacement, from the run's generator (`_batches`), and taken by a `TranslationStep`,
    replayed from a CUDA graph on a GPU unless `cuda_graphs` is False. `checkpoint` holds the run's state every
    `checkpoint_every` steps (a SIGTERM waits for the next of them, or the run's end: `stop_signal`) and its
    history once finished; a call that finds this run's state there resumes (or returns) it, on this device,
    graphed or not as this call says."""
    saved = load_or_set_aside(checkpoint) if checkpoint is not None else None
    if saved is not None and saved["config"] == config and saved["step"] == config["steps"]:
        return saved["history"]
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = _initial_model(config, data).to(device)
    generator = torch.Generator().manual_seed(config["seed"])
    n = config["n_train"]
    train = [tensor[:n].to(device) for tensor in (data.source, data.target_in, data.target_out)]
    test = [tensor.to(device) for tensor in (data.test_source, data.test_target_in, data.test_target_out)]
    trainer = TranslationStep(model, train, min(config["batch_size"], n), peak_lr(config), config["warmup"],
                              config["label_smoothing"], use_graphs=cuda_graphs and device.type == "cuda")
    eval_steps = set(log_spaced_epochs(config["steps"], config["eval_count"]))
    history = {"step": [], "train_loss": [], "test_loss": [], "test_accuracy": [], "seconds": [],
               "num_parameters": count_parameters(model), "devices": []}
    first = 0
    if saved is not None and saved["config"] == config:
        model.load_state_dict(saved["model"])
        load_optimizer_state(trainer.optimizer, saved["optimizer"])
        generator.set_state(saved["generator"])
        history, first = saved["history"], saved["step"]
    note_device([history], first + 1, device, checkpoint, unit="step")
    start = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)  # seconds: of training
    model.train()
    batches = _batches(config, generator, first, device)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=config["steps"] - first, desc=f"d_model {config['d_model']}, n {n}", leave=False)
    every = config["checkpoint_every"]
    periodic = checkpoint is not None and every > 0  # whether this run saves its state every `every` steps
    # A SIGTERM waits for the next checkpoint (or the run's end and its final save), not the next step: the batches
    # are drawn a checkpoint interval at a time, so the generator's state is the one a resume needs only there.
    with stop_signal.held_until_saved(periodic) as stop:
        for step, rows in batches:
            trainer.take(step, rows)
            note_graphs([history], step + 1, trainer.use_graphs)
            job_progress.note(step + 1, config["steps"], "step")  # for a sweep waiting on this job in another process
            if step + 1 in eval_steps:
                train_loss, _ = evaluate(model, *train)
                test_loss, test_accuracy = evaluate(model, *test)
                for name, value in (("step", step + 1), ("train_loss", train_loss), ("test_loss", test_loss),
                                    ("test_accuracy", test_accuracy),
                                    ("seconds", round(time.perf_counter() - start, 2))):
                    history[name].append(value)
            if periodic and (step + 1) % every == 0:
                save_atomically({"config": config, "model": model.state_dict(),
                                 "optimizer": trainer.optimizer.state_dict(), "generator": generator.get_state(),
                                 "history": history, "step": step + 1}, checkpoint)
                if stop.requested:
                    break  # leaving the block delivers the SIGTERM: the process dies of it there
        else:  # finished: later runs of the job may still crash, and this one need not train again
            if checkpoint is not None:
                save_atomically({"config": config, "history": history, "step": config["steps"]}, checkpoint)
    return history


@spare_one_core
def run(job: list[dict], checkpoint: Path | None = None, progress: bool = False) -> list[dict]:
    """Train a job's runs one after the other on one corpus (a smaller training set is a prefix of the largest),
    each with its own checkpoint part next to `checkpoint` (`<stem>-run<i>.pt`, removed with the job); return the
    histories in job order."""
    shared = shared_settings(job, _JOB_FIELDS)
    largest = corpus(shared, max(config["n_train"] for config in job))
    return [train_run(config, largest, None if checkpoint is None else checkpoint.with_name(
        f"{checkpoint.stem}-run{i}.pt"), progress) for i, config in enumerate(job)]

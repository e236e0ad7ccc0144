"""A SIGTERM (`timeout`, SLURM at a time limit) during checkpointed training: the process saves its state first, then
dies of the signal, and the run resumes from there bit for bit; handlers others installed, other threads and
unsaved runs are left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from test_engine import RECIPE, tiny_model, tiny_problem, without_time
from test_translation_sweep import SHARED, TINY

from ddd_utils.engine import job_progress, training
from ddd_utils.experiments import translation_corpus as tc
from ddd_utils.experiments import translation_sweep as ts

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def sigterm_at(at: int):
    """A stand-in for `job_progress.note` that sends this process a SIGTERM when training notes progress AT (an
    epoch or a step), as `timeout` would at that moment."""
    def note(done, total, unit="epoch"):
        if done == at:
            signal.raise_signal(signal.SIGTERM)

    return note


# The child trains as the test says, with the SIGTERM at argv[2].
CHILD = """
import sys
from pathlib import Path
from ddd_utils.engine import job_progress
from test_stop_signal import sigterm_at
job_progress.note = sigterm_at(int(sys.argv[2]))
{train}
print("survived the SIGTERM")
"""


def train_transformer(config: str) -> str:
    """The child's training: the Transformer run of `config` (an expression of TINY) with the checkpoint argv[1]."""
    return ("import dataclasses\n"
            "from test_translation_sweep import SHARED, TINY\n"
            "from ddd_utils.experiments import translation_corpus as tc, translation_sweep as ts\n"
            f"config = ts.run_configs({config})[0]\n"
            "ts.train_run(config, tc.corpus(SHARED, config['n_train']), Path(sys.argv[1]))")


def run_child(train: str, checkpoint: Path, at: int) -> subprocess.CompletedProcess:
    # threads as in this process: the part trained there must round as it would have here
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
           "OMP_NUM_THREADS": str(torch.get_num_threads())}
    return subprocess.run([sys.executable, "-c", CHILD.format(train=train), str(checkpoint), str(at)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_sigterm_mid_training_saves_that_epoch_then_kills_and_the_run_resumes_bit_for_bit(tmp_path):
    reference_model = tiny_model()
    reference = training.train(reference_model, tiny_problem(), RECIPE, seed=3)
    checkpoint = tmp_path / "run.pt"
    child = run_child("from ddd_utils.engine import training\n"
                      "from test_engine import RECIPE, tiny_model, tiny_problem\n"
                      "training.train(tiny_model(), tiny_problem(), RECIPE, seed=3, checkpoint=Path(sys.argv[1]))",
                      checkpoint, at=3)
    assert child.returncode == -signal.SIGTERM, child.stderr  # it died of the signal, as without the hold
    assert "survived" not in child.stdout
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["epoch"] == 3 < RECIPE.epochs  # no periodic checkpoints: this one is the SIGTERM's

    resumed_model = tiny_model(seed=99)  # other initial weights: everything must come from the checkpoint
    resumed = training.train(resumed_model, tiny_problem(), RECIPE, seed=3, checkpoint=checkpoint)
    assert without_time(resumed) == without_time(reference)
    for (name, expected), actual in zip(reference_model.state_dict().items(), resumed_model.state_dict().values(),
                                        strict=True):
        assert torch.equal(expected, actual), name


def test_a_transformer_run_holds_a_sigterm_until_its_next_checkpoint_and_resumes_to_the_same_history(tmp_path):
    config = ts.run_configs(TINY)[0]
    uninterrupted = ts.train_run(config, tc.corpus(SHARED, config["n_train"]))
    checkpoint = tmp_path / "run.pt"
    child = run_child(train_transformer("TINY"), checkpoint, at=2)
    assert child.returncode == -signal.SIGTERM, child.stderr
    assert torch.load(checkpoint, weights_only=True)["step"] == TINY.checkpoint_every == 5  # not step 2: see above
    resumed = ts.train_run(config, tc.corpus(SHARED, config["n_train"]), checkpoint)
    assert without_time(resumed) == without_time(uninterrupted)


def test_a_sigterm_after_a_transformer_runs_last_checkpoint_waits_for_its_end_and_its_finished_save(tmp_path):
    # 8 steps, checkpoints every 5: no checkpoint comes after step 6, so the held SIGTERM must meet the final save
    child = run_child(train_transformer("dataclasses.replace(TINY, steps=8)"), tmp_path / "run.pt", at=6)
    assert child.returncode == -signal.SIGTERM, child.stderr
    saved = torch.load(tmp_path / "run.pt", weights_only=True)
    assert saved["step"] == saved["config"]["steps"] == 8 and saved["history"]["step"][-1] == 8


def test_a_handler_installed_by_someone_else_gets_the_signal_and_training_goes_on(tmp_path, monkeypatch):
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        monkeypatch.setattr(job_progress, "note", sigterm_at(2))
        history = training.train(tiny_model(), tiny_problem(), RECIPE, seed=3, checkpoint=tmp_path / "run.pt")
        assert received == [signal.SIGTERM]
        assert history["epoch"][-1] == RECIPE.epochs
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_training_leaves_the_default_action_in_place_and_holds_nothing_outside_the_main_thread(tmp_path):
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    training.train(tiny_model(), tiny_problem(), RECIPE, seed=3, checkpoint=tmp_path / "main.pt")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    errors = []

    def train_in_a_thread():  # a widget's worker: signal.signal would raise ValueError there
        try:
            training.train(tiny_model(), tiny_problem(), RECIPE, seed=3, checkpoint=tmp_path / "thread.pt")
        except Exception as error:
            errors.append(error)

    worker = threading.Thread(target=train_in_a_thread)
    worker.start()
    worker.join()
    assert errors == []

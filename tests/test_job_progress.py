"""Jobs in other processes report their epochs through a file beside their checkpoint: written while training,
throttled, read by the waiting sweep, removed when the job ends."""

from __future__ import annotations

import torch

from ddd_utils.engine import job_progress, sweep, training
from ddd_utils.engine.recipe import Recipe, TrainData


def test_progress_is_written_only_inside_a_report_throttled_but_always_at_the_end(tmp_path, monkeypatch):
    path = tmp_path / "job.progress"
    job_progress.note(1, 5)
    assert not path.exists()  # no job reporting: nothing written
    with job_progress.reported_to(path):
        job_progress.note(1, 5)
        assert path.read_text() == "epoch 1/5"
        job_progress.note(2, 5)
        assert path.read_text() == "epoch 1/5"  # within WRITE_EVERY_S of the last write: skipped
        job_progress.note(5, 5)
        assert job_progress.summary(tmp_path) == "epoch 5/5"  # the last one always
        monkeypatch.setattr(job_progress, "WRITE_EVERY_S", 0.0)
        job_progress.note(7, 9, "step")
        assert job_progress.summary(tmp_path) == "step 7/9"
    assert not path.exists() and job_progress.summary(tmp_path) == ""


def test_the_engine_reports_its_epochs_and_a_sweep_job_reports_beside_its_checkpoint(tmp_path):
    seen = []

    def run(job, checkpoint, progress):
        x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
        data = TrainData(x, y, torch.zeros(20, dtype=torch.bool), x, y)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3))
        training.train(model, data, Recipe(optimizer="sgd", lr=0.1, batch_size=10, epochs=3), seed=0,
                       eval_epochs=[3])
        seen.append(job_progress.summary(checkpoint.parent))
        return [{"epoch": [3]} for _ in job]

    records = sweep.run_sweep(run, [{"name": "a"}], tmp_path, progress=False)
    assert seen == ["epoch 3/3"] and len(records) == 1
    assert job_progress.summary(tmp_path / "checkpoints") == ""  # removed with the finished job

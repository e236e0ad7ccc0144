"""One GPU probe of the deep engine that fits one short run (issue 27): environment; CUDA-graph capture of each
training path (what each trains is in `gpu_probe_workloads.py`, the translation Transformer's in
`gpu_probe_translation.py`); graphed against eager steps; checkpoint resume across devices; steady timings of the
`full` presets projected to their length; tests/test_gpu.py if time is left. A step that would not fit before the
deadline is skipped, an error is recorded per step, a failed capture skips the GPU steps after it, and exactly two
files are written: DIR/gpu_probe.json (rewritten after every step) and DIR/gpu_probe.log. `--tiny` runs every step
at tiny sizes on whatever device is there, in seconds (CI); GPU-only checks then read "skipped: no CUDA".

    python scripts/gpu_probe.py [--out DIR] [--deadline-s 480] [--tiny]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from unittest import mock

START = time.monotonic()  # the deadline counts from here: imports take seconds on a fresh machine

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ddd_utils from this checkout, installed or not
# Beside this script; workloads first: it stands in for mnist1d where that does not import.
import gpu_probe_workloads as workloads  # noqa: E402, I001
import gpu_probe_translation as translation  # noqa: E402

from ddd_utils.engine import checkpoints  # noqa: E402
from ddd_utils.engine.provenance import device_name  # noqa: E402
from ddd_utils.engine.recipe import Recipe, log_spaced_epochs  # noqa: E402
from ddd_utils.engine.steps import autocast_dtype, device_capability  # noqa: E402

STREAM_MISMATCH = "AccumulateGrad node's stream does not match"
TOLERANCE = 1e-2  # graphed against eager (two SGD steps; a Transformer run's losses): bf16 rounding, not a wrong update
log = logging.getLogger("gpu_probe")
T = TypeVar("T")


class Skip(Exception):
    """Raised by a step that cannot run here; its message is the reason."""


class Killed(Exception):
    """Stands for a job killed right after a checkpoint was written."""


@dataclass
class Probe:
    """What every step needs: the device, tiny mode, the clock, and the report written to `path`."""

    device: torch.device
    tiny: bool
    deadline_s: float
    path: Path
    report: dict = field(default_factory=dict)
    depth: int = 0  # steps running now (timings runs one per preset inside its own): the alarm interrupts only them

    def left(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline_s - (time.monotonic() - START)

    def size(self, gpu: T, tiny: T) -> T:
        """`tiny` in tiny mode, else `gpu` (`workloads.sized`, which the workloads' own sizes use too)."""
        return workloads.sized(self.tiny, gpu, tiny)

    def verdict(self, ok: bool, gpu_only: bool = True) -> str:
        """"pass" or "FAIL" for a check, "skipped: no CUDA" for a GPU-only one off a GPU."""
        return "skipped: no CUDA" if gpu_only and self.device.type != "cuda" else "pass" if ok else "FAIL"


def max_difference(first: list[torch.nn.Module], second: list[torch.nn.Module]) -> float:
    """The largest absolute difference between the states of two lists of models, on the CPU."""
    return max((a.float().cpu() - b.float().cpu()).abs().max().item() for one, other in zip(first, second, strict=True)
               for a, b in zip(one.state_dict().values(), other.state_dict().values(), strict=True))


def environment(probe: Probe) -> dict:
    """Versions, the device and its precision choice, and whether the optional packages import."""
    capability = device_capability(probe.device)
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0],
            "device": device_name(probe.device), "capability": capability,
            "autocast_dtype": str(autocast_dtype(capability)), "mnist1d": workloads.HAS_MNIST1D,
            "submitit": importlib.util.find_spec("submitit") is not None,
            "signal_data": "mnist1d" if workloads.HAS_MNIST1D else "synthetic", "image_data": "synthetic"}
    if probe.device.type == "cuda":
        info["memory_gib"] = round(torch.cuda.get_device_properties(probe.device).total_memory / 2**30, 1)
    return info


@contextlib.contextmanager
def observed() -> Iterator[tuple[list[str], list]]:
    """Collect the engine's log lines and every Python warning (torch's repeated each time, not once a process)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger, always = logging.getLogger("ddd_utils.engine.graphs"), torch.is_warn_always_enabled()
    logger.addHandler(handler)
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield lines, caught
    finally:
        torch.set_warn_always(always)
        logger.removeHandler(handler)


def capture(probe: Probe) -> dict:
    """Whether each training path's steps ran from CUDA graphs, with any capture failures and warnings."""
    result, checks = {}, {}
    runs = {name: lambda group=group: workloads.train_group(group, probe.device, 2)[1]
            for name, group in workloads.capture_groups(probe.tiny).items()}
    runs["adam_translation_transformer"] = lambda: [translation.history(probe.device, probe.tiny)]
    for name, run in runs.items():
        with observed() as (lines, caught):
            histories = run()
        failures = [line for line in lines if "capture failed" in line]
        texts = sorted({str(w.message)[:300] for w in caught})
        graphed = [history["graphed_steps"] for history in histories]
        result[name] = {"graphed_steps": graphed[0], "capture_failed": failures, "warnings": texts}
        checks[name] = probe.verdict(all(g == [[1, True]] for g in graphed) and not failures
                                     and not any(STREAM_MISMATCH in text for text in texts))
        log.info("capture %s: %s, %d capture failures, %d warnings", name, graphed[0], len(failures), len(texts))
    return result | {"checks": checks}


def graphed_vs_eager(probe: Probe) -> dict:
    """Two full-batch SGD steps (the update is the gradient) of small MLPs and CNN5s, graphed and eager; and the
    recorded losses of a small Transformer run, graphed and eager."""
    n, result, checks = probe.size(400, 64), {}, {}
    for name in ("mlp", "cnn5"):
        group = workloads.group_of(name, [(4, 0), (16, 1)], workloads.SIGNAL, workloads.signals(n, 64),
                                   Recipe(optimizer="sgd", lr=0.1, momentum=0.0, batch_size=n))
        eager, graphed = (workloads.train_group(group, probe.device, 2, cuda_graphs=graphs)[0]
                          for graphs in (False, True))
        result[name] = {"max_abs_difference": max_difference(eager, graphed)}
        checks[name] = probe.verdict(result[name]["max_abs_difference"] < TOLERANCE)
    result["translation_transformer"] = translation.graphed_against_eager(probe.device, probe.tiny)
    checks["translation_transformer"] = probe.verdict(
        result["translation_transformer"]["max_abs_loss_difference"] < TOLERANCE)
    return result | {"checks": checks}


def killed_after(save: Callable, epoch: int) -> Callable:
    """`save_atomically` that raises Killed right after it writes the checkpoint of `epoch`."""
    def save_then_die(state: dict, path: Path) -> None:
        save(state, path)
        if state["epoch"] == epoch:
            raise Killed
    return save_then_die


def resume(probe: Probe) -> dict:
    """A job killed after its epoch-2 checkpoint resumes to its 4 epochs GPU->GPU, GPU->CPU and CPU->GPU."""
    gpu, cpu, result, checks = probe.device, torch.device("cpu"), {}, {}
    group = workloads.group_of("mlp", [(8, 0), (8, 1)], workloads.SIGNAL, workloads.signals(probe.size(400, 64), 64),
                               Recipe(lr=3e-3, batch_size=32))
    for name, (source, target) in {"gpu_to_gpu": (gpu, gpu), "gpu_to_cpu": (gpu, cpu),
                                   "cpu_to_gpu": (cpu, gpu)}.items():
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the expected "resumes on another device" warning
            checkpoint = Path(folder) / "job.pt"
            with mock.patch.object(checkpoints, "save_atomically", killed_after(checkpoints.save_atomically, 2)):
                with contextlib.suppress(Killed):
                    workloads.train_group(group, source, 4, checkpoint=checkpoint, checkpoint_every=2)
            killed_at = torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"]
            models, histories = workloads.train_group(group, target, 4, checkpoint=checkpoint, checkpoint_every=2)
        history, uninterrupted = histories[0], workloads.train_group(group, source, 4)[0]
        expected = [[1, source.type == "cuda"]] + ([[3, target.type == "cuda"]] if source != target else [])
        result[name] = {"killed_at_epoch": killed_at, "epochs": history["epoch"], "devices": history["devices"],
                        "graphed_steps": history["graphed_steps"],
                        "max_abs_difference_to_uninterrupted": max_difference(models, uninterrupted)}
        checks[name] = probe.verdict(killed_at == 2 and history["epoch"] == [1, 2, 3, 4], gpu_only=False)
        checks[f"{name}_graphed_steps"] = probe.verdict(history["graphed_steps"] == expected)
        done = result[f"translation_{name}"] = translation.resumed(source, target, probe.tiny)
        checks[f"translation_{name}"] = probe.verdict(done["complete"], gpu_only=False)
        checks[f"translation_{name}_graphed_steps"] = probe.verdict(
            done["graphed_steps"] == done["expected_graphed_steps"])
    return result | {"checks": checks}


def time_group(probe: Probe, group: workloads.Group) -> dict:
    """Steady seconds per epoch and per evaluation of one group, and its full run projected from them."""
    k = probe.size(3, 2)  # evaluated at 1, 2 and 2 + k: windows of (evaluation + 1 epoch) and (evaluation + k)
    t1, t2, t3 = workloads.train_group(group, probe.device, 2 + k, eval_epochs=[1, 2, 2 + k])[1][0]["seconds"]
    epoch = max((t3 - t2) - (t2 - t1), 0.0) / (k - 1)
    evaluation = max(t2 - t1 - epoch, 0.0)
    epochs, evaluations = group.recipe.epochs, len(log_spaced_epochs(group.recipe.epochs, group.eval_count))
    basis = (f"{len(group.models)} models: {epochs} epochs x {epoch:.4f} s + {evaluations} evaluations x "
             f"{evaluation:.4f} s (warm-up epoch with capture {t1:.1f} s; steady over epochs 2-{2 + k})")
    return {"projected_s": epochs * epoch + evaluations * evaluation, "epoch_s": epoch, "evaluation_s": evaluation,
            "warmup_s": t1, "basis": basis}


def timings(probe: Probe) -> dict:
    """Each offline `full` preset's steady epoch time, projected to its full length (skipped when out of time)."""
    result, checks = {}, {}
    for name, build in workloads.preset_groups(probe.tiny).items():
        def project(_: Probe, build: Callable[[], list[workloads.Group]] = build) -> dict:
            parts = [time_group(probe, group) for group in build()]  # the groups of a run train one by one
            return {"projected_s": sum(part["projected_s"] for part in parts), "groups": parts}
        entry = result[name] = attempt(probe, probe.size(60, 2), project)
        checks[name] = "FAIL" if entry["status"] == "error" else entry["status"]
        if "result" in entry:
            log.info("timing %s: projected %.0f s = %s", name, entry["result"]["projected_s"],
                     "; ".join(part["basis"] for part in entry["result"]["groups"]))
    name = "translation_sweep (iwslt14 shapes, random tokens)"
    entry = result[name] = attempt(probe, probe.size(60, 2),
                                   lambda _: translation.full_timing(probe.device, probe.tiny))
    checks[name] = "FAIL" if entry["status"] == "error" else entry["status"]
    if "result" in entry:
        log.info("timing %s: projected %.0f s = %s", name, entry["result"]["projected_s"], entry["result"]["basis"])
    return result | {"checks": checks}


def gpu_tests(probe: Probe) -> dict:
    """tests/test_gpu.py in a subprocess, stopped before the deadline; its summary line."""
    if not workloads.HAS_MNIST1D:
        raise Skip("mnist1d does not import: tests/test_gpu.py would fail at collection (carry its wheel)")
    command = [sys.executable, "-m", "pytest", "tests/test_gpu.py", "-x", "-q", "-rs", "--noconftest", "-p",
               "no:cacheprovider"]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=max(probe.left() - 5, 1))
    lines = (done.stdout + done.stderr).strip().splitlines()
    log.info("tests/test_gpu.py:\n%s", "\n".join(lines[-40:]))
    return {"summary": lines[-1] if lines else "", "returncode": done.returncode,
            "checks": {"tests": probe.verdict(done.returncode == 0, gpu_only=False)}}


def attempt(probe: Probe, estimate: float, function: Callable[[Probe], dict], stop: str | None = None) -> dict:
    """Run `function` if `estimate` seconds fit before the deadline; its result and status, or why it did not run."""
    if stop or probe.left() < estimate:
        return {"status": f"skipped: {stop or f'{probe.left():.0f} s left before the deadline, ~{estimate} s needed'}"}
    began, probe.depth = time.monotonic(), probe.depth + 1
    try:
        result = function(probe)
        entry = {"status": "fail" if "FAIL" in result.get("checks", {}).values() else "pass", "result": result}
    except Skip as reason:
        entry = {"status": f"skipped: {reason}"}
    except Exception as error:
        log.exception("step failed")
        entry = {"status": "error", "error": f"{type(error).__name__}: {error}"[:2000]}
    finally:
        probe.depth -= 1
    return entry | {"seconds": round(time.monotonic() - began, 2)}


def arm_deadline(probe: Probe) -> None:
    """At the deadline, interrupt the step then running (one that overran its estimate), and nothing else."""
    def interrupt(*_) -> None:
        if probe.depth:
            raise TimeoutError("the deadline passed during this step")
    signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, max(probe.left(), 0.01))


def save(probe: Probe) -> None:
    """Write the report as it stands (after every step: a probe killed from outside still leaves one)."""
    probe.report["wall_s"] = round(time.monotonic() - START, 2)
    probe.path.write_text(json.dumps(probe.report, indent=1, default=str))


STEPS = {"environment": (0, 0, environment), "capture": (45, 3, capture), "graphed_vs_eager": (15, 2, graphed_vs_eager),
         "resume": (30, 3, resume), "timings": (60, 2, timings), "gpu_tests": (60, 3, gpu_tests)}  # (GPU s, tiny s)


def main(argv: list[str] | None = None) -> None:
    """Run the steps in order under the deadline, writing the report after each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-logs")), help="folder")
    parser.add_argument("--deadline-s", type=float, default=480.0, help="seconds from start, imports included")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes on whatever device is there (CI)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True,
                        handlers=[logging.FileHandler(args.out / "gpu_probe.log", mode="w"), logging.StreamHandler()])
    logging.captureWarnings(True)
    probe = Probe(torch.device("cuda" if torch.cuda.is_available() else "cpu"), args.tiny, args.deadline_s,
                  args.out / "gpu_probe.json")
    probe.report = {"tiny": args.tiny, "deadline_s": args.deadline_s,
                    "steps": {name: {"status": "not reached"} for name in STEPS}}
    arm_deadline(probe)
    stop = None
    for name, (gpu_s, tiny_s, function) in STEPS.items():
        log.info("== %s (%.0f s left)", name, probe.left())
        entry = probe.report["steps"][name] = attempt(probe, probe.size(gpu_s, tiny_s), function, stop)
        log.info("== %s: %s", name, entry["status"])
        save(probe)
        if name == "capture" and entry["status"] in ("fail", "error"):
            stop = "capture failed: the GPU steps after it are skipped"
    signal.setitimer(signal.ITIMER_REAL, 0)
    save(probe)


if __name__ == "__main__":
    main()

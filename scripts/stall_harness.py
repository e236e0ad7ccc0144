"""Stall-rate harness: execute notebooks many times and catch executions whose client waits on a lost message.

A stall is an execution in which, for `--stall-after` seconds, neither the client nor its kernel uses CPU and the
client receives no message from the kernel. Each execution runs in a child process (the client: papermill, or
nbclient as jupyter-book's cache executor calls it) that reports every message it receives on a pipe; the parent
watches that pipe and the CPU time of the child and its kernel. On a stall it asks the child to describe its ZMQ
sockets (for diagnosis), then kills it, and reports the notebook and the cell.

    .venv/bin/python scripts/stall_harness.py --runs 10 --busy 1                 # every chapter and the widget notebook
    .venv/bin/python scripts/stall_harness.py widgets --runs 100 --client nbclient --guard off  # the clients as shipped

`--busy K` keeps K other processes spinning (a loaded CI machine). `--guard off` runs the clients as they ship;
by default they run with `ddd_utils.notebook.reply_guard`'s guard, the same one the tests and the book build use.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ("papermill", "nbclient")
GUARDS = ("full", "off", "fix", "polls")


def widget_notebook(cells: int = 12) -> nbformat.NotebookNode:
    """A notebook of `cells` cells that each create and display widgets: sliders, `interact`, an Output widget."""
    sources = ["import ipywidgets as widgets\nfrom IPython.display import display"]
    for i in range(cells):
        sources.append(
            f"sliders = [widgets.IntSlider(value={i}, min=0, max=100, description=f's{{j}}') for j in range(8)]\n"
            "out = widgets.Output()\n"
            "with out:\n"
            f"    print('cell {i}')\n"
            "display(widgets.VBox([*sliders, out]))\n"
            f"widgets.interact(lambda x, y: x * y, x=(0, 10), y=widgets.FloatSlider(value={i % 5}.0))"
        )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def chapters() -> list[Path]:
    """The chapter notebooks, in the order of _toc.yml."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import CHAPTERS

    return CHAPTERS


# --------------------------------------------------------------------------------------------------------------
# The watchdog (parent side)
# --------------------------------------------------------------------------------------------------------------

@dataclass
class Watchdog:
    """Declares a stall when the watched processes used under `idle_cpu` of a core and no message arrived for
    `stall_after` seconds. Fed one observation at a time, so it is tested without processes."""

    stall_after: float = 60.0
    idle_cpu: float = 0.02  # fraction of one core below which a process tree counts as idle
    _samples: list[tuple[float, float]] = field(default_factory=list)  # (time, cumulative CPU seconds)

    def observe(self, now: float, cpu_seconds: float, last_message: float) -> bool:
        self._samples.append((now, cpu_seconds))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.stall_after:
            self._samples.pop(0)
        start, start_cpu = self._samples[0]
        quiet_for = now - last_message
        if quiet_for < self.stall_after or now - start < self.stall_after:
            return False
        return (cpu_seconds - start_cpu) < self.idle_cpu * (now - start)


def stop_tree(process: psutil.Process) -> None:
    """Ask the client to describe its sockets (SIGUSR1), then kill it and every process it started."""
    tree = [process, *process.children(recursive=True)]
    for proc in tree:
        try:
            if "--child" in proc.cmdline():
                proc.send_signal(signal.SIGUSR1)
        except psutil.Error:
            pass
    time.sleep(2.0)
    for proc in tree:
        try:
            proc.kill()
        except psutil.Error:
            pass


def tree_cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU seconds of a process and all its descendants (the kernel is the client's child)."""
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return total


@dataclass
class Execution:
    notebook: str
    client: str
    outcome: str            # "ok", "error", "stall" or "timeout"
    seconds: float
    cell: int | None = None  # the cell running when it stalled or failed
    detail: str = ""
    recovered: int = 0       # lost wake-ups the guard's short polls recovered


def execute_watched(notebook: Path, client: str, preset: str, stall_after: float, timeout: float, guard: str,
                    workdir: Path, lose_reply_at: int | None = None) -> Execution:
    """Execute one notebook in a child client process under the watchdog."""
    read_fd, write_fd = os.pipe()
    command = [sys.executable, __file__, "--child", str(notebook), "--client", client, "--preset", preset,
               "--beat-fd", str(write_fd), "--workdir", str(workdir), "--guard", guard]
    if lose_reply_at is not None:
        command += ["--lose-reply-at", str(lose_reply_at)]
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.setdefault("DDD_RUNS_DIR", str(workdir / "runs"))
    stderr_file = tempfile.TemporaryFile(mode="w+")
    child = subprocess.Popen(command, pass_fds=(write_fd,), env=env, cwd=notebook.parent,
                             stdout=subprocess.DEVNULL, stderr=stderr_file, text=True)
    os.close(write_fd)
    state = {"last": time.monotonic(), "cell": None, "done": None, "diagnostics": "", "recovered": 0}

    def read_beats():
        with os.fdopen(read_fd) as beats:
            for line in beats:
                kind, _, rest = line.rstrip("\n").partition(" ")
                state["last"] = time.monotonic()
                if kind == "cell":
                    state["cell"] = int(rest)
                elif kind == "done":
                    state["done"] = rest
                elif kind == "recovered":
                    state["recovered"] += 1
                elif kind == "diag":
                    state["diagnostics"] += rest + "\n"

    reader = threading.Thread(target=read_beats, daemon=True)
    reader.start()
    watchdog = Watchdog(stall_after=stall_after)
    process = psutil.Process(child.pid)
    start = time.monotonic()
    outcome = None
    while child.poll() is None:
        time.sleep(1.0)
        now = time.monotonic()
        if now - start > timeout:
            outcome = "timeout"
        elif watchdog.observe(now, tree_cpu_seconds(process), state["last"]):
            outcome = "stall"
        if outcome:
            stop_tree(process)
            break
    child.wait()
    reader.join(timeout=5)
    seconds = time.monotonic() - start
    stderr_file.seek(0)
    stderr = stderr_file.read()
    if outcome is None:
        outcome = "ok" if state["done"] == "ok" else "error"
    detail = state["diagnostics"] if outcome in ("stall", "timeout") else ""
    if outcome == "error":
        detail = (state["done"] or "") + "\n" + stderr[-3000:]
    return Execution(notebook.name, client, outcome, seconds, state["cell"], detail, state["recovered"])


# --------------------------------------------------------------------------------------------------------------
# The client (child side)
# --------------------------------------------------------------------------------------------------------------

def child_main(args: argparse.Namespace) -> None:
    """Execute one notebook with papermill or nbclient, writing a line to the beat pipe per message received."""
    import asyncio

    beats = os.fdopen(args.beat_fd, "w", buffering=1)
    from jupyter_client.channels import AsyncZMQSocketChannel

    channels: list = []
    current = {"cell": None, "lose": args.lose_reply_at}
    original_recv = AsyncZMQSocketChannel._recv

    async def recv_and_beat(self, **kwargs):
        if self not in channels:
            channels.append(self)
        msg = await original_recv(self, **kwargs)
        if msg["msg_type"] == "execute_reply" and current["cell"] == current["lose"]:
            await asyncio.Event().wait()  # a deliberately lost reply: the client waits for it forever
        beats.write(f"msg {self.socket.type} {msg['msg_type']}\n")
        return msg

    AsyncZMQSocketChannel._recv = recv_and_beat
    if args.guard != "off":
        from ddd_utils.notebook import reply_guard

        reply_guard.install_reply_guard()
        undo = {"fix": "get_msg", "polls": "send"}.get(args.guard)  # one part measured alone: undo the other
        if undo:
            setattr(AsyncZMQSocketChannel, undo, reply_guard._original[undo])

        class BeatOnRecovery(logging.Handler):
            def emit(self, record):
                beats.write(f"recovered {record.getMessage()}\n")

        reply_guard.log.addHandler(BeatOnRecovery())

    def describe_sockets(signum, frame):
        for channel in channels:
            for line in socket_state(channel).splitlines():
                beats.write(f"diag {line}\n")

    signal.signal(signal.SIGUSR1, describe_sockets)

    def on_cell_execute(cell, cell_index, **kwargs):
        current["cell"] = cell_index
        beats.write(f"cell {cell_index}\n")

    notebook = Path(args.child)
    try:
        if args.client == "papermill":
            import papermill

            papermill.execute_notebook(str(notebook), str(Path(args.workdir) / notebook.name),
                                       parameters={"PRESET": args.preset}, kernel_name="python3",
                                       progress_bar=False, cwd=str(notebook.parent),
                                       on_cell_execute=on_cell_execute)
        else:
            from jupyter_cache.executors.utils import single_nb_execution

            nb = nbformat.read(notebook, as_version=4)
            os.environ["DDD_PRESET"] = args.preset
            result = single_nb_execution(nb, cwd=str(notebook.parent), timeout=None, allow_errors=False,
                                         on_cell_execute=on_cell_execute)
            if result.err is not None:
                raise result.err
    except Exception as error:  # reported to the parent, which counts it as an error, not a stall
        beats.write(f"done error {type(error).__name__}: {str(error)[:300]!r}\n")
        raise
    beats.write("done ok\n")


def socket_state(channel) -> str:
    """What the asyncio loop and pyzmq know about a channel's socket (read EVENTS last: it can rescue a stall)."""
    import asyncio
    import select

    import zmq

    socket = channel.socket
    if socket is None:
        return f"{channel.channel_name if hasattr(channel, 'channel_name') else channel}: closed"
    shadow = socket._shadow_sock
    fd = shadow.FD
    loop = socket._current_loop
    key = None
    if loop is not None:
        try:
            key = loop._selector.get_key(fd).events
        except (KeyError, AttributeError, ValueError):
            key = "not registered"
    readable = bool(select.select([fd], [], [], 0)[0])
    futures = [(event.kind, "done" if event.future.done() else "pending") for event in socket._recv_futures]
    tasks = []
    if loop is not None:
        tasks = sorted({task.get_coro().__qualname__ for task in asyncio.all_tasks(loop)})
    events = shadow.get(zmq.EVENTS)
    return json.dumps({"socket_type": shadow.type, "fd": fd, "io_state": socket._state, "selector": key,
                       "fd_readable": readable, "recv_futures": futures, "tasks": tasks,
                       "events_pollin": bool(events & zmq.POLLIN)})


# --------------------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------------------

def spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="chapter file names, paths, or 'widgets' (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="executions of each notebook per client")
    parser.add_argument("--client", choices=(*CLIENTS, "both"), default="both")
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--busy", type=int, default=0, help="processes kept spinning meanwhile")
    parser.add_argument("--stall-after", type=float, default=60.0, help="seconds idle and silent = a stall")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before an execution is killed")
    parser.add_argument("--guard", choices=GUARDS, default="full",
                        help="ddd_utils.notebook.reply_guard's guard: full (default), off (the clients as they ship), "
                             "or one part alone: fix (re-arm after sends) or polls (short polls)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--beat-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--lose-reply-at", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return

    workdir = Path(tempfile.mkdtemp(prefix="stall-harness-"))
    widgets_path = workdir / "widgets.ipynb"
    nbformat.write(widget_notebook(), widgets_path)
    known = {path.name: path for path in chapters()} | {"widgets": widgets_path}
    wanted = args.notebooks or list(known)
    paths = [known.get(name) or Path(name).resolve() for name in wanted]
    clients = CLIENTS if args.client == "both" else (args.client,)
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for process in busy:
        process.start()
    print(f"{len(paths)} notebooks x {len(clients)} clients x {args.runs} runs, busy={args.busy}, "
          f"guard={args.guard}, stall after {args.stall_after:g} s idle", flush=True)
    results: list[Execution] = []
    try:
        for run in range(args.runs):
            for path in paths:
                for client in clients:
                    result = execute_watched(path, client, args.preset, args.stall_after, args.timeout,
                                             args.guard, workdir)
                    results.append(result)
                    where = f" at cell {result.cell}" if result.outcome != "ok" else ""
                    print(f"[{run + 1}/{args.runs}] {path.name:32s} {client:9s} {result.outcome:7s} "
                          f"{result.seconds:6.1f} s{where}", flush=True)
                    if result.detail:
                        print("    " + result.detail.strip().replace("\n", "\n    "), flush=True)
    finally:
        for process in busy:
            process.terminate()
    summarize(results)


def summarize(results: list[Execution]) -> None:
    print("\nnotebook                         client     runs  stalls  recovered  errors  median s  stalled cells")
    groups: dict[tuple[str, str], list[Execution]] = {}
    for result in results:
        groups.setdefault((result.notebook, result.client), []).append(result)
    for (notebook, client), group in groups.items():
        stalls = [r for r in group if r.outcome in ("stall", "timeout")]
        errors = sum(r.outcome == "error" for r in group)
        times = sorted(r.seconds for r in group if r.outcome == "ok")
        median = f"{times[len(times) // 2]:8.1f}" if times else "       -"
        cells = dict(Counter(r.cell for r in stalls))
        recovered = sum(r.recovered for r in group)
        print(f"{notebook:32s} {client:9s} {len(group):5d} {len(stalls):7d} {recovered:10d} {errors:7d} {median}  "
              f"{cells or ''}")
    total = sum(r.outcome in ("stall", "timeout") for r in results)
    recovered = sum(r.recovered for r in results)
    print(f"\nall: {total} stalls and {recovered} recovered wake-ups in {len(results)} executions")


if __name__ == "__main__":
    main()

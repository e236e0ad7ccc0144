"""Notebook execution that cannot stall on a lost ZMQ wake-up: one guard for papermill, nbclient and jupyter-book.

The cause, shown with `scripts/stall_harness.py` and strace (see the README): jupyter_client's `Session.send` writes
on a *blocking shadow* of the asyncio shell socket. libzmq's send first processes the socket's pending commands,
and with them the edge-triggered `ZMQ_FD` signal announcing a reply that arrived a moment earlier; pyzmq's asyncio
socket learns of new messages only from that signal, so the client's `await` for the reply sleeps until something
else touches the socket (a cell timeout's last check, or forever). nbclient sends on the shell channel in the middle
of a cell whenever it mirrors an Output widget (`interact`, `widgets.Output`): it echoes each output back to the
kernel as a `comm_msg`. That is why cells with widgets stalled. Upstream: jupyter/jupyter_client#1059 (the shadow
send), jupyter/nbclient#312 (widget cells that block); pyzmq fixed the same race for its own sends in
zeromq/pyzmq#1208.

`install_reply_guard()` patches jupyter_client's asyncio channels, in the client process, three ways:

1. **The fix.** After every send, read `EVENTS` through the asyncio socket: pyzmq then schedules the receive that
   the send's command processing may have swallowed (what pyzmq does after its own sends).
2. **Short polls.** A wait for a message never sleeps more than `POLL_SECONDS` on the wake-up: each expiry ends in
   pyzmq's zero-timeout check of the socket itself, so a wake-up lost any other way costs at most that long. A
   message found this way is logged as a recovery (it only reads a reply already received: nothing re-executes).
3. **Fail fast.** While waiting for a reply, a kernel that said `idle` for the request `REPLY_GRACE` seconds ago,
   or that has sat idle `IGNORED_GRACE` seconds without starting the request, raises `KernelStalled`, naming the
   request's first line of code, instead of waiting for a cell timeout.

Installed by `tests/conftest.py`, by the book build (a Sphinx extension listed in `_config.yml`), by papermill's
`--engine ddd`, and by the stall harness.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from queue import Empty
from typing import TYPE_CHECKING

import zmq
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient.exceptions import CellTimeoutError

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from sphinx.application import Sphinx

POLL_SECONDS = 1.0      # longest sleep on a socket's wake-up before checking the socket itself
REPLY_GRACE = 10.0      # seconds after the kernel's `idle` for a request by which its reply must have been read
IGNORED_GRACE = 60.0    # seconds an idle kernel may leave a request unstarted
LATE_MESSAGE = 0.25     # a message found by a poll's last check this long after it was sent had lost its wake-up

# ipykernel releases that stall widget cells in the kernel itself (the client's sockets hold nothing to read, and
# client and kernel sit idle), which no client-side guard can mend: tests/test_reply_guard.py's 120 widget cells
# beside a busy core hit a cell that never replied in 15 of 24 runs with 7.0.1, 7.1.0, 7.2.0 and 7.3.0, in none of
# 16 with 7.4.0, 6.31.0 and 6.29.5 (measured 2026-12-07 on 2 cores; README, "Reliable notebook execution").
STALLING_IPYKERNEL = ((7, 0), (7, 4))  # from, up to but not including (major, minor)

log = logging.getLogger(__name__)


class KernelStalled(CellTimeoutError):
    """The kernel finished (or never started) a request whose reply the client cannot get."""


@dataclass
class _Request:
    msg_type: str
    channel: int  # id() of the channel it was sent on, whose reply it awaits
    sent: float
    code: str = ""
    started: bool = False
    idle_at: float | None = None


@dataclass
class _KernelState:
    """What one kernel client has seen: its outstanding requests and the kernel's last reported status."""

    requests: dict[str, _Request] = field(default_factory=dict)
    status: str = "unknown"
    status_at: float = 0.0


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # by Session: a client's channels share one
recoveries: list[dict] = []           # one entry per message found only by a poll's last check
_original: dict[str, object] = {}


def _state(channel: AsyncZMQSocketChannel) -> _KernelState:
    return _states.setdefault(channel.session, _KernelState())


def _describe(request: _Request) -> str:
    first_line = next((line for line in request.code.splitlines() if line.strip()), "")
    return f"{request.msg_type} ({first_line[:80]!r})" if first_line else request.msg_type


def _send(self: AsyncZMQSocketChannel, msg: dict) -> None:
    _original["send"](self, msg)
    # The fix: Session.send used a blocking shadow of this socket, whose send may have consumed the wake-up of a
    # message that had just arrived. Reading EVENTS through the asyncio socket schedules its handling.
    self.socket.get(zmq.EVENTS)
    if msg["msg_type"].endswith("_request"):
        code = msg.get("content", {}).get("code", "")
        _state(self).requests[msg["header"]["msg_id"]] = _Request(msg["msg_type"], id(self), time.monotonic(), code)


async def _recv(self: AsyncZMQSocketChannel, **kwargs) -> dict:
    msg = await _original["_recv"](self, **kwargs)
    _observe(self, msg)
    return msg


def _observe(self: AsyncZMQSocketChannel, msg: dict) -> None:
    """Track replies (shell) and the kernel's busy/idle status (iopub) for the stall check."""
    state, now = _state(self), time.monotonic()
    parent = msg.get("parent_header", {}).get("msg_id")
    request = state.requests.get(parent)
    if msg["msg_type"] == "status":
        state.status, state.status_at = msg["content"]["execution_state"], now
        if request is not None:
            request.started = True
            if state.status == "idle":
                request.idle_at = now
    elif msg["msg_type"].endswith("_reply"):
        state.requests.pop(parent, None)


def _check_stall(self: AsyncZMQSocketChannel) -> None:
    """Raise KernelStalled if the reply to an outstanding request can no longer come."""
    state, now = _state(self), time.monotonic()
    for msg_id, request in list(state.requests.items()):
        if request.channel != id(self):
            continue
        if request.idle_at is not None and now - request.idle_at > REPLY_GRACE:
            state.requests.pop(msg_id)
            raise KernelStalled(f"the kernel finished {_describe(request)} {now - request.idle_at:.0f} s ago, but "
                                "its reply never reached the client (lost ZMQ message); see "
                                "ddd_utils.notebook.reply_guard")
        ignored = state.status == "idle" and state.status_at > request.sent and not request.started
        if ignored and now - request.sent > IGNORED_GRACE:
            state.requests.pop(msg_id)
            raise KernelStalled(f"the kernel has been idle for {now - state.status_at:.0f} s without starting "
                                f"{_describe(request)} (lost ZMQ wake-up in the kernel); see "
                                "ddd_utils.notebook.reply_guard")


async def _get_msg(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict:
    """jupyter_client's get_msg, waiting in polls of at most POLL_SECONDS that each end by checking the socket."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = POLL_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
        wait = min(POLL_SECONDS, remaining)
        started = time.monotonic()
        ready = await self.socket.poll(int(wait * 1000))
        if ready:
            msg = await self._recv()
            if time.monotonic() - started >= wait > 0:
                _note_recovery(msg)
            return msg
        if deadline is not None and time.monotonic() >= deadline:
            raise Empty
        if self.socket.type == zmq.DEALER:
            _check_stall(self)


def _note_recovery(msg: dict) -> None:
    """Log a message that only the poll's final check found, if it had been waiting long enough to prove a lost
    wake-up (a message that arrived in the last instant of the poll is not one)."""
    sent = msg["header"].get("date")
    if not isinstance(sent, datetime):
        return
    age = (datetime.now(timezone.utc) - sent).total_seconds()
    if age > LATE_MESSAGE:
        recoveries.append({"msg_type": msg["msg_type"], "age": age})
        log.warning("recovered a %s that had waited %.1f s in the socket without waking the client (lost ZMQ "
                    "wake-up); nothing was re-executed", msg["msg_type"], age)


def install_reply_guard() -> None:
    """Patch jupyter_client's asyncio channels in this process (idempotent)."""
    if _original:
        return
    for name, method in (("send", _send), ("get_msg", _get_msg), ("_recv", _recv)):
        _original[name] = getattr(AsyncZMQSocketChannel, name)
        setattr(AsyncZMQSocketChannel, name, method)


def uninstall_reply_guard() -> None:
    """Restore jupyter_client's own channel methods."""
    for name, method in _original.items():
        setattr(AsyncZMQSocketChannel, name, method)
    _original.clear()


class GuardedEngine:
    """papermill's default engine with the guard installed: `papermill --engine ddd IN.ipynb OUT.ipynb`. (Not a
    subclass: papermill imports its engines' entry points while it is itself being imported.)"""

    @classmethod
    def execute_notebook(cls, nb: NotebookNode, kernel_name: str, **kwargs: object) -> NotebookNode:
        from papermill.engines import NBClientEngine

        install_reply_guard()
        if warning := ipykernel_warning():
            log.warning(warning)
        return NBClientEngine.execute_notebook(nb, kernel_name, **kwargs)

    @classmethod
    def nb_kernel_name(cls, nb: NotebookNode, name: str | None = None) -> str:
        """The kernel papermill starts, as its default engine decides it."""
        from papermill.engines import NBClientEngine

        return NBClientEngine.nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb: NotebookNode, language: str | None = None) -> str:
        """The notebook's language, as papermill's default engine decides it."""
        from papermill.engines import NBClientEngine

        return NBClientEngine.nb_language(nb, language)


def ipykernel_warning(version: str | None = None) -> str | None:
    """Why this environment's ipykernel (or `version`) will stall widget cells, or None when it is not one of those."""
    if version is None:
        try:
            version = importlib.metadata.version("ipykernel")
        except importlib.metadata.PackageNotFoundError:
            return None
    release = tuple(int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())
    first, fixed = STALLING_IPYKERNEL
    if not first <= release < fixed:
        return None
    return (f"ipykernel {version} stalls widget cells in the kernel (7.0 to 7.3 do, measured; 7.4 and 6.x do not), "
            f"which ddd_utils' reply guard cannot mend: install ipykernel>=7.4 (it needs Python 3.11) or <7")


def setup(app: Sphinx) -> dict:
    """Sphinx extension entry point: jupyter-book executes notebooks in its own process, which this guards. A
    stalling ipykernel is a build warning (an error under `-W`)."""
    from sphinx.util import logging as sphinx_logging

    install_reply_guard()
    if warning := ipykernel_warning():
        sphinx_logging.getLogger(__name__).warning(warning)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

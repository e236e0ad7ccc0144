"""The explorers' background warm-up: tasks run in order off the calling thread, a new list replaces the queued
one, a failing task does not stop the rest, and none starts while the foreground has paused the queue."""

from __future__ import annotations

import threading

from ddd_utils.notebook.prefetch import Prefetcher, nearest_first


def test_tasks_run_in_order_on_another_thread():
    done, threads = [], set()
    prefetcher = Prefetcher()
    prefetcher.replace([lambda i=i: (done.append(i), threads.add(threading.current_thread().name))
                        for i in range(5)])
    assert prefetcher.wait(timeout=10)
    assert done == [0, 1, 2, 3, 4] and threads == {"explorer-prefetch"}


def test_replace_drops_the_tasks_not_yet_started_and_errors_do_not_stop_the_rest():
    gate, done = threading.Event(), []
    prefetcher = Prefetcher()
    prefetcher.replace([gate.wait, lambda: done.append("old")])  # the first blocks until the replacement is in
    prefetcher.replace([lambda: 1 / 0, lambda: done.append("new")])
    gate.set()
    assert prefetcher.wait(timeout=10)
    assert done == ["new"]
    prefetcher.replace([lambda: done.append("again")])  # a finished worker is started anew
    assert prefetcher.wait(timeout=10) and done == ["new", "again"]


def test_nearest_first_leaves_out_the_current_value_and_puts_a_drags_side_first():
    assert nearest_first(range(1, 7), 3) == [2, 4, 1, 5, 6]
    assert nearest_first(range(1, 7), 3, direction=1) == [4, 5, 6, 2, 1]
    assert nearest_first(range(1, 7), 3, direction=-1) == [2, 1, 4, 5, 6]


def test_no_task_starts_while_paused_and_the_queue_resumes_after():
    done = []
    prefetcher = Prefetcher()
    with prefetcher.paused():
        prefetcher.replace([lambda: done.append(1), lambda: done.append(2)])
        assert not prefetcher.wait(timeout=0.3) and done == []  # held back while the foreground works
    assert prefetcher.wait(timeout=10) and done == [1, 2]

"""How many threads ddd_utils's dense linear algebra and CPU training use, decided in this one place.

The book's matrices are small: a few hundred rows at most on the `smoke` and `cpu` presets. On those, OpenBLAS's
threads cost more in synchronisation than they save, and when another process competes for the cores they
spin-wait. So every experiment runs its linear algebra under `blas_threads_for(size)`: one BLAS thread (numpy,
scipy) and one torch CPU thread (if torch is loaded) below `ONE_THREAD_BELOW` rows, the libraries' defaults above.
Measured on 2 cores: `min_norm_sweep` with p up to 2n ran 0.3-0.8x as long on one thread as on two up to n = 1600,
and 1.1x as long at n = 2400; `benchmarks/contention.py` prints each chapter's heaviest cell quiet and beside a busy
process, with this policy and with the libraries' defaults.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy  # loaded first, so that the controller below finds its BLAS
import scipy.linalg  # noqa: F401  (scipy ships its own OpenBLAS)
from numpy.typing import ArrayLike
from threadpoolctl import ThreadpoolController  # a dependency of scikit-learn

ONE_THREAD_BELOW = 2000  # rows of the largest matrix factorised; below this, one thread is faster on 2-16 cores
SPARE_CORES = 1          # cores CPU training leaves to everything else

F = TypeVar("F", bound=Callable)
_controller = ThreadpoolController()  # scanning the loaded libraries takes milliseconds: once, here


@contextlib.contextmanager
def blas_threads_for(size: int) -> Iterator[None]:
    """One BLAS and one torch CPU thread inside the block if `size` < ONE_THREAD_BELOW; unchanged otherwise."""
    if size >= ONE_THREAD_BELOW:
        yield
        return
    torch = sys.modules.get("torch")  # only if already imported: the numpy-only chapters never load it
    torch_threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        with _controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        if torch:
            torch.set_num_threads(torch_threads)


def sized_by(size_of: Callable[..., int]) -> Callable[[F], F]:
    """Decorator: run the function under `blas_threads_for(size_of(*args, **kwargs))`."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with blas_threads_for(size_of(*args, **kwargs)):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def rows_of_first_argument(X: ArrayLike, *args: object, **kwargs: object) -> int:
    """Size for `sized_by` of a solver called as f(X, ...): the rows of its design matrix."""
    return numpy.shape(X)[0]


def config_n(config: Any, *args: object, **kwargs: object) -> int:
    """Size for `sized_by` of an experiment called as f(config, ...): its training-set size n."""
    return config.n


def spare_one_core(function: F) -> F:
    """Decorator for CPU training (the network chapters): torch uses every core but one while `function` runs, so
    that the notebook's client, the browser or a CI runner's other process never oversubscribe the cores. (On 2
    cores, chapter 4's sweep beside one busy process: 3.6x slower with torch's default 2 threads, 0.94x with 1.)"""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        import torch

        threads = torch.get_num_threads()
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        torch.set_num_threads(max(1, min(threads, cores - SPARE_CORES)))
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper

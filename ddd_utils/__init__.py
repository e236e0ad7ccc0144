"""Helpers behind the chapters of "Deep Double Descent, executable", in rooms from the bottom up: `linear` (numpy
solvers and closed forms), `analysis` (reading curves and sweeps), `models`, `engine` (training and sweeps), `data`,
`experiments`, and `notebook` (what a page calls). The README's "Layout" says what each may import."""

__version__ = "0.1.0"

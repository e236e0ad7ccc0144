"""Helpers behind the chapters of "Deep Double Descent, executable": data, features, solvers, experiments, plots."""

__version__ = "0.1.0"

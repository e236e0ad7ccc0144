"""Shared fixtures: where the repository is, which chapters the table of contents lists, no network; and the
notebook-execution guard, installed for every test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from ddd_utils.notebook import reply_guard

ROOT = Path(__file__).resolve().parents[1]
# Characters of a code or printed line that fit a code box at a 1400-pixel-wide window (book/_static/wide.css).
CODE_WIDTH = 110


def toc_files() -> list[Path]:
    """Every file named in _toc.yml, resolved to its path on disk (.ipynb or .md)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [chapter["file"] for chapter in part["chapters"]]
    paths = []
    for name in names:
        matches = [ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{name}{suffix}").exists()]
        assert matches, f"_toc.yml names {name!r}, which has no .ipynb or .md file"
        paths.append(matches[0])
    return paths


CHAPTERS = [path for path in toc_files() if path.suffix == ".ipynb"]

# Every notebook the tests execute in this process (papermill, nbclient) runs with the guard the book build uses.
reply_guard.install_reply_guard()


@pytest.fixture(scope="session")
def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture
def no_network(monkeypatch):
    """Fail any test that tries to open a connection (modules that read data use it: nothing may download)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

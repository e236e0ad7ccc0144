"""Shared fixtures: where the repository is, which chapters the table of contents lists, no network; and the
notebook-execution guard, installed for every test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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


@pytest.fixture(scope="session")
def built_html(tmp_path_factory) -> Path:
    """The whole book built on the smoke preset, once per test session (the build and browser tests read it).
    DDD_BUILT_HTML names an existing build's html folder to test instead, e.g. while changing only these tests."""
    if os.environ.get("DDD_BUILT_HTML"):
        return Path(os.environ["DDD_BUILT_HTML"])
    out = tmp_path_factory.mktemp("book")
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # kernels draw inline
    env["DDD_PRESET"] = "smoke"
    env["DDD_RUNS_DIR"] = str(out / "runs")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
                            env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out / "_build" / "html"

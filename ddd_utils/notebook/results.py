"""Results shipped with the book (`book/results/`): real runs too long to repeat on every build, each a JSON file
that carries its provenance (command, preset, device, versions, date, commit). A chapter reads them from the book
folder it runs in, or on Colab, where only the notebook is there, from the repository."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

# The raw files of the repository and branch named in _config.yml (a test checks that they agree).
REPOSITORY_RAW = "https://raw.githubusercontent.com/ddd-executable/deep-double-descent/main"
FOLDER = "book/results"


def load_result(name: str, book: str | Path = ".") -> dict:
    """The shipped result `name` (e.g. "mnist1d_sweep-paper.json"): from `book`/results when the book is on disk
    (the notebook's folder), else downloaded from the repository."""
    local = Path(book) / "results" / name
    if local.exists():
        return json.loads(local.read_text())
    url = f"{REPOSITORY_RAW}/{FOLDER}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())
    except OSError as error:
        raise FileNotFoundError(f"shipped result {name!r} is neither at {local} nor reachable at {url} "
                                f"({error}); run the command in its chapter to make it") from error

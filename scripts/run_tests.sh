#!/usr/bin/env bash
# Run the test suite: install requirements.txt into .venv, lint with ruff, then pytest (extra arguments go to it).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ruff check .
python -m pytest "$@"

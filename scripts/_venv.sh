# Sourced by build_book.sh and run_tests.sh: create (or reuse) the virtualenv and install requirements.txt into it.
# DDD_VENV chooses the virtualenv's folder (default .venv); PYTHON the interpreter that creates it (default 3.11).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv="${DDD_VENV:-.venv}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
if [ ! -x "$venv/bin/python" ]; then
  python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  "$python" -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 needed (3.11 recommended)"'
  "$python" -m venv "$venv"
fi
# Install only when requirements.txt or pyproject.toml changed since the last install into this virtualenv.
stamp="$venv/.installed-requirements"
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

#!/usr/bin/env bash
# Here, before a call on a lent GPU machine: fill .gpu/ (ignored by git; name it in the call's carry) with what
# scripts/gpu_session.sh needs there. That machine reaches no package registry and gets a copy of the checkout
# without .git, so .gpu/ holds the wheels of mnist1d and submitit (its image lacks them; versions as pinned in
# requirements.txt), this checkout's commit for the runs' provenance, and, given the folder an earlier call's files
# came back in, the unfinished run it returned, to resume.
#
#   bash scripts/gpu_pack.sh [FILES_AT]
set -euo pipefail
cd "$(dirname "$0")/.."
gpu=.gpu
mkdir -p "$gpu/whl"
mapfile -t pins < <(grep -E '^(mnist1d|submitit)==' requirements.txt | cut -d' ' -f1)
[ "${#pins[@]}" -eq 2 ] || { echo "requirements.txt must pin mnist1d and submitit" >&2; exit 1; }
rm -f "$gpu"/whl/*.whl
# Both are pure-Python wheels; the machine's python3 is 3.12.
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp -d "$gpu/whl" "${pins[@]}"
# The commit as the runs' provenance reads it here (ddd_utils.engine.provenance: stdlib only, "+changes" included).
commit=$(python3 -c 'from ddd_utils.engine.provenance import SOURCE_COMMIT; print(SOURCE_COMMIT or "")')
[ -n "$commit" ] || { echo "no git commit to record: pack from a git checkout" >&2; exit 1; }
echo "$commit" > "$gpu/source_commit"
rm -f "$gpu"/*.tgz.*
if [ $# -ge 1 ] && compgen -G "$1/*.tgz.*" > /dev/null; then
  cp "$1"/*.tgz.* "$gpu/"
fi
echo "packed $gpu: $(ls "$gpu/whl" | tr '\n' ' ')source $commit; $(ls "$gpu" | grep -c '\.tgz\.' || true) run part(s)"

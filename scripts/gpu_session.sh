#!/usr/bin/env bash
# The one command of a call on a lent GPU machine (issue 27), run in the checkout's copy there with .gpu/ carried
# (filled here by scripts/gpu_pack.sh):
#
#   bash scripts/gpu_session.sh
#
# 1. installs the wheels in .gpu/whl into /tmp/site (that image has torch but not mnist1d or submitit);
# 2. runs scripts/gpu_probe.py with a deadline of DDD_PROBE_S seconds (default 330; 0 skips it, as on a second call);
# 3. runs `python -m ddd_utils run EXPERIMENT --preset PRESET` (DDD_SESSION_RUN, default "mnist1d_sweep full") in the
#    time left before DDD_SESSION_S seconds (default 570, inside a call of 600 s), resuming the run an earlier call
#    returned (.gpu/EXPERIMENT-PRESET.tgz.*), into runs/EXPERIMENT-PRESET (DDD_SESSION_RUNS); stopped at that limit
#    (SIGTERM: the epoch in training ends and is saved first), the next call resumes it from its checkpoint. The
#    run's folder keeps each call's seconds (calls/), so the finished run's wall_seconds counts the calls before it
#    too.
# $OUT (default gpu-logs) gets at most 8 files: gpu_probe.json, gpu_probe.log, gpu_session.log, the finished run's
# EXPERIMENT.json as EXPERIMENT-PRESET.json, and the run's folder as EXPERIMENT-PRESET.tgz.00, .01, ... (parts of
# 15 MiB: a file that comes back from that machine is at most 16 MiB).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
out=${OUT:-gpu-logs}
gpu=${DDD_GPU_DIR:-.gpu}
python=${PYTHON:-python3}
read -r experiment preset <<< "${DDD_SESSION_RUN:-mnist1d_sweep full}"
session_s=${DDD_SESSION_S:-570}
probe_s=${DDD_PROBE_S:-330}
pack_s=20  # packing the run's folder, after it stops
result=0  # 1 when something failed; a run stopped at the time limit is not a failure
name=$experiment-$preset
runs=${DDD_SESSION_RUNS:-runs}  # relative, so that the run's recorded command reads as one to rerun anywhere
mkdir -p "$out" "$runs"
rm -rf "${runs:?}/$name"  # only what this call unpacks or trains
say() { echo "[gpu_session $((SECONDS - start)) s] $*" | tee -a "$out/gpu_session.log"; }

if compgen -G "$gpu/whl/*.whl" > /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$gpu"/whl/*.whl || { say "the carried wheels did not install"; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if [ -f "$gpu/source_commit" ]; then
  DDD_SOURCE_COMMIT=$(cat "$gpu/source_commit")
  export DDD_SOURCE_COMMIT
fi
say "source ${DDD_SOURCE_COMMIT:-unknown}; $("$python" -c 'import torch
print("torch", torch.__version__, "on", torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")')"

if [ "$probe_s" -gt 0 ]; then
  # shellcheck disable=SC2086  # DDD_PROBE_ARGS is a list of options (--tiny in the tests)
  timeout --kill-after=10 "$((probe_s + 30))" "$python" scripts/gpu_probe.py --out "$out" --deadline-s "$probe_s" \
    ${DDD_PROBE_ARGS:-} >> "$out/gpu_session.log" 2>&1
  say "probe ended with status $?"
fi

if compgen -G "$gpu/$name.tgz.*" > /dev/null; then
  cat "$gpu/$name".tgz.* | tar xzf - -C "$runs" || { say "the returned run did not unpack"; exit 1; }
  say "resuming the run an earlier call returned ($(ls "$runs/$name/records" 2> /dev/null | wc -l) runs finished)"
fi
left=$((session_s - (SECONDS - start) - pack_s))
if [ "$left" -lt 30 ]; then
  say "no time left for $name"
else
  say "running $name for at most $left s"
  timeout --kill-after=10 "$left" "$python" -m ddd_utils run "$experiment" --preset "$preset" --out "$runs/$name" \
    >> "$out/gpu_session.log" 2>&1
  status=$?
  case $status in
    0) say "$name finished"; cp "$runs/$name/$experiment.json" "$out/$name.json" ;;
    124|137) say "$name stopped at the time limit: call again with the returned parts (gpu_pack.sh FILES_AT)" ;;
    *) say "$name failed with status $status"; result=1 ;;
  esac
fi
if [ -d "$runs/$name" ]; then
  tar czf - -C "$runs" "$name" | split -b 15M -d - "$out/$name.tgz."
  parts=$(compgen -G "$out/$name.tgz.*" | wc -l)
  say "packed $name into $parts part(s) of at most 15 MiB"
  [ "$parts" -le 4 ] || say "WARNING: $parts parts: with the other files more than 8, and some will not come back"
fi
exit "$result"

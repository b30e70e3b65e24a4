#!/usr/bin/env bash
# `make test` RUNS times in a row (default 3) while stress-ng keeps every core busy, so the
# machine is loaded to about twice its cores (the suite itself fills them once). Stops at the
# first run that fails. stress-ng comes from Debian (installed with apt when missing, as root).
#
#   bash test/infra/test-under-load.sh            # or: make test-under-load
#   RUNS=5 STRESS_WORKERS=4 bash test/infra/test-under-load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${RUNS:-3}
workers=${STRESS_WORKERS:-$(nproc)}
log() { printf 'under load: %s\n' "$*" >&2; }

if ! command -v stress-ng >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "stress-ng is missing and this is not root with apt: install it (Debian package stress-ng)"
    exit 1
  fi
  log "installing stress-ng"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null
fi

stress-ng --cpu "$workers" --timeout 24h --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true; wait "$stress" 2>/dev/null || true' EXIT
log "stress-ng --cpu $workers started ($(nproc) cores)"

for run in $(seq 1 "$runs"); do
  log "make test, run $run of $runs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  started=$SECONDS
  if ! make test; then
    log "run $run of $runs failed after $((SECONDS - started)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    exit 1
  fi
  log "run $run of $runs passed in $((SECONDS - started)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
log "make test passed $runs times in a row under load (load average $(cut -d' ' -f1-3 /proc/loadavg))"

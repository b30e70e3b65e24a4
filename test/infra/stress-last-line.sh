#!/usr/bin/env bash
# The last-line stress test at full count: RUNS (default 200) follows in a row per driver of
# output written in the task's last moment and ending without a newline, and as many of 20 MB
# without a newline (test/reliability/last-line.test.ts; `make test` runs 5 and 1).
#
#   bash test/infra/stress-last-line.sh           # or: make stress-last-line
#   RUNS=50 bash test/infra/stress-last-line.sh
#   bash test/infra/stress-last-line.sh -t 'on k8s'   # one driver (further arguments go to vitest)
set -euo pipefail
cd "$(dirname "$0")/../.."
DRIVETRAIN_STRESS_RUNS=${RUNS:-200} npx vitest run test/reliability/last-line.test.ts "$@"

#!/bin/bash
# Benchmark: how long renewd --once takes to obtain certificates from a local Pebble
# (PEBBLE_VA_NOSLEEP=1, no nonce rejection, no authorization reuse), as a whole process:
# wall time, CPU time and peak RSS.
#   1. one ec-256 certificate per run, a new name each run (the account exists);
#   2. 20 certificates in one run with max_parallel = 8.
# Usage: bench/issuance.sh [RUNS]   (needs a build in build/; see scripts/test)
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
runs=${1:-20}
export RENEWD=${RENEWD:-$here/../build/daemon/renewd}
source "$here/../tests/integration/harness.sh"
harness_init bench
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
harness_write_config "$cfg"
harness_add_cert "$cfg" warmup "warmup.bench.test"
"$RENEWD" -c "$cfg" --once >/dev/null   # creates the account

for i in $(seq 0 $((2 * runs - 1))); do
        c="$H_DIR/one-$i.conf"
        HC_STATE_DIR="$H_DIR/state" harness_write_config "$c"
        harness_add_cert "$c" "one$i" "one$i.bench.test"
done
python3 "$here/measure.py" "one issuance, ec-256" "$runs" -- "$RENEWD" -c "$H_DIR/one-{i}.conf" --once

for i in 0 1 2 3 4 5; do
        c="$H_DIR/twenty-$i.conf"
        HC_STATE_DIR="$H_DIR/state" HC_MAX_PARALLEL=8 harness_write_config "$c"
        for j in $(seq 1 20); do
                harness_add_cert "$c" "t$i-$j" "t$i-$j.bench.test www.t$i-$j.bench.test"
        done
done
python3 "$here/measure.py" "20 certificates, max_parallel 8" 3 -- "$RENEWD" -c "$H_DIR/twenty-{i}.conf" --once
harness_done

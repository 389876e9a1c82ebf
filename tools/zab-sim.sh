#!/bin/sh
# zab-sim.sh — run the Zab simulation over many seeds, or replay one.
#   tools/zab-sim.sh [SEEDS [FIRST]]     e.g. tools/zab-sim.sh 50000
#   tools/zab-sim.sh replay SEED         full trace of one seed
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/test/test_zab_sim >/dev/null
if [ "${1:-}" = replay ]; then
  ZAB_SIM_SEED="$2" exec build/test/test_zab_sim
fi
ZAB_SIM_SEEDS="${1:-6000}" ZAB_SIM_FIRST="${2:-1}" exec build/test/test_zab_sim

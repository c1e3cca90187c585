#!/usr/bin/env bash
# The long fuzz soak (issue 10), outside `npm test`: every fuzz suite with many
# more runs, every broken frame in every position, and more attack rounds.
# Prints the seed first; a failure names it too. Replay with the same seed.
#
#   bash test/fuzz/run-soak.sh [seed] [runs-per-property]
set -euo pipefail
cd "$(dirname "$0")/../.."
seed="${1:-$(( (RANDOM << 15) | RANDOM ))}"
runs="${2:-3000}"
echo "fuzz soak: ZK_FUZZ_SEED=$seed ZK_FUZZ_RUNS=$runs ZK_FUZZ_SOAK=1 ZK_ATTACK_ROUNDS=10"
ZK_FUZZ_SEED="$seed" ZK_FUZZ_RUNS="$runs" ZK_FUZZ_SOAK=1 ZK_ATTACK_ROUNDS=10 \
  npx jest test/fuzz --runInBand --testTimeout=3600000 || { echo "fuzz soak FAILED with seed $seed"; exit 1; }
echo "fuzz soak passed with seed $seed"

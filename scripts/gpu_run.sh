#!/usr/bin/env bash
# The prepared GPU run (one H100/H200): kernel correctness, then each benchmark suite in its own
# process so that one failure loses only that suite. Results go to ${OUT:-benchmarks/results/gpu-parts}.
# Expected wall time on an H200: about 5 minutes (prefill with Triton autotuning is the longest part).
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-benchmarks/results/gpu-parts}
mkdir -p "$OUT"
LOG="$OUT/gpu.log"   # one log: the device tool returns at most 8 files
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$LOG"
timeout 150 python3 scripts/gpu_check.py --out "$OUT/triton-check.json" > /dev/null; echo "triton check rc=$?"
declare -A LIMIT=([prefill]=220 [decode]=120 [memory]=60 [sliding]=80 [linear]=60)
for suite in ${SUITES:-prefill decode memory sliding linear}; do
  timeout "${LIMIT[$suite]}" python3 scripts/bench.py run --device cuda --profile gpu --suite "$suite" \
      --out "$OUT/gpu-$suite.json" 2>> "$LOG"
  echo "suite $suite rc=$?" | tee -a "$LOG"
done

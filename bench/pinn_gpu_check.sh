#!/usr/bin/env bash
# Default configs of PINN experiments on a lent GPU (device tool): do they reach their targets?
set -u
OUT=${OUT:-/tmp/pinn_gpu}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD/src:/tmp/site PYTHONUNBUFFERED=1 MPLBACKEND=Agg JAX_PLATFORMS=cuda
for name in ${NAMES:-wave helmholtz kovasznay burgers-inverse}; do
  timeout ${EACH_S:-50} python3 -m pinngen.cli run "$name" --out "$OUT/$name" --no-progress > "$OUT/$name.log" 2>&1
  echo "$name rc=$? $(grep -E 'rel_l2|ghia|train_seconds|l1|l2:' "$OUT/$name.log" | tr -s ' ' | tr '\n' ' ' | cut -c1-300)"
done

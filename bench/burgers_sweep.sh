#!/usr/bin/env bash
# Burgers configuration sweep on a lent GPU (device tool): which recipe reaches rel L2 <= 1e-3?
set -u
OUT=${OUT:-/tmp/sweep}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD/src:/tmp/site PYTHONUNBUFFERED=1 MPLBACKEND=Agg JAX_PLATFORMS=cuda
run() {  # name, then --set overrides
  local name=$1; shift
  local args=(); for s in "$@"; do args+=(--set "$s"); done
  timeout 110 python3 -m pinngen.cli run burgers-raissi --out "$OUT/$name" --no-progress "${args[@]}" > "$OUT/$name.log" 2>&1
  python3 - "$OUT/$name" "$name" <<'PY'
import csv, json, sys
d, name = sys.argv[1], sys.argv[2]
try:
    m = json.load(open(d + "/metrics.json"))["summary"]
    rows = [r for r in csv.DictReader(open(d + "/history.csv")) if r.get("metric/rel_l2")]
    traj = " ".join(f"{r['step']}:{float(r['metric/rel_l2']):.2e}" for r in rows[:: max(len(rows) // 8, 1)])
    print(f"{name}: rel_l2={m['rel_l2']:.3e} train_s={m['train_seconds']} | {traj}")
except Exception as e:
    print(name, "failed", e)
PY
}
run f64_10k_fixed collocation.adaptive=null collocation.n_domain=10000 collocation.resample_every=0 \
  train.phases.0.steps=4000 train.phases.1.steps=10000
run f64_4k_resample collocation.adaptive=null collocation.n_domain=4000 collocation.resample_every=1000 \
  train.phases.0.steps=6000 train.phases.1.steps=8000
run f32_10k_fixed dtype=float32 collocation.adaptive=null collocation.n_domain=10000 \
  collocation.resample_every=0 train.phases.0.steps=4000 train.phases.1.steps=10000
tail -n 3 "$OUT"/*.log | grep -iE "error|Traceback" | head

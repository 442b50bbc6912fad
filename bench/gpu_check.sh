#!/usr/bin/env bash
# The prepared script for a lent GPU machine (device tool). It runs from the repository root there, with
# the pydantic wheels carried in .whl/ (the machine's image has JAX+CUDA, equinox, optax, scipy, matplotlib).
#   1. the core, PINN and generative tests with JAX on the GPU,
#   2. `pinngen run burgers-raissi` (the previous Burgers recipe) on the GPU (wall time, accuracy),
#   3. bench/loop_overhead.py on that machine's quiet CPU (one core),
#   4. image and sequence models (charlm-hamlet, gunpoint-transformer, ddpm-fashion): steps/s on GPU vs CPU,
#   5. bench/scaling.py over the machine's GPUs (weak scaling of train.devices).
# Results land in $OUT; BENCHMARKS.md records them with the date and the card.
set -u
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=$PWD/src:/tmp/site PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import jax, equinox, optax; print('jax', jax.__version__, jax.devices(), 'eqx', equinox.__version__, 'optax', optax.__version__)"
echo "== 1. tests on the GPU"
JAX_PLATFORMS=cuda timeout ${TEST_S:-200} python3 -m pytest -q -p no:cacheprovider ${TESTS:-tests/core tests/pinn tests/supervised} 2>&1 | tail -n 15
echo "== 2. burgers on the GPU"
/usr/bin/time -v env JAX_PLATFORMS=cuda timeout ${BURGERS_S:-240} python3 -m pinngen.cli run burgers-raissi --out "$OUT/burgers-gpu" \
  --no-progress ${BURGERS_SET:-} 2>&1 | grep -E "rel_l2|max_abs|steps|train_seconds|Elapsed|error|Error" | head -n 20
cp "$OUT/burgers-gpu/metrics.json" "$OUT/burgers-gpu-metrics.json" 2>/dev/null
echo "== 3. training-loop overhead on this machine's CPU"
JAX_PLATFORMS=cpu timeout ${OVERHEAD_S:-150} python3 bench/loop_overhead.py --repeats 3 --chunks 10 2>&1 | tee "$OUT/loop_overhead.md"
echo "== 4. image and sequence models: steps per second on the GPU and on this machine's CPU, same 60 s budget"
for exp in charlm-hamlet gunpoint-transformer; do
  for plat in cuda cpu; do
    JAX_PLATFORMS=$plat timeout ${SEQ_S:-200} python3 -m pinngen.cli run $exp --out "$OUT/$exp-$plat" --no-progress \
      --set train.max_train_seconds=60 >/dev/null 2>&1
    python3 -c "import json,sys; s=json.load(open('$OUT/$exp-$plat/metrics.json'))['summary']; print('$exp', '$plat', 'steps', s.get('steps'), 'train_s', s.get('train_seconds'), 'steps/s', round(s.get('steps', 0) / max(s.get('train_seconds') or 1, 1e-9), 2))" 2>&1 | tail -n 1
  done
done
JAX_PLATFORMS=cuda timeout ${DIFF_S:-200} python3 -m pinngen.cli run ddpm-fashion --out "$OUT/ddpm-gpu" --no-progress \
  --set train.max_train_seconds=60 2>&1 | grep -E "steps|train_seconds|error" | head -n 5
echo "== 5. weak scaling over the GPUs (data parallelism, train.devices)"
JAX_PLATFORMS=cuda timeout ${SCALE_S:-200} python3 bench/scaling.py --devices 1 $(python3 -c "import jax; print(jax.device_count())") --repeats 2 2>&1 | tail -n 6

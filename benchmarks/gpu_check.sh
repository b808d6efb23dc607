#!/usr/bin/env bash
# The one prepared check for a machine with GPUs (run from the repository root):
#   bash benchmarks/gpu_check.sh
# Installs tfar if it is not importable (the GPU machine has no internet: its Python must
# already hold TensorFlow with CUDA; tfar installs with --no-deps), then trains MADE and
# NADE on MNIST (../shared/data/mnist when present, else the embedded digits) for a few
# hundred steps under MirroredStrategy over every local GPU, in float32 and in
# mixed_float16 (STEPS=600 each, 100 s limit per run), and prints images/s, peak GPU
# memory and the test NLL of each run. With MNIST present it then runs
# benchmarks/made_vs_tfp.py twice on the GPU, with column_blocks "auto" and 1 (is cutting
# the masked kernels into blocks still faster where small matmuls cost launches?).
# Then the multiscale sampling and the natural-RGB (PixelCNN++ vs TFP) benchmarks, and
# the XLA-compiled sampling loops beside the cached samplers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c "import tfar" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps -e . || { echo "cannot install tfar"; exit 1; }
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c "import tensorflow as tf; print('TF', tf.__version__, 'GPUs:', tf.config.list_physical_devices('GPU'))"
SOURCE=digits
if [ -e ../shared/data/mnist/t10k-images-idx3-ubyte.gz ]; then SOURCE=idx:../shared/data/mnist; fi
OUT=${OUT:-/tmp/tfar_gpu_check}
mkdir -p "$OUT"
STEPS=${STEPS:-600}
run() {  # name config extra-flags...
  local name=$1 config=$2; shift 2
  for policy in "" mixed_float16; do
    local dir="$OUT/${name}_${policy:-float32}"
    rm -rf "$dir"
    timeout 100 "$PY" train_main.py --config="$config" --strategy=mirrored --workdir="$dir" \
      --config.data.source="$SOURCE" --config.train.steps=$STEPS --config.train.log_every=200 \
      --config.train.checkpoint_every=$STEPS --config.train.mixed_precision="$policy" \
      --config.export.enabled=False "$@" > "$dir.log" 2>&1 \
      || { echo "$name ${policy:-float32} FAILED (exit $?; 124: timed out)"; tail -5 "$dir.log"; continue; }
    "$PY" - "$dir/metrics.json" "$name" "${policy:-float32}" <<'PYEND'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:24s} {sys.argv[3]:14s} replicas {m['num_replicas']}  "
      f"{m['train_images_per_second']:10.0f} images/s  peak GPU memory "
      f"{(m['peak_gpu_memory_bytes'] or 0) / 2**20:8.1f} MiB  test NLL {m['test_nll_nats']:.2f} nats")
PYEND
  done
}
run made_2x2000_batch1000 configs/made_mnist.py "--config.model.hidden_units=(2000,2000)" --config.train.batch_size=1000
run nade_500_batch1000 configs/nade_mnist.py --config.train.batch_size=1000
# The same MADE with its loss and gradients compiled by XLA (config.train.jit_compile).
run made_2x2000_batch1000_xla configs/made_mnist.py "--config.model.hidden_units=(2000,2000)" \
  --config.train.batch_size=1000 --config.train.jit_compile=True
if [ "$SOURCE" != digits ]; then
  for blocks in auto 1; do
    echo "made_vs_tfp --column_blocks $blocks:"
    timeout 100 "$PY" benchmarks/made_vs_tfp.py --data_dir ../shared/data/mnist --steps 1000 \
      --column_blocks $blocks 2>&1 | grep -E "^(tfar MADE|TFP Auto|tfar/TFP)" \
      || echo "made_vs_tfp --column_blocks $blocks FAILED"
  done
fi
# Multiscale sampling against the Gated PixelCNN's cached sampler: on a GPU each of the
# cached sampler's 4,096 steps at 64×64 costs kernel launches, which the multiscale
# model's 28 steps avoid (2 CPU cores: 5.2x; goal 10x).
echo "benchmarks/multiscale.py (batch 16, 32x32x3 and 64x64x3):"
timeout 600 "$PY" benchmarks/multiscale.py --sizes=32,64 --contenders=multiscale,gated:cached \
  2>&1 | grep -E "^(tfar|speed-up|[0-9]+x)" || echo "multiscale benchmark FAILED"
# PixelCNN++ against TFP's on natural RGB patches at 32x32: training speed at equal free
# parameters and cached sampling (2 CPU cores at 16x16: see docs/results.md).
echo "benchmarks/rgb.py (photos:32, 300 steps):"
timeout 900 "$PY" benchmarks/rgb.py --size=32 --steps=300 --num_samples=4 \
  2>&1 | grep -E "^(TFP|tfar|model|photos)" || echo "rgb benchmark FAILED"
# Sampling loops compiled with XLA against the cached samplers (2 CPU cores: 2.5-5x; each
# cached step's tiny ops cost a kernel launch on a GPU, which the compiled loop fuses).
echo "benchmarks/sampling.py compiled vs cached (batch 16):"
timeout 900 "$PY" benchmarks/sampling.py --configs=28x28x1,32x32x3 \
  --contenders=gated:compiled,gated:cached,pixelcnn:compiled,pixelcnn:cached,row_lstm:compiled,row_lstm:cached,diagonal_bilstm:compiled,diagonal_bilstm:cached,pixelcnnpp:compiled,pixelcnnpp:cached \
  2>&1 | grep -E "^(tfar|speed-up|[0-9]+x)" || echo "compiled sampling benchmark FAILED"

#!/usr/bin/env bash
# The GPU check of A2Block's fused (Triton) pass: run on one CUDA GPU from a
# checkout of a2mm installed with `pip install -e .` (torch's CUDA build
# brings Triton); nothing else to install but pytest for the tests.
#
#   bash tools/analysis/gpu_check.sh 2>&1 | tee gpu_check.txt
#
# 1. the CUDA tests of the block, its passes and the benchmark tool (the
#    fused pass against the autograd pass in float32, fp16 and bf16, at the
#    sizes of A2-ResNet-50's blocks too, and its peak memory);
# 2. the block alone at those sizes, batch 8, forward+backward: the fused
#    pass beside the autograd pass, NonLocal3d, ContextBlock3d and the floor
#    of its N-sized products, in float32 and under bf16 autocast;
# 3. A2-ResNet-50 against I3D-R50 and NL-I3D-R50, batch 8, 8x224x224,
#    float32 and bf16.
# Its tables are the ones docs/benchmarks.md's GPU rows are copied from.
# Meant to take under five minutes on an H100/H200 (not yet timed there).
# Exits non-zero when a test or a benchmark failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}

$PY - <<'PYEOF' || exit 1
import subprocess
import torch
if not torch.cuda.is_available():
    raise SystemExit(f'gpu_check.sh needs a CUDA GPU; torch '
                     f'{torch.__version__} sees none')
try:
    import triton
    triton_version = triton.__version__
except ImportError as error:
    triton_version = f'not importable ({error})'
import a2mm  # noqa: F401  (registers A2Block)
from mmaction.registry import MODELS
rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                     capture_output=True, text=True).stdout.strip()
print(f'a2mm {rev or "(no git)"}, torch {torch.__version__}, '
      f'triton {triton_version}, {torch.cuda.get_device_name()} '
      f'(compute capability {torch.cuda.get_device_capability()})')
block = MODELS.build(dict(type='A2Block', in_channels=16, impl='fused'))
try:
    block.cuda()(torch.randn(1, 16, 2, 3, 4, device='cuda'))
    print('fused pass: runs')
except RuntimeError as error:
    print(f'fused pass: NOT available: {error}')
PYEOF

status=0
echo
echo '## 1. CUDA tests'
if $PY -c 'import pytest' 2>/dev/null; then
    $PY -m pytest tests/models/blocks tests/tools/test_benchmark_block.py \
        -q -k 'cuda or fused' -m 'not slow' -p no:cacheprovider || status=1
else
    echo 'pytest is not installed: tests skipped (pip install pytest)'
    status=1
fi

for amp in '' bf16; do
    echo
    echo "## 2. The block, batch 8, ${amp:-float32}"
    $PY tools/analysis/benchmark_block.py --device cuda --batch 8 \
        --channels 512 1024 --sizes 4x28x28 4x14x14 --repeats 20 \
        --a2-impls fused autograd ${amp:+--amp $amp} || status=1
done

for amp in '' bf16; do
    echo
    echo "## 3. Whole models, batch 8, ${amp:-float32}"
    $PY tools/analysis/benchmark_models.py --device cuda --batch 8 \
        --iters 20 --warmup 3 ${amp:+--amp $amp} || status=1
done
exit $status

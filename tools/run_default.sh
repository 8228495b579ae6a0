#!/usr/bin/env bash
# The embedded default, end to end: generate the moving-digits dataset from
# real handwriting and real video, train the tiny A² model, and test its best
# checkpoint with the 4 clips x 3 crops protocol (top-1, top-5, mean class
# accuracy). A few minutes on a 2-core CPU.
#   bash tools/run_default.sh            # uses .venv/bin/python if present
#   PYTHON=python3 bash tools/run_default.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
CONFIG=configs/embedded/a2_tiny_embedded.py
WORK_DIR=${WORK_DIR:-work_dirs/a2_tiny_embedded}
DATA=data/embedded

"$PYTHON" tools/data/make_embedded_dataset.py --out "$DATA"  # ~5 s, seeded
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --seed 0
BEST=$(ls -t "$WORK_DIR"/best_acc_top1_epoch_*.pth | head -n 1)
"$PYTHON" tools/test.py "$CONFIG" "$BEST" --work-dir "$WORK_DIR"

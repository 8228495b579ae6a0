#!/usr/bin/env bash
# Install a2mm beside an existing MMAction2 1.2.0 + full-mmcv stack and show
# that none of MMAction2 / mmcv / mmengine / OpenCV changes (docs/install.md).
#
#   bash tools/misc/check_install_beside.sh MMACTION2_1.2.0_SOURCE [VENV]
#
# MMACTION2_1.2.0_SOURCE: an MMAction2 v1.2.0 source tree (git clone -b v1.2.0
# https://github.com/open-mmlab/mmaction2), installed editable as its docs
# say. VENV (default /tmp/a2mm-beside-venv) is built once, the slow part
# (~10 min: torch, mmengine 0.10.7, mmcv 2.1.0 from its sdist, MMAction2),
# and reused by later runs. mmcv is built with MMCV_WITH_OPS=0 to skip the
# long compile; its setup.py then names the distribution mmcv-lite, so the
# sdist is renamed back to `mmcv`, the full package's name, which is what
# matters to pip. Then: pip freeze, `pip install --dry-run --report` of
# a2mm, a plain `pip install` of a2mm (no constraints), pip freeze again.
# Exits 1 if any MMAction2/mmcv/mmengine/OpenCV/torch version changed.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="${1:?usage: $0 MMACTION2_1.2.0_SOURCE [VENV]}"
SRC="$(cd "$SRC" && pwd)"
VENV="${2:-/tmp/a2mm-beside-venv}"
OUT="${A2MM_BESIDE_OUT:-$VENV-report}"
TORCH="${TORCH_SPEC:-torch==2.13.0}"  # the CPU build on our machines
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.stack-ready" ]; then
    echo "== building the user's stack in $VENV"
    python3 -m venv "$VENV"
    pip="$VENV/bin/pip"
    "$pip" install -q "$TORCH" "mmengine==0.10.7"
    # mmcv 2.1.0's setup.py imports pkg_resources
    "$pip" install -q "setuptools<70" wheel
    "$pip" download -q --no-deps --no-binary :all: "mmcv==2.1.0" -d "$OUT/sdist"
    tar -xzf "$OUT/sdist/mmcv-2.1.0.tar.gz" -C "$OUT/sdist"
    sed -i "s/name='mmcv' if os.getenv('MMCV_WITH_OPS', '1') == '1' else 'mmcv-lite',/name='mmcv',/" \
        "$OUT/sdist/mmcv-2.1.0/setup.py"
    MMCV_WITH_OPS=0 "$pip" install -q --no-build-isolation "$OUT/sdist/mmcv-2.1.0"
    "$pip" install -q -e "$SRC"
    touch "$VENV/.stack-ready"
fi
pip="$VENV/bin/pip"
"$pip" uninstall -q -y a2mm 2>/dev/null || true

stack() {  # the versions that must not change, as pip sees them
    "$VENV/bin/python" - <<'PY'
import importlib.metadata as m
for name in ('mmaction2', 'mmcv', 'mmcv-lite', 'mmengine', 'opencv-python',
             'opencv-contrib-python', 'torch'):
    try:
        dist = m.distribution(name)
    except m.PackageNotFoundError:
        continue
    url = dist.read_text('direct_url.json') or ''
    print(f"{name}=={dist.version}" + ('  (editable)' if '"editable": true' in url else ''))
PY
}
"$pip" freeze > "$OUT/freeze_before.txt"
stack > "$OUT/stack_before.txt"
echo "== the stack before:"
sed 's/^/   /' "$OUT/stack_before.txt"

echo "== pip install --dry-run --report: what installing a2mm would install"
"$pip" install -q --dry-run --report "$OUT/report.json" "$REPO" >/dev/null
"$VENV/bin/python" - "$OUT/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for item in report['install']:
    meta = item['metadata']
    print(f"   would install {meta['name']} {meta['version']}")
PY

echo "== pip install $REPO (plain, no constraints)"
"$pip" install -q "$REPO" 2>&1 | grep -v -i 'is ignored' || true
"$pip" freeze > "$OUT/freeze_after.txt"
stack > "$OUT/stack_after.txt"

echo "== pip freeze, before -> after:"
diff "$OUT/freeze_before.txt" "$OUT/freeze_after.txt" | grep '^[<>]' | sed 's/^/   /' || true
changed=$(diff "$OUT/stack_before.txt" "$OUT/stack_after.txt" || true)
if [ -n "$changed" ]; then
    echo "FAIL: installing a2mm changed the user's stack:"; echo "$changed"; exit 1
fi
echo "== the stack after:"
sed 's/^/   /' "$OUT/stack_after.txt"
echo "OK: MMAction2, mmcv, mmengine, OpenCV and torch are unchanged (files in $OUT)"

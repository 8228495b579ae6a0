"""``import a2mm`` (what every config's ``custom_imports`` runs) registers
a2mm's modules and loads none of its demo, plotting, video-writing or ONNX
code; those load on first use of an ``a2mm.apis`` name."""
import json
import subprocess
import sys

import pytest

PLOT_AND_DEMO = ('matplotlib', 'onnx', 'onnxruntime')

#: registry -> a2mm's names that ``import a2mm`` must have put there
REGISTERED = {
    'MODELS': ['A2Block', 'A2ResNet3d'],
    'DATASETS': ['RobustVideoDataset'],
    'HOOKS': [
        'AtomicCheckpointHook', 'BadVideoHook', 'Float32ScoresHook',
        'MultiViewVisualizationHook', 'ResumeSeedHook'
    ],
    'LOOPS': ['AmpValLoop', 'AmpTestLoop'],
    'METRICS': ['SkippedVideosMetric'],
    'OPTIM_WRAPPERS': ['DeviceAmpOptimWrapper'],
}


def modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; what it printed as JSON."""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


@pytest.fixture(scope='module')
def after_import():
    return modules_after(
        'import json, sys\n'
        'import a2mm\n'
        'from mmaction import registry as R\n'
        f'names = {REGISTERED!r}\n'
        'print(json.dumps(dict(\n'
        '    modules=sorted(sys.modules),\n'
        '    missing={r: [n for n in ns if n not in getattr(R, r).module_dict]\n'
        '             for r, ns in names.items()})))\n')


def test_registers_every_module(after_import):
    assert after_import['missing'] == {r: [] for r in REGISTERED}


def test_no_plotting_demo_or_onnx_code(after_import):
    modules = after_import['modules']
    loaded = [m for m in modules if m.split('.')[0] in PLOT_AND_DEMO]
    assert loaded == []
    # a2mm.apis itself, none of its modules (their names load lazily)
    assert 'a2mm.apis' in modules
    assert [m for m in modules if m.startswith('a2mm.apis.')] == []


def test_cv2_only_as_mmcv_loads_it(after_import):
    """mmcv's image module imports cv2 itself; a2mm adds no import of it."""
    base = modules_after('import json, sys\nimport mmcv, mmengine.runner\n'
                         'print(json.dumps("cv2" in sys.modules))')
    assert ('cv2' in after_import['modules']) == base


def test_apis_names_load_their_module_on_use():
    loaded = modules_after(
        'import json, sys\n'
        'from a2mm.apis import save_attention_grid, check_config\n'
        'import a2mm.apis\n'
        'print(json.dumps([sorted(m for m in sys.modules\n'
        '                         if m.startswith("a2mm.apis.")),\n'
        '                  sorted(set(a2mm.apis.__all__) - set(dir(a2mm.apis)))'
        ']))')
    modules, not_listed = loaded
    assert 'a2mm.apis.attention_plot' in modules
    assert 'a2mm.apis.label_video' not in modules
    assert not_listed == []

"""The modules that moved into a2mm.utils (and the hook into
a2mm.engine.hooks) stay importable from their old paths, as the same
objects."""
import importlib

import pytest

import a2mm  # noqa: F401

MOVED = {
    'a2mm.engine.checkpoint': 'a2mm.utils.checkpoint.loader',
    'a2mm.engine.safe_numpy': 'a2mm.utils.checkpoint.safe_numpy',
    'a2mm.engine.config_text': 'a2mm.utils.checkpoint.config_text',
    'a2mm.engine.dist': 'a2mm.utils.dist',
    'a2mm.engine.determinism': 'a2mm.utils.determinism',
    'a2mm.engine.work_dir_lock': 'a2mm.utils.work_dir_lock',
    'a2mm.models.backbones.weights_file': 'a2mm.utils.checkpoint.weights_file',
}


@pytest.mark.parametrize('old, new', sorted(MOVED.items()))
def test_old_path_exports_the_same_objects(old, new):
    old_module, new_module = (importlib.import_module(name)
                              for name in (old, new))
    assert old_module.__all__ == new_module.__all__
    for name in new_module.__all__:
        assert getattr(old_module, name) is getattr(new_module, name), name


def test_state_dict_report_keeps_the_report_and_the_hook():
    from a2mm.engine import setup_cpu_distributed, state_dict_report
    from a2mm.engine.hooks import CheckpointShapeCheckHook
    from a2mm.utils import checkpoint, dist
    assert state_dict_report.CheckpointShapeCheckHook is \
        CheckpointShapeCheckHook
    for name in ('CheckpointMismatchError', 'StateDictReport',
                 'compare_state_dicts'):
        assert getattr(state_dict_report, name) is getattr(checkpoint, name)
    assert setup_cpu_distributed is dist.setup_cpu_distributed


def test_import_a2mm_registers_the_safe_local_loader():
    from mmengine.runner.checkpoint import CheckpointLoader

    from a2mm.utils.checkpoint import load_from_safe_local
    assert CheckpointLoader._schemes[''] is load_from_safe_local

"""The modules that moved out of ``a2mm/engine/`` keep their old import
paths as aliases of the new ones (same objects, so registry names and
isinstance checks are unchanged)."""
import importlib

import pytest

import a2mm  # noqa: F401

MOVED = {
    'a2mm.engine.amp': {
        'a2mm.utils.amp': ['AMP_DTYPES', 'amp_autocast', 'model_device_type',
                           'resolve_amp_dtype'],
        'a2mm.apis.config_edits': ['add_amp_arguments', 'enable_amp_test',
                                   'enable_amp_train'],
    },
    'a2mm.engine.amp_loops': {
        'a2mm.engine.runner': ['AmpTestLoop', 'AmpValLoop']},
    'a2mm.engine.amp_optim_wrapper': {
        'a2mm.engine.optimizers.amp_optim_wrapper': [
            'DeviceAmpOptimWrapper', 'cpu_grad_scaler', 'has_accelerator']},
    'a2mm.engine.atomic_checkpoint_hook': {
        'a2mm.engine.hooks.atomic_checkpoint_hook': [
            'AtomicCheckpointHook', 'atomic_write_bytes', 'publish_file']},
    'a2mm.engine.bad_video_hook': {
        'a2mm.engine.hooks.bad_video_hook': ['BadVideoHook',
                                             'dataset_skips_bad_videos'],
        'a2mm.apis.config_edits': ['enable_skip_bad_videos'],
    },
    'a2mm.engine.config_check': {
        'a2mm.apis.config_check': ['ConfigError', 'check_config']},
    'a2mm.engine.float32_scores_hook': {
        'a2mm.engine.hooks.float32_scores_hook': ['Float32ScoresHook',
                                                  'to_float32']},
    'a2mm.engine.resume_seed_hook': {
        'a2mm.engine.hooks.resume_seed_hook': ['ResumeSeedHook',
                                               'iteration_seed']},
    'a2mm.engine.skipped_videos_metric': {
        'a2mm.evaluation': ['SkippedVideosMetric']},
    'a2mm.engine.visualization_hook': {
        'a2mm.engine.hooks': ['MultiViewVisualizationHook']},
}


@pytest.mark.parametrize('old', sorted(MOVED))
def test_old_path_names_the_new_objects(old):
    alias = importlib.import_module(old)
    for new, names in MOVED[old].items():
        module = importlib.import_module(new)
        for name in names:
            assert getattr(alias, name) is getattr(module, name), (old, name)


def test_engine_package_names():
    from a2mm.engine import MultiViewVisualizationHook, setup_cpu_distributed
    from a2mm.engine.hooks import MultiViewVisualizationHook as hook
    assert MultiViewVisualizationHook is hook
    assert callable(setup_cpu_distributed)

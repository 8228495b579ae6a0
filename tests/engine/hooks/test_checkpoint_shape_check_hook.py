"""CheckpointShapeCheckHook with a trained plain I3D checkpoint and the A²
model of configs/a2_r50_kinetics_from_i3d.py: the A² blocks are reported as
new blocks (not as missing keys), a block with only some of its tensors is a
mismatch, and through the runner's ``load_from`` the A² model gives the
plain model's scores until it is trained; checkpoints whose values cannot
be weights (read from real files by a2mm's loader) are an error in every
mode, naming the keys and what they hold, where PyTorch would skip them
with a warning and the run would go on from random weights (the loader
refuses them under ``state_dict``, tests/utils/checkpoint/test_loader.py; a
bare state dict, which it cannot tell from other entries, reaches the
hook)."""
import glob
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from a2mm.apis import init_model
from a2mm.engine.hooks import CheckpointShapeCheckHook
from a2mm.models.backbones.a2_stages import a2_blocks_of
from a2mm.utils.checkpoint import (CheckpointMismatchError,
                                   load_checkpoint_file)
from tests.helpers.configs import dataloader_override
from tests.helpers.data import make_videos
from tests.helpers.models import (A2_FROM_I3D, A2_FROM_I3D_BLOCKS, SMALL_R50,
                                  random_clip, scores_of, trained_plain_i3d)


class _FakeRunner:
    """What CheckpointShapeCheckHook reads of a runner that tests."""

    def __init__(self, model):
        self.model, self._train_loop, self._resume = model, {}, False
        self._load_from, self.logged = 'plain.pth', []
        self.logger = self
        self.info = lambda msg: self.logged.append(('info', msg))
        self.warning = lambda msg: self.logged.append(('warning', msg))


def test_testing_with_new_a2_blocks_warns_and_a_partial_block_raises():
    model = init_model(A2_FROM_I3D, cfg_options=SMALL_R50)
    plain = {k: v for k, v in model.state_dict().items()
             if '.a2_block.' not in k}
    runner = _FakeRunner(model)
    CheckpointShapeCheckHook().after_load_checkpoint(
        runner, dict(state_dict=plain))
    ((level, message), ) = runner.logged
    assert level == 'warning'
    assert re.match(r'checkpoint plain.pth \(testing\) fits \d+ of the '
                    r'\d+ tensors of Recognizer3D; 5 new A² block\(s\) '
                    r'\(initialised as identity\)', message)
    plain['backbone.layer2.1.a2_block.phi_bias'] = \
        model.state_dict()['backbone.layer2.1.a2_block.phi_bias']
    with pytest.raises(CheckpointMismatchError,
                       match='backbone.layer2.1.a2_block.in_proj_weight'):
        CheckpointShapeCheckHook().after_load_checkpoint(
            runner, dict(state_dict=plain))


class _ScoresBeforeTraining(Hook):
    """Records the model's scores on a clip once the checkpoint is loaded,
    before the first training iteration."""

    def __init__(self, clip):
        self.clip, self.scores = clip, None

    def before_train(self, runner):
        runner.model.eval()
        self.scores = scores_of(runner.model, self.clip)
        runner.model.train()


def test_load_from_plain_i3d_fine_tunes_the_a2_model(tmp_path):
    path = str(tmp_path / 'i3d_r50.pth')
    plain = trained_plain_i3d(path)
    data = str(tmp_path / 'data')
    make_videos(data, 'train', 2, num_frames=16)
    cfg = Config.fromfile(A2_FROM_I3D)
    cfg.merge_from_dict(dict(SMALL_R50, load_from=path,
                             work_dir=str(tmp_path / 'work')))
    small_pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')]
    overrides = Config.fromstring(
        dataloader_override('train_dataloader', f'{data}/train_list.txt',
                            f'{data}/train'), '.py')
    cfg.merge_from_dict(overrides.to_dict())
    cfg.train_dataloader.dataset.pipeline = small_pipeline
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=10)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    runner = Runner.from_cfg(cfg)
    probe = _ScoresBeforeTraining(random_clip())
    runner.register_hook(probe, priority='LOWEST')
    runner.train()

    expected = scores_of(plain, probe.clip)
    assert (probe.scores - expected).abs().max() <= 1e-5
    (log_file, ) = glob.glob(str(tmp_path / 'work' / '*' / '*.log'))
    log = open(log_file).read()
    assert re.search(f'checkpoint {re.escape(path)} \\(fine-tuning\\) fits '
                     r'\d+ of the \d+ tensors of Recognizer3D; 5 new A² '
                     r'block\(s\) \(initialised as identity\)', log)
    assert all(name in log for name in A2_FROM_I3D_BLOCKS)
    assert 'keep their initial values' not in log
    # the A² blocks were trained: they got gradients and moved
    assert any(block.out_proj_weight.abs().sum() > 0
               for block in a2_blocks_of(runner.model))


def _runner(mode):
    """What the hook reads of a runner: testing, resuming or fine-tuning
    (training from load_from) a small model."""
    return SimpleNamespace(
        model=torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1),
                                  torch.nn.BatchNorm2d(3)),
        _train_loop=None if mode == 'test' else object(),
        _resume=mode == 'resume', _load_from='weights.pth',
        logger=MMLogger.get_instance('shape_check_hook_test'))


def _saved(tmp_path, state, bare=True):
    path = str(tmp_path / 'weights.pth')
    torch.save(state if bare else {'state_dict': state, 'meta': {}}, path)
    return load_checkpoint_file(path)


@pytest.mark.parametrize('mode', ['test', 'resume', 'fine-tune'])
@pytest.mark.parametrize('on_mismatch', ['auto', 'warn'])
@pytest.mark.parametrize('kind,shown', [
    ('numpy', '0.weight: numpy.ndarray'),
    ('meta', '0.weight: a tensor on the meta device (no data)'),
    ('string', '1.running_mean: str'),
    ('int_key', '3: a key of type int, not a string'),
])
def test_values_that_are_not_weights_are_an_error(tmp_path, mode,
                                                  on_mismatch, kind, shown):
    runner = _runner(mode)
    state = runner.model.state_dict()
    if kind == 'numpy':
        state = {k: v.numpy() for k, v in state.items()}
    elif kind == 'meta':
        state['0.weight'] = state['0.weight'].to('meta')
    elif kind == 'string':
        state['1.running_mean'] = 'zeros'
    else:
        state[3] = torch.zeros(1)
    checkpoint = _saved(tmp_path, state)
    hook = CheckpointShapeCheckHook(on_mismatch=on_mismatch)
    with pytest.raises(CheckpointMismatchError,
                       match='weights.pth.*holds values that are not '
                       'weights') as info:
        hook.after_load_checkpoint(runner, checkpoint)
    assert shown in str(info.value)


def test_a_state_dict_that_is_not_a_dict_is_named(tmp_path):
    checkpoint = _saved(tmp_path, [torch.zeros(1)], bare=False)
    with pytest.raises(CheckpointMismatchError,
                       match=r'weights.pth \(testing\) has no weights: its '
                       'state_dict is a list'):
        CheckpointShapeCheckHook().after_load_checkpoint(
            _runner('test'), checkpoint)


def test_a_fitting_checkpoint_passes(tmp_path):
    runner = _runner('resume')
    checkpoint = _saved(tmp_path, runner.model.state_dict())
    CheckpointShapeCheckHook().after_load_checkpoint(runner, checkpoint)


def test_the_run_loads_within_the_model_budget(tmp_path, monkeypatch):
    """Between before_run and after_run, checkpoints loaded through MMEngine
    (load_from, --resume, pretrained) may declare at most the model's
    budget."""
    from mmengine.runner import load_checkpoint

    from a2mm.utils.checkpoint import CheckpointLoadError, declared_sizes
    monkeypatch.setattr(declared_sizes, 'MODEL_MARGIN', 0)
    runner = _runner('resume')
    path = str(tmp_path / 'fat.pth')
    state = runner.model.state_dict()
    torch.save({'state_dict': state, 'ema': torch.zeros(4096)}, path)
    hook = CheckpointShapeCheckHook()
    hook.before_run(runner)
    with pytest.raises(CheckpointLoadError, match='fat.pth: its storages '
                       'declare .* allowed for this model'):
        load_checkpoint(runner.model, path)
    hook.after_run(runner)
    load_checkpoint(runner.model, path)  # no run: no model budget

"""A trained plain I3D (MMAction2's ResNet3d + I3DHead) checkpoint loaded
into the A² model of configs/a2_r50_kinetics_from_i3d.py, through
``init_model`` and through the runner's ``load_from``: the A² blocks are
reported as new blocks (not as missing keys), start as identity, and the A²
model gives the plain model's scores until they are trained."""
import glob
import logging
import os.path as osp

import torch
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from a2mm.apis import init_model
from a2mm.engine.hooks import CheckpointShapeCheckHook
from a2mm.models.backbones.a2_stages import a2_blocks_of
from a2mm.utils.checkpoint import CheckpointMismatchError, compare_state_dicts
from tests.helpers.configs import dataloader_override
from tests.helpers.data import make_videos
from tests.helpers.models import save_checkpoint
from tests.helpers.tools import REPO

PLAIN = osp.join(REPO, 'configs', 'i3d_r50_kinetics.py')
RECIPE = osp.join(REPO, 'configs', 'a2_r50_kinetics_from_i3d.py')
# the ResNet-50 layout (so a2='res34_5' places its 5 blocks) at an eighth of
# the width, no ImageNet file
SMALL = {'model.backbone.base_channels': 8, 'model.backbone.pretrained': None,
         'model.cls_head.in_channels': 256, 'model.cls_head.num_classes': 5}
A2_NAMES = ['backbone.layer2.1.a2_block', 'backbone.layer2.3.a2_block',
            'backbone.layer3.1.a2_block', 'backbone.layer3.3.a2_block',
            'backbone.layer3.5.a2_block']


def _trained_i3d(path):
    """A plain I3D recognizer with random weights and BN statistics, saved
    as MMEngine does; returns the model in eval mode."""
    torch.manual_seed(0)
    model = init_model(PLAIN, cfg_options=SMALL)
    assert not a2_blocks_of(model)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith(('running_mean', 'bias')):
                tensor.normal_(0, 0.1)
            elif name.endswith(('running_var', 'bn.weight')):
                tensor.uniform_(0.5, 1.5)
    save_checkpoint(model, path)
    return model


def _clip(seed=1):
    gen = torch.Generator().manual_seed(seed)
    # (N, views, C, T, H, W)
    return torch.randn((2, 1, 3, 8, 32, 32), generator=gen)


def _scores(model, clip):
    with torch.no_grad():
        return model(clip, mode='tensor')


def test_compare_state_dicts_tells_new_blocks_from_missing_keys():
    expected = {k: torch.zeros(2) for k in (
        'conv.weight', 'blk.a2_block.w', 'blk.a2_block.b', 'other.a2_block.w',
        'other.a2_block.b', 'rand.a2_block.w')}
    got = {'conv.weight': torch.ones(2), 'other.a2_block.w': torch.ones(2)}
    blocks = {'blk.a2_block': True, 'other.a2_block': True,
              'rand.a2_block': False}
    report = compare_state_dicts(expected, got, new_blocks=blocks)
    # whole blocks are new; a block with some of its tensors is a mismatch
    assert report.new_blocks == [('blk.a2_block', True),
                                 ('rand.a2_block', False)]
    assert report.missing == ['other.a2_block.b'] and not report.ok
    text = report.format()
    assert '1 new A² block(s) (initialised as identity)' in text
    assert '1 new A² block(s) (zero_init=False: random, NOT identity)' in text
    assert '1 key(s) missing from the checkpoint:\n  other.a2_block.b' in text


class _FakeRunner:
    """What CheckpointShapeCheckHook reads of a runner that tests."""

    def __init__(self, model):
        self.model, self._train_loop, self._resume = model, {}, False
        self._load_from, self.logged = 'plain.pth', []
        self.logger = self
        self.info = lambda msg: self.logged.append(('info', msg))
        self.warning = lambda msg: self.logged.append(('warning', msg))


def test_testing_with_new_a2_blocks_warns_and_a_partial_block_raises():
    model = init_model(RECIPE, cfg_options=SMALL)
    plain = {k: v for k, v in model.state_dict().items()
             if '.a2_block.' not in k}
    runner = _FakeRunner(model)
    CheckpointShapeCheckHook().after_load_checkpoint(
        runner, dict(state_dict=plain))
    ((level, message), ) = runner.logged
    assert level == 'warning'
    assert message.startswith('the checkpoint (testing plain.pth) fits the '
                              'model; 5 new A² block(s) (initialised as '
                              'identity)')
    plain['backbone.layer2.1.a2_block.phi_bias'] = \
        model.state_dict()['backbone.layer2.1.a2_block.phi_bias']
    with pytest.raises(CheckpointMismatchError,
                       match='backbone.layer2.1.a2_block.in_proj_weight'):
        CheckpointShapeCheckHook().after_load_checkpoint(
            runner, dict(state_dict=plain))


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


def test_init_model_from_plain_i3d_gives_its_scores(tmp_path):
    path = str(tmp_path / 'i3d_r50.pth')
    plain = _trained_i3d(path)
    logger, records = MMLogger.get_current_instance(), _Records()
    logger.addHandler(records)
    try:
        model = init_model(RECIPE, path, cfg_options=SMALL)
    finally:
        logger.removeHandler(records)
    (level, log), = [r for r in records.records if 'tensors of' in r[1]]
    assert level == logging.INFO
    assert not [r for r in records.records if r[0] >= logging.WARNING]
    assert '5 new A² block(s) (initialised as identity)' in log
    assert all(name in log for name in A2_NAMES)
    assert 'missing' not in log
    blocks = a2_blocks_of(model)
    assert len(blocks) == 5
    clip = _clip()
    expected = _scores(plain, clip)
    assert (_scores(model, clip) - expected).abs().max() <= 1e-5
    # not vacuous: the blocks do run, and they change the scores once trained
    with torch.no_grad():
        for block in blocks:
            block.out_proj_weight.normal_(0, 1.0)
    assert (_scores(model, clip) - expected).abs().max() > 1e-3


class _ScoresBeforeTraining(Hook):
    """Records the model's scores on a clip once the checkpoint is loaded,
    before the first training iteration."""

    def __init__(self, clip):
        self.clip, self.scores = clip, None

    def before_train(self, runner):
        runner.model.eval()
        self.scores = _scores(runner.model, self.clip)
        runner.model.train()


def test_load_from_plain_i3d_fine_tunes_the_a2_model(tmp_path):
    path = str(tmp_path / 'i3d_r50.pth')
    plain = _trained_i3d(path)
    data = str(tmp_path / 'data')
    make_videos(data, 'train', 2, num_frames=16)
    cfg = Config.fromfile(RECIPE)
    cfg.merge_from_dict(dict(SMALL, load_from=path,
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
    probe = _ScoresBeforeTraining(_clip())
    runner.register_hook(probe, priority='LOWEST')
    runner.train()

    expected = _scores(plain, probe.clip)
    assert (probe.scores - expected).abs().max() <= 1e-5
    (log_file, ) = glob.glob(str(tmp_path / 'work' / '*' / '*.log'))
    log = open(log_file).read()
    assert (f'the checkpoint (fine-tuning from {path}) fits the model; '
            '5 new A² block(s) (initialised as identity)') in log
    assert all(name in log for name in A2_NAMES)
    assert 'does not fit the model' not in log
    # the A² blocks were trained: they got gradients and moved
    assert any(block.out_proj_weight.abs().sum() > 0
               for block in a2_blocks_of(runner.model))

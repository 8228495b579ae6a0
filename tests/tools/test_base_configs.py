"""The shared _base_ configs: they compose without duplicate keys, carry the
paper's confirmed recipe values, and the Kinetics schedule lowers the lr when
the validation accuracy stalls."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from tests.helpers.tools import REPO

BASE = osp.join(REPO, 'configs', '_base_')


def _compose(tmp_path, *parts):
    path = tmp_path / 'composed.py'
    path.write_text(f'_base_ = {[osp.join(BASE, p) for p in parts]!r}\n')
    return Config.fromfile(str(path))


@pytest.mark.parametrize('dataset,schedule', [
    ('kinetics400_video.py', 'kinetics_sgd.py'),
    ('ucf101_video.py', 'ucf101_sgd.py'),
    ('embedded_digits_video.py', 'embedded_sgd.py'),
])
def test_model_dataset_schedule_runtime_compose(tmp_path, dataset, schedule):
    cfg = _compose(tmp_path, 'models/a2_tiny_r3d.py', f'datasets/{dataset}',
                   f'schedules/{schedule}', 'default_runtime.py')
    assert cfg.custom_imports['imports'] == ['a2mm']
    assert cfg.default_hooks.checkpoint.type.endswith('CheckpointHook')
    for split in ('train', 'val', 'test'):
        dataset_cfg = cfg[f'{split}_dataloader'].dataset
        assert dataset_cfg.ann_file and dataset_cfg.data_prefix.video
        assert dataset_cfg.pipeline[0].type == 'DecordInit'
    test_types = [step.type for step in cfg.test_pipeline]
    assert 'ThreeCrop' in test_types
    assert cfg.test_pipeline[1].num_clips > 1


def test_paper_recipes():
    kinetics = Config.fromfile(osp.join(BASE, 'schedules', 'kinetics_sgd.py'))
    assert kinetics.optim_wrapper.optimizer.lr == 0.04
    assert kinetics.train_cfg.max_iters == 32000
    assert kinetics.auto_scale_lr.base_batch_size == 512
    data = Config.fromfile(osp.join(BASE, 'datasets', 'kinetics400_video.py'))
    assert data.train_pipeline[1].clip_len == 8
    assert data.train_dataloader.batch_size * 64 == 512  # 64 GPUs
    ucf = Config.fromfile(osp.join(BASE, 'schedules', 'ucf101_sgd.py'))
    assert ucf.optim_wrapper.optimizer.lr == 0.01
    assert ucf.param_scheduler[0].step_size == 3
    assert ucf.param_scheduler[0].gamma == 0.1
    assert ucf.auto_scale_lr.base_batch_size == 104
    ucf_data = Config.fromfile(osp.join(BASE, 'datasets', 'ucf101_video.py'))
    assert ucf_data.train_dataloader.batch_size * 8 == 104  # 8 GPUs


def test_kinetics_lr_drops_when_accuracy_stalls():
    cfg = Config.fromfile(osp.join(BASE, 'schedules', 'kinetics_sgd.py'))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    scheduler = PARAM_SCHEDULERS.build(
        cfg.param_scheduler[0], default_args=dict(optimizer=optimizer))
    patience = cfg.param_scheduler[0].patience
    accuracies = [0.1, 0.2] + [0.2] * (patience + 1)
    lrs = []
    for acc in accuracies:  # one step per validation
        scheduler.step({'acc/top1': acc})
        lrs.append(optimizer.param_groups[0]['lr'])
    assert lrs[:-1] == [0.04] * (len(accuracies) - 1)
    assert lrs[-1] == pytest.approx(0.004)

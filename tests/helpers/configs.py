"""Configs for the tests: the tiny A² recognizer
(``tests/data/configs/tiny_a2_recognizer.py``), a user config over
``configs/embedded/a2_tiny_embedded.py`` on tiny generated data, and a
complete runner config for the fault-tolerance tests."""
import os.path as osp
from typing import Tuple

from tests.helpers.data import NUM_CLASSES, make_videos
from tests.helpers.tools import REPO

#: the tiny A² recognizer of the API and tool tests
CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_a2_recognizer.py')

#: a model-only config (no data) of a small 3D ResNet-50 for the FLOPs and
#: benchmark tests: ``{type}`` is ``'ResNet3d'`` or ``'A2ResNet3d'``,
#: ``{extra}`` more backbone arguments (e.g. ``a2=(0, 1, 0)``)
TINY_MODEL = """
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='{type}', depth=50, stage_blocks=(1, 1, 1), num_stages=3,
        base_channels=8, out_indices=(2, ), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 1), dilations=(1, 1, 1), pretrained=None,
        {extra}),
    cls_head=dict(type='I3DHead', num_classes=5, in_channels=128),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           format_shape='NCTHW'))
"""


def config_value(key: str):
    """A value of the test config by dotted key, e.g.
    ``'model.cls_head.num_classes'``."""
    from mmengine.config import Config
    value = Config.fromfile(CONFIG)
    for part in key.split('.'):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def dataloader_override(name: str, ann_file: str, video_dir: str,
                        batch_size: int = 2, dataset_extra: str = '') -> str:
    """Config text pointing ``name`` (e.g. 'train_dataloader') at the data,
    in the main process (no workers: faster for a handful of clips);
    ``dataset_extra`` adds keyword text to its ``dataset=dict(...)``."""
    return (f'{name} = dict(batch_size={batch_size}, num_workers=0, '
            f'persistent_workers=False, dataset=dict(ann_file={ann_file!r}, '
            f'data_prefix=dict(video={video_dir!r}){dataset_extra}))\n')


def write_tiny_config(tmp_path, max_epochs: int = 1,
                      extra: str = '') -> str:
    """A user config over configs/embedded/a2_tiny_embedded.py on a tiny
    generated dataset (6 train, 3 test clips, 3 classes).

    Returns:
        str: path of the config file.
    """
    data = str(tmp_path / 'data')
    if not osp.isdir(data):
        make_videos(data, 'train', 6)
        make_videos(data, 'test', 3)
    base = osp.join(REPO, 'configs', 'embedded', 'a2_tiny_embedded.py')
    text = (
        f'_base_ = [{base!r}]\n'
        f'model = dict(cls_head=dict(num_classes={NUM_CLASSES}))\n'
        f'train_cfg = dict(max_epochs={max_epochs}, val_interval=1)\n'
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=1, max_keep_ckpts=-1))\n' +
        dataloader_override('train_dataloader', f'{data}/train_list.txt',
                            f'{data}/train') +
        dataloader_override('val_dataloader', f'{data}/test_list.txt',
                            f'{data}/test') +
        dataloader_override('test_dataloader', f'{data}/test_list.txt',
                            f'{data}/test') + extra)
    path = str(tmp_path / f'tiny_{max_epochs}ep.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def tiny_recognizer_config(work_dir: str, root: str, train_list: str,
                           test_list: str, num_classes: int = 4) -> dict:
    """A complete runner config: a 2-stage ResNet3d-18 (8/16 channels) on
    4-frame 24x24 clips of the videos in ``root``, batch 2, no workers,
    iteration-based (checkpoints every 2 iterations), the fault-tolerance
    hooks of ``configs/_base_/default_runtime.py``."""
    def pipeline(test_mode: bool) -> list:
        return [
            dict(type='DecordInit', num_threads=1),
            dict(type='SampleFrames', clip_len=4, frame_interval=2,
                 num_clips=1, test_mode=test_mode),
            dict(type='DecordDecode'),
            dict(type='RandomCrop', size=24) if not test_mode else
            dict(type='CenterCrop', crop_size=24),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')
        ]

    def loader(ann_file: str, test_mode: bool) -> dict:
        return dict(
            batch_size=2, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=not test_mode),
            dataset=dict(type='RobustVideoDataset', ann_file=ann_file,
                         data_prefix=dict(video=root), test_mode=test_mode,
                         pipeline=pipeline(test_mode)))

    return dict(
        default_scope='mmaction',
        work_dir=work_dir,
        model=dict(
            type='Recognizer3D',
            backbone=dict(
                type='ResNet3d', depth=18, base_channels=8, num_stages=2,
                out_indices=(1, ), spatial_strides=(1, 2),
                temporal_strides=(1, 1), dilations=(1, 1), conv1_stride_t=1,
                pool1_stride_t=1, inflate=(1, 1), pretrained=None,
                pretrained2d=False),
            cls_head=dict(type='I3DHead', num_classes=num_classes,
                          in_channels=16, dropout_ratio=0.5,
                          average_clips='prob'),
            data_preprocessor=dict(type='ActionDataPreprocessor',
                                   mean=[100.0] * 3, std=[50.0] * 3,
                                   format_shape='NCTHW')),
        train_dataloader=loader(train_list, False),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=6,
                       val_interval=100),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05,
                                          momentum=0.9)),
        test_dataloader=loader(test_list, True),
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='AccMetric'),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='AtomicCheckpointHook', interval=2,
                            by_epoch=False, max_keep_ckpts=1)),
        custom_hooks=[
            dict(type='BadVideoHook'), dict(type='ResumeSeedHook'),
            dict(type='CheckpointShapeCheckHook')
        ],
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
        log_level='INFO')


def write_flops_configs(folder) -> Tuple[str, str]:
    """Write :data:`TINY_MODEL` as ``plain.py`` (ResNet3d) and ``a2.py``
    (A2ResNet3d with one A² block, ``a2=(0, 1, 0)``) in ``folder``.

    Returns:
        (plain config path, A² config path)
    """
    plain = osp.join(str(folder), 'plain.py')
    a2 = osp.join(str(folder), 'a2.py')
    with open(plain, 'w') as f:
        f.write(TINY_MODEL.format(type='ResNet3d', extra=''))
    with open(a2, 'w') as f:
        f.write(TINY_MODEL.format(type='A2ResNet3d', extra='a2=(0, 1, 0)'))
    return plain, a2

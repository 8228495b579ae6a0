"""Config faults (issue 5 item 3): each raises ConfigError naming the key
and what was expected, before any data is read (the data paths of these
configs do not exist)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import a2mm  # noqa: F401
from a2mm.apis.config_check import ConfigError, check_config
from a2mm.apis.config_edits import link_num_classes
from a2mm.registry import MODELS

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


def tiny_config(**backbone) -> Config:
    """A small ResNet3d recognizer; the data paths do not exist."""
    backbone_cfg = dict(
        type='ResNet3d', depth=18, base_channels=8, num_stages=2,
        out_indices=(1, ), spatial_strides=(1, 2), temporal_strides=(1, 1),
        dilations=(1, 1), conv1_stride_t=1, pool1_stride_t=1,
        inflate=(1, 1), pretrained=None, pretrained2d=False)
    backbone_cfg.update(backbone)
    loader = dict(
        batch_size=2, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='RobustVideoDataset', ann_file='no/such/list.txt',
                     data_prefix=dict(video='no/such/dir'),
                     pipeline=PIPELINE))
    return Config(dict(
        default_scope='mmaction',
        model=dict(
            type='Recognizer3D', backbone=backbone_cfg,
            cls_head=dict(type='I3DHead', num_classes=3, in_channels=16),
            data_preprocessor=dict(type='ActionDataPreprocessor',
                                   format_shape='NCTHW')),
        train_dataloader=loader,
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=[dict(type='LinearLR', start_factor=0.1, end=1,
                              by_epoch=True, convert_to_iter_based=True)],
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook',
                                           interval=1)),
        test_dataloader=loader, test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='AccMetric')))


def errors(cfg, mode='train'):
    with pytest.raises(ConfigError) as info:
        check_config(cfg, mode)
    return str(info.value)


def test_valid_config_passes():
    for mode in ('train', 'test'):
        cfg = tiny_config()
        before = cfg.to_dict()
        check_config(cfg, mode)
        # the check built and ran the model, and only checked: the config
        # is as it was (num_classes is linked by the caller)
        assert cfg.to_dict() == before
        # not vacuous: the same config with one typo is refused
        cfg.model.cls_head.type = 'I3dHead'
        with pytest.raises(ConfigError, match="'I3DHead'"):
            check_config(cfg, mode)


@pytest.mark.parametrize('key, bad, expected', [
    ('model.backbone.type', 'ResNet3D', "did you mean ['ResNet3d'"),
    ('model.cls_head.type', 'I3dHead', "'I3DHead'"),
    ('train_dataloader.dataset.pipeline.0.type', 'DecordInt',
     "'DecordInit'"),
    ('train_dataloader.dataset.type', 'RobustVideoDatset',
     "'RobustVideoDataset'"),
    ('default_hooks.checkpoint.type', 'AtomicCheckpointHok',
     "'AtomicCheckpointHook'"),
    ('optim_wrapper.optimizer.type', 'SDG', "'SGD'"),
    ('test_evaluator.type', 'AccMetirc', "'AccMetric'"),
])
def test_misspelt_type_names_key_and_close_matches(key, bad, expected):
    cfg = tiny_config()
    cfg.merge_from_dict({key: bad})
    path = key.replace('.0.', '[0].')
    message = errors(cfg)
    assert f'{path}: {bad!r} is not a registered' in message
    assert expected in message


def test_misspelt_argument():
    cfg = tiny_config()
    cfg.model.cls_head['num_clases'] = cfg.model.cls_head.pop('num_classes')
    message = errors(cfg)
    assert "model.cls_head.num_clases: I3DHead has no argument" in message
    assert "did you mean ['num_classes'" in message
    assert 'model.cls_head.num_classes: missing; I3DHead needs it' in message


@pytest.mark.parametrize('section', [
    'train_dataloader', 'optim_wrapper', 'train_cfg', 'model'])
def test_missing_section(section):
    cfg = tiny_config()
    cfg.pop(section)
    assert f'{section}: missing; train needs' in errors(cfg)


def test_missing_key_inside():
    cfg = tiny_config()
    cfg.train_dataloader.dataset.pop('ann_file')
    cfg.test_dataloader.pop('sampler')
    assert ('train_dataloader.dataset.ann_file: missing; '
            'RobustVideoDataset needs it') in errors(cfg)
    assert 'test_dataloader.sampler: missing' in errors(cfg, 'test')


def test_in_channels_mismatch_measured():
    cfg = tiny_config()
    cfg.model.cls_head.in_channels = 64
    message = errors(cfg)
    assert 'model.cls_head.in_channels: 64, but model.backbone (ResNet3d) ' \
        'outputs 16 channels' in message
    assert 'set model.cls_head.in_channels=16' in message


def test_bad_block_position_names_backbone():
    cfg = tiny_config(non_local=((0, 0), (0, 1, 1)))  # stage 2 has 2 blocks
    message = errors(cfg)
    assert 'model.backbone: building it failed: AssertionError' in message
    assert 'len(non_local) == blocks' in message


@pytest.mark.skipif('A2ResNet3d' not in MODELS.module_dict,
                    reason='A2ResNet3d is not in this checkout')
@pytest.mark.parametrize('a2', [((0, 0), (0, 1, 1)), ((0, 0), ), 'res99'])
def test_a2_position_that_does_not_exist(a2):
    cfg = tiny_config(a2=a2)
    cfg.model.backbone.type = 'A2ResNet3d'
    assert 'model.backbone.a2' in errors(cfg)


def test_check_config_changes_nothing():
    """A check only checks: filling in num_classes is link_num_classes'
    job (the tools call it before the check)."""
    cfg = tiny_config()
    before = cfg.to_dict()
    check_config(cfg)
    check_config(cfg, 'test')
    assert cfg.to_dict() == before
    assert 'num_classes' not in cfg.train_dataloader.dataset


def test_dataset_learns_num_classes_from_head(tmp_path):
    """A label beyond the classifier is found when the list is parsed
    (tools/train.py and tools/test.py: link_num_classes, then the check)."""
    from mmaction.registry import DATASETS
    from mmengine.registry import DefaultScope

    from a2mm.datasets import AnnotationError
    ann = tmp_path / 'list.txt'
    ann.write_text('a.mp4 0\nb.mp4 3\n')  # the head has 3 classes
    cfg = tiny_config()
    cfg.train_dataloader.dataset.ann_file = str(ann)
    link_num_classes(cfg)
    check_config(cfg)
    assert cfg.train_dataloader.dataset.num_classes == 3
    with pytest.raises(AnnotationError, match='line 2.*label 3 is out of'), \
            DefaultScope.overwrite_default_scope('mmaction'):
        DATASETS.build(cfg.train_dataloader.dataset)


@pytest.mark.parametrize('where, key, value, mode', [
    ('train_cfg', 'max_epochs', -1, 'train'),
    ('train_cfg', 'max_epochs', 0, 'train'),
    ('train_cfg', 'val_interval', 0, 'train'),
    ('train_cfg', 'max_epochs', 2.5, 'train'),
    ('train_dataloader.dataset.pipeline[1]', 'frame_interval', 0, 'train'),
    ('train_dataloader.dataset.pipeline[1]', 'clip_len', 0, 'train'),
    ('test_dataloader.dataset.pipeline[1]', 'num_clips', 0, 'test'),
    ('train_dataloader', 'batch_size', 0, 'train'),
])
def test_counts_must_be_positive(where, key, value, mode):
    """Values MMEngine/MMAction2 accept and then train no epoch, never
    validate, divide by zero or sample empty clips: refused up front."""
    plain = tiny_config().to_dict()  # train and test loaders: own copies
    node = plain[where.split('.')[0].split('[')[0]]
    if '[1]' in where:
        node = node['dataset']['pipeline'][1]
    node[key] = value
    cfg = Config(plain)
    text = errors(cfg, mode)
    assert f'{where}.{key}: {value!r}; must be an integer >= 1' in text
    other = 'test' if mode == 'train' else 'train'
    if where.startswith('train_cfg'):
        check_config(cfg, 'test', build_model=False)  # not needed to test
    elif where.startswith('test_dataloader'):
        check_config(cfg, other, build_model=False)


@pytest.mark.parametrize('config', [
    'configs/nl_i3d_r50_kinetics.py',
    'configs/ablations/nl_r26_1block_res4.py',
    'configs/ablations/mini/nl_mini_1block_stage2.py',
    'configs/ablations/mini/gc_mini_1block_stage2.py',
])
def test_layer_norm_cfg_left_to_mmcv(config):
    """``non_local_cfg.norm_cfg=dict(type='BN3d', requires_grad=True)`` is
    valid for mmcv's build_norm_layer (it pops requires_grad and adds
    num_features); the check used to reject it as a BN3d constructor. The
    same for BlockInserted's ``block`` (in_channels filled in by it)."""
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, config))
    check_config(cfg, 'train')
    # what the check accepted builds, with the block and its norm layer
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    blocks = [m for m in model.modules()
              if type(m).__name__ in ('NonLocal3d', 'ContextBlock3d')]
    assert blocks  # (the Kinetics NL I3D has five)
    norms = [m for m in blocks[0].modules()
             if isinstance(m, (torch.nn.BatchNorm3d, torch.nn.LayerNorm))]
    assert norms and all(p.requires_grad for n in norms
                         for p in n.parameters())

"""The config edits of tools/train.py and tools/test.py
(a2mm.apis.config_edits)."""
import pytest
from mmengine.config import Config

from a2mm.apis.config_edits import (enable_amp_test, enable_amp_train,
                                    enable_skip_bad_videos, link_num_classes)


def test_enable_amp_config_edits():
    cfg = Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            val_cfg=dict(type='ValLoop', fp16=True),
            test_cfg=dict(type='TestLoop'),
            custom_hooks=[dict(type='BadVideoHook')]))
    enable_amp_train(cfg, 'bf16')
    assert cfg.optim_wrapper.type == 'DeviceAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.val_cfg == dict(type='AmpValLoop', dtype='bfloat16')
    enable_amp_test(cfg, 'fp16')
    assert cfg.test_cfg == dict(type='AmpTestLoop', dtype='float16')
    # One Float32ScoresHook however often amp is enabled.
    assert [h['type'] for h in cfg.custom_hooks] == ['BadVideoHook',
                                                     'Float32ScoresHook']
    bad = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        enable_amp_train(bad, 'fp16')
    with pytest.raises(ValueError, match='MyLoop'):
        enable_amp_test(Config(dict(test_cfg=dict(type='MyLoop'))), 'bf16')


def test_enable_skip_bad_videos():
    cfg = Config(dict(
        test_dataloader=dict(dataset=dict(type='RobustVideoDataset')),
        custom_hooks=[dict(type='BadVideoHook')]))
    enable_skip_bad_videos(cfg)
    assert cfg.test_dataloader.dataset.skip_bad_videos is True
    assert [h['type'] for h in cfg.custom_hooks] == ['BadVideoHook']
    bare = Config(dict(
        test_dataloader=dict(dataset=dict(type='RobustVideoDataset'))))
    enable_skip_bad_videos(bare)
    assert bare.custom_hooks == [dict(type='BadVideoHook')]
    plain = Config(dict(test_dataloader=dict(dataset=dict(
        type='VideoDataset'))))
    with pytest.raises(ValueError, match="'VideoDataset'"):
        enable_skip_bad_videos(plain)


def test_link_num_classes_fills_only_robust_datasets_without_one():
    cfg = Config(dict(
        model=dict(cls_head=dict(num_classes=7)),
        train_dataloader=dict(dataset=dict(type='RobustVideoDataset')),
        val_dataloader=dict(dataset=dict(type='RobustVideoDataset',
                                         num_classes=5)),
        test_dataloader=dict(dataset=dict(type='VideoDataset'))))
    link_num_classes(cfg)
    assert cfg.train_dataloader.dataset.num_classes == 7
    assert cfg.val_dataloader.dataset.num_classes == 5
    assert 'num_classes' not in cfg.test_dataloader.dataset

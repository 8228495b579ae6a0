"""The config edits of tools/train.py and tools/test.py
(a2mm.apis.config_edits)."""
import pytest
from mmengine.config import Config

from a2mm.apis.config_edits import enable_amp_test, enable_amp_train


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

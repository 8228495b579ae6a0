"""Checkpoints written by MMEngine's train loop load under
``torch.load(weights_only=True)`` once a2mm is imported; hostile pickles are
still refused without running anything."""
import os
import os.path as osp
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint

import a2mm  # noqa: F401  (installs the allow-list)
from a2mm.engine.checkpoint import SAFE_GLOBALS


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels, mode='tensor'):
        # default_collate stacked the batch: inputs (B, 2), labels (B, 1)
        outputs = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((outputs - labels)**2).mean())
        return [dict(err=float(((outputs - labels)**2).mean()))]


class ToyMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results += data_samples

    def compute_metrics(self, results):
        return dict(acc=1 - sum(r['err'] for r in results) / len(results))


def _runner(work_dir, resume=False, max_epochs=2):
    data = [dict(inputs=torch.randn(2), labels=torch.randn(1))
            for _ in range(4)]
    loader = dict(dataset=data, sampler=dict(type='DefaultSampler',
                  shuffle=False), batch_size=2,
                  collate_fn=dict(type='default_collate'))
    return Runner(
        model=ToyModel(), work_dir=work_dir, train_dataloader=loader,
        val_dataloader=loader, val_evaluator=dict(type=ToyMetric),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        val_cfg=dict(), resume=resume,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           save_best='acc', rule='greater')),
        experiment_name=f'toy_{resume}_{max_epochs}')


def test_train_loop_checkpoint_loads_weights_only(tmp_path):
    _runner(str(tmp_path)).train()
    path = str(tmp_path / 'epoch_2.pth')
    state = torch.load(path, weights_only=True)
    # the parts that need the allow-list are there and usable
    buffer = state['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(buffer.data[0].mean())
    assert float(state['message_hub']['runtime_info']['best_score']) <= 1
    # and MMEngine's own loading path (test.py, --resume) works
    resumed = _runner(str(tmp_path), resume=True, max_epochs=3)
    resumed.train()
    assert resumed.epoch == 3
    assert osp.isfile(tmp_path / 'epoch_3.pth')


class _Payload:
    """Unpickling this calls os.system: it must never happen."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _GetattrEscape:
    """Unpickling this asks builtins.getattr for something other than a
    HistoryBuffer statistics method."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_reduce_payload_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': _Payload(str(marker))}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(nn.Linear(1, 1), path)  # MMEngine's loader
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': _GetattrEscape()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refuses getattr'):
        torch.load(path, weights_only=True)
    allowed = torch.serialization.get_safe_globals()
    assert getattr not in allowed  # only our stand-in, under its name
    assert all(not (isinstance(g, tuple) and g[0] is getattr)
               for g in SAFE_GLOBALS)

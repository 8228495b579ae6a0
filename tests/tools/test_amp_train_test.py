"""tools/train.py and tools/test.py with --amp-dtype bf16 end to end on the
CPU (the tiny generated dataset of tests/helpers/configs.py): training,
validation and the multi-view test run under bfloat16 autocast and report
accuracies."""
import os.path as osp
import pickle
import re

import pytest
import torch

import a2mm  # noqa: F401  (allow-lists MMEngine checkpoints for torch.load)
from a2mm.apis.inference import class_scores
from a2mm.engine.optimizers import has_accelerator
from tests.helpers.configs import write_tiny_config
from tests.helpers.data import NUM_CLASSES
from tests.helpers.tools import run_tool


@pytest.mark.slow
def test_bf16_train_then_test(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=1)
    work_dir = str(tmp_path / 'work')
    log = run_tool(['python', 'tools/train.py', config, '--work-dir',
                    work_dir, '--seed', '0', '--amp-dtype', 'bf16'])
    if not has_accelerator():
        assert ("mixed precision on the CPU (torch.autocast('cpu', "
                'bfloat16), loss scaling off)') in log
    assert 'AmpValLoop: autocast in bfloat16' in log
    assert 'Epoch(train) [1][3/3]' in log
    assert re.search(r'Epoch\(val\) \[1\]\[\d+/\d+\]\s+acc/top1', log)
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    state = torch.load(checkpoint, weights_only=True)
    assert state['optimizer']['loss_scaler'] == {}  # bfloat16: no scaling
    assert all(v.dtype != torch.bfloat16
               for v in state['state_dict'].values())

    dump = str(tmp_path / 'scores.pkl')
    log = run_tool(['python', 'tools/test.py', config, checkpoint,
                    '--work-dir', str(tmp_path / 'test_work'), '--dump', dump,
                    '--amp-dtype', 'bf16'])
    assert 'AmpTestLoop: autocast in bfloat16' in log
    metrics = re.search(r'Epoch\(test\).*acc/top1: ([\d.]+)\s+acc/top5: '
                        r'([\d.]+)', log)
    assert metrics, log[-3000:]
    top1, top5 = map(float, metrics.groups())
    assert 0 <= top1 <= top5 == 1.0  # 3 classes: top-5 covers all
    with open(dump, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 3
    for result in results:
        scores = class_scores(result)
        assert scores.dtype == torch.float32
        assert scores.shape == (NUM_CLASSES, )
        assert float(scores.sum()) == pytest.approx(1, abs=1e-3)

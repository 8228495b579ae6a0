"""CheckpointShapeCheckHook on checkpoints whose values cannot be weights
(read from real files by a2mm's loader): an error in every mode, naming
the keys and what they hold, where PyTorch would skip them with a warning
and the run would go on from random weights.

The loader itself refuses such values under ``state_dict``
(tests/utils/checkpoint/test_loader.py); a bare state dict, which it cannot
tell from other top-level entries, reaches the hook."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger

import a2mm  # noqa: F401
from a2mm.engine.hooks.checkpoint_shape_check_hook import \
    CheckpointShapeCheckHook
from a2mm.utils.checkpoint import (CheckpointMismatchError,
                                   load_checkpoint_file)


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
                       match='weights.pth has no weights: its state_dict is '
                       'a list'):
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

"""``check_resume_state``: the training state of a checkpoint against the
run that resumes it (schedulers and optimizers built as MMEngine builds
them; the runner path is in tests/engine/hooks/test_fault_hooks.py)."""
import copy

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim import CosineAnnealingLR, LinearLR, OptimWrapper

from a2mm.utils.checkpoint import CheckpointLoadError
from a2mm.utils.checkpoint.resume_state import (ResumeStateError,
                                                check_resume_state)


def run_state():
    """(checkpoint of two steps, optimizer wrapper, schedulers)."""
    model = torch.nn.Linear(3, 2)
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=0.1))
    schedulers = [LinearLR(wrapper, start_factor=0.1, end=2),
                  CosineAnnealingLR(wrapper, T_max=4, begin=2, end=6)]
    for _ in range(2):
        model(torch.ones(1, 3)).sum().backward()
        wrapper.step()
        for scheduler in schedulers:
            scheduler.step()
    loss = HistoryBuffer()
    loss.update(0.5)
    checkpoint = dict(
        meta=dict(epoch=0, iter=2, seed=7),
        message_hub=dict(log_scalars={'train/loss': loss},
                         runtime_info=dict(iter=2, keep_ckpt_ids=[1, 2],
                                           last_ckpt='w/iter_2.pth',
                                           best_score=0.5),
                         resumed_keys={'iter': True}),
        optimizer=copy.deepcopy(wrapper.state_dict()),
        param_schedulers=[s.state_dict() for s in schedulers])
    return checkpoint, wrapper, schedulers


def check(checkpoint, wrapper, schedulers):
    check_resume_state(checkpoint, source='ckpt.pth', optim_wrapper=wrapper,
                       param_schedulers=schedulers)


def test_the_state_of_a_real_run_passes():
    check(*run_state())


@pytest.mark.parametrize('edit, key', [
    (lambda c: c['param_schedulers'][0].update(optimizer='x'),
     "['param_schedulers'][0]['optimizer'] is str 'x', expected no such"),
    (lambda c: c['param_schedulers'][1].update(last_step='3'),
     "['param_schedulers'][1]['last_step'] is str '3'"),
    (lambda c: c['param_schedulers'][1].update(base_values=[0.1, 0.2]),
     "['param_schedulers'][1]['base_values'] is list of length 2"),
    (lambda c: c['optimizer']['param_groups'][0].update(betas=(0.9, 'x')),
     "['optimizer']['param_groups'][0]['betas'][1] is str 'x'"),
    (lambda c: c['optimizer']['param_groups'][0].update(amsgrad=1),
     "['amsgrad'] is int 1, expected True or False"),
    (lambda c: c['optimizer']['state'].update({9: {}}),
     "['optimizer']['state'][9] is dict"),
    (lambda c: c['optimizer']['state'][0].update(step='two'),
     "['optimizer']['state'][0]['step'] is str 'two'"),
    (lambda c: c['message_hub'].pop('runtime_info'),
     "['message_hub']['runtime_info'] is NoneType"),
    (lambda c: c['message_hub']['log_scalars']['train/loss'].__dict__
     .update(_count_history=torch.zeros(1)),
     "['train/loss']['_count_history'] is Tensor"),
    (lambda c: c['message_hub']['runtime_info'].update(best_score='x'),
     "['runtime_info']['best_score'] is str 'x'"),
    (lambda c: c['meta'].update(seed=2**40),
     "['meta']['seed'] is int 1099511627776, expected a seed below"),
])
def test_crafted_state_is_refused_naming_the_key(edit, key):
    checkpoint, wrapper, schedulers = run_state()
    edit(checkpoint)
    with pytest.raises(ResumeStateError) as error:
        check(checkpoint, wrapper, schedulers)
    assert str(error.value).startswith('refused to resume from ckpt.pth: ')
    assert key in str(error.value)
    assert isinstance(error.value, CheckpointLoadError)

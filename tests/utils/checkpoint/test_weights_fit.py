"""load_weights / check_fit: the one policy table for every weight load
(hook, API, backbones): what raises, what is logged at which level, and
what is copied, for each policy and each kind of checkpoint."""
import logging
import warnings

import pytest
import torch
import torch.nn as nn

from a2mm.models.blocks import A2Block
from a2mm.utils.checkpoint import (POLICIES, STRIP_BACKBONE,
                                   CheckpointMismatchError, check_fit,
                                   load_weights)


class _Logger:
    """Records (level, message) of what the policy logs."""

    def __init__(self):
        self.records = []

    def info(self, msg: str) -> None:
        self.records.append((logging.INFO, msg))

    def warning(self, msg: str) -> None:
        self.records.append((logging.WARNING, msg))


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(8, 8, 1), nn.BatchNorm2d(8), A2Block(8))


def _checkpoint(kind: str) -> dict:
    """A state dict for ``_model()`` of the given kind, values set to 7 so
    that a copied weight is told from the model's own."""
    state = {k: torch.full_like(v, 7)
             for k, v in _model().state_dict().items()}
    if kind == 'new_blocks':  # a plain model: no A² block
        state = {k: v for k, v in state.items() if not k.startswith('2.')}
    elif kind == 'some':  # another classifier width
        state['0.weight'] = torch.zeros(4, 8, 1, 1)
        state['extra.weight'] = torch.zeros(1)
    elif kind == 'none':
        state = {'fc.weight': torch.zeros(2, 2)}
    elif kind == 'not_weights':
        state['1.running_mean'] = 'zeros'
    return state


RAISE = 'raise'
#: kind -> policy -> what happens (the table of a2mm.utils.checkpoint.
#: weights_fit)
TABLE = {
    'fits': dict(error=None, warn=None, **{'error-if-none-fit': None}),
    'new_blocks': dict(error=logging.WARNING, warn=logging.INFO,
                       **{'error-if-none-fit': logging.INFO}),
    'some': dict(error=RAISE, warn=logging.WARNING,
                 **{'error-if-none-fit': logging.WARNING}),
    'none': dict(error=RAISE, warn=logging.WARNING,
                 **{'error-if-none-fit': RAISE}),
    'not_weights': dict(error=RAISE, warn=RAISE,
                        **{'error-if-none-fit': RAISE}),
}


@pytest.mark.parametrize('policy', POLICIES)
@pytest.mark.parametrize('kind', list(TABLE))
def test_each_policy_does_what_its_table_says(kind, policy):
    model, logger = _model(), _Logger()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = _checkpoint(kind)
    expected = TABLE[kind][policy]
    if expected == RAISE:
        with pytest.raises(CheckpointMismatchError, match='ckpt.pth'):
            load_weights(model, state, source='ckpt.pth', policy=policy,
                         logger=logger)
        assert not logger.records
        # nothing was copied
        for key, value in model.state_dict().items():
            assert torch.equal(value, before[key]), key
        return
    report = load_weights(model, state, source='ckpt.pth', policy=policy,
                          logger=logger)
    assert [level for level, _ in logger.records] == \
        ([] if expected is None else [expected])
    for key, value in model.state_dict().items():
        fits = key in state and state[key].shape == value.shape
        assert torch.equal(value, state[key] if fits else before[key]), key
    if kind == 'new_blocks':
        assert report.ok and [n for n, _ in report.new_blocks] == ['2']
        assert '1 new A² block(s) (initialised as identity)' in \
            logger.records[0][1]
    if kind == 'some':
        message = logger.records[0][1]
        assert message.startswith('checkpoint ckpt.pth fits ')
        assert 'the others keep their initial values' in message
        assert '0.weight: expected (8, 8, 1, 1) vs got (4, 8, 1, 1)' in \
            message
        assert 'extra.weight' in message


def test_messages_of_a_checkpoint_that_fits_nothing():
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(_model(), _checkpoint('none'), source='other.pth',
                     policy='error-if-none-fit')
    message = str(info.value)
    assert message.startswith('checkpoint other.pth has no weights for this '
                              'model (Sequential, ')
    assert 'is it the checkpoint of this config?' in message
    assert 'in the checkpoint but not in the model:\n  fc.weight' in message


def test_values_that_are_not_weights_are_named():
    with pytest.raises(CheckpointMismatchError,
                       match='checkpoint bad.pth holds values that are not '
                       'weights') as info:
        check_fit(_model(), _checkpoint('not_weights'), source='bad.pth',
                  policy='warn')
    assert '1.running_mean: str' in str(info.value)
    with pytest.raises(CheckpointMismatchError,
                       match='bad.pth has no weights: its state_dict is a '
                       'list'):
        check_fit(_model(), [torch.zeros(1)], source='bad.pth',
                  policy='warn')


def test_without_a_logger_a_warning_names_the_callers_line():
    """A WARNING with no logger is a UserWarning attributed to the first
    caller outside a2mm (here: this file)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        load_weights(_model(), _checkpoint('some'), source='ckpt.pth',
                     policy='warn')
    (warning, ) = [w for w in caught if 'ckpt.pth' in str(w.message)]
    assert warning.category is UserWarning
    assert warning.filename == __file__


def test_check_missing_false_counts_only_shapes():
    state = _checkpoint('some')
    del state['0.weight']
    # only a key missing and one unexpected: not a mismatch then
    report = check_fit(_model(), state, source='ckpt.pth', policy='error',
                       check_missing=False, logger=_Logger())
    assert report.ok
    with pytest.raises(CheckpointMismatchError, match='0.weight'):
        check_fit(_model(), state, source='ckpt.pth', policy='error')


def test_a_recognizer_checkpoint_loads_into_its_backbone(tmp_path):
    """``STRIP_BACKBONE``: a whole model's checkpoint (``backbone.`` keys,
    here under DataParallel's ``module.``) from a file."""
    state = {f'module.backbone.{k}': v
             for k, v in _checkpoint('fits').items()}
    path = str(tmp_path / 'recognizer.pth')
    torch.save({'state_dict': state}, path)
    model, logger = _model(), _Logger()
    report = load_weights(model, path, policy='error',
                          revise_keys=STRIP_BACKBONE, logger=logger)
    assert report.ok and not logger.records
    assert torch.equal(model[0].weight, torch.full((8, 8, 1, 1), 7.))


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy must be one of .*'warn'.*"
                       "got 'strict'"):
        check_fit(_model(), {}, source='x.pth', policy='strict')

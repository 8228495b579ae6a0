"""Load the weights of a checkpoint that fit a model, and say what did not,
by one explicit policy, whoever calls: :func:`load_weights` (the backbones'
``pretrained``, :func:`a2mm.apis.init_model` and the tools built on it) and
:func:`check_fit`, which it applies first
(:class:`~a2mm.engine.hooks.CheckpointShapeCheckHook` calls it alone:
MMEngine's runner copies the weights after the hook).

What happens, by ``policy`` (named by what it does with a checkpoint that
does not fit):

==================================  =======  =====================  =======
the checkpoint                      'error'  'error-if-none-fit'    'warn'
==================================  =======  =====================  =======
fits, the model has no new A² block silent   silent                 silent
fits, apart from whole A² blocks    WARNING  INFO                   INFO
some weights fit                    raise    WARNING                WARNING
no weight fits                      raise    raise                  WARNING
values that are not weights         raise    raise                  raise
==================================  =======  =====================  =======

"raise" is a :class:`~.state_dict_report.CheckpointMismatchError` with the
table of :meth:`~.state_dict_report.StateDictReport.format`; a WARNING
carries the same table. A² blocks that the checkpoint lacks entirely (a
plain I3D checkpoint in the A² model, docs/models.md) are listed as new
blocks, not as missing keys: they start as identity, so the model computes
the checkpoint's function. Under ``'error'`` (the checkpoint should be the
model's own: resuming, testing) that is a WARNING, since those blocks were
never trained; otherwise (fine-tuning, taking what fits) INFO.
"""
import os.path as osp
import sys
import warnings
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from a2mm.registry import MODELS
from .state_dict_report import (STRIP_MODULE, CheckpointMismatchError,
                                StateDictReport, compare_state_dicts,
                                refuse_values_not_weights, revise_keys_of)
from .weights_file import read_state_dict

__all__ = ['POLICIES', 'check_fit', 'load_weights']

#: what to do with a checkpoint that does not fit (the module's table)
POLICIES = ('error', 'error-if-none-fit', 'warn')

#: a2mm's folder, for the frames a UserWarning skips
_A2MM = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '')


def new_block_names(model: nn.Module) -> Dict[str, bool]:
    """Name of each A² block inside ``model`` -> whether it starts as
    identity (``zero_init``), e.g. ``{'backbone.layer2.1.a2_block': True}``.
    The class comes from the registry: utils imports nothing of
    ``a2mm.models`` (docs/architecture.md); no class, no A² block."""
    a2_block = MODELS.get('A2Block')
    if a2_block is None:
        return {}
    return {name: m.zero_init for name, m in model.named_modules()
            if isinstance(m, a2_block)}


def _fitting(own: Mapping[str, torch.Tensor],
             revised: Mapping[str, torch.Tensor],
             report: StateDictReport) -> Dict[str, torch.Tensor]:
    """The checkpoint's entries (keys revised) that the model has, at the
    model's shape."""
    mismatched = {key for key, _, _ in report.mismatched}
    return {key: value for key, value in revised.items()
            if key in own and key not in mismatched}


def _warn(message: str, logger) -> None:
    """A WARNING to ``logger``; without one a ``UserWarning`` attributed to
    the first caller outside a2mm (a script can filter it or make it an
    error)."""
    if logger is not None:
        logger.warning(message)
        return
    level, frame = 2, sys._getframe(1)  # stacklevel 2: who called _warn
    while frame is not None and frame.f_code.co_filename.startswith(_A2MM):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, UserWarning, stacklevel=level)


def check_fit(model: nn.Module,
              state_dict: Mapping[str, torch.Tensor],
              *,
              source: str,
              policy: str,
              revise_keys: Sequence[Tuple[str, str]] = STRIP_MODULE,
              check_missing: bool = True,
              logger: Optional[MMLogger] = None,
              note: str = '') -> StateDictReport:
    """Compare ``state_dict`` with ``model`` and apply ``policy`` (the
    module's table): raise, or log what did not fit. Loads nothing.

    Args:
        model: the model the weights are for.
        state_dict: the checkpoint's ``state_dict``.
        source: names the checkpoint in the messages, after "checkpoint "
            (its path, and what it is loaded for).
        policy: one of :data:`POLICIES`.
        revise_keys: ``(pattern, replacement)`` applied to the checkpoint's
            keys first (default :data:`~.state_dict_report.STRIP_MODULE`;
            :data:`~.state_dict_report.STRIP_BACKBONE` for a backbone).
        check_missing: missing and unexpected keys count as not fitting;
            False: only wrong shapes (and values that are not weights) do.
        logger: where INFO and WARNING go (``info`` / ``warning``); None:
            the current MMLogger for INFO and a ``UserWarning`` for WARNING.
        note: appended to what is logged (what happens next, e.g. who
            copies the weights and what it prints).

    Returns:
        StateDictReport: what did not fit (without missing and unexpected
        keys when ``check_missing`` is False).

    Raises:
        ValueError: an unknown ``policy``.
        CheckpointMismatchError: as the module's table says.
    """
    if policy not in POLICIES:
        raise ValueError(f'policy must be one of {POLICIES}, got {policy!r}')
    if not isinstance(state_dict, Mapping):
        raise CheckpointMismatchError(
            f'checkpoint {source} has no weights: its state_dict is a '
            f'{type(state_dict).__name__}, not a dict of tensors')
    own = model.state_dict()
    report = compare_state_dicts(own, state_dict, revise_keys,
                                 new_blocks=new_block_names(model))
    refuse_values_not_weights(report, source)
    fitting = len(_fitting(own, revise_keys_of(state_dict, revise_keys),
                           report))
    if not check_missing:
        report.missing, report.unexpected = [], []
    name = type(model).__name__
    if fitting == 0 and own:
        what = (f'checkpoint {source} has no weights for this model '
                f'({name}, {len(own)} tensors)')
    else:
        what = f'checkpoint {source} fits {fitting} of the {len(own)} ' \
            f'tensors of {name}'
    if report.ok:
        if report.new_blocks:
            message = f'{what}; {report.format()}{note}'
            if policy == 'error':
                _warn(message, logger)
            else:
                (logger or MMLogger.get_current_instance()).info(message)
        return report
    if policy == 'error' or (policy == 'error-if-none-fit' and fitting == 0
                             and own):
        raise CheckpointMismatchError(
            f'{what}; is it the checkpoint of this config? (check '
            f'num_classes, in_channels and the A² positions)\n'
            f'{report.format()}')
    rest = 'the others keep' if fitting else 'all keep'
    _warn(f'{what}; {rest} their initial values:\n{report.format()}{note}',
          logger)
    return report


def load_weights(model: nn.Module,
                 checkpoint: Union[str, Mapping[str, torch.Tensor]],
                 *,
                 policy: str,
                 source: Optional[str] = None,
                 revise_keys: Sequence[Tuple[str, str]] = STRIP_MODULE,
                 logger: Optional[MMLogger] = None) -> StateDictReport:
    """Copy the weights of ``checkpoint`` that fit ``model`` into it, after
    :func:`check_fit` with ``policy`` (the module's table); the others keep
    their values.

    Args:
        model: the model.
        checkpoint: a weights file (``.pth`` or ``.safetensors``, read by
            :func:`~.weights_file.read_state_dict` within the current run's
            model budget), or a state dict.
        policy: one of :data:`POLICIES`.
        source: names the checkpoint in the messages (default: its path;
            required for a state dict).
        revise_keys: see :func:`check_fit`.
        logger: see :func:`check_fit`.

    Returns:
        StateDictReport: what did not fit.
    """
    if isinstance(checkpoint, str):
        source = source or checkpoint
        checkpoint = read_state_dict(checkpoint)
    elif source is None:
        raise ValueError('source is required to name a state dict in the '
                         'messages')
    report = check_fit(model, checkpoint, source=source, policy=policy,
                       revise_keys=revise_keys, logger=logger)
    model.load_state_dict(
        _fitting(model.state_dict(),
                 revise_keys_of(checkpoint, revise_keys), report),
        strict=False)
    return report

"""Say which weights of a checkpoint do not fit the model, before loading.

MMEngine's runner loads checkpoints with ``strict=False`` (``load_from``
and ``--resume`` alike): a parameter whose shape differs is *not loaded*
and only a warning from deep inside ``torch.nn.Module.load_state_dict``
says so, so a test runs with a random classifier and prints a metric,
and a resumed run silently restarts layers from scratch. With
``strict=True`` the same finding is a ``RuntimeError`` traceback.

:func:`compare_state_dicts` lists missing keys, unexpected keys and shape
mismatches (expected vs got); :class:`CheckpointShapeCheckHook` runs it on
every checkpoint the runner loads, before the weights are copied, and
raises :class:`CheckpointMismatchError` with that table when resuming or
testing. When *fine-tuning* from ``load_from`` (a Kinetics model on
UCF-101: the classifier differs on purpose) it logs the table as a warning
instead, unless ``on_mismatch='error'``.

A² blocks that the checkpoint lacks *entirely* (a plain I3D checkpoint
loaded into the A² model, docs/models.md) are not a mismatch: they are
listed as new A² blocks, which start as identity (unless built with
``zero_init=False``), so the model computes the checkpoint's function until
they are trained. A block with only some of its tensors in the checkpoint is
still a mismatch.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

__all__ = [
    'CheckpointMismatchError', 'CheckpointShapeCheckHook',
    'StateDictReport', 'compare_state_dicts'
]

Shape = Tuple[int, ...]


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose weights do not fit the model."""


@dataclass
class StateDictReport:
    """How a checkpoint's state dict differs from a model's."""

    mismatched: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    """(key, expected shape in the model, shape in the checkpoint)"""
    missing: List[str] = field(default_factory=list)
    """keys of the model that the checkpoint lacks"""
    unexpected: List[str] = field(default_factory=list)
    """keys of the checkpoint that the model lacks"""
    new_blocks: List[Tuple[str, bool]] = field(default_factory=list)
    """(module name, starts as identity) of the model's A² blocks that the
    checkpoint lacks entirely; their keys are not in ``missing``"""

    @property
    def ok(self) -> bool:
        """Every checkpoint tensor fits and every model tensor is in it,
        apart from whole new A² blocks."""
        return not (self.mismatched or self.missing or self.unexpected)

    def format(self, limit: int = 20) -> str:
        """A readable table, at most ``limit`` rows per section."""
        lines = []
        for identity, label in ((True, 'initialised as identity'),
                                (False, 'zero_init=False: random, NOT '
                                 'identity')):
            names = [name for name, same in self.new_blocks
                     if same == identity]
            if names:
                lines.append(f'{len(names)} new A² block(s) ({label}), not '
                             'in the checkpoint:')
                lines += [f'  {name}' for name in names[:limit]]
                if len(names) > limit:
                    lines.append(f'  ... and {len(names) - limit} more')
        if self.mismatched:
            lines.append(f'{len(self.mismatched)} parameter(s) with a '
                         'different shape (key: expected by the model vs got '
                         'in the checkpoint):')
            lines += [
                f'  {key}: expected {tuple(exp)} vs got {tuple(got)}'
                for key, exp, got in self.mismatched[:limit]
            ]
        for name, keys in (('missing from the checkpoint', self.missing),
                           ('in the checkpoint but not in the model',
                            self.unexpected)):
            if keys:
                lines.append(f'{len(keys)} key(s) {name}:')
                lines += [f'  {key}' for key in keys[:limit]]
                if len(keys) > limit:
                    lines.append(f'  ... and {len(keys) - limit} more')
        if len(self.mismatched) > limit:
            lines.append(f'  ... and {len(self.mismatched) - limit} more '
                         'shape mismatches')
        return '\n'.join(lines) if lines else 'state dicts match'


def compare_state_dicts(
        expected: Mapping[str, torch.Tensor],
        got: Mapping[str, torch.Tensor],
        revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), ),
        *,
        new_blocks: Optional[Mapping[str, bool]] = None,
) -> StateDictReport:
    """Compare a model's state dict (``expected``) with a checkpoint's.

    Args:
        expected (Mapping): ``model.state_dict()``.
        got (Mapping): the checkpoint's ``state_dict``.
        revise_keys (sequence): ``(pattern, replacement)`` applied to the
            checkpoint's keys first, as MMEngine's loader does (strip the
            ``module.`` of a DDP-wrapped model).
        new_blocks (Mapping, optional): module name -> starts as identity,
            for the model's A² blocks
            (:func:`a2mm.models.backbones.a2_stages.a2_block_names`); a block
            none of whose tensors is in the checkpoint is reported in
            ``new_blocks`` instead of ``missing``.

    Returns:
        StateDictReport: the differences, keys in model order.
    """
    revised: Dict[str, torch.Tensor] = {}
    for key, value in got.items():
        for pattern, repl in revise_keys:
            key = re.sub(pattern, repl, key)
        revised[key] = value
    report = StateDictReport()
    for key, tensor in expected.items():
        if key not in revised:
            report.missing.append(key)
        elif hasattr(revised[key], 'shape') and \
                tuple(revised[key].shape) != tuple(tensor.shape):
            report.mismatched.append(
                (key, tuple(tensor.shape), tuple(revised[key].shape)))
    report.unexpected = [k for k in revised if k not in expected]
    missing = set(report.missing)
    for name, identity in (new_blocks or {}).items():
        keys = {k for k in expected if k.startswith(name + '.')}
        if keys and keys <= missing:
            report.new_blocks.append((name, identity))
            missing -= keys
    report.missing = [k for k in report.missing if k in missing]
    return report


@HOOKS.register_module()
class CheckpointShapeCheckHook(Hook):
    """Check every checkpoint the runner loads against the model first.

    Args:
        on_mismatch (str): ``'auto'`` (default): raise when resuming or
            testing, warn when training starts from ``load_from``
            (fine-tuning); ``'error'``: always raise; ``'warn'``: always
            only log.
        check_missing (bool): also treat missing/unexpected keys as a
            mismatch (not only shapes). Defaults to True.
    """

    priority = 'VERY_HIGH'
    _MODES = ('auto', 'error', 'warn')

    def __init__(self, on_mismatch: str = 'auto',
                 check_missing: bool = True) -> None:
        if on_mismatch not in self._MODES:
            raise ValueError(f'on_mismatch must be one of {self._MODES}, got '
                             f'{on_mismatch!r}')
        self.on_mismatch = on_mismatch
        self.check_missing = check_missing

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # imported here: a2mm.models imports this module (import cycle)
        from a2mm.models.backbones.a2_stages import a2_block_names
        state = checkpoint.get('state_dict', checkpoint)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        report = compare_state_dicts(model.state_dict(), state,
                                     new_blocks=a2_block_names(model))
        if not self.check_missing:
            report.missing, report.unexpected = [], []
        training = not isinstance(runner._train_loop, (dict, type(None)))
        fine_tuning = training and not runner._resume
        what = ('resuming' if runner._resume else
                'fine-tuning from' if fine_tuning else 'testing')
        source = runner._load_from or 'the latest checkpoint'
        if report.ok:
            if report.new_blocks:
                log = runner.logger.info if fine_tuning else \
                    runner.logger.warning
                log(f'the checkpoint ({what} {source}) fits the model; '
                    f'{report.format()}\n(MMEngine then lists their '
                    'tensors as "missing keys in source state_dict")')
            return
        message = (f'the checkpoint ({what} {source}) does not fit the '
                   f'model:\n{report.format()}')
        if self.on_mismatch == 'warn' or (self.on_mismatch == 'auto'
                                          and fine_tuning):
            runner.logger.warning(
                message + '\nthese weights keep their initial values')
            return
        raise CheckpointMismatchError(
            message + '\n(is it the checkpoint of this config? check '
            'num_classes, in_channels and the A² positions)')

"""Say which weights of a checkpoint do not fit the model.

MMEngine's runner loads checkpoints with ``strict=False`` (``load_from``
and ``--resume`` alike): a parameter whose shape differs is *not loaded*
and only a warning from deep inside ``torch.nn.Module.load_state_dict``
says so, so a test runs with a random classifier and prints a metric,
and a resumed run silently restarts layers from scratch. With
``strict=True`` the same finding is a ``RuntimeError`` traceback.

:func:`compare_state_dicts` lists missing keys, unexpected keys and shape
mismatches (expected vs got) as a :class:`StateDictReport`, whose
``format()`` is the table that :mod:`.weights_fit` logs or raises (as
:class:`CheckpointMismatchError`) by its policy, for the runner's hook, the
API and the backbones alike.

A² blocks that the checkpoint lacks *entirely* (a plain I3D checkpoint
loaded into the A² model, docs/models.md) are not a mismatch: given as
``new_blocks``, they are listed as new A² blocks, which start as identity
(unless built with ``zero_init=False``), so the model computes the
checkpoint's function until they are trained. A block with only some of its
tensors in the checkpoint is still a mismatch.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

__all__ = [
    'STRIP_MODULE', 'STRIP_BACKBONE', 'CheckpointMismatchError',
    'StateDictReport', 'compare_state_dicts', 'refuse_values_not_weights',
    'revise_keys_of'
]

Shape = Tuple[int, ...]
RevisePairs = Sequence[Tuple[str, str]]

#: ``revise_keys`` that strip DataParallel's ``module.`` (MMEngine's
#: ``load_checkpoint`` default)
STRIP_MODULE: RevisePairs = ((r'^module\.', ''), )
#: ... and a recognizer's (or an MMPretrain classifier's) ``backbone.``, so
#: a whole model's checkpoint loads into its backbone
STRIP_BACKBONE: RevisePairs = STRIP_MODULE + ((r'^backbone\.', ''), )


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
    not_weights: List[Tuple[str, str]] = field(default_factory=list)
    """(key, what it is) of the checkpoint's entries that cannot be
    weights: a value that is not a tensor (a numpy array, a string), a
    tensor on the ``meta`` device (no data), a key that is not a string.
    PyTorch skips them with a warning; they are always an error here."""

    @property
    def ok(self) -> bool:
        """Every checkpoint tensor fits and every model tensor is in it,
        apart from whole new A² blocks."""
        return not (self.mismatched or self.missing or self.unexpected
                    or self.not_weights)

    def format(self, limit: int = 20) -> str:
        """A readable table, at most ``limit`` rows per section."""
        lines = []
        if self.not_weights:
            lines.append(f'{len(self.not_weights)} checkpoint value(s) that '
                         'are not weights (key: what was found):')
            lines += [f'  {key}: {what}'
                      for key, what in self.not_weights[:limit]]
            if len(self.not_weights) > limit:
                lines.append(f'  ... and {len(self.not_weights) - limit} '
                             'more')
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


def _not_a_weight(value: object, own: object) -> Optional[str]:
    """What ``value`` is if it cannot be a weight (``own``: the model's
    entry of that key, a non-tensor for a module's extra state), else
    None."""
    if isinstance(value, torch.Tensor):
        return 'a tensor on the meta device (no data)' \
            if value.device.type == 'meta' else None
    if own is not None and not isinstance(own, torch.Tensor):
        return None  # get_extra_state(): any object the module reads
    kind = type(value)
    return f'{kind.__module__}.{kind.__qualname__}'.replace('builtins.', '')


def revise_key(key: str, revise_keys: RevisePairs) -> str:
    """``key`` with each ``(pattern, replacement)`` applied in turn."""
    for pattern, repl in revise_keys:
        key = re.sub(pattern, repl, key)
    return key


def revise_keys_of(state_dict: Mapping[str, torch.Tensor],
                   revise_keys: RevisePairs) -> Dict[str, torch.Tensor]:
    """``state_dict`` with its (string) keys revised."""
    return {revise_key(key, revise_keys): value
            for key, value in state_dict.items() if type(key) is str}


def refuse_values_not_weights(report: StateDictReport, source: str) -> None:
    """Raise :class:`CheckpointMismatchError` naming ``source`` (after
    "checkpoint ") and the table of ``report.not_weights``, if any: PyTorch
    would skip those entries with a warning and leave the model's values."""
    if report.not_weights:
        table = StateDictReport(not_weights=report.not_weights).format()
        raise CheckpointMismatchError(
            f'checkpoint {source} holds values that are not weights; '
            'PyTorch would skip them and the model would keep its initial '
            f'values:\n{table}')


def compare_state_dicts(
        expected: Mapping[str, torch.Tensor],
        got: Mapping[str, torch.Tensor],
        revise_keys: RevisePairs = STRIP_MODULE,
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
            (:func:`.weights_fit.new_block_names`); a block
            none of whose tensors is in the checkpoint is reported in
            ``new_blocks`` instead of ``missing``.

    Returns:
        StateDictReport: the differences, keys in model order; entries
        that cannot be weights are in ``not_weights`` only.
    """
    report = StateDictReport()
    revised: Dict[str, torch.Tensor] = {}
    for key, value in got.items():
        if type(key) is not str:
            report.not_weights.append(
                (repr(key)[:80], f'a key of type {type(key).__name__}, not a '
                 'string'))
            continue
        key = revise_key(key, revise_keys)
        what = _not_a_weight(value, expected.get(key))
        if what is not None:
            report.not_weights.append((key, what))
            continue
        revised[key] = value
    not_weights = {key for key, _ in report.not_weights}
    for key, tensor in expected.items():
        if key in not_weights:
            continue
        if key not in revised:
            report.missing.append(key)
        elif isinstance(tensor, torch.Tensor) and \
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

"""Check every checkpoint the runner loads against the model, before its
weights are copied: :class:`CheckpointShapeCheckHook`.

MMEngine's runner loads with ``strict=False``, so a weight of the wrong
shape is silently left out (:mod:`a2mm.utils.checkpoint.state_dict_report`
says why that matters). This hook compares the checkpoint with the model
(:func:`~a2mm.utils.checkpoint.compare_state_dicts`) and raises
:class:`~a2mm.utils.checkpoint.CheckpointMismatchError` with the table when
resuming or testing. When *fine-tuning* from
``load_from`` (a Kinetics model on UCF-101: the classifier differs on
purpose) it logs the table as a warning instead, unless
``on_mismatch='error'``. A² blocks the checkpoint lacks entirely are listed
as new blocks, not as a mismatch. Values that cannot be weights (numpy
arrays, strings, tensors on the ``meta`` device, keys that are not strings),
which PyTorch would skip with a warning, are an error in every mode.
"""
from typing import Mapping

from mmaction.registry import HOOKS, MODELS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from a2mm.utils.checkpoint.loader import (reset_model_budget,
                                          set_model_budget)
from a2mm.utils.checkpoint.state_dict_report import (CheckpointMismatchError,
                                                     compare_state_dicts)

__all__ = ['CheckpointShapeCheckHook']


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
        self._budget = None

    def before_run(self, runner) -> None:
        """Bound what the checkpoints this run loads may declare (its
        ``load_from`` / ``--resume`` and the backbones' ``pretrained``) to
        four times the model's weights plus a margin
        (:func:`~a2mm.utils.checkpoint.set_model_budget`)."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._budget = set_model_budget(model)

    def after_run(self, runner) -> None:
        if self._budget is not None:
            reset_model_budget(self._budget)
            self._budget = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        source = runner._load_from or 'the latest checkpoint'
        if not isinstance(state, Mapping):
            raise CheckpointMismatchError(
                f'the checkpoint {source} has no weights: its state_dict is '
                f'a {type(state).__name__}, not a dict of tensors')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        # the block class through the registry: engine imports nothing of
        # a2mm.models (docs/architecture.md)
        a2_block = MODELS.get('A2Block')
        new_blocks = {name: m.zero_init for name, m in model.named_modules()
                      if isinstance(m, a2_block)}
        report = compare_state_dicts(model.state_dict(), state,
                                     new_blocks=new_blocks)
        if not self.check_missing:
            report.missing, report.unexpected = [], []
        training = not isinstance(runner._train_loop, (dict, type(None)))
        fine_tuning = training and not runner._resume
        what = ('resuming' if runner._resume else
                'fine-tuning from' if fine_tuning else 'testing')
        if report.not_weights:  # never loadable: an error in every mode
            raise CheckpointMismatchError(
                f'the checkpoint ({what} {source}) holds values that are not '
                f'weights; PyTorch would skip them and the model would keep '
                f'its initial values:\n{report.format()}')
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

"""Check every checkpoint the runner loads against the model, before its
weights are copied: :class:`CheckpointShapeCheckHook`.

MMEngine's runner loads with ``strict=False``, so a weight of the wrong
shape is silently left out (:mod:`a2mm.utils.checkpoint.state_dict_report`
says why that matters). This hook applies
:func:`~a2mm.utils.checkpoint.check_fit`, the policy every a2mm weight load
follows: when resuming or testing, policy ``'error'`` (a
:class:`~a2mm.utils.checkpoint.CheckpointMismatchError` with the table);
when *fine-tuning* from ``load_from`` (a Kinetics model on UCF-101: the
classifier differs on purpose), ``'warn'``, unless ``on_mismatch='error'``.
A² blocks the checkpoint lacks entirely are listed as new blocks, not as a
mismatch. Values that cannot be weights (numpy arrays, strings, tensors on
the ``meta`` device, keys that are not strings), which PyTorch would skip
with a warning, are an error in every mode.
"""
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from a2mm.utils.checkpoint.loader import (reset_model_budget,
                                          set_model_budget)
from a2mm.utils.checkpoint.weights_fit import check_fit

__all__ = ['CheckpointShapeCheckHook']


@HOOKS.register_module()
class CheckpointShapeCheckHook(Hook):
    """Check every checkpoint the runner loads against the model first.

    Args:
        on_mismatch (str): the policy of
            :func:`~a2mm.utils.checkpoint.check_fit`, ``'error'`` (raise) or
            ``'warn'`` (log); ``'auto'`` (default): ``'error'`` when
            resuming or testing, ``'warn'`` when training starts from
            ``load_from`` (fine-tuning).
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
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        training = not isinstance(runner._train_loop, (dict, type(None)))
        fine_tuning = training and not runner._resume
        what = ('resuming' if runner._resume else
                'fine-tuning' if fine_tuning else 'testing')
        policy = self.on_mismatch
        if policy == 'auto':
            policy = 'warn' if fine_tuning else 'error'
        source = f'{runner._load_from} ({what})' if runner._load_from \
            else f'(the latest of the work dir, {what})'
        check_fit(
            model, checkpoint.get('state_dict', checkpoint), source=source,
            policy=policy, check_missing=self.check_missing,
            logger=runner.logger,
            note='\n(MMEngine loads it next: it lists the tensors it does not '
            'load as "missing keys in source state_dict")')

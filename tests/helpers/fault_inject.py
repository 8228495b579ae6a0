"""Imported by the training subprocess of tests/tools/test_faults.py (via
the config's ``custom_imports``) to make a checkpoint save hang half-way,
so that the test can SIGKILL the process while it saves.

With ``A2MM_STALL_SAVE=<text>`` set, MMEngine's ``LocalBackend.put`` writes
the first half of any file whose path contains ``<text>``, flushes it,
creates ``<that path>.stalled`` and sleeps. Test-only monkeypatch; nothing
is patched when the variable is unset.

It also registers ``TrainProgressMetric`` for the ``save_best`` tests.
"""
import os
import time

from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import LocalBackend
from mmengine.logging import MessageHub

_STALL = os.environ.get('A2MM_STALL_SAVE')

if _STALL:
    _real_put = LocalBackend.put

    def _stalling_put(self, obj, filepath):
        if _STALL not in str(filepath):
            return _real_put(self, obj, filepath)
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
        open(f'{filepath}.stalled', 'w').close()
        time.sleep(600)  # until the test kills us

    LocalBackend.put = _stalling_put


# ``save_best`` needs a score that improves at a known evaluation, whatever
# the tiny model learns: this metric reports the training progress.
@METRICS.register_module(force=True)
class TrainProgressMetric(BaseMetric):
    """``progress/step``: the index of the last training iteration (grows
    at every evaluation); ``progress/coarse``: ``step // 4``."""
    default_prefix = 'progress'

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        step = MessageHub.get_current_instance().get_info('iter')
        return dict(step=step, coarse=step // 4)

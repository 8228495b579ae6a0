"""MMAction2's VisualizationHook for multi-view (multi-clip x crop) tests.

Two things of ``mmaction.engine.hooks.VisualizationHook`` (MMAction2 1.1.0)
are worked around here, without touching MMAction2:

* it draws ``inputs[i]`` as one video of shape (C, T, H, W); with the
  multi-clip x three-crop test each input is (num_views, C, T, H, W) and the
  hook fails on the permute. This subclass hands it the first view of each
  sample (the first clip, first crop);
* it passes ``show=`` to ``ActionVisualizer.add_datasample``, which takes
  ``show_frames=`` instead (a TypeError on every call). The argument is
  renamed here. Drop the override once MMAction2 fixes the hook.
"""
from typing import Sequence

from mmaction.engine.hooks import VisualizationHook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class MultiViewVisualizationHook(VisualizationHook):
    """Draw the first view of each test sample; see
    :class:`mmaction.engine.hooks.VisualizationHook` for the arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.draw_args['show_frames'] = self.draw_args.pop('show')

    def _draw_samples(self, batch_idx: int, data_batch: dict,
                      data_samples: Sequence, step: int = 0) -> None:
        inputs = data_batch['inputs']
        first_views = [v[0] if v.dim() == 5 else v for v in inputs]
        super()._draw_samples(batch_idx, {**data_batch, 'inputs': first_views},
                              data_samples, step)

"""MMAction2's VisualizationHook for multi-view (multi-clip x crop) tests.

``mmaction.engine.hooks.VisualizationHook`` draws ``inputs[i]`` as one video
of shape (C, T, H, W); with the multi-clip x three-crop test each input is
(num_views, C, T, H, W) and the hook fails on the permute. This subclass
hands it the first view of each sample (the first clip, first crop) and
leaves everything else to MMAction2.
"""
from typing import Sequence

from mmaction.engine.hooks import VisualizationHook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class MultiViewVisualizationHook(VisualizationHook):
    """Draw the first view of each test sample; see
    :class:`mmaction.engine.hooks.VisualizationHook` for the arguments."""

    def _draw_samples(self, batch_idx: int, data_batch: dict,
                      data_samples: Sequence, step: int = 0) -> None:
        inputs = data_batch['inputs']
        first_views = [v[0] if v.dim() == 5 else v for v in inputs]
        super()._draw_samples(batch_idx, {**data_batch, 'inputs': first_views},
                              data_samples, step)

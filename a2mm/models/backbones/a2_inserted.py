"""Insert A² blocks into any registered backbone, from a config.

Paper: Y. Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018
(arXiv:1810.11579): the block is "plug-and-play". :class:`A2Inserted` makes
that literal for MMAction2: name the backbone and the sub-modules after which
A² blocks should run; their channel counts are found by a dry forward pass on
the ``meta`` device (no memory, no arithmetic)::

    backbone=dict(
        type='A2Inserted',
        backbone=dict(type='ResNet3dSlowFast', pretrained=None),
        positions=['slow_path.layer3.1', 'fast_path.layer3.1'])

How it works: the wrapped backbone is built unchanged (its checkpoint keys,
``pretrained=`` loading, freezing and ``train()`` behave as before, under the
``backbone.`` prefix); each A² block lives in ``a2_blocks`` (key: the
position with ``.`` replaced by ``-``) and runs on the output of its
sub-module through a forward hook (checked under eager execution,
``torch.jit.trace``, ``torch.onnx.export`` and ``torch.compile`` with
torch 2.13; the A² blocks also show in MMEngine's FLOP count).
"""
from typing import Dict, Optional, Sequence

from a2mm.models.blocks import A2Block
from a2mm.registry import register_model
from .a2_stages import A2ZeroInitMixin
from .insertion import InsertedBackbone

__all__ = ['A2Inserted']


@register_model
class A2Inserted(A2ZeroInitMixin, InsertedBackbone):
    """Any registered backbone with A² blocks after named sub-modules.

    Input and output: those of the wrapped backbone. Each A² block takes the
    output ``(B, C, *spatial)`` of its sub-module, with ``C`` found by a dry
    run, and returns the same shape; it starts as an identity.

    Args:
        backbone (dict): config of the backbone to wrap (any registered
            type, e.g. ``ResNet3dSlowFast``, ``ResNetTSM``, ``X3D``,
            ``C3D``).
        positions (list[str]): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer3.0'``,
            ``'slow_path.layer4.1'``, ``'conv4b'``) after which an A² block
            runs. A wrong name raises :class:`UnknownPositionError` (a
            ``KeyError``) listing valid ones.
        a2_cfg (dict, optional): keyword arguments of :class:`A2Block` other
            than ``in_channels``, shared by all blocks. Default: None.
        dry_run_shape (Sequence[int], optional): input shape of the dry run
            that finds the channels. Default: guessed by
            :func:`a2mm.utils.guess_input_shape`.
        init_cfg (dict, optional): MMEngine init config of the wrapper.

    Attributes that the wrapper lacks (e.g. ``num_segments``, read by
    ``Recognizer2D``) are read from the wrapped backbone.

    Initialisation (``init_weights``): the wrapped backbone as it would be
    alone (including its ``pretrained=`` checkpoint), then the A² blocks
    back to identity (:class:`~a2mm.models.backbones.a2_stages.
    A2ZeroInitMixin`: the backbone's init may reset norm layers).
    """

    def __init__(self,
                 backbone: Dict,
                 positions: Sequence[str],
                 a2_cfg: Optional[Dict] = None,
                 dry_run_shape: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        a2_cfg = {} if a2_cfg is None else dict(a2_cfg)
        if 'in_channels' in a2_cfg:
            raise ValueError('a2_cfg must not set in_channels: it is found '
                             f'by the dry run (got a2_cfg={a2_cfg!r})')
        super().__init__(backbone, positions, init_cfg=init_cfg)
        self.a2_blocks = self.insert_blocks(
            lambda channels: A2Block(channels, **a2_cfg), dry_run_shape)

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

or name stages and block indices, resolved for the backbone's family
(:mod:`~a2mm.models.backbones.placement`), or the family's default::

    backbone=dict(type='A2Inserted', backbone=..., stages=dict(res4=[1, 3]))
    backbone=dict(type='A2Inserted', backbone=..., stages='default')

Each block sees its sub-module's output in ``(B, C, *spatial)`` form: 2D
backbones' frames as clips (the temporal form; ``layout='frames'`` for the
per-frame form), Swin's channels-last and transformers' tokens through a
layout adapter (:mod:`~a2mm.models.backbones.layouts`); an output with no
channel axis is refused.

How it works: the wrapped backbone is built unchanged (its checkpoint keys,
``pretrained=`` loading, freezing and ``train()`` behave as before, under the
``backbone.`` prefix); each A² block lives in ``a2_blocks`` (key: the
position with ``.`` replaced by ``-``) and runs on the output of its
sub-module through a forward hook (checked under eager execution,
``torch.jit.trace``, ``torch.onnx.export`` and ``torch.compile`` with
torch 2.13; the A² blocks also show in MMEngine's FLOP count).
"""
from typing import Dict, Optional, Sequence, Union

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
        positions (list[str], optional): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer3.0'``,
            ``'slow_path.layer4.1'``, ``'conv4b'``) after which an A² block
            runs. A wrong name raises :class:`UnknownPositionError` (a
            ``KeyError``) listing valid ones.
        stages (dict | str, optional): instead of ``positions``: stage ->
            block indices (``dict(res3=[1, 3], res4=[1, 3, 5])``), a preset
            (``'res34_5'``) or ``'default'`` (the family's); a wrong stage
            or index raises ``ValueError`` naming the valid ones.
        layout (str | dict, optional): layout of the outputs, see
            :func:`~a2mm.models.backbones.layouts.wrap_block` (e.g.
            ``'frames'`` for per-frame A² in a 2D backbone). Default: the
            family's, else the one the dry run shows.
        num_segments (int, optional): frames per clip for the temporal
            (``'clip'``) form in 2D backbones. Default: the backbone's
            ``num_segments``.
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
                 positions: Optional[Sequence[str]] = None,
                 stages: Optional[Union[str, Dict]] = None,
                 a2_cfg: Optional[Dict] = None,
                 layout: Optional[Union[str, Dict]] = None,
                 num_segments: Optional[int] = None,
                 dry_run_shape: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        a2_cfg = {} if a2_cfg is None else dict(a2_cfg)
        if 'in_channels' in a2_cfg:
            raise ValueError('a2_cfg must not set in_channels: it is found '
                             f'by the dry run (got a2_cfg={a2_cfg!r})')
        super().__init__(backbone, positions, stages, init_cfg=init_cfg)
        self.a2_blocks = self.insert_blocks(
            lambda channels: A2Block(channels, **a2_cfg), dry_run_shape,
            layout, num_segments)

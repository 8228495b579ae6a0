"""I3D-style 3D ResNet with double attention (A²) blocks.

Paper: Y. Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018
(arXiv:1810.11579), Sec. 4: an ImageNet-pretrained ResNet-50 inflated to 3D
plus randomly initialised A² blocks. Extends MMAction2's ``ResNet3d``: every
argument of ``ResNet3d`` works unchanged; ``a2=`` / ``a2_cfg=`` mirror
``non_local=`` / ``non_local_cfg=``.
"""
from typing import Optional

from mmaction.models.backbones.resnet3d import (BasicBlock3d, Bottleneck3d,
                                                ResNet3d)
from mmengine.logging import MMLogger

from a2mm.registry import register_model
from a2mm.utils.checkpoint import STRIP_BACKBONE, load_weights
from .a2_stages import A2ResidualMixin, A2StagesMixin, a2_arch_settings
from .inflate2d import inflate_2d_weights

__all__ = ['A2ResNet3d', 'A2BasicBlock3d', 'A2Bottleneck3d']


class A2BasicBlock3d(A2ResidualMixin, BasicBlock3d):
    """``BasicBlock3d`` followed by an optional A² block (``a2_block``)."""


class A2Bottleneck3d(A2ResidualMixin, Bottleneck3d):
    """``Bottleneck3d`` followed by an optional A² block (``a2_block``)."""


@register_model
class A2ResNet3d(A2StagesMixin, ResNet3d):
    """ResNet3d (I3D) with A² blocks after chosen residual blocks.

    Input ``(B, C_in, T, H, W)``; output as ``ResNet3d`` (the features of
    ``out_indices``). Each A² block sits after a residual block's final ReLU
    (after its non-local block, if both are set), keeps the shape, and starts
    as an exact identity, so the network computes the same function as the
    plain ``ResNet3d`` with the same weights until the blocks are trained.

    Args:
        a2 (str | int | Sequence): where to put A² blocks, in the form of
            ``non_local=``: one entry per stage, an int for all blocks of the
            stage or one 0/1 flag per block; or a name from
            :data:`~a2mm.models.backbones.a2_stages.A2_PLACEMENTS`
            (``'res34_5'``: the 5 places of MMAction2's non-local I3D-R50).
            Default: ``0`` (no A² blocks: a plain ``ResNet3d``).
        a2_cfg (dict, optional): keyword arguments of
            :class:`~a2mm.models.blocks.A2Block` other than ``in_channels``,
            e.g. ``dict(descriptor_channels=256, num_descriptors=256)``.
            Default: None (m = n = C/4, the paper's ablation setting).
        **kwargs: every argument of MMAction2's ``ResNet3d``.

    Initialisation (:meth:`init_weights`):

    * ``pretrained=None``: ``ResNet3d``'s initialisation, then the A²
      blocks' output projections are zeroed again (``ResNet3d`` resets every
      BN to weight 1, which would undo the zero-init of an A² norm layer).
    * ``pretrained`` a 2D torchvision or timm ResNet checkpoint, ``.pth``
      or ``.safetensors``, and ``pretrained2d=True``: its weights are
      inflated as by ``ResNet3d`` (:func:`~a2mm.models.backbones.inflate2d.
      inflate_2d_weights`), and a file whose keys do not fit raises a
      ``ValueError`` naming them; the A² blocks are not in it and stay
      identity.
    * ``pretrained`` a 3D checkpoint (``pretrained2d=False``), e.g. of an
      ``A2ResNet3d`` or of its recognizer: what fits is loaded by
      :func:`~a2mm.utils.checkpoint.load_weights` with policy ``'warn'``
      (a warning lists the missing, unexpected and wrong-shape keys); A²
      blocks missing from it stay identity.
    """

    arch_settings = a2_arch_settings(ResNet3d.arch_settings, {
        BasicBlock3d: A2BasicBlock3d,
        Bottleneck3d: A2Bottleneck3d
    })

    def init_weights(self, pretrained: Optional[str] = None) -> None:
        """Initialise as ``ResNet3d`` does, keeping A² blocks at identity
        unless a 3D checkpoint provides their weights (see the class doc)."""
        if pretrained:
            self.pretrained = pretrained
        if isinstance(self.pretrained, str) and not self.pretrained2d:
            logger = MMLogger.get_current_instance()
            load_weights(self, self.pretrained, policy='warn',
                         revise_keys=STRIP_BACKBONE, logger=logger)
            return
        super().init_weights()  # then the A² blocks back to identity

    def inflate_weights(self, logger: MMLogger) -> None:
        """Inflate the 2D ResNet checkpoint ``self.pretrained``.

        Replaces ``ResNet3d``'s, which reads ``.pth`` files only and, for a
        checkpoint whose keys do not fit, logs a warning per layer and keeps
        those layers as built.
        """
        inflate_2d_weights(self, self.pretrained, logger)

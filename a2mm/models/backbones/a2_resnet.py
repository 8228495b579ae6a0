"""2D ResNet with double attention (A²) blocks, for images and frame-level
video models (TSN-style).

Paper: Y. Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018
(arXiv:1810.11579): ResNet-50 with A² blocks against ResNet-152 on
ImageNet-1k. Extends MMAction2's 2D ``ResNet``; ``a2=`` / ``a2_cfg=`` work
as in :class:`~a2mm.models.backbones.A2ResNet3d`.
"""
from mmaction.models.backbones.resnet import BasicBlock, Bottleneck, ResNet
from mmengine.logging import MMLogger

from a2mm.registry import register_model
from a2mm.utils.checkpoint import STRIP_BACKBONE, load_weights
from .a2_stages import A2ResidualMixin, A2StagesMixin, a2_arch_settings

__all__ = ['A2ResNet', 'A2BasicBlock', 'A2Bottleneck']


class A2BasicBlock(A2ResidualMixin, BasicBlock):
    """``BasicBlock`` followed by an optional A² block (``a2_block``)."""


class A2Bottleneck(A2ResidualMixin, Bottleneck):
    """``Bottleneck`` followed by an optional A² block (``a2_block``)."""


@register_model
class A2ResNet(A2StagesMixin, ResNet):
    """2D ResNet with A² blocks after chosen residual blocks.

    Input ``(B, C_in, H, W)`` (for TSN, ``B`` = clips x segments); output as
    MMAction2's ``ResNet``. A² blocks sit after a residual block's final ReLU
    and start as an exact identity.

    Args:
        a2 (str | int | Sequence): one entry per stage, an int for all blocks
            of the stage or one 0/1 flag per block, or a placement name:
            ``'res34_5'`` puts 5 blocks in res3 and res4 (our choice: the
            paper's ImageNet placement is not confirmed; see
            :data:`~a2mm.models.backbones.a2_stages.A2_PLACEMENTS`).
            Default: ``0`` (a plain ``ResNet``).
        a2_cfg (dict, optional): keyword arguments of
            :class:`~a2mm.models.blocks.A2Block` besides ``in_channels``;
            2D norm layers only (e.g. ``dict(norm_cfg=dict(type='BN2d'))``).
            Default: None (m = n = C/4).
        **kwargs: every argument of MMAction2's ``ResNet``.

    Initialisation: as ``ResNet`` (random, or ``pretrained`` from a
    torchvision-format checkpoint with ``torchvision_pretrain=True``), then
    the A² blocks are zeroed again to identity. With
    ``torchvision_pretrain=False``, ``pretrained`` is a checkpoint of this
    model (or of its recognizer): what fits is loaded by
    :func:`~a2mm.utils.checkpoint.load_weights` with policy ``'warn'``.
    """

    arch_settings = a2_arch_settings(ResNet.arch_settings, {
        BasicBlock: A2BasicBlock,
        Bottleneck: A2Bottleneck
    })

    def init_weights(self) -> None:
        """Initialise as ``ResNet``, keeping A² blocks at identity unless a
        checkpoint of this model provides their weights."""
        if isinstance(self.pretrained, str) and not self.torchvision_pretrain:
            load_weights(self, self.pretrained, policy='warn',
                         revise_keys=STRIP_BACKBONE,
                         logger=MMLogger.get_current_instance())
            return
        super().init_weights()  # then the A² blocks back to identity

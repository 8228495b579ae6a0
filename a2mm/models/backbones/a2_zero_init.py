"""A backbone's A² blocks back to identity after the backbone's own init.

MMAction2's ``ResNet3d`` (and ``ResNet``) initialise every convolution
(kaiming) and every BN (weight 1) of the network, the A² blocks' norm layers
included, which undoes their zero-init. :class:`A2ZeroInitMixin` re-applies
it (:meth:`~a2mm.models.blocks.A2Block.zero_init_last`, timm's convention)
once the parent's ``init_weights`` has run: the one place that does, for
:class:`~a2mm.models.backbones.A2ResNet3d`,
:class:`~a2mm.models.backbones.A2ResNet` and
:class:`~a2mm.models.backbones.A2Inserted`.
"""
from a2mm.models.blocks import A2Block

__all__ = ['A2ZeroInitMixin']


class A2ZeroInitMixin:
    """``init_weights``: the next class's ``init_weights`` (the backbone's),
    then each A² block of ``self.a2_blocks`` (a ``ModuleList`` or
    ``ModuleDict`` of the backbone's own blocks) back to identity when it
    has ``zero_init``.

    Mix in before the backbone class, e.g.
    ``class A2ResNet3d(A2StagesMixin, ResNet3d)`` with ``A2StagesMixin``
    deriving from this. A subclass whose ``init_weights`` loads the A²
    blocks' weights from a checkpoint returns without calling it.
    """

    def init_weights(self, *args, **kwargs) -> None:
        super().init_weights(*args, **kwargs)
        for module in self.a2_blocks.modules():
            if isinstance(module, A2Block):
                module.zero_init_last()

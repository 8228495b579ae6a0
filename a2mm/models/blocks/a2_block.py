"""The double attention block of A²-Nets.

Paper: Y. Chen, Y. Kalantidis, J. Li, S. Yan, J. Feng, "A²-Nets: Double
Attention Networks", NeurIPS 2018 (arXiv:1810.11579), Section 3.

For an input ``X`` with ``C`` channels and ``N`` positions (``N = T*H*W`` for
a clip, ``H*W`` for an image, ``L`` for a sequence):

* ``A = phi(X)``              (B, m, N)  m feature maps
* ``S = softmax_N(theta(X))`` (B, n, N)  n gather maps, each sums to 1 over
  the positions
* ``V = softmax_n(rho(X))``   (B, n, N)  distribution maps: at each position,
  weights over the n descriptors that sum to 1
* ``G = A @ S^T``             (B, m, n)  n global descriptors (step 1,
  "second-order attention pooling")
* ``Z = G @ V``               (B, m, N)  descriptors distributed back to
  every position (step 2)
* ``Y = X + W_out @ Z + b``   (B, C, N)

Parameters: ``phi``, ``theta`` and ``rho`` are 1x1 convolutions, i.e.
linear maps over channels, stored as one fused ``(m + 2n, C)`` weight
``in_proj_weight`` (rows ``[0, m)`` phi, ``[m, m+n)`` theta, ``[m+n, m+2n)``
rho) with ``phi_bias`` and ``rho_bias`` (theta's bias would cancel in the
softmax over positions); ``out_proj_weight`` (C, m) and ``out_proj_bias``.
:meth:`A2Block.weights` returns them as one
:class:`~a2mm.models.blocks.a2_weights.A2Weights` (with ``.phi``,
``.theta``, ``.rho`` views of the fused weight). How the products are
ordered, which pass computes them and why (linear in N, phi applied after
pooling, the output projection folded into the descriptors, float32
softmaxes under autocast) is in :mod:`a2mm.models.blocks.a2_attention`.
"""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from a2mm.registry import register_model
from .a2_attention import a2_attention, check_impl
from .a2_weights import A2Weights

__all__ = ['A2Block']


@register_model
class A2Block(nn.Module):
    """Double attention block (A²-block) for 1D, 2D and 3D inputs.

    Input and output: ``(B, C, *spatial)`` with one, two or three spatial
    dimensions; the output has the input's shape, dtype and memory format.

    Args:
        in_channels (int): ``C``, channels of the input.
        descriptor_channels (int, optional): ``m``, the size of each global
            descriptor (channels of ``phi``). Default: ``in_channels // 4``,
            the paper's ablation setting (Sec. 4.2, m = n = c/4).
        num_descriptors (int, optional): ``n``, how many global descriptors
            are gathered (channels of ``theta`` and ``rho``). Default:
            ``in_channels // 4``, as above.
        norm_cfg (dict, optional): a norm layer after the output projection,
            e.g. ``dict(type='BN3d')``; its rank must match the input's. The
            paper states none. Default: None.
        zero_init (bool): start the output projection (or the norm's scale,
            with ``norm_cfg``) at zero, so that a freshly inserted block is an
            exact identity and can be dropped into a pretrained network. Not
            stated by the paper; our choice. Default: True.
        chunk_size (int): positions processed per chunk when N is larger
            (``'chunked'`` training pass); bounds the working set on large
            clips. Default: 4096.
        impl (str): which pass computes the block, the same equations
            each way (:mod:`~a2mm.models.blocks.a2_attention`).
            ``'fused'``: Triton kernels, forward and backward, that keep
            nothing N-sized for the backward but X and the theta/rho
            projections; the pass for CUDA GPUs, where the other two launch
            dozens of small kernels. ``'chunked'``: forward and
            backward written by hand in torch, chunked over positions;
            least memory and the fastest training pass on CPUs.
            ``'autograd'``: PyTorch autograd ops, the reference.
            ``'auto'``: fused on CUDA when Triton works there, chunked for
            training on the CPU, autograd otherwise. Tracing and export
            always use the autograd pass; ``torch.compile`` keeps the
            fused pass as a custom op and takes autograd ops in place of
            the chunked one. Default: ``'auto'``.
    """

    _abbr_ = 'a2_block'

    def __init__(self,
                 in_channels: int,
                 descriptor_channels: Optional[int] = None,
                 num_descriptors: Optional[int] = None,
                 norm_cfg: Optional[Dict] = None,
                 zero_init: bool = True,
                 chunk_size: int = 4096,
                 impl: str = 'auto') -> None:
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        m = in_channels // 4 if descriptor_channels is None \
            else descriptor_channels
        n = in_channels // 4 if num_descriptors is None else num_descriptors
        for key, value in (('descriptor_channels', m),
                           ('num_descriptors', n)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'{key} must be a positive int, got {value!r} (with '
                    f'in_channels={in_channels}; the default is '
                    'in_channels // 4, so in_channels must be >= 4)')
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(
                f'chunk_size must be a positive int, got {chunk_size!r}')
        check_impl(impl)
        self.in_channels = in_channels
        self.descriptor_channels = m
        self.num_descriptors = n
        self.zero_init = zero_init
        self.chunk_size = chunk_size
        self.impl = impl

        # phi, theta and rho fused: rows [0, m) are phi, [m, m+n) theta,
        # [m+n, m+2n) rho (see A2Weights).
        # theta needs no bias: a constant per gather map cancels in the
        # softmax over positions.
        self.in_proj_weight = nn.Parameter(torch.empty(m + 2 * n, in_channels))
        self.phi_bias = nn.Parameter(torch.empty(m))
        self.rho_bias = nn.Parameter(torch.empty(n))
        self.out_proj_weight = nn.Parameter(torch.empty(in_channels, m))
        self.out_proj_bias = nn.Parameter(torch.empty(in_channels))
        if norm_cfg is not None:
            self.norm_name, norm = build_norm_layer(norm_cfg, in_channels)
            self.add_module(self.norm_name, norm)
        else:
            self.norm_name = None
        self.init_weights()

    @property
    def norm(self) -> Optional[nn.Module]:
        """The norm layer after the output projection, or None."""
        return None if self.norm_name is None else getattr(
            self, self.norm_name)

    def weights(self) -> A2Weights:
        """The block's parameters as the operator takes them; ``.phi``
        (m, C), ``.theta`` (n, C), ``.rho`` (n, C) and ``.theta_rho``
        (2n, C) are views of ``in_proj_weight``."""
        return A2Weights(self.in_proj_weight, self.phi_bias, self.rho_bias,
                         self.out_proj_weight, self.out_proj_bias)

    def init_weights(self) -> None:
        """Kaiming-uniform input projections (PyTorch's default for a 1x1
        convolution) and, with ``zero_init``, a zero output projection (zero
        norm scale when there is a norm), so the block starts as identity."""
        for weight in (self.in_proj_weight, self.out_proj_weight):
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        for bias, fan_in in ((self.phi_bias, self.in_channels),
                             (self.rho_bias, self.in_channels),
                             (self.out_proj_bias, self.descriptor_channels)):
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(bias, -bound, bound)
        if self.norm is not None:
            nn.init.ones_(self.norm.weight)
            nn.init.zeros_(self.norm.bias)
        self.zero_init_last()

    def zero_init_last(self) -> None:
        """Zero the last layer of the residual branch (when ``zero_init``).

        Backbones call this again after their own ``init_weights``, which may
        reset norm layers (timm's ``zero_init_last`` convention), through
        :class:`~a2mm.models.backbones.a2_stages.A2ZeroInitMixin`."""
        if not self.zero_init:
            return
        with torch.no_grad():
            if self.norm is not None:
                self.norm.weight.zero_()
            else:
                self.out_proj_weight.zero_()
                self.out_proj_bias.zero_()

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, '
                f'descriptor_channels={self.descriptor_channels}, '
                f'num_descriptors={self.num_descriptors}, '
                f'chunk_size={self.chunk_size}, impl={self.impl!r}')

    def _check_input(self, x: torch.Tensor) -> None:
        if torch.jit.is_tracing():  # shapes are traced values, not ints
            return
        if x.dim() not in (3, 4, 5):
            raise ValueError(
                'A2Block expects a (B, C, *spatial) tensor with 1, 2 or 3 '
                f'spatial dims (3, 4 or 5 dims in all), got shape '
                f'{tuple(x.shape)} ({x.dim()} dims)')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'A2Block expects {self.in_channels} input channels, got '
                f'{x.shape[1]} (input shape {tuple(x.shape)})')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        batch, channels = x.shape[:2]
        x_cn = x.reshape(batch, channels, -1)  # (B, C, N)
        residual = self.norm is None
        y = a2_attention(x_cn, self.weights(), residual=residual,
                         impl=self.impl, chunk=self.chunk_size)  # (B, C, N)
        if residual:  # x + Y: keep the input's memory format
            return y.reshape(x.shape).to(memory_format=_memory_format(x))
        y = self.norm(y.reshape(x.shape))
        return x + y.to(x.dtype)


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    if x.dim() == 5 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last_3d):
        return torch.channels_last_3d
    if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format

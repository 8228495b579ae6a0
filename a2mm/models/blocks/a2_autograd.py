"""The ``'autograd'`` pass of the double-attention operator: its equations
(see :mod:`.a2_attention`) as ordinary autograd ops. The reference the other
passes are tested against, and the pass for inference on the CPU, tracing
and export."""
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .a2_weights import A2Weights

__all__ = [
    'a2_autograd', 'acc_dtype', 'batched', 'DescriptorGrads',
    'descriptor_grads'
]


def acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype: float32, or float64 for float64 inputs."""
    return torch.promote_types(dtype, torch.float32)


def batched(weight: Tensor, dtype: torch.dtype, batch: int) -> Tensor:
    """A (rows, cols) weight as a (batch, rows, cols) view for bmm, which
    reads it in place (matmul of a 2D and a 3D tensor copies the 3D one)."""
    return weight.to(dtype).expand(batch, -1, -1)


class DescriptorGrads(NamedTuple):
    """Gradients through the small products of both hand-written backward
    passes (:func:`descriptor_grads`)."""
    out_bias: Tensor  # (C,)
    w_out: Tensor  # (C, m)
    phi_bias: Tensor  # (m,)
    w_phi: Tensor  # (m, C)
    pooled: Tensor  # dU: (B, C, n)
    row_dot: Tensor  # (B, n): sum_C dU * U = sum_N S * dS per gather map


def descriptor_grads(grad_out_desc: Tensor, pooled: Tensor, desc: Tensor,
                     weights: A2Weights) -> DescriptorGrads:
    """Back through D = W_out G + b_out and G = W_phi U + b_phi, from dD
    (B, C, n), U (B, C, n) and G (B, m, n), in their dtype (the
    accumulation dtype; the caller has autocast off)."""
    acc, batch = grad_out_desc.dtype, grad_out_desc.shape[0]
    grad_desc = torch.bmm(batched(weights.w_out.t(), acc, batch),
                          grad_out_desc)  # dG: (B, m, n)
    grad_pooled = torch.bmm(batched(weights.phi.t(), acc, batch),
                            grad_desc)  # dU: (B, C, n)
    return DescriptorGrads(
        out_bias=grad_out_desc.sum(dim=(0, 2)),
        w_out=torch.bmm(grad_out_desc, desc.transpose(1, 2)).sum(0),
        phi_bias=grad_desc.sum(dim=(0, 2)),
        w_phi=torch.bmm(grad_desc, pooled.transpose(1, 2)).sum(0),
        pooled=grad_pooled,
        # dS = dU^T X, so sum_N S * dS = sum_C dU * U per gather map
        row_dot=(grad_pooled * pooled).sum(dim=1))


def a2_autograd(x: Tensor, weights: A2Weights, *, low: torch.dtype,
                residual: bool) -> Tensor:
    """Double attention on ``x`` (B, C, N) with ``weights``
    (:class:`~.a2_weights.A2Weights`): the two N-sized products in
    ``low``, the rest in at least float32. Returns ``x + Y`` (x and ``low``
    must then be the same dtype) when ``residual``, else ``Y`` in ``low``."""
    batch, n = x.shape[0], weights.n
    acc = acc_dtype(low)
    with torch.autocast(x.device.type, enabled=False):
        proj = torch.bmm(batched(weights.theta_rho, low, batch),
                         x.to(low))  # (B, 2n, N)
        theta, rho = proj.split((n, n), dim=1)
        gather = F.softmax(theta.to(acc), dim=-1)  # S: (B, n, N)
        pooled = torch.bmm(x.to(acc), gather.transpose(1, 2))  # U: (B, C, n)
        desc = torch.baddbmm(weights.phi_bias.to(acc)[:, None],
                             batched(weights.phi, acc, batch), pooled)  # G
        out_desc = torch.baddbmm(weights.out_bias.to(acc)[:, None],
                                 batched(weights.w_out, acc, batch), desc)
        out_desc = out_desc.to(low)  # D: (B, C, n)
        dist = F.softmax(rho.to(acc) + weights.rho_bias.to(acc)[:, None],
                         dim=1)  # V: (B, n, N)
        if residual:
            return torch.baddbmm(x, out_desc, dist.to(low))  # (B, C, N)
        return torch.bmm(out_desc, dist.to(low))  # (B, C, N)

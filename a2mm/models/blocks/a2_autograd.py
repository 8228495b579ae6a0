"""The ``'autograd'`` pass of the double-attention operator: its equations
(see :mod:`.a2_attention`) as ordinary autograd ops. The reference the other
passes are tested against, and the pass for inference on the CPU, tracing
and export."""
import torch
import torch.nn.functional as F
from torch import Tensor

from .a2_weights import A2Weights

__all__ = ['a2_autograd', 'acc_dtype', 'batched']


def acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype: float32, or float64 for float64 inputs."""
    return torch.promote_types(dtype, torch.float32)


def batched(weight: Tensor, dtype: torch.dtype, batch: int) -> Tensor:
    """A (rows, cols) weight as a (batch, rows, cols) view for bmm, which
    reads it in place (matmul of a 2D and a 3D tensor copies the 3D one)."""
    return weight.to(dtype).expand(batch, -1, -1)


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

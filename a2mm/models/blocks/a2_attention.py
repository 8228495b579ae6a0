"""The double-attention operator, functional form.

``a2_attention`` computes, per sample, on positions laid out as (C, N)::

    P = W_in @ X                       (m+2n, N)  phi, theta, rho fused
    A, T, R = P[:m], P[m:m+n], P[m+n:]
    S = softmax_N(T)                   (n, N)     gather maps
    G = A @ S^T + b_phi                (m, n)     global descriptors
    D = W_out @ G + b_out              (C, n)     descriptors, projected
    V = softmax_n(R + b_rho)           (n, N)     distribution maps
    Y = D @ V  (+ X when residual)     (C, N)

``D @ V == W_out @ (G @ V) + b_out`` because each column of V sums to 1, and
``phi``'s bias passes through the pooling for the same reason (rows of S sum
to 1); theta needs no bias at all (a constant per row cancels in softmax_N).

Two implementations of the same equations:

* :func:`a2_attention_plain`: ordinary autograd ops; used for inference,
  tracing/export and under ``torch.compile``.
* :class:`_A2AttentionFunction`: forward and backward written by hand, used
  for training in eager mode. Both passes walk the positions in chunks: the
  gather softmax is computed online (running max, as in FlashAttention), the
  backward reuses chunk-sized scratch buffers instead of allocating N-sized
  temporaries (fresh N-sized buffers cost page faults that dominate at 16x56x56),
  and it saves only X and P for the backward pass.

Both run the two N-sized products in ``low`` (the autocast dtype) and
everything else (softmaxes, pooling into G, the small products) in at least
float32.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['a2_attention', 'a2_attention_plain']


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype: float32, or float64 for float64 inputs."""
    return torch.promote_types(dtype, torch.float32)


def a2_attention_plain(x: Tensor, w_in: Tensor, phi_bias: Tensor,
                       rho_bias: Tensor, w_out: Tensor, out_bias: Tensor,
                       m: int, n: int, low: torch.dtype,
                       residual: bool) -> Tensor:
    """Reference implementation with autograd ops. x: (B, C, N)."""
    batch = x.shape[0]
    acc = _acc_dtype(low)
    with torch.autocast(x.device.type, enabled=False):
        proj = torch.bmm(
            w_in.to(low).expand(batch, -1, -1), x.to(low))  # (B, m+2n, N)
        a, theta, rho = proj.split((m, n, n), dim=1)
        gather = F.softmax(theta.to(acc), dim=-1)  # (B, n, N)
        desc = torch.bmm(a.to(acc), gather.transpose(1, 2))  # (B, m, n)
        desc = desc + phi_bias.to(acc)[:, None]
        out_desc = torch.bmm(w_out.to(acc).expand(batch, -1, -1), desc)
        out_desc = (out_desc + out_bias.to(acc)[:, None]).to(low)  # (B,C,n)
        dist = F.softmax(rho.to(acc) + rho_bias.to(acc)[:, None], dim=1)
        if residual:
            return torch.baddbmm(x, out_desc, dist.to(low))  # (B, C, N)
        return torch.bmm(out_desc, dist.to(low))  # (B, C, N)


def _bmm_into(dst: Tensor, a: Tensor, b: Tensor) -> None:
    """``dst = a @ b`` (batched), written in place when the dtypes allow."""
    if dst.dtype == a.dtype:
        torch.bmm(a, b, out=dst)
    else:
        dst.copy_(torch.bmm(a, b))


def _softmax_descriptors(rho: Tensor, bias: Tensor) -> Tensor:
    """softmax over the descriptor axis (dim 1) of ``rho + bias`` in the
    dtype of ``bias``, with one temporary. rho: (B, n, c), bias: (n, 1)."""
    dist = rho.to(bias.dtype) + bias
    dist.sub_(dist.amax(dim=1, keepdim=True)).exp_()
    return dist.div_(dist.sum(dim=1, keepdim=True))


class _A2AttentionFunction(torch.autograd.Function):
    """Chunked forward and hand-written backward of :func:`a2_attention`."""

    @staticmethod
    def forward(ctx, x: Tensor, w_in: Tensor, phi_bias: Tensor,
                rho_bias: Tensor, w_out: Tensor, out_bias: Tensor, m: int,
                n: int, chunk: int, low: torch.dtype,
                residual: bool) -> Tensor:
        batch, channels, num_pos = x.shape
        acc = _acc_dtype(low)
        with torch.autocast(x.device.type, enabled=False):
            x_low = x.to(low)
            w_b = w_in.to(low).expand(batch, -1, -1)  # (B, m+2n, C)
            proj = x.new_empty((batch, m + 2 * n, num_pos), dtype=low)
            # Pass 1: projections and the online gather softmax.
            desc = x.new_zeros((batch, m, n), dtype=acc)
            denom = x.new_zeros((batch, n, 1), dtype=acc)
            run_max = None
            for s in range(0, num_pos, chunk):
                p_c = proj[..., s:s + chunk]  # (B, m+2n, c)
                torch.bmm(w_b, x_low[..., s:s + chunk], out=p_c)
                theta = p_c[:, m:m + n].to(acc)  # (B, n, c)
                c_max = theta.amax(dim=-1, keepdim=True)  # (B, n, 1)
                new_max = c_max if run_max is None else torch.maximum(
                    run_max, c_max)
                e = (theta - new_max).exp_()  # (B, n, c)
                if run_max is not None:
                    scale = torch.exp(run_max - new_max)  # (B, n, 1)
                    desc.mul_(scale.transpose(1, 2))
                    denom.mul_(scale)
                desc.baddbmm_(p_c[:, :m].to(acc), e.transpose(1, 2))
                denom.add_(e.sum(dim=-1, keepdim=True))
                run_max = new_max
            desc0 = desc / denom.transpose(1, 2)  # A @ S^T: (B, m, n)
            desc = desc0 + phi_bias.to(acc)[:, None]  # G
            out_desc = torch.bmm(w_out.to(acc).expand(batch, -1, -1), desc)
            out_desc = out_desc + out_bias.to(acc)[:, None]  # D: (B, C, n)
            out_desc_low = out_desc.to(low)
            # Pass 2: distribute.
            out_dtype = x.dtype if residual else low
            out = x.new_empty((batch, channels, num_pos), dtype=out_dtype)
            rho_b = rho_bias.to(acc)[:, None]
            for s in range(0, num_pos, chunk):
                dist = _softmax_descriptors(proj[:, m + n:, s:s + chunk],
                                            rho_b).to(low)  # (B, n, c)
                if residual:
                    torch.baddbmm(x[..., s:s + chunk], out_desc_low, dist,
                                  out=out[..., s:s + chunk])
                else:
                    torch.bmm(out_desc_low, dist, out=out[..., s:s + chunk])
        log_denom = torch.log(denom) + run_max  # logsumexp of theta
        ctx.save_for_backward(x, w_in, rho_bias, w_out, proj, desc0, desc,
                              out_desc, log_denom)
        ctx.sizes = (m, n, chunk)
        ctx.low = low
        ctx.residual = residual
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        (x, w_in, rho_bias, w_out, proj, desc0, desc, out_desc,
         log_denom) = ctx.saved_tensors
        m, n, chunk = ctx.sizes
        low = ctx.low
        acc = _acc_dtype(low)
        batch, channels, num_pos = x.shape
        with torch.autocast(x.device.type, enabled=False):
            grad_out = grad_out.to(low)
            x_low = x.to(low)
            rho_b = rho_bias.to(acc)[:, None]

            # Pass 1: dD = sum over positions of dY V^T; keeps V (n x N,
            # small) for pass 2.
            grad_desc_out = x.new_zeros((batch, channels, n), dtype=acc)
            dists = []
            for s in range(0, num_pos, chunk):
                dists.append(
                    _softmax_descriptors(proj[:, m + n:, s:s + chunk],
                                         rho_b))  # (B, n, c)
                grad_desc_out.baddbmm_(
                    grad_out[..., s:s + chunk].to(acc),
                    dists[-1].transpose(1, 2))
            grad_out_bias = grad_desc_out.sum(dim=(0, 2))  # (C,)
            grad_w_out = torch.bmm(grad_desc_out,
                                   desc.transpose(1, 2)).sum(0)  # (C, m)
            grad_desc = torch.bmm(
                w_out.to(acc).t().expand(batch, -1, -1),
                grad_desc_out)  # dG: (B, m, n)
            grad_phi_bias = grad_desc.sum(dim=(0, 2))  # (m,)
            # sum_N S * dS per gather map, = sum_m dG * (A S^T).
            s_dot = (grad_desc * desc0).sum(dim=1)[..., None]  # (B, n, 1)
            grad_desc_t_low = grad_desc.transpose(1, 2).to(low)  # (B, n, m)
            grad_desc_low = grad_desc.to(low)
            out_desc_t = out_desc.transpose(1, 2).to(low)  # (B, n, C)

            # Pass 2: dP per chunk (in `acc`, in place in one reused
            # buffer), then dW_in and dX from it.
            grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
            grad_w_in = x.new_zeros(w_in.shape, dtype=acc)
            grad_rho_bias = x.new_zeros((n, ), dtype=acc)
            w_t = w_in.to(low).t().expand(batch, -1, -1)  # (B, C, m+2n)
            grad_p = None
            for dist, s in zip(dists, range(0, num_pos, chunk)):
                width = min(chunk, num_pos - s)
                if grad_p is None or grad_p.shape[-1] != width:
                    grad_p = x.new_empty((batch, m + 2 * n, width),
                                         dtype=acc)
                grad_a = grad_p[:, :m]
                grad_theta = grad_p[:, m:m + n]
                grad_rho = grad_p[:, m + n:]
                g_c = grad_out[..., s:s + chunk]  # (B, C, c)
                p_c = proj[..., s:s + chunk]
                # distribution: dR = V * (dV - sum_n V dV), dV = D^T dY
                _bmm_into(grad_rho, out_desc_t, g_c)
                v_dot = (dist * grad_rho).sum(dim=1, keepdim=True)
                grad_rho.sub_(v_dot).mul_(dist)
                grad_rho_bias.add_(grad_rho.sum(dim=(0, 2)))
                # gather: dA = dG S; dT = S * (dS - sum_N S dS), dS = dG^T A
                gather = (p_c[:, m:m + n].to(acc) - log_denom).exp_()
                _bmm_into(grad_a, grad_desc_low, gather.to(low))
                _bmm_into(grad_theta, grad_desc_t_low, p_c[:, :m])
                grad_theta.sub_(s_dot).mul_(gather)
                # dW_in += sum_b dP x^T ; dX = dY (residual) + W^T dP
                grad_p_low = grad_p.to(low)
                grad_w_in.add_(torch.mm(
                    grad_p_low.transpose(0, 1).reshape(m + 2 * n, -1),
                    x_low[..., s:s + chunk].transpose(0, 1).reshape(
                        channels, -1).t()))  # (m+2n, C)
                if grad_x is not None:
                    if ctx.residual:
                        torch.baddbmm(g_c, w_t, grad_p_low,
                                      out=grad_x[..., s:s + chunk])
                    else:
                        torch.bmm(w_t, grad_p_low,
                                  out=grad_x[..., s:s + chunk])
        return (grad_x, grad_w_in.to(w_in.dtype),
                grad_phi_bias.to(w_in.dtype), grad_rho_bias.to(w_in.dtype),
                grad_w_out.to(w_out.dtype), grad_out_bias.to(w_out.dtype),
                None, None, None, None, None)


def a2_attention(x: Tensor, w_in: Tensor, phi_bias: Tensor, rho_bias: Tensor,
                 w_out: Tensor, out_bias: Tensor, m: int, n: int, chunk: int,
                 low: torch.dtype, residual: bool) -> Tensor:
    """Double attention on ``x`` (B, C, N); returns (B, C, N).

    Args:
        x: the input, positions flattened.
        w_in: (m+2n, C) fused phi/theta/rho weights; phi_bias (m,);
            rho_bias (n,).
        w_out: (C, m) output projection; out_bias (C,).
        m, n: descriptor size and number of descriptors.
        chunk: positions per chunk in the hand-written path.
        low: dtype of the two N-sized products (the autocast dtype).
        residual: return ``x + Y`` (in x's dtype) instead of ``Y`` (in low).
    """
    # Equal chunks of at most `chunk` positions (4096 on 6272 positions would
    # leave a ragged 2176; two of 3136 run at a better GEMM shape).
    chunk = -(-x.shape[-1] // -(-x.shape[-1] // chunk))
    grad_needed = torch.is_grad_enabled() and (
        x.requires_grad or w_in.requires_grad)
    if (not grad_needed or torch.compiler.is_compiling()
            or torch.jit.is_tracing()):
        return a2_attention_plain(x, w_in, phi_bias, rho_bias, w_out,
                                  out_bias, m, n, low, residual)
    return _A2AttentionFunction.apply(x, w_in, phi_bias, rho_bias, w_out,
                                      out_bias, m, n, chunk, low, residual)

"""The ``'chunked'`` pass of the double-attention operator (equations in
:mod:`.a2_attention`): forward and backward written by hand in torch, the
CPU training pass. Both directions walk the positions in chunks: the gather
softmax is computed online (running max, as in FlashAttention), the backward
reuses one chunk-sized buffer and fuses the three contributions to dX into
one product, and only X and (T, R) are kept for the backward."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .a2_autograd import acc_dtype, batched, descriptor_grads
from .a2_weights import A2Weights

__all__ = ['a2_chunked']


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


class _A2Chunked(torch.autograd.Function):
    """The ``'chunked'`` pass as an autograd Function (positional arguments,
    as ``apply`` takes them); call it through :func:`a2_chunked`."""

    @staticmethod
    def forward(ctx, x: Tensor, w_in: Tensor, phi_bias: Tensor,
                rho_bias: Tensor, w_out: Tensor, out_bias: Tensor,
                chunk: int, low: torch.dtype, residual: bool) -> Tensor:
        batch, channels, num_pos = x.shape
        n = rho_bias.shape[0]
        acc = acc_dtype(low)
        weights = A2Weights(w_in, phi_bias, rho_bias, w_out, out_bias)
        with torch.autocast(x.device.type, enabled=False):
            x_low = x.to(low)
            w_tr = weights.theta_rho.to(low).expand(batch, -1, -1)  # (B,2n,C)
            proj = x.new_empty((batch, 2 * n, num_pos), dtype=low)
            # Pass 1: theta and rho, and U = X S^T with an online softmax.
            pooled = x.new_zeros((batch, channels, n), dtype=acc)
            denom = x.new_zeros((batch, n, 1), dtype=acc)
            run_max = None
            for s in range(0, num_pos, chunk):
                p_c = proj[..., s:s + chunk]  # (B, 2n, c)
                torch.bmm(w_tr, x_low[..., s:s + chunk], out=p_c)
                theta = p_c[:, :n].to(acc)  # (B, n, c)
                c_max = theta.amax(dim=-1, keepdim=True)  # (B, n, 1)
                new_max = c_max if run_max is None else torch.maximum(
                    run_max, c_max)
                e = (theta - new_max).exp_()  # (B, n, c)
                if run_max is not None:
                    scale = torch.exp(run_max - new_max)  # (B, n, 1)
                    pooled.mul_(scale.transpose(1, 2))
                    denom.mul_(scale)
                pooled.baddbmm_(x[..., s:s + chunk].to(acc),
                                e.transpose(1, 2))
                denom.add_(e.sum(dim=-1, keepdim=True))
                run_max = new_max
            pooled.div_(denom.transpose(1, 2))  # U: (B, C, n)
            desc = torch.baddbmm(phi_bias.to(acc)[:, None],
                                 batched(weights.phi, acc, batch), pooled)
            # G: (B, m, n)
            out_desc = torch.baddbmm(out_bias.to(acc)[:, None],
                                     batched(w_out, acc, batch), desc)
            # D: (B, C, n)
            out_desc_low = out_desc.to(low)
            # Pass 2: distribute.
            out = x.new_empty((batch, channels, num_pos),
                              dtype=x.dtype if residual else low)
            rho_b = rho_bias.to(acc)[:, None]
            for s in range(0, num_pos, chunk):
                dist = _softmax_descriptors(proj[:, n:, s:s + chunk],
                                            rho_b).to(low)  # (B, n, c)
                if residual:
                    torch.baddbmm(x[..., s:s + chunk], out_desc_low, dist,
                                  out=out[..., s:s + chunk])
                else:
                    torch.bmm(out_desc_low, dist, out=out[..., s:s + chunk])
        log_denom = torch.log(denom) + run_max  # logsumexp of theta
        ctx.save_for_backward(x, w_in, rho_bias, w_out, proj, pooled, desc,
                              out_desc, log_denom)
        ctx.chunk = chunk
        ctx.low = low
        ctx.residual = residual
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        (x, w_in, rho_bias, w_out, proj, pooled, desc, out_desc,
         log_denom) = ctx.saved_tensors
        chunk, low = ctx.chunk, ctx.low
        acc = acc_dtype(low)
        batch, channels, num_pos = x.shape
        n = rho_bias.shape[0]
        weights = A2Weights(w_in, None, rho_bias, w_out, None)
        with torch.autocast(x.device.type, enabled=False):
            grad_out = grad_out.to(low)
            x_low = x.to(low)
            rho_b = rho_bias.to(acc)[:, None]
            # Pass 1: dD = sum over positions of dY V^T; keeps V (n x N,
            # small) for pass 2.
            grad_desc_out = x.new_zeros((batch, channels, n), dtype=acc)
            dists = []
            for s in range(0, num_pos, chunk):
                dists.append(_softmax_descriptors(proj[:, n:, s:s + chunk],
                                                  rho_b))  # (B, n, c)
                grad_desc_out.baddbmm_(grad_out[..., s:s + chunk].to(acc),
                                       dists[-1].transpose(1, 2))
            # The small matrices: D = W_out G + b, G = W_phi U + b_phi.
            small = descriptor_grads(grad_desc_out, pooled, desc, weights)
            s_dot = small.row_dot[..., None]  # (B, n, 1)
            grad_pooled_t = small.pooled.transpose(1, 2)  # (B, n, C)
            out_desc_t = out_desc.transpose(1, 2).to(low)  # (B, n, C)
            # dX = dY + W_theta^T dT + W_rho^T dR + dU S: one product with
            # [W_theta; W_rho; dU^T]^T on [dT; dR; S].
            w_cat_t = torch.cat(
                [weights.theta_rho.to(low).expand(batch, -1, -1),
                 grad_pooled_t.to(low)], dim=1).transpose(1, 2)  # (B,C,3n)

            # Pass 2: [dT; dR; S] per chunk in one reused buffer.
            grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
            grad_w_tr = x.new_zeros((2 * n, channels), dtype=acc)
            grad_rho_bias = x.new_zeros((n, ), dtype=acc)
            buf = None
            for dist, s in zip(dists, range(0, num_pos, chunk)):
                width = min(chunk, num_pos - s)
                if buf is None or buf.shape[-1] != width:
                    buf = x.new_empty((batch, 3 * n, width), dtype=acc)
                grad_theta, grad_rho, gather = buf.split((n, n, n), dim=1)
                g_c = grad_out[..., s:s + chunk]  # (B, C, c)
                x_c = x[..., s:s + chunk]
                # distribution: dR = V * (dV - sum_n V dV), dV = D^T dY
                _bmm_into(grad_rho, out_desc_t, g_c)
                v_dot = (dist * grad_rho).sum(dim=1, keepdim=True)
                grad_rho.sub_(v_dot).mul_(dist)
                grad_rho_bias.add_(grad_rho.sum(dim=(0, 2)))
                # gather: dT = S * (dS - sum_N S dS), dS = dU^T X
                torch.sub(proj[:, :n, s:s + chunk].to(acc), log_denom,
                          out=gather).exp_()  # S: (B, n, c)
                _bmm_into(grad_theta, grad_pooled_t, x_c.to(acc))
                grad_theta.sub_(s_dot).mul_(gather)
                buf_low = buf.to(low)
                # dW_theta,rho += sum_b [dT; dR] X^T
                grad_w_tr.add_(torch.mm(
                    buf_low[:, :2 * n].transpose(0, 1).reshape(2 * n, -1),
                    x_low[..., s:s + chunk].transpose(0, 1).reshape(
                        channels, -1).t()))  # (2n, C)
                if grad_x is not None:
                    if ctx.residual:
                        torch.baddbmm(g_c, w_cat_t, buf_low,
                                      out=grad_x[..., s:s + chunk])
                    else:  # under autocast: x (and dX) in float32
                        _bmm_into(grad_x[..., s:s + chunk], w_cat_t,
                                  buf_low)
        grad_w_in = torch.cat([small.w_phi, grad_w_tr])  # (m+2n, C)
        return (grad_x, grad_w_in.to(w_in.dtype),
                small.phi_bias.to(w_in.dtype), grad_rho_bias.to(w_in.dtype),
                small.w_out.to(w_out.dtype), small.out_bias.to(w_out.dtype),
                None, None, None)


def a2_chunked(x: Tensor, weights: A2Weights, *, low: torch.dtype,
               residual: bool, chunk: int) -> Tensor:
    """The ``'chunked'`` pass over chunks of at most ``chunk`` positions;
    otherwise as :func:`~.a2_autograd.a2_autograd`."""
    return _A2Chunked.apply(x, *weights, chunk, low, residual)

"""The double-attention operator, functional form.

``a2_attention`` computes, per sample, on positions laid out as (C, N)::

    T, R = W_theta @ X, W_rho @ X      (n, N) each  one fused product
    S = softmax_N(T)                   (n, N)   gather maps
    U = X @ S^T                        (C, n)   inputs pooled by each map
    G = W_phi @ U + b_phi              (m, n)   the n global descriptors
    D = W_out @ G + b_out              (C, n)   descriptors, projected
    V = softmax_n(R + b_rho)           (n, N)   distribution maps
    Y = D @ V  (+ X when residual)     (C, N)

This is the paper's ``G = phi(X) @ S^T``, ``Z = G @ V``, ``Y = W_out Z + b``
with the products re-associated, all exact:

* ``phi(X) @ S^T = W_phi @ (X @ S^T) + b_phi`` (rows of S sum to 1): phi is
  applied to the n pooled columns instead of to all N positions, so the
  per-position work does not depend on m at all and A = phi(X) is never
  stored;
* ``W_out @ (G @ V) + b_out = D @ V`` (columns of V sum to 1): the output
  projection is folded into the n descriptors;
* theta needs no bias: a constant per row cancels in softmax_N.

Per position that is 2n*C (theta, rho) + n*C (pooling) + n*C (distribution)
multiply-adds, against (m + 2n)*C + m*n + m*n + m*C for the products in the
order written. No N x N tensor ever exists.

Two training passes compute the same equations; ``impl=`` names them:

* ``'autograd'``, :func:`a2_attention_autograd`: ordinary autograd ops; used
  for inference, tracing/export, under ``torch.compile``, and for training
  on GPUs (fewer, larger kernels, which matters more there than memory
  traffic).
* ``'chunked'``, :func:`a2_attention_chunked`: forward and backward written
  by hand, used for training in eager mode on the CPU. Both directions walk
  the positions in chunks: the gather softmax is computed online (running
  max, as in FlashAttention), the backward reuses one chunk-sized buffer and
  fuses the three contributions to dX into one product, and only X and
  (T, R) are kept for the backward.

The fused input weight ``w_in`` (m+2n, C) holds phi, theta and rho in that
row order; :func:`in_proj_parts` is the one place that slices it.

Both run the N-sized products with C on one side in ``low`` (the autocast
dtype) and everything else (softmaxes, the pooling into U, the small
products) in at least float32.
"""
from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'a2_attention', 'a2_attention_autograd', 'a2_attention_chunked',
    'a2_attention_plain', 'InProjParts', 'in_proj_parts', 'check_impl',
    'training_pass', 'IMPLS'
]

#: ways of computing a training pass, see :func:`a2_attention`
IMPLS = ('auto', 'chunked', 'autograd')


class InProjParts(NamedTuple):
    """The row blocks of the fused input weight ``w_in`` (m+2n, C), as views
    (no copy): ``phi`` rows ``[0, m)``, ``theta_rho`` rows ``[m, m+2n)``
    (theta then rho, applied as one product)."""
    phi: Tensor  # (m, C)
    theta_rho: Tensor  # (2n, C)

    @property
    def theta(self) -> Tensor:
        """(n, C): rows ``[m, m+n)`` of ``w_in``."""
        return self.theta_rho[:self.theta_rho.shape[0] // 2]

    @property
    def rho(self) -> Tensor:
        """(n, C): rows ``[m+n, m+2n)`` of ``w_in``."""
        return self.theta_rho[self.theta_rho.shape[0] // 2:]


def in_proj_parts(w_in: Tensor, *, m: int, n: int) -> InProjParts:
    """Split the fused input weight ``w_in`` (m+2n, C) into its phi and
    theta/rho rows (see :class:`InProjParts`).

    Raises:
        ValueError: ``w_in`` does not have m+2n rows (e.g. m and n swapped
            with m != n).
    """
    if not torch.jit.is_tracing() and w_in.shape[0] != m + 2 * n:
        raise ValueError(
            f'w_in must have m + 2n = {m} + 2*{n} = {m + 2 * n} rows '
            f'(phi, theta, rho), got shape {tuple(w_in.shape)}')
    return InProjParts(phi=w_in[:m], theta_rho=w_in[m:])


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype: float32, or float64 for float64 inputs."""
    return torch.promote_types(dtype, torch.float32)


def a2_attention_autograd(x: Tensor, *, w_in: Tensor, phi_bias: Tensor,
                          rho_bias: Tensor, w_out: Tensor, out_bias: Tensor,
                          m: int, n: int, low: torch.dtype,
                          residual: bool) -> Tensor:
    """The ``'autograd'`` pass: the equations as autograd ops.
    x: (B, C, N); arguments as for :func:`a2_attention`."""
    batch = x.shape[0]
    acc = _acc_dtype(low)
    parts = in_proj_parts(w_in, m=m, n=n)
    with torch.autocast(x.device.type, enabled=False):
        proj = torch.bmm(parts.theta_rho.to(low).expand(batch, -1, -1),
                         x.to(low))  # (B, 2n, N)
        theta, rho = proj.split((n, n), dim=1)
        gather = F.softmax(theta.to(acc), dim=-1)  # S: (B, n, N)
        pooled = torch.bmm(x.to(acc), gather.transpose(1, 2))  # U: (B, C, n)
        desc = torch.baddbmm(phi_bias.to(acc)[:, None],
                             _batched(parts.phi, acc, batch), pooled)  # G
        out_desc = torch.baddbmm(out_bias.to(acc)[:, None],
                                 _batched(w_out, acc, batch), desc)
        out_desc = out_desc.to(low)  # D: (B, C, n)
        dist = F.softmax(rho.to(acc) + rho_bias.to(acc)[:, None], dim=1)
        if residual:
            return torch.baddbmm(x, out_desc, dist.to(low))  # (B, C, N)
        return torch.bmm(out_desc, dist.to(low))  # (B, C, N)


#: the ``'autograd'`` pass's earlier name, kept for existing imports
a2_attention_plain = a2_attention_autograd


def _batched(weight: Tensor, dtype: torch.dtype, batch: int) -> Tensor:
    """A (rows, cols) weight as a (batch, rows, cols) view for bmm, which
    reads it in place (matmul of a 2D and a 3D tensor copies the 3D one)."""
    return weight.to(dtype).expand(batch, -1, -1)


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


class _A2AttentionChunked(torch.autograd.Function):
    """The ``'chunked'`` pass as an autograd Function (positional arguments,
    as ``apply`` takes them); call it through :func:`a2_attention_chunked`.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w_in: Tensor, phi_bias: Tensor,
                rho_bias: Tensor, w_out: Tensor, out_bias: Tensor, m: int,
                n: int, chunk: int, low: torch.dtype,
                residual: bool) -> Tensor:
        batch, channels, num_pos = x.shape
        acc = _acc_dtype(low)
        parts = in_proj_parts(w_in, m=m, n=n)
        with torch.autocast(x.device.type, enabled=False):
            x_low = x.to(low)
            w_tr = parts.theta_rho.to(low).expand(batch, -1, -1)  # (B, 2n, C)
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
                                 _batched(parts.phi, acc, batch), pooled)
            # G: (B, m, n)
            out_desc = torch.baddbmm(out_bias.to(acc)[:, None],
                                     _batched(w_out, acc, batch), desc)
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
        ctx.sizes = (m, n, chunk)
        ctx.low = low
        ctx.residual = residual
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        (x, w_in, rho_bias, w_out, proj, pooled, desc, out_desc,
         log_denom) = ctx.saved_tensors
        m, n, chunk = ctx.sizes
        low = ctx.low
        acc = _acc_dtype(low)
        batch, channels, num_pos = x.shape
        parts = in_proj_parts(w_in, m=m, n=n)
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
            grad_out_bias = grad_desc_out.sum(dim=(0, 2))  # (C,)
            grad_w_out = torch.bmm(grad_desc_out,
                                   desc.transpose(1, 2)).sum(0)  # (C, m)
            grad_desc = torch.bmm(_batched(w_out.t(), acc, batch),
                                  grad_desc_out)  # dG: (B, m, n)
            grad_phi_bias = grad_desc.sum(dim=(0, 2))  # (m,)
            grad_w_phi = torch.bmm(grad_desc,
                                   pooled.transpose(1, 2)).sum(0)  # (m, C)
            grad_pooled = torch.bmm(_batched(parts.phi.t(), acc, batch),
                                    grad_desc)  # dU: (B, C, n)
            # dS = dU^T X; sum_N S * dS per gather map = sum_C dU * U.
            s_dot = (grad_pooled * pooled).sum(dim=1)[..., None]  # (B, n, 1)
            grad_pooled_t = grad_pooled.transpose(1, 2)  # (B, n, C)
            out_desc_t = out_desc.transpose(1, 2).to(low)  # (B, n, C)
            # dX = dY + W_theta^T dT + W_rho^T dR + dU S: one product with
            # [W_theta; W_rho; dU^T]^T on [dT; dR; S].
            w_cat_t = torch.cat(
                [parts.theta_rho.to(low).expand(batch, -1, -1),
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
        grad_w_in = torch.cat([grad_w_phi, grad_w_tr])  # (m+2n, C)
        return (grad_x, grad_w_in.to(w_in.dtype),
                grad_phi_bias.to(w_in.dtype), grad_rho_bias.to(w_in.dtype),
                grad_w_out.to(w_out.dtype), grad_out_bias.to(w_out.dtype),
                None, None, None, None, None)


def a2_attention_chunked(x: Tensor, *, w_in: Tensor, phi_bias: Tensor,
                         rho_bias: Tensor, w_out: Tensor, out_bias: Tensor,
                         m: int, n: int, chunk: int, low: torch.dtype,
                         residual: bool) -> Tensor:
    """The ``'chunked'`` pass: forward and backward written by hand, over
    chunks of at most ``chunk`` positions. x: (B, C, N); arguments as for
    :func:`a2_attention`."""
    return _A2AttentionChunked.apply(x, w_in, phi_bias, rho_bias, w_out,
                                     out_bias, m, n, chunk, low, residual)


def _is_compiling() -> bool:
    """Whether torch.compile is tracing (``torch.compiler.is_compiling``
    appeared in torch 2.3; torch 2.1 and 2.2 have the dynamo one)."""
    if hasattr(torch.compiler, 'is_compiling'):
        return torch.compiler.is_compiling()
    return torch._dynamo.is_compiling()


def check_impl(impl: str) -> None:
    """Raise a ValueError naming the choices when ``impl`` is not one."""
    if impl not in IMPLS:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')


def training_pass(impl: str, device_type: str) -> str:
    """The training pass ``impl`` resolves to on ``device_type``:
    ``'chunked'`` or ``'autograd'`` (``'auto'``: chunked on the CPU only)."""
    check_impl(impl)
    if impl == 'auto':
        return 'chunked' if device_type == 'cpu' else 'autograd'
    return impl


def a2_attention(x: Tensor,
                 *,
                 w_in: Tensor,
                 phi_bias: Tensor,
                 rho_bias: Tensor,
                 w_out: Tensor,
                 out_bias: Tensor,
                 m: int,
                 n: int,
                 chunk: int,
                 low: torch.dtype,
                 residual: bool,
                 impl: str = 'auto') -> Tensor:
    """Double attention on ``x`` (B, C, N); returns (B, C, N).

    Everything after ``x`` is keyword-only: ``m`` and ``n`` (and the three
    biases) have the same type and, often, the same size.

    Args:
        x: the input, positions flattened.
        w_in: (m+2n, C) fused phi/theta/rho weights (rows in that order, see
            :func:`in_proj_parts`).
        phi_bias: (m,) bias of phi.
        rho_bias: (n,) bias of rho.
        w_out: (C, m) output projection.
        out_bias: (C,) bias of the output projection.
        m: size of each descriptor (rows of phi).
        n: number of descriptors (rows of theta and of rho).
        chunk: at most this many positions per chunk in the ``'chunked'``
            pass.
        low: dtype of the two N-sized products (the autocast dtype).
        residual: return ``x + Y`` (in x's dtype) instead of ``Y`` (in low).
        impl: the training pass (gradients needed): ``'chunked'``
            (:func:`a2_attention_chunked`), ``'autograd'``
            (:func:`a2_attention_autograd`), or ``'auto'``: chunked on the
            CPU, where it is faster and leaner, autograd on other devices,
            where the chunked pass's extra small kernels cost more in
            launches than its saved memory traffic wins.
    """
    # Equal chunks of at most `chunk` positions (4096 on 6272 positions would
    # leave a ragged 2176; two of 3136 run at a better GEMM shape).
    chunk = -(-x.shape[-1] // -(-x.shape[-1] // chunk))
    grad_needed = torch.is_grad_enabled() and (
        x.requires_grad or w_in.requires_grad)
    common = dict(w_in=w_in, phi_bias=phi_bias, rho_bias=rho_bias,
                  w_out=w_out, out_bias=out_bias, m=m, n=n, low=low,
                  residual=residual)
    if (not grad_needed or training_pass(impl, x.device.type) != 'chunked'
            or _is_compiling() or torch.jit.is_tracing()):
        return a2_attention_autograd(x, **common)
    return a2_attention_chunked(x, chunk=chunk, **common)

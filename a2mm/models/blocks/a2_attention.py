"""The double-attention operator: its weights, and which pass computes it.

``a2_attention`` computes, per sample, on positions laid out as (C, N)::

    T, R = W_theta @ X, W_rho @ X      (n, N) each  one fused product
    S = softmax_N(T)                   (n, N)   gather maps
    U = X @ S^T                        (C, n)   inputs pooled by each map
    G = W_phi @ U + b_phi              (m, n)   the n global descriptors
    D = W_out @ G + b_out              (C, n)   descriptors, projected
    V = softmax_n(R + b_rho)           (n, N)   distribution maps
    Y = D @ V  (+ X when residual)     (C, N)

This is the paper's ``G = phi(X) @ S^T``, ``Z = G @ V``, ``Y = W_out Z + b``
(A²-Nets, Sec. 3, with S and V as named there) with the products
re-associated, all exact:

* ``phi(X) @ S^T = W_phi @ (X @ S^T) + b_phi`` (rows of S sum to 1): phi is
  applied to the n pooled columns instead of to all N positions, so the
  per-position work does not depend on m at all and phi(X) is never stored;
* ``W_out @ (G @ V) + b_out = D @ V`` (columns of V sum to 1): the output
  projection is folded into the n descriptors;
* theta needs no bias: a constant per row cancels in softmax_N.

Per position that is 2n*C (theta, rho) + n*C (pooling) + n*C (distribution)
multiply-adds. No N x N tensor ever exists. The gather step is attention of
the n rows of W_theta (queries) over the N positions (keys and values: X);
the distribution step is attention of each position (query: its column of
X, through W_rho) over the n descriptors (values: the columns of D).

Three passes compute the same equations, one module each, all called as
``pass_(x, weights, low=..., residual=...)``:

* ``'autograd'`` (:mod:`.a2_autograd`): ordinary autograd ops; the reference,
  and the pass for inference on the CPU, tracing and export.
* ``'chunked'`` (:mod:`.a2_chunked`): forward and backward written by hand
  in torch, over chunks of positions; the CPU training pass.
* ``'fused'`` (:mod:`.a2_fused`): Triton kernels, forward and backward, as a
  torch custom op (works under ``torch.compile``); the CUDA pass.

:func:`a2_attention` is the one place that picks the pass (``impl``,
device, autocast, compile, export) and decides how the residual is added.
"""
from typing import Optional

import torch
from torch import Tensor

from . import a2_autograd, a2_chunked, a2_fused
from .a2_weights import A2Weights

__all__ = ['a2_attention', 'check_impl', 'choose_pass', 'IMPLS']

#: values of ``impl``, see :func:`a2_attention`
IMPLS = ('auto', 'chunked', 'autograd', 'fused')


def check_impl(impl: str) -> None:
    """Raise a ValueError naming the choices when ``impl`` is not one."""
    if impl not in IMPLS:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')


def _is_compiling() -> bool:
    """Whether torch.compile is tracing (``torch.compiler.is_compiling``
    appeared in torch 2.3; torch 2.1 and 2.2 have the dynamo one)."""
    if hasattr(torch.compiler, 'is_compiling'):
        return torch.compiler.is_compiling()
    return torch._dynamo.is_compiling()


def _is_exporting() -> bool:
    """Tracing for TorchScript or ONNX: only plain aten ops go through."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def _autocast_dtype(device_type: str) -> Optional[torch.dtype]:
    """The dtype autocast gives matrix products on ``device_type``, or None
    when autocast is off there."""
    if hasattr(torch, 'get_autocast_dtype'):  # torch >= 2.4
        if torch.is_autocast_enabled(device_type):
            return torch.get_autocast_dtype(device_type)
        return None
    if device_type == 'cpu':  # torch 2.1 - 2.3
        return (torch.get_autocast_cpu_dtype()
                if torch.is_autocast_cpu_enabled() else None)
    return (torch.get_autocast_gpu_dtype()
            if torch.is_autocast_enabled() else None)


def choose_pass(impl: str, x: Tensor, weights: A2Weights,
                low: torch.dtype) -> str:
    """The pass that computes the operator on ``x`` in ``low``:
    ``'autograd'``, ``'chunked'`` or ``'fused'``.

    * tracing or ONNX export: ``'autograd'`` (plain aten ops), whatever
      ``impl`` says;
    * ``'fused'``: the Triton pass (a RuntimeError says why when it cannot
      run on ``x``'s device);
    * ``'chunked'``: the hand-written pass when gradients are needed in eager
      mode, else ``'autograd'``;
    * ``'auto'``: ``'fused'`` on CUDA when Triton works there (float32, fp16
      and bf16), ``'chunked'`` for CPU training in eager mode, else
      ``'autograd'``.
    """
    check_impl(impl)
    if _is_exporting() or impl == 'autograd':
        return 'autograd'
    if impl == 'fused':
        reason = a2_fused.unavailable_reason(x.device)
        if reason is not None:
            raise RuntimeError(f"A2 impl='fused' cannot run on {x.device}: "
                               f"{reason}; use impl='auto' to fall back")
        return 'fused'
    if (impl == 'auto' and x.device.type == 'cuda'
            and low in (torch.float32, torch.float16, torch.bfloat16)
            and a2_fused.unavailable_reason(x.device) is None):
        return 'fused'
    grad_needed = torch.is_grad_enabled() and (x.requires_grad
                                               or weights.w_in.requires_grad)
    chunked = impl == 'chunked' or x.device.type == 'cpu'  # 'auto': CPU
    if grad_needed and chunked and not _is_compiling():
        return 'chunked'
    return 'autograd'


def _even_chunk(num_pos: int, chunk: int) -> int:
    """The size of the fewest equal chunks of at most ``chunk`` positions
    (4096 on 6272 positions would leave a ragged 2176; two of 3136 run at a
    better matrix-product shape)."""
    num_chunks = (num_pos + chunk - 1) // chunk
    return (num_pos + num_chunks - 1) // num_chunks


def a2_attention(x: Tensor,
                 weights: A2Weights,
                 *,
                 residual: bool,
                 impl: str = 'auto',
                 chunk: int = 4096) -> Tensor:
    """Double attention on ``x`` (B, C, N); returns (B, C, N).

    The two N-sized products run in the autocast dtype when autocast is on
    (else in x's dtype), softmaxes and small products in at least float32.

    Args:
        x: the input, positions flattened (any strides, e.g. a
            ``channels_last_3d`` clip viewed as (B, C, N)).
        weights: the parameters, see :class:`A2Weights`.
        residual: return ``x + Y`` in x's dtype (with x's strides); else
            ``Y`` alone, in the product dtype.
        impl: ``'auto'``, ``'chunked'``, ``'autograd'`` or ``'fused'``, see
            :func:`choose_pass`.
        chunk: at most this many positions per chunk in the ``'chunked'``
            pass.
    """
    weights.check()
    low = _autocast_dtype(x.device.type) or x.dtype
    name = choose_pass(impl, x, weights, low)
    # The fused pass adds x in its last kernel whatever the dtypes; the
    # others only when Y comes out in x's dtype.
    fuse_residual = residual and (name == 'fused' or low == x.dtype)
    if name == 'fused':
        y = a2_fused.a2_fused(x, weights, low=low, residual=fuse_residual)
    elif name == 'chunked':
        y = a2_chunked.a2_chunked(
            x, weights, low=low, residual=fuse_residual,
            chunk=_even_chunk(x.shape[-1], chunk))
    else:
        y = a2_autograd.a2_autograd(x, weights, low=low,
                                    residual=fuse_residual)
    if residual and not fuse_residual:
        return x + y.to(x.dtype)
    return y


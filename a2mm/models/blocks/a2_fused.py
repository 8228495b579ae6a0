"""The ``'fused'`` pass of the double-attention operator (equations in
:mod:`.a2_attention`): forward and backward in Triton
(:mod:`.a2_fused_kernels`), the CUDA pass.

The gather step is attention of the n rows of W_theta over the N positions
and the distribution step attention of each position over the n
descriptors, so FlashAttention's ingredients apply: the kernels walk tiles of
positions, the softmax over N is carried by per-row statistics (its
log-sum-exp, n numbers per sample) instead of a stored (n, N) map, and the
backward recomputes S and V from the projections. What goes to memory per
sample: T and R (2n x N, in the product dtype, as the other passes keep
them; recomputing them would cost 2nCN more multiply-adds each time), the
output, and in the backward dT and dR; the small products (C x n, m x n)
run in torch in float32. Three kernels forward, three backward.

Both directions are torch custom ops (``a2mm::a2_fused_forward`` and
``a2mm::a2_fused_backward``) with fake (shape) functions and the autograd
formula registered, so ``torch.compile`` keeps a model that contains the
block in one graph. On CPU tensors the kernels run only under Triton's
interpreter (``TRITON_INTERPRET=1`` set before a2mm is imported), which is
how the tests check them on machines without a GPU.
"""
import contextlib
import functools
from types import ModuleType
from typing import ContextManager, NamedTuple, Optional, Tuple

import torch
import torch.utils._python_dispatch
from torch import Tensor

from .a2_autograd import acc_dtype, batched, descriptor_grads
from .a2_weights import A2Weights



@functools.lru_cache(maxsize=None)
def _import_kernels() -> Tuple[Optional[ModuleType], Optional[str]]:
    """(the kernels module, None), or (None, why Triton does not import);
    imported on first use, so that ``import a2mm`` does not load Triton."""
    try:
        from . import a2_fused_kernels
    except ImportError as error:  # Triton is not installed
        return None, str(error)
    return a2_fused_kernels, None

__all__ = ['a2_fused', 'unavailable_reason']

#: the oldest CUDA architecture the pass is offered on (bf16 tensor-core
#: products need Ampere, sm_80)
MIN_CAPABILITY = (8, 0)


def unavailable_reason(device: torch.device) -> Optional[str]:
    """Why the fused pass cannot run on ``device``, or None when it can:
    Triton imports, the device is a CUDA GPU of compute capability 8.0 or
    newer (or any device under the interpreter), and on a GPU a first tiny
    call of the kernels runs and agrees with the autograd pass (checked
    once per device)."""
    kernels, import_error = _import_kernels()
    if kernels is None:
        return f'Triton does not import ({import_error})'
    if kernels.INTERPRETED:
        return None
    if device.type == 'cpu':
        return ('Triton kernels run on CPU tensors only in its interpreter '
                '(TRITON_INTERPRET=1 set before importing a2mm)')
    if device.type != 'cuda':
        return f'the Triton kernels run on CUDA devices, not {device.type}'
    index = torch.cuda.current_device() if device.index is None \
        else device.index
    if index not in _CUDA_REASONS:
        _CUDA_REASONS[index] = _probe(torch.device('cuda', index))
    return _CUDA_REASONS[index]


#: unavailable_reason of each CUDA device index, once probed
_CUDA_REASONS = {}


def _probe(device: torch.device) -> Optional[str]:
    """None when the kernels run on ``device`` and agree with the autograd
    pass on a tiny input (ragged tile, odd sizes), else why not."""
    capability = torch.cuda.get_device_capability(device)
    if capability < MIN_CAPABILITY:
        return (f'compute capability {capability} is older than '
                f'{MIN_CAPABILITY}')
    from .a2_autograd import a2_autograd
    gen = torch.Generator(device='cpu').manual_seed(0)
    # torch.compile may ask while it traces (unavailable_reason is an
    # assumed constant there): the probe runs on real tensors, outside any
    # fake or proxy dispatch mode the tracer has active
    try:
        with _real_tensors(), torch.no_grad():
            weights = A2Weights(*(
                torch.randn(shape, generator=gen).to(device) / 4
                for shape in ((3 + 2 * 5, 20), (3, ), (5, ), (20, 3),
                              (20, ))))
            x = torch.randn((2, 20, 37), generator=gen).to(device)
            got = _forward(x, weights, torch.float32, True)[0]
            want = a2_autograd(x, weights, low=torch.float32, residual=True)
            error = float((got - want).abs().max())
    except Exception as exc:  # noqa: BLE001  (reported: 'auto' falls back)
        return f'the Triton kernels failed on a probe: {exc!r}'
    if not error < 1e-2:
        return f'the Triton kernels disagree with autograd by {error}'
    return None


def _real_tensors() -> ContextManager:
    """Leave the dispatch modes (fake tensors, proxies) a tracer has active
    (``torch.utils._python_dispatch._disable_current_modes``, the helper
    torch's own compiler uses for the same purpose)."""
    disable = getattr(torch.utils._python_dispatch, '_disable_current_modes',
                      None)
    return contextlib.nullcontext() if disable is None else disable()


if hasattr(torch.compiler, 'assume_constant_result'):
    # torch.compile calls it once while tracing and keeps the answer
    unavailable_reason = torch.compiler.assume_constant_result(
        unavailable_reason)


#: programs a split reduction aims at: about two per SM of a large GPU (132
#: on an H100 or H200)
_PROGRAMS = 264


class _Tiles(NamedTuple):
    """Tile sizes and warps for C channels and n descriptors."""
    rows: int  # NP: n rounded up to a power of two (>= 16, tl.dot's least)
    block_n: int  # positions per tile
    block_c: int  # channels per step
    block_r: int  # descriptor rows per program in the pooling
    num_warps: int

    @classmethod
    def of(cls, channels: int, n: int) -> '_Tiles':
        rows = max(16, _next_pow2(n))
        # keep the (NP, BLOCK_N) float32 tiles that the backward holds (V,
        # dV, dS) at 8k values each
        block_n = max(16, min(64, 8192 // rows))
        block_c = max(16, min(64, _next_pow2(channels)))
        return cls(rows=rows, block_n=block_n, block_c=block_c,
                   block_r=min(rows, 64), num_warps=4 if rows <= 64 else 8)


def _next_pow2(value: int) -> int:
    return 1 << max(0, value - 1).bit_length()


def _cdiv(a: int, b: int) -> int:
    return (a + b - 1) // b


def _constants(low: torch.dtype, device: torch.device) -> dict:
    """The kernels' dtype constants: LOW (products), ACC (accumulation) and
    PREC (tl.dot's input precision for float32: TF32 where PyTorch's own
    CUDA matmuls use it, ``torch.backends.cuda.matmul.allow_tf32``)."""
    import triton.language as tl
    tl_dtypes = {torch.float32: tl.float32, torch.float16: tl.float16,
                 torch.bfloat16: tl.bfloat16, torch.float64: tl.float64}
    if low not in tl_dtypes:
        raise TypeError(f'the fused A2 pass computes in {list(tl_dtypes)}, '
                        f'got {low}')
    # half-precision inputs take tensor cores whatever PREC says
    prec = 'tf32'
    if low == torch.float64 or (low == torch.float32 and (
            device.type != 'cuda'
            or not torch.backends.cuda.matmul.allow_tf32)):
        prec = 'ieee'
    return dict(LOW=tl_dtypes[low], ACC=tl_dtypes[acc_dtype(low)], PREC=prec)


def _launch(x: Tensor, weights: A2Weights, low: torch.dtype) -> tuple:
    """What every launch of the kernels on ``x`` (B, C, N) needs: (the
    kernels module, B, C, N, n, the accumulation dtype, the tiles, the dtype
    constants, the number of position tiles)."""
    batch, channels, num_pos = x.shape
    tiles = _Tiles.of(channels, weights.n)
    return (_import_kernels()[0], batch, channels, num_pos, weights.n,
            acc_dtype(low), tiles, _constants(low, x.device),
            _cdiv(num_pos, tiles.block_n))


def _forward(x: Tensor, weights: A2Weights, low: torch.dtype,
             residual: bool) -> Tuple[Tensor, ...]:
    """Y (+ X) and what the backward keeps: T and R, the log-sum-exp of T,
    U, G and D (in low)."""
    (kernels, batch, channels, num_pos, n, acc, tiles, consts,
     num_tiles) = _launch(x, weights, low)
    w_tr = weights.theta_rho
    rho_bias = weights.rho_bias.contiguous()
    proj = x.new_empty((batch, 2 * n, num_pos), dtype=low)  # [T; R]
    tile_max = x.new_empty((batch, num_tiles, n), dtype=acc)
    tile_sum = torch.empty_like(tile_max)
    kernels.project_kernel[(num_tiles, batch)](
        x, w_tr, proj, tile_max, tile_sum, channels, num_pos, n, *x.stride(),
        *w_tr.stride(), NP=tiles.rows, BLOCK_N=tiles.block_n,
        BLOCK_C=tiles.block_c, num_warps=tiles.num_warps, **consts)
    run_max = tile_max.amax(dim=1)  # (B, n)
    lse = run_max + (tile_sum * (tile_max - run_max[:, None]).exp()).sum(
        dim=1).log()  # logsumexp_N T: (B, n)
    pooled = x.new_empty((batch, channels, n), dtype=acc)  # U
    kernels.pool_kernel[(_cdiv(n, tiles.block_r),
                         _cdiv(channels, tiles.block_c), batch)](
        x, proj, lse, pooled, channels, num_pos, n, *x.stride(),
        BLOCK_R=tiles.block_r, BLOCK_N=tiles.block_n, BLOCK_C=tiles.block_c,
        num_warps=4, **consts)
    with torch.autocast(x.device.type, enabled=False):
        desc = torch.baddbmm(weights.phi_bias.to(acc)[:, None],
                             batched(weights.phi, acc, batch),
                             pooled)  # G: (B, m, n)
        out_desc = torch.baddbmm(weights.out_bias.to(acc)[:, None],
                                 batched(weights.w_out, acc, batch),
                                 desc).to(low)  # D: (B, C, n)
    out = torch.empty_like(x, dtype=x.dtype if residual else low)
    kernels.distribute_kernel[(num_tiles, batch)](
        x, proj, rho_bias, out_desc, out, channels, num_pos, n, *x.stride(),
        *out.stride(), NP=tiles.rows, BLOCK_N=tiles.block_n,
        BLOCK_C=tiles.block_c, RESIDUAL=residual, num_warps=tiles.num_warps,
        **consts)
    return out, proj, lse, pooled, desc, out_desc


def _backward(grad_out: Tensor, x: Tensor, weights: A2Weights,
              saved: Tuple[Tensor, ...], low: torch.dtype,
              residual: bool) -> Tuple[Tensor, ...]:
    """Gradients of x and of the five weights, from ``saved`` = (T and R,
    logsumexp_N T, U, G, D) of :func:`_forward`."""
    proj, lse, pooled, desc, out_desc = saved
    (kernels, batch, channels, num_pos, n, acc, tiles, consts,
     num_tiles) = _launch(x, weights, low)
    rho_bias = weights.rho_bias.contiguous()
    # dD in partial sums over groups of tiles: enough programs to fill a GPU
    grid_cb = _cdiv(channels, tiles.block_c) * batch
    splits = max(1, min(num_tiles, _cdiv(_PROGRAMS, grid_cb)))
    grad_out_desc = x.new_empty((splits, batch, channels, n), dtype=acc)
    kernels.grad_desc_kernel[(_cdiv(channels, tiles.block_c), batch,
                              splits)](
        grad_out, proj, rho_bias, grad_out_desc, channels, num_pos, n,
        *grad_out.stride(), NP=tiles.rows, BLOCK_N=tiles.block_n,
        BLOCK_C=tiles.block_c, num_warps=tiles.num_warps, **consts)
    grad_out_desc = grad_out_desc.sum(0)  # dD: (B, C, n)
    # The small products: D = W_out G + b_out, G = W_phi U + b_phi.
    with torch.autocast(x.device.type, enabled=False):
        small = descriptor_grads(grad_out_desc, pooled, desc, weights)
    w_tr = weights.theta_rho
    grad_x = torch.empty_like(x)
    grad_proj = torch.empty_like(proj)  # [dT; dR]
    grad_rho_bias = x.new_empty((batch, num_tiles, n), dtype=acc)
    kernels.grad_x_kernel[(num_tiles, batch)](
        x, grad_out, proj, lse, rho_bias, out_desc, small.pooled.to(low),
        small.row_dot, w_tr, grad_x, grad_proj, grad_rho_bias, channels,
        num_pos, n, *x.stride(), *grad_out.stride(), *grad_x.stride(),
        *w_tr.stride(), NP=tiles.rows, BLOCK_N=tiles.block_n,
        BLOCK_C=tiles.block_c, RESIDUAL=residual, num_warps=tiles.num_warps,
        **consts)
    # [dT; dR] X^T, summed over samples in groups: enough programs to fill
    # a GPU without a (B, 2n, C) buffer at large batches
    grid_rc = _cdiv(2 * n, 64) * _cdiv(channels, tiles.block_c)
    groups = max(1, min(batch, _cdiv(_PROGRAMS, grid_rc)))
    grad_w_tr = x.new_empty((groups, 2 * n, channels), dtype=acc)
    kernels.grad_weight_kernel[(_cdiv(2 * n, 64),
                                _cdiv(channels, tiles.block_c), groups)](
        grad_proj, x, grad_w_tr, batch, channels, num_pos, n, *x.stride(),
        BLOCK_R=64, BLOCK_N=tiles.block_n, BLOCK_C=tiles.block_c,
        num_warps=4, **consts)
    w_dtype = weights.w_in.dtype
    grad_w_in = torch.cat([small.w_phi, grad_w_tr.sum(0)])  # (m+2n, C)
    return (grad_x, grad_w_in.to(w_dtype), small.phi_bias.to(w_dtype),
            grad_rho_bias.sum(dim=(0, 1)).to(w_dtype),
            small.w_out.to(weights.w_out.dtype),
            small.out_bias.to(weights.w_out.dtype))


@torch.library.custom_op('a2mm::a2_fused_forward', mutates_args=())
def _forward_op(x: Tensor, w_in: Tensor, phi_bias: Tensor, rho_bias: Tensor,
                w_out: Tensor, out_bias: Tensor, low: torch.dtype,
                residual: bool) -> Tuple[Tensor, Tensor, Tensor, Tensor,
                                         Tensor, Tensor]:
    """(Y, T and R, logsumexp_N T, U, G, D); see :func:`_forward`."""
    weights = A2Weights(w_in, phi_bias, rho_bias, w_out, out_bias)
    return _forward(x, weights, low, residual)


@_forward_op.register_fake
def _forward_fake(x, w_in, phi_bias, rho_bias, w_out, out_bias, low,
                  residual):
    batch, channels, num_pos = x.shape
    m, n = w_out.shape[1], rho_bias.shape[0]
    acc = acc_dtype(low)
    return (torch.empty_like(x, dtype=x.dtype if residual else low),
            x.new_empty((batch, 2 * n, num_pos), dtype=low),
            x.new_empty((batch, n), dtype=acc),
            x.new_empty((batch, channels, n), dtype=acc),
            x.new_empty((batch, m, n), dtype=acc),
            x.new_empty((batch, channels, n), dtype=low))


@torch.library.custom_op('a2mm::a2_fused_backward', mutates_args=())
def _backward_op(grad_out: Tensor, x: Tensor, w_in: Tensor, phi_bias: Tensor,
                 rho_bias: Tensor, w_out: Tensor, out_bias: Tensor,
                 proj: Tensor, lse: Tensor, pooled: Tensor, desc: Tensor,
                 out_desc: Tensor, low: torch.dtype, residual: bool
                 ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Gradients of (x, w_in, phi_bias, rho_bias, w_out, out_bias)."""
    weights = A2Weights(w_in, phi_bias, rho_bias, w_out, out_bias)
    return _backward(grad_out, x, weights, (proj, lse, pooled, desc,
                                            out_desc), low, residual)


@_backward_op.register_fake
def _backward_fake(grad_out, x, w_in, phi_bias, rho_bias, w_out, out_bias,
                   proj, lse, pooled, desc, out_desc, low, residual):
    return (torch.empty_like(x), torch.empty_like(w_in),
            torch.empty_like(phi_bias), torch.empty_like(rho_bias),
            torch.empty_like(w_out), torch.empty_like(out_bias))


def _setup_context(ctx, inputs, output) -> None:
    *tensors, low, residual = inputs
    ctx.save_for_backward(*tensors, *output[1:])
    ctx.low, ctx.residual = low, residual


def _grad(ctx, grad_out: Tensor, *unused) -> Tuple[Optional[Tensor], ...]:
    grads = _backward_op(grad_out, *ctx.saved_tensors, ctx.low, ctx.residual)
    return (*grads, None, None)


_forward_op.register_autograd(_grad, setup_context=_setup_context)


def a2_fused(x: Tensor, weights: A2Weights, *, low: torch.dtype,
             residual: bool) -> Tensor:
    """The ``'fused'`` pass; arguments and result as
    :func:`~.a2_autograd.a2_autograd`, except that with ``residual`` x may
    have another dtype than ``low`` (the sum is taken in float32 and
    returned in x's dtype)."""
    return _forward_op(x, *weights, low, residual)[0]

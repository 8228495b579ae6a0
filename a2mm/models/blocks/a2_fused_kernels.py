"""Triton kernels of the ``'fused'`` pass (driven by :mod:`.a2_fused`).

Per sample, with X (C, N) the input, T and R (n, N) the theta and rho
projections, S = softmax_N(T) the gather maps, V = softmax_n(R + b_rho) the
distribution maps, U = X S^T, D (C, n) the projected descriptors (notation of
:mod:`.a2_attention`). Every kernel walks the positions in tiles of
``BLOCK_N`` and holds all n descriptors of a tile at once (``NP``, n rounded
up to a power of two; masked rows), so the softmax over n is exact within a
program, and the softmax over N uses per-tile row maxima and sums combined
into its log-sum-exp (FlashAttention's statistics). The products run on
``LOW`` inputs (the autocast dtype) with ``ACC`` (float32, or float64)
accumulation; ``PREC`` is ``tl.dot``'s input precision for float32 inputs.

Forward: :func:`project_kernel` (T, R and the tile statistics of T),
:func:`pool_kernel` (U, with S recomputed from T and its log-sum-exp),
:func:`distribute_kernel` (Y = D V, + X). Backward: :func:`grad_desc_kernel`
(dD = dY V^T, partial sums over groups of tiles), :func:`grad_x_kernel`
(dT, dR and dX in one pass over the positions), :func:`grad_weight_kernel`
([dT; dR] X^T, partial sums over groups of samples). Nothing N-sized is
stored but T and R (in ``LOW``), the output and, in the backward, dT and
dR.
"""
import os

import triton
import triton.language as tl

#: kernels were created for Triton's interpreter (CPU tensors work)
INTERPRETED = os.environ.get('TRITON_INTERPRET', '0') not in ('', '0')


@triton.jit
def _dist_tile(proj_b, bias_ptr, rows, offs_n, n, N, ACC: tl.constexpr):
    """V for one tile: softmax over the descriptors of R + b_rho, (NP, BN);
    R is rows [n, 2n) of the sample's (2n, N) projections ``proj_b``."""
    mask_r = rows < n
    mask = mask_r[:, None] & (offs_n < N)[None, :]
    r = tl.load(proj_b + (n + rows)[:, None] * N + offs_n[None, :],
                mask=mask, other=0.0).to(ACC)
    r += tl.load(bias_ptr + rows, mask=mask_r, other=0.0).to(ACC)[:, None]
    r = tl.where(mask_r[:, None], r, float('-inf'))
    e = tl.exp(r - tl.max(r, axis=0)[None, :])
    return e / tl.sum(e, axis=0)[None, :]


@triton.jit
def _span(start, size, BLOCK: tl.constexpr):
    """Offsets start, ..., start + BLOCK - 1 and which of them are < size."""
    offs = start + tl.arange(0, BLOCK)
    return offs, offs < size


@triton.jit
def _position_tile(n, N, NP: tl.constexpr, BLOCK_N: tl.constexpr):
    """For a kernel whose grid is (tiles of positions, B): its tile index,
    its sample b, the descriptor rows (NP) with their mask, and its
    positions (BLOCK_N) with their mask."""
    pid_n = tl.program_id(0)
    b = tl.program_id(1).to(tl.int64)
    rows, mask_r = _span(0, n, NP)
    offs_n, mask_n = _span(pid_n * BLOCK_N, N, BLOCK_N)
    return pid_n, b, rows, mask_r, offs_n, mask_n


@triton.jit
def _cn_ptrs(base, offs_c, offs_n, s_c, s_n):
    """Pointers of a (channels, positions) tile of a strided (C, N) view."""
    return base + offs_c[:, None] * s_c + offs_n[None, :] * s_n


@triton.jit
def _store_output(acc, res_b, s_rc, s_rn, out_b, s_oc, s_on, offs_c, offs_n,
                  mask, RESIDUAL: tl.constexpr, ACC: tl.constexpr):
    """Store a (BC, BN) output tile, adding the residual tile first when
    RESIDUAL (Y = D V + X forward, dX = ... + dY backward)."""
    if RESIDUAL:
        acc += tl.load(_cn_ptrs(res_b, offs_c, offs_n, s_rc, s_rn),
                       mask=mask, other=0.0).to(ACC)
    tl.store(_cn_ptrs(out_b, offs_c, offs_n, s_oc, s_on),
             acc.to(out_b.dtype.element_ty), mask=mask)


@triton.jit
def project_kernel(x_ptr, w_ptr, proj_ptr, tmax_ptr, tsum_ptr, C, N, n,
                   sxb, sxc, sxn, swr, swc, NP: tl.constexpr,
                   BLOCK_N: tl.constexpr, BLOCK_C: tl.constexpr,
                   LOW: tl.constexpr, ACC: tl.constexpr,
                   PREC: tl.constexpr):
    """[T; R] = W_theta_rho X for one tile of positions, stored in LOW, and
    each row's max and sum of exp(T - max) over the tile. Grid: (tiles,
    B)."""
    pid_n, b, rows, mask_r, offs_n, mask_n = _position_tile(n, N, NP,
                                                            BLOCK_N)
    x_b = x_ptr + b * sxb
    acc_t = tl.zeros((NP, BLOCK_N), dtype=ACC)
    acc_r = tl.zeros((NP, BLOCK_N), dtype=ACC)
    for c0 in range(0, C, BLOCK_C):
        offs_c, mask_c = _span(c0, C, BLOCK_C)
        xt = tl.load(x_b + offs_c[:, None] * sxc + offs_n[None, :] * sxn,
                     mask=mask_c[:, None] & mask_n[None, :],
                     other=0.0).to(LOW)  # (BC, BN)
        w_mask = mask_r[:, None] & mask_c[None, :]
        w_t = tl.load(w_ptr + rows[:, None] * swr + offs_c[None, :] * swc,
                      mask=w_mask, other=0.0).to(LOW)  # (NP, BC)
        w_r = tl.load(
            w_ptr + (n + rows)[:, None] * swr + offs_c[None, :] * swc,
            mask=w_mask, other=0.0).to(LOW)
        acc_t = tl.dot(w_t, xt, acc_t, input_precision=PREC, out_dtype=ACC)
        acc_r = tl.dot(w_r, xt, acc_r, input_precision=PREC, out_dtype=ACC)
    theta = acc_t.to(LOW)
    proj_b = proj_ptr + b * 2 * n * N
    mask = mask_r[:, None] & mask_n[None, :]
    tl.store(proj_b + rows[:, None] * N + offs_n[None, :], theta, mask=mask)
    tl.store(proj_b + (n + rows)[:, None] * N + offs_n[None, :],
             acc_r.to(LOW), mask=mask)
    # statistics of T as stored, so that S recomputed from it sums to 1
    t = tl.where(mask_n[None, :], theta.to(ACC), float('-inf'))
    t_max = tl.max(t, axis=1)  # (NP,)
    t_sum = tl.sum(tl.exp(t - t_max[:, None]), axis=1)
    stat = (b * tl.num_programs(0) + pid_n) * n + rows
    tl.store(tmax_ptr + stat, t_max, mask=mask_r)
    tl.store(tsum_ptr + stat, t_sum, mask=mask_r)


@triton.jit
def pool_kernel(x_ptr, proj_ptr, lse_ptr, pooled_ptr, C, N, n, sxb, sxc, sxn,
                BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr,
                BLOCK_C: tl.constexpr, LOW: tl.constexpr, ACC: tl.constexpr,
                PREC: tl.constexpr):
    """U = X S^T, S = exp(T - logsumexp_N T), for one block of descriptors
    and channels, over all positions. Grid: (n blocks, C blocks, B)."""
    pid_r = tl.program_id(0)
    pid_c = tl.program_id(1)
    b = tl.program_id(2).to(tl.int64)
    rows = pid_r * BLOCK_R + tl.arange(0, BLOCK_R)
    mask_r = rows < n
    offs_c, mask_c = _span(pid_c * BLOCK_C, C, BLOCK_C)
    lse = tl.load(lse_ptr + b * n + rows, mask=mask_r, other=0.0)
    x_b = x_ptr + b * sxb
    proj_b = proj_ptr + b * 2 * n * N
    acc = tl.zeros((BLOCK_R, BLOCK_C), dtype=ACC)
    for n0 in range(0, N, BLOCK_N):
        offs_n, mask_n = _span(n0, N, BLOCK_N)
        t = tl.load(proj_b + rows[:, None] * N + offs_n[None, :],
                    mask=mask_r[:, None] & mask_n[None, :],
                    other=float('-inf')).to(ACC)
        s = tl.exp(t - lse[:, None])  # (BR, BN)
        xt = tl.load(x_b + offs_n[:, None] * sxn + offs_c[None, :] * sxc,
                     mask=mask_n[:, None] & mask_c[None, :],
                     other=0.0).to(LOW)  # (BN, BC)
        acc = tl.dot(s.to(LOW), xt, acc, input_precision=PREC, out_dtype=ACC)
    tl.store(pooled_ptr + b * C * n + offs_c[None, :] * n + rows[:, None],
             acc, mask=mask_r[:, None] & mask_c[None, :])


@triton.jit
def distribute_kernel(x_ptr, proj_ptr, bias_ptr, desc_ptr, out_ptr, C, N, n,
                      sxb, sxc, sxn, sob, soc, son, NP: tl.constexpr,
                      BLOCK_N: tl.constexpr, BLOCK_C: tl.constexpr,
                      RESIDUAL: tl.constexpr, LOW: tl.constexpr,
                      ACC: tl.constexpr, PREC: tl.constexpr):
    """Y = D V (+ X) for one tile of positions, all channels. Grid: (tiles,
    B)."""
    pid_n, b, rows, mask_r, offs_n, mask_n = _position_tile(n, N, NP,
                                                            BLOCK_N)
    v = _dist_tile(proj_ptr + b * 2 * n * N, bias_ptr, rows, offs_n, n, N,
                   ACC).to(LOW)  # (NP, BN)
    desc_b = desc_ptr + b * C * n
    for c0 in range(0, C, BLOCK_C):
        offs_c, mask_c = _span(c0, C, BLOCK_C)
        d = tl.load(desc_b + offs_c[:, None] * n + rows[None, :],
                    mask=mask_c[:, None] & mask_r[None, :],
                    other=0.0)  # (BC, NP)
        y = tl.dot(d, v, input_precision=PREC, out_dtype=ACC)  # (BC, BN)
        _store_output(y, x_ptr + b * sxb, sxc, sxn, out_ptr + b * sob, soc,
                      son, offs_c, offs_n, mask_c[:, None] & mask_n[None, :],
                      RESIDUAL, ACC)


@triton.jit
def grad_desc_kernel(dy_ptr, proj_ptr, bias_ptr, part_ptr, C, N, n, sgb,
                     sgc, sgn, NP: tl.constexpr, BLOCK_N: tl.constexpr,
                     BLOCK_C: tl.constexpr, LOW: tl.constexpr,
                     ACC: tl.constexpr, PREC: tl.constexpr):
    """dD = dY V^T for one block of channels, over the tiles of positions
    s, s + S, ... into partial sum s of S (enough programs to fill a GPU).
    Grid: (C blocks, B, S)."""
    pid_c = tl.program_id(0)
    b = tl.program_id(1).to(tl.int64)
    split = tl.program_id(2)
    rows = tl.arange(0, NP)
    offs_c, mask_c = _span(pid_c * BLOCK_C, C, BLOCK_C)
    proj_b = proj_ptr + b * 2 * n * N
    acc = tl.zeros((BLOCK_C, NP), dtype=ACC)
    for n0 in range(split * BLOCK_N, N, tl.num_programs(2) * BLOCK_N):
        offs_n, mask_n = _span(n0, N, BLOCK_N)
        v = _dist_tile(proj_b, bias_ptr, rows, offs_n, n, N, ACC)
        g = tl.load(dy_ptr + b * sgb + offs_c[:, None] * sgc +
                    offs_n[None, :] * sgn,
                    mask=mask_c[:, None] & mask_n[None, :],
                    other=0.0).to(LOW)  # (BC, BN)
        acc = tl.dot(g, tl.trans(v.to(LOW)), acc, input_precision=PREC,
                     out_dtype=ACC)
    part = part_ptr + (split * tl.num_programs(1) + b) * C * n
    tl.store(part + offs_c[:, None] * n + rows[None, :], acc,
             mask=mask_c[:, None] & (rows < n)[None, :])


@triton.jit
def grad_x_kernel(x_ptr, dy_ptr, proj_ptr, lse_ptr, bias_ptr, desc_ptr,
                  gpool_ptr, rowdot_ptr, w_ptr, gx_ptr, gproj_ptr, gbias_ptr,
                  C, N, n, sxb, sxc, sxn, sgb, sgc, sgn, sdb, sdc, sdn, swr,
                  swc, NP: tl.constexpr, BLOCK_N: tl.constexpr,
                  BLOCK_C: tl.constexpr, RESIDUAL: tl.constexpr,
                  LOW: tl.constexpr, ACC: tl.constexpr, PREC: tl.constexpr):
    """For one tile of positions: dV = D^T dY and dS = dU^T X (over all
    channels), dR = V (dV - sum_n V dV), dT = S (dS - sum_C dU U), stored
    in LOW for the weight gradients, with each row's sum of dR (the gradient
    of b_rho); then dX = W_theta^T dT + W_rho^T dR + dU S (+ dY). Grid:
    (tiles, B)."""
    pid_n, b, rows, mask_r, offs_n, mask_n = _position_tile(n, N, NP,
                                                            BLOCK_N)
    mask_rn = mask_r[:, None] & mask_n[None, :]
    proj_b = proj_ptr + b * 2 * n * N
    desc_b = desc_ptr + b * C * n
    gpool_b = gpool_ptr + b * C * n
    v = _dist_tile(proj_b, bias_ptr, rows, offs_n, n, N, ACC)  # (NP, BN)
    dv = tl.zeros((NP, BLOCK_N), dtype=ACC)
    ds = tl.zeros((NP, BLOCK_N), dtype=ACC)
    for c0 in range(0, C, BLOCK_C):
        offs_c, mask_c = _span(c0, C, BLOCK_C)
        mask_rc = mask_r[:, None] & mask_c[None, :]
        mask_cn = mask_c[:, None] & mask_n[None, :]
        d_t = tl.load(desc_b + rows[:, None] + offs_c[None, :] * n,
                      mask=mask_rc, other=0.0)  # D^T: (NP, BC)
        du_t = tl.load(gpool_b + rows[:, None] + offs_c[None, :] * n,
                       mask=mask_rc, other=0.0)  # dU^T: (NP, BC)
        g = tl.load(_cn_ptrs(dy_ptr + b * sgb, offs_c, offs_n, sgc, sgn),
                    mask=mask_cn, other=0.0).to(LOW)  # (BC, BN)
        xt = tl.load(_cn_ptrs(x_ptr + b * sxb, offs_c, offs_n, sxc, sxn),
                     mask=mask_cn, other=0.0).to(LOW)  # (BC, BN)
        dv = tl.dot(d_t, g, dv, input_precision=PREC, out_dtype=ACC)
        ds = tl.dot(du_t, xt, ds, input_precision=PREC, out_dtype=ACC)
    dr = v * (dv - tl.sum(v * dv, axis=0)[None, :])
    t = tl.load(proj_b + rows[:, None] * N + offs_n[None, :], mask=mask_rn,
                other=float('-inf')).to(ACC)
    lse = tl.load(lse_ptr + b * n + rows, mask=mask_r, other=0.0)
    s = tl.exp(t - lse[:, None])  # S: (NP, BN)
    row_dot = tl.load(rowdot_ptr + b * n + rows, mask=mask_r, other=0.0)
    dt = s * (ds - row_dot[:, None])
    dt_low = dt.to(LOW)
    dr_low = dr.to(LOW)
    s_low = s.to(LOW)
    gproj_b = gproj_ptr + b * 2 * n * N
    tl.store(gproj_b + rows[:, None] * N + offs_n[None, :], dt_low,
             mask=mask_rn)
    tl.store(gproj_b + (n + rows)[:, None] * N + offs_n[None, :], dr_low,
             mask=mask_rn)
    tl.store(gbias_ptr + (b * tl.num_programs(0) + pid_n) * n + rows,
             tl.sum(tl.where(mask_rn, dr, 0.0), axis=1), mask=mask_r)
    for c0 in range(0, C, BLOCK_C):
        offs_c, mask_c = _span(c0, C, BLOCK_C)
        mask_cr = mask_c[:, None] & mask_r[None, :]
        w_t = tl.load(w_ptr + offs_c[:, None] * swc + rows[None, :] * swr,
                      mask=mask_cr, other=0.0).to(LOW)  # W_theta^T: (BC, NP)
        w_r = tl.load(
            w_ptr + offs_c[:, None] * swc + (n + rows)[None, :] * swr,
            mask=mask_cr, other=0.0).to(LOW)  # W_rho^T
        du = tl.load(gpool_b + offs_c[:, None] * n + rows[None, :],
                     mask=mask_cr, other=0.0)  # dU: (BC, NP)
        acc = tl.dot(w_t, dt_low, input_precision=PREC, out_dtype=ACC)
        acc = tl.dot(w_r, dr_low, acc, input_precision=PREC, out_dtype=ACC)
        acc = tl.dot(du, s_low, acc, input_precision=PREC, out_dtype=ACC)
        _store_output(acc, dy_ptr + b * sgb, sgc, sgn, gx_ptr + b * sdb, sdc,
                      sdn, offs_c, offs_n, mask_c[:, None] & mask_n[None, :],
                      RESIDUAL, ACC)


@triton.jit
def grad_weight_kernel(gproj_ptr, x_ptr, part_ptr, B, C, N, n, sxb, sxc, sxn,
                       BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr,
                       BLOCK_C: tl.constexpr, LOW: tl.constexpr,
                       ACC: tl.constexpr, PREC: tl.constexpr):
    """[dT; dR] X^T (2n, C), summed over the samples b = g, g + G, ...
    of group g into partial sum g. Grid: (2n blocks, C blocks, G)."""
    pid_r = tl.program_id(0)
    pid_c = tl.program_id(1)
    group = tl.program_id(2)
    rows = pid_r * BLOCK_R + tl.arange(0, BLOCK_R)
    mask_r = rows < 2 * n
    offs_c, mask_c = _span(pid_c * BLOCK_C, C, BLOCK_C)
    acc = tl.zeros((BLOCK_R, BLOCK_C), dtype=ACC)
    for b in range(group, B, tl.num_programs(2)):
        b64 = tl.cast(b, tl.int64)
        gproj_b = gproj_ptr + b64 * 2 * n * N
        x_b = x_ptr + b64 * sxb
        for n0 in range(0, N, BLOCK_N):
            offs_n, mask_n = _span(n0, N, BLOCK_N)
            gp = tl.load(gproj_b + rows[:, None] * N + offs_n[None, :],
                         mask=mask_r[:, None] & mask_n[None, :],
                         other=0.0)  # (BR, BN)
            xt = tl.load(x_b + offs_n[:, None] * sxn + offs_c[None, :] * sxc,
                         mask=mask_n[:, None] & mask_c[None, :],
                         other=0.0).to(LOW)  # (BN, BC)
            acc = tl.dot(gp, xt, acc, input_precision=PREC, out_dtype=ACC)
    tl.store(part_ptr + group.to(tl.int64) * 2 * n * C + rows[:, None] * C +
             offs_c[None, :], acc, mask=mask_r[:, None] & mask_c[None, :])

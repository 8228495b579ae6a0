"""Helpers of the A2Block and operator tests (tests/models/blocks/)."""
from typing import Sequence

import torch

from a2mm.models import A2Block
from a2mm.models.blocks.a2_autograd import a2_autograd
from a2mm.models.blocks.a2_weights import A2Weights


def naive_a2(block: A2Block, x: torch.Tensor) -> torch.Tensor:
    """The block written straight from the equations, one sample and one
    equation at a time, with three separate 1x1 projections."""
    weights = block.weights()
    w_phi, w_theta, w_rho = weights.phi, weights.theta, weights.rho
    outs = []
    for xb in x:  # xb: (C, *spatial)
        X = xb.reshape(xb.shape[0], -1)  # (C, N)
        A = w_phi @ X + block.phi_bias[:, None]  # (m, N)
        theta = w_theta @ X  # (n, N)
        rho = w_rho @ X + block.rho_bias[:, None]  # (n, N)
        S = torch.exp(theta) / torch.exp(theta).sum(dim=1, keepdim=True)
        V = torch.exp(rho) / torch.exp(rho).sum(dim=0, keepdim=True)
        G = A @ S.T  # (m, n): n descriptors of size m
        Z = G @ V  # (m, N)
        Y = block.out_proj_weight @ Z + block.out_proj_bias[:, None]
        outs.append((X + Y).reshape(xb.shape))
    return torch.stack(outs)


def randomize(block: A2Block, scale: float = 1.0) -> A2Block:
    """Give every parameter (the zero-initialised ones too) random values."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) *
                    scale / max(1, p.shape[-1])**0.5)
    return block


def random_weights(channels: int, m: int, n: int,
                   dtype: torch.dtype = torch.float32,
                   device: str = 'cpu') -> A2Weights:
    """Random operator weights that require gradients, of a size that keeps
    both softmaxes away from one-hot."""
    gen = torch.Generator().manual_seed(2)
    shapes = ((m + 2 * n, channels), (m, ), (n, ), (channels, m),
              (channels, ))
    return A2Weights(*(
        (torch.randn(shape, generator=gen, dtype=dtype) /
         max(1, shape[-1])**0.5).to(device).requires_grad_()
        for shape in shapes))


def check_pass_matches_autograd(pass_, x: torch.Tensor, weights: A2Weights,
                                residual: bool, rtol: float, atol: float,
                                **kwargs) -> None:
    """``pass_(x, weights, low=x.dtype, residual=..., **kwargs)`` and the
    autograd pass agree: output, and gradients of x and of the five
    weights."""
    inputs: Sequence[torch.Tensor] = [x, *weights]
    got = pass_(x, weights, low=x.dtype, residual=residual, **kwargs)
    want = a2_autograd(x, weights, low=x.dtype, residual=residual)
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)
    grad = torch.randn_like(want)
    got_grads = torch.autograd.grad(got, inputs, grad)
    want_grads = torch.autograd.grad(want, inputs, grad)
    for name, a, b in zip(('x', ) + A2Weights._fields, got_grads,
                          want_grads):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol,
                                   msg=lambda m, name=name: f'{name}: {m}')

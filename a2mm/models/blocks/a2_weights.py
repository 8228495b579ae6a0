"""The double-attention operator's parameters as one named tuple; the
sizes C, m and n are read from their shapes."""
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ['A2Weights']


class A2Weights(NamedTuple):
    """The operator's parameters; every size is read from their shapes:
    ``C = w_out.shape[0]``, ``m = w_out.shape[1]``, ``n =
    rho_bias.shape[0]``.

    ``w_in`` (m+2n, C) holds phi, theta and rho in that row order (one
    product for all three); :attr:`phi`, :attr:`theta`, :attr:`rho` and
    :attr:`theta_rho` are the one place that slices it (views, no copy).
    """
    w_in: Tensor  # (m+2n, C)
    phi_bias: Tensor  # (m,)
    rho_bias: Tensor  # (n,)
    w_out: Tensor  # (C, m)
    out_bias: Tensor  # (C,)

    @property
    def m(self) -> int:
        """Size of each descriptor (rows of phi)."""
        return self.w_out.shape[1]

    @property
    def n(self) -> int:
        """Number of descriptors (rows of theta and of rho)."""
        return self.rho_bias.shape[0]

    @property
    def phi(self) -> Tensor:
        """(m, C): rows ``[0, m)`` of ``w_in``."""
        return self.w_in[:self.m]

    @property
    def theta_rho(self) -> Tensor:
        """(2n, C): rows ``[m, m+2n)`` of ``w_in``, theta then rho."""
        return self.w_in[self.m:]

    @property
    def theta(self) -> Tensor:
        """(n, C): rows ``[m, m+n)`` of ``w_in``."""
        return self.w_in[self.m:self.m + self.n]

    @property
    def rho(self) -> Tensor:
        """(n, C): rows ``[m+n, m+2n)`` of ``w_in``."""
        return self.w_in[self.m + self.n:]

    def check(self) -> None:
        """Raise a ValueError naming the tensor whose shape disagrees with
        the others (e.g. m and n swapped in ``w_in`` with m != n)."""
        if torch.jit.is_tracing():  # shapes are traced values, not ints
            return
        channels, m = self.w_out.shape
        n = self.n
        want = dict(w_in=(m + 2 * n, channels), phi_bias=(m, ),
                    out_bias=(channels, ))
        for name, shape in want.items():
            got = tuple(getattr(self, name).shape)
            if got != shape:
                raise ValueError(
                    f'{name} must have shape {shape} (m + 2n = {m} + 2*{n} '
                    f'rows of phi, theta, rho; C = {channels}) for w_out '
                    f'{tuple(self.w_out.shape)} and rho_bias '
                    f'({n},), got {got}')
